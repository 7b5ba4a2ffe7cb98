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

use crate::audit;
use crate::error::{ServiceError, ServiceResult};

/// The authenticated caller, as proven by an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The caller's user id.
    pub user_id: Uuid,
    /// The caller's role.
    pub role: Role,
    /// The caller's org (staff only).
    pub org_id: Option<Uuid>,
    /// The caller's org requires two-factor sign-in and the caller has not
    /// turned it on: until they do, the API lets them reach only their own
    /// account (`/v1/me*`), where they can enrol.
    pub totp_enrolment_required: bool,
}

impl Actor {
    /// `Forbidden` unless the caller's role has `capability`.
    pub fn require(&self, capability: Capability) -> ServiceResult<()> {
        if self.role.can(capability) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// `Forbidden` unless a patient may do `capability` to their own data
    /// (reading it always; otherwise as the role table says).
    fn require_patient(&self, capability: Capability) -> ServiceResult<()> {
        match capability {
            Capability::ReadPatients => Ok(()),
            other => self.require(other),
        }
    }

    /// `Forbidden` unless the caller's role may do `capability` to some
    /// patient's data at all. Checked before anything is looked up, so a
    /// refusal says nothing about which ids exist.
    pub fn may(&self, capability: Capability) -> ServiceResult<()> {
        if self.role == Role::Patient {
            self.require_patient(capability)
        } else {
            self.require(capability)
        }
    }

    /// The caller's org, after checking the role has `capability`.
    pub fn staff_org(&self, capability: Capability) -> ServiceResult<Uuid> {
        self.require(capability)?;
        self.org_id.ok_or(ServiceError::Forbidden)
    }
}

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
