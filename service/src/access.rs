//! Who may touch which patient's data: the one place that decides it.
//!
//! Every service function that reads or writes a patient's data takes a
//! [`PatientAccess`], which only [`patient_access`] can make. It checks the
//! role first (403), then the care team (404, so another org's patient is
//! indistinguishable from no patient), and writes the audit entry for staff.

use dorsal_domain::Role;
use dorsal_domain::role::Capability;
use dorsal_entity::{care_team, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

// The caller is its own module, so the audit log can name it without
// depending on the access decisions that write to the log.
pub use crate::actor::Actor;
use crate::audit;
use crate::error::{ServiceError, ServiceResult};

/// Proof that an actor may act on one patient's data. Only
/// [`patient_access`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct PatientAccess {
    patient_id: Uuid,
    actor: Actor,
}

impl PatientAccess {
    /// The patient whose data may be used.
    pub fn patient_id(&self) -> Uuid {
        self.patient_id
    }

    /// Who is acting.
    pub fn actor(&self) -> Actor {
        self.actor
    }
}

/// Grants `actor` access to `patient_id`'s data for `capability`, auditing
/// the access as `action` when the actor is staff.
///
/// A patient reaches only themselves; staff reach patients on one of their
/// org's care teams. Anything else is `NotFound("patient")`.
pub async fn patient_access(
    db: &impl ConnectionTrait,
    actor: Actor,
    patient_id: Uuid,
    capability: Capability,
    action: &'static str,
    now_ms: i64,
) -> ServiceResult<PatientAccess> {
    let granted = PatientAccess { patient_id, actor };
    actor.may(capability)?;
    // The account behind the actor exists and is active: the bearer
    // extractor checked it (`Auth::authenticate`).
    if actor.role == Role::Patient {
        return if actor.user_id == patient_id {
            Ok(granted)
        } else {
            Err(ServiceError::NotFound("patient"))
        };
    }
    let org_id = actor.staff_org(capability)?;
    let on_team = care_team::Entity::find()
        .select_only()
        .column(care_team::Column::Id)
        .filter(care_team::Column::OrgId.eq(org_id))
        .filter(care_team::Column::PatientId.eq(patient_id))
        .into_tuple::<Uuid>()
        .one(db)
        .await?
        .is_some();
    if !on_team {
        return Err(ServiceError::NotFound("patient"));
    }
    audit::record(db, actor, &[patient_id], action, now_ms).await?;
    Ok(granted)
}

/// Loads a user by id, `NotFound` if there is none.
pub async fn load_user(db: &impl ConnectionTrait, user_id: Uuid) -> ServiceResult<user::Model> {
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("user"))
}
