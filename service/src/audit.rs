//! The audit log: who read or wrote which patient's data, and when.

use dorsal_entity::audit_log;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::actor::Actor;
use crate::error::ServiceResult;
use crate::page::{Page, PageRequest};
use crate::secret::new_id;

/// Records one entry per patient for `action` by `actor`, in the actor's
/// org's log.
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
    let rows = patient_ids.iter().map(|patient_id| Entry {
        org_id: actor.org_id,
        actor,
        patient_id: Some(*patient_id),
        subject_id: None,
        action,
        at: now_ms,
    });
    insert(db, rows).await
}

/// Records what an admin did to a member of their staff, `subject_id`.
pub async fn record_about_staff(
    db: &impl ConnectionTrait,
    actor: Actor,
    subject_id: Uuid,
    action: &'static str,
    now_ms: i64,
) -> ServiceResult<()> {
    let entry = Entry {
        org_id: actor.org_id,
        actor,
        patient_id: None,
        subject_id: Some(subject_id),
        action,
        at: now_ms,
    };
    insert(db, [entry]).await
}

/// Records, in `org_id`'s log, something a patient did that concerns the
/// org (leaving its care team).
pub async fn record_in_org(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    actor: Actor,
    action: &'static str,
    now_ms: i64,
) -> ServiceResult<()> {
    let entry = Entry {
        org_id: Some(org_id),
        actor,
        patient_id: Some(actor.user_id),
        subject_id: None,
        action,
        at: now_ms,
    };
    insert(db, [entry]).await
}

/// One entry to write.
struct Entry {
    org_id: Option<Uuid>,
    actor: Actor,
    patient_id: Option<Uuid>,
    subject_id: Option<Uuid>,
    action: &'static str,
    at: i64,
}

async fn insert(
    db: &impl ConnectionTrait,
    entries: impl IntoIterator<Item = Entry>,
) -> ServiceResult<()> {
    let rows = entries.into_iter().map(|entry| audit_log::ActiveModel {
        id: Set(new_id()),
        org_id: Set(entry.org_id),
        actor_id: Set(entry.actor.user_id),
        actor_role: Set(entry.actor.role.as_str().to_owned()),
        patient_id: Set(entry.patient_id),
        subject_id: Set(entry.subject_id),
        action: Set(entry.action.to_owned()),
        at: Set(entry.at),
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
    let entry = Entry {
        org_id: actor.org_id,
        actor,
        patient_id: None,
        subject_id: None,
        action,
        at: now_ms,
    };
    insert(db, [entry]).await
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
    /// The member of staff an admin's action was about.
    pub subject_id: Option<Uuid>,
    /// What was done, e.g. `patients.read`.
    pub action: String,
    /// When, in milliseconds since the epoch.
    pub at: i64,
}

/// Which of the org's entries to list; `None` leaves that out of the
/// filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter {
    /// Only entries about this patient.
    pub patient_id: Option<Uuid>,
    /// Only entries by this member of staff, or about them (`staff.*`).
    pub staff_id: Option<Uuid>,
}

/// The org's audit entries, newest first, optionally for one patient
/// and/or one member of staff.
pub async fn list(
    db: &impl ConnectionTrait,
    org_id: Uuid,
    filter: AuditFilter,
    page: PageRequest,
) -> ServiceResult<Page<AuditEntry>> {
    let mut query = audit_log::Entity::find()
        .filter(audit_log::Column::OrgId.eq(org_id))
        .order_by_desc(audit_log::Column::Id)
        .limit(page.fetch_limit());
    if let Some(patient_id) = filter.patient_id {
        query = query.filter(audit_log::Column::PatientId.eq(patient_id));
    }
    if let Some(staff_id) = filter.staff_id {
        query = query.filter(
            Condition::any()
                .add(audit_log::Column::ActorId.eq(staff_id))
                .add(audit_log::Column::SubjectId.eq(staff_id)),
        );
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
        subject_id: row.subject_id,
        action: row.action,
        at: row.at,
    }))
}
