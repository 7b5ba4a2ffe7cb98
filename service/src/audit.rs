//! The audit log: who read or wrote which patient's data, and when.

use dorsal_entity::audit_log;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::error::ServiceResult;
use crate::page::{Page, PageRequest};
use crate::secret::new_id;

/// Records one entry per patient for `action` by `actor`.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Actor,
    patient_ids: &[Uuid],
    action: &'static str,
    now_ms: i64,
) -> ServiceResult<()> {
    if patient_ids.is_empty() {
        return Ok(());
    }
    let rows = patient_ids.iter().map(|patient_id| audit_log::ActiveModel {
        id: Set(new_id()),
        org_id: Set(actor.org_id),
        actor_id: Set(actor.user_id),
        actor_role: Set(actor.role.as_str().to_owned()),
        patient_id: Set(Some(*patient_id)),
        action: Set(action.to_owned()),
        at: Set(now_ms),
    });
    audit_log::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records one entry for `action` by `actor` about their own account or
/// their org (no patient's data), e.g. turning two-factor sign-in on.
pub async fn record_account(
    db: &impl ConnectionTrait,
    actor: Actor,
    action: &'static str,
    now_ms: i64,
) -> ServiceResult<()> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: Set(new_id()),
        org_id: Set(actor.org_id),
        actor_id: Set(actor.user_id),
        actor_role: Set(actor.role.as_str().to_owned()),
        patient_id: Set(None),
        action: Set(action.to_owned()),
        at: Set(now_ms),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// One audit entry as shown to an admin.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Entry id.
    pub id: Uuid,
    /// Who acted.
    pub actor_id: Uuid,
    /// Their role at the time.
    pub actor_role: String,
    /// Whose data.
    pub patient_id: Option<Uuid>,
    /// What was done, e.g. `patients.read`.
    pub action: String,
    /// When, in milliseconds since the epoch.
    pub at: i64,
}

/// The org's audit entries, newest first, optionally for one patient.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    patient_id: Option<Uuid>,
    page: PageRequest,
) -> ServiceResult<Page<AuditEntry>> {
    let mut query = audit_log::Entity::find()
        .filter(audit_log::Column::OrgId.eq(org_id))
        .order_by_desc(audit_log::Column::Id)
        .limit(page.fetch_limit());
    if let Some(patient_id) = patient_id {
        query = query.filter(audit_log::Column::PatientId.eq(patient_id));
    }
    if let Some(after) = page.after {
        query = query.filter(audit_log::Column::Id.lt(after));
    }
    let rows = query.all(db).await?;
    Ok(page.finish(rows, |row| row.id).map(|row| AuditEntry {
        id: row.id,
        actor_id: row.actor_id,
        actor_role: row.actor_role,
        patient_id: row.patient_id,
        action: row.action,
        at: row.at,
    }))
}
