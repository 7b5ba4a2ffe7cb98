//! The alert inbox for clinicians and admins: list, read with evidence,
//! acknowledge, resolve. Every access is through `service::access` and
//! audited.

use dorsal_domain::Violations;
use dorsal_domain::red_flags::{Severity, Thresholds, rule};
use dorsal_domain::role::Capability;
use dorsal_entity::{alert, alert_evidence, care_team};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Where an alert stands: `open`, `acknowledged` or `resolved`.
pub use dorsal_entity::alert::Status as AlertStatus;

use crate::access::{Actor, patient_access};
use crate::audit;
use crate::db::begin_write;
use crate::error::{ServiceError, ServiceResult};
use crate::page::{Page, PageRequest};
use crate::sync::Nudges;

/// One matched log.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The pain log's id.
    pub log_id: String,
    /// When it was recorded, ms.
    pub recorded_at: i64,
    /// The fields and values that matched.
    pub matched: serde_json::Value,
    /// When it was attached, ms.
    pub attached_at: i64,
}

/// An alert as staff see it.
#[derive(Debug, Clone)]
pub struct AlertView {
    /// The row.
    pub alert: alert::Model,
    /// What the rule asks the clinician to do.
    pub clinician_action: &'static str,
    /// Matched logs, oldest first (detail only; empty in lists).
    pub evidence: Vec<Evidence>,
}

fn view(alert: alert::Model, evidence: Vec<Evidence>) -> AlertView {
    let clinician_action = rule(&alert.rule).map_or("", |r| r.clinician_action);
    AlertView {
        alert,
        clinician_action,
        evidence,
    }
}

/// A rule's severity as an alert stores it. With [`ranked`], the one
/// mapping between the rules' severity (which orders them) and the column.
pub fn stored(severity: Severity) -> alert::Severity {
    match severity {
        Severity::Routine => alert::Severity::Routine,
        Severity::Urgent => alert::Severity::Urgent,
        Severity::Emergency => alert::Severity::Emergency,
    }
}

/// A stored severity as the rules rank it (see [`stored`]).
pub fn ranked(severity: alert::Severity) -> Severity {
    match severity {
        alert::Severity::Routine => Severity::Routine,
        alert::Severity::Urgent => Severity::Urgent,
        alert::Severity::Emergency => Severity::Emergency,
    }
}

/// Filters of the inbox.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// `open`, `acknowledged` or `resolved`.
    pub status: Option<String>,
    /// `routine`, `urgent` or `emergency`.
    pub severity: Option<String>,
}

/// Alerts of the caller's org's patients, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: Actor,
    filter: AlertFilter,
    page: PageRequest,
    now: i64,
) -> ServiceResult<Page<AlertView>> {
    let org_id = actor.staff_org(Capability::ActOnAlerts)?;
    let mut violations = Violations::new();
    let status = filter.status.map(|s| {
        violations.check(
            "/status",
            alert::Status::try_from_value(&s)
                .map_err(|_| "must be open, acknowledged or resolved".to_owned()),
        )
    });
    let severity = filter.severity.map(|s| {
        violations.check(
            "/severity",
            Severity::parse(&s)
                .map(stored)
                .ok_or_else(|| "must be routine, urgent or emergency".to_owned()),
        )
    });
    violations.into_result()?;
    let patients = Query::select()
        .column(care_team::Column::PatientId)
        .from(care_team::Entity)
        .and_where(Expr::col(care_team::Column::OrgId).eq(org_id))
        .take();
    let mut query = alert::Entity::find()
        .filter(alert::Column::PatientId.in_subquery(patients))
        .order_by_desc(alert::Column::Id)
        .limit(page.fetch_limit());
    if let Some(status) = status.flatten() {
        query = query.filter(alert::Column::Status.eq(status));
    }
    if let Some(severity) = severity.flatten() {
        query = query.filter(alert::Column::Severity.eq(severity));
    }
    if let Some(after) = page.after {
        query = query.filter(alert::Column::Id.lt(after));
    }
    let rows = query.all(db).await?;
    let page = page.finish(rows, |a| a.id);
    let mut patients: Vec<Uuid> = page.items.iter().map(|a| a.patient_id).collect();
    patients.sort_unstable();
    patients.dedup();
    audit::record(db, actor, &patients, "alerts.list", now).await?;
    Ok(page.map(|a| view(a, Vec::new())))
}

/// Finds an alert the caller may act on (404 otherwise) and audits it.
async fn reach(
    db: &impl ConnectionTrait,
    actor: Actor,
    id: Uuid,
    action: &'static str,
    now: i64,
) -> ServiceResult<alert::Model> {
    actor.require(Capability::ActOnAlerts)?;
    let found = alert::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("alert"))?;
    patient_access(
        db,
        actor,
        found.patient_id,
        Capability::ActOnAlerts,
        action,
        now,
    )
    .await
    .map_err(|err| match err {
        ServiceError::NotFound(_) => ServiceError::NotFound("alert"),
        other => other,
    })?;
    Ok(found)
}

async fn detail(db: &impl ConnectionTrait, found: alert::Model) -> ServiceResult<AlertView> {
    let evidence = alert_evidence::Entity::find()
        .filter(alert_evidence::Column::AlertId.eq(found.id))
        .order_by_asc(alert_evidence::Column::RecordedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|e| Evidence {
            log_id: e.log_id,
            recorded_at: e.recorded_at,
            matched: serde_json::from_str(&e.matched).unwrap_or(serde_json::Value::Null),
            attached_at: e.attached_at,
        })
        .collect();
    Ok(view(found, evidence))
}

/// One alert with its evidence.
pub async fn get(
    db: &DatabaseConnection,
    actor: Actor,
    id: Uuid,
    now: i64,
) -> ServiceResult<AlertView> {
    let found = reach(db, actor, id, "alerts.read", now).await?;
    detail(db, found).await
}

const RESOLVED: ServiceError = ServiceError::Conflict {
    code: "alert_resolved",
    detail: "this alert is already resolved",
};

/// Acknowledges an open alert (acknowledging twice changes nothing). It
/// cancels pending escalation and tells the org's systems.
pub async fn acknowledge(
    db: &DatabaseConnection,
    nudges: &Nudges,
    actor: Actor,
    id: Uuid,
    now: i64,
) -> ServiceResult<AlertView> {
    let found = reach(db, actor, id, "alerts.acknowledge", now).await?;
    if found.status == alert::Status::Resolved {
        return Err(RESOLVED);
    }
    let txn = begin_write(db).await?;
    let changed = alert::Entity::update_many()
        .col_expr(
            alert::Column::Status,
            Expr::value(alert::Status::Acknowledged),
        )
        .col_expr(alert::Column::AcknowledgedAt, Expr::value(now))
        .col_expr(alert::Column::AcknowledgedBy, Expr::value(actor.user_id))
        .col_expr(alert::Column::EscalateAt, Expr::value(Option::<i64>::None))
        .col_expr(alert::Column::UpdatedAt, Expr::value(now))
        .filter(alert::Column::Id.eq(id))
        .filter(alert::Column::Status.eq(alert::Status::Open))
        .exec(&txn)
        .await?;
    let event = (changed.rows_affected > 0).then_some("alert.acknowledged");
    let (found, written) = announce(&txn, id, event, now).await?;
    txn.commit().await?;
    if written > 0 {
        nudges.wake_deliveries();
    }
    detail(db, found).await
}

/// Resolves an alert with a note. A new matching log opens a new alert.
pub async fn resolve(
    db: &DatabaseConnection,
    nudges: &Nudges,
    actor: Actor,
    id: Uuid,
    note: &str,
    now: i64,
) -> ServiceResult<AlertView> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 1000 {
        let mut violations = Violations::new();
        violations.add("/note", "must be 1-1000 characters");
        return Err(violations.into());
    }
    let found = reach(db, actor, id, "alerts.resolve", now).await?;
    let txn = begin_write(db).await?;
    let done = alert::Entity::update_many()
        .col_expr(alert::Column::Status, Expr::value(alert::Status::Resolved))
        .col_expr(alert::Column::ResolvedAt, Expr::value(now))
        .col_expr(alert::Column::ResolvedBy, Expr::value(actor.user_id))
        .col_expr(alert::Column::ResolutionNote, Expr::value(note))
        .col_expr(alert::Column::EscalateAt, Expr::value(Option::<i64>::None))
        .col_expr(alert::Column::UpdatedAt, Expr::value(now))
        .filter(alert::Column::Id.eq(found.id))
        .filter(alert::Column::Status.ne(alert::Status::Resolved))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(RESOLVED);
    }
    let (found, written) = announce(&txn, id, Some("alert.resolved"), now).await?;
    txn.commit().await?;
    if written > 0 {
        nudges.wake_deliveries();
    }
    detail(db, found).await
}

/// Reloads the alert and, for a change the org's systems should hear of,
/// writes its webhook messages in the same transaction.
async fn announce(
    txn: &impl ConnectionTrait,
    id: Uuid,
    event: Option<&str>,
    now: i64,
) -> ServiceResult<(alert::Model, usize)> {
    let found = alert::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(ServiceError::NotFound("alert"))?;
    let written = match event {
        Some(event) => crate::webhooks::enqueue(txn, &found, event, now).await?,
        None => 0,
    };
    Ok((found, written))
}

/// Escalates open (unacknowledged) alerts whose deadline has passed: level
/// +1, an `alert.escalated` message to the org's systems, and the next
/// deadline. Whether the webhook succeeded does not matter. Safe with many
/// workers: each escalation is a compare-and-set on the deadline.
pub async fn escalate_due(
    db: &DatabaseConnection,
    nudges: &Nudges,
    thresholds: &Thresholds,
    now: i64,
) -> ServiceResult<usize> {
    let due = alert::Entity::find()
        .filter(alert::Column::Status.eq(alert::Status::Open))
        .filter(alert::Column::EscalateAt.lte(now))
        .order_by_asc(alert::Column::EscalateAt)
        .limit(100)
        .all(db)
        .await?;
    let mut escalated = 0;
    for found in due {
        let Some(deadline) = found.escalate_at else {
            continue;
        };
        let next = thresholds
            .escalation_delay_ms(ranked(found.severity))
            .map(|delay| now + delay);
        let txn = begin_write(db).await?;
        let done = alert::Entity::update_many()
            .col_expr(alert::Column::Level, Expr::col(alert::Column::Level).add(1))
            .col_expr(alert::Column::EscalateAt, Expr::value(next))
            .col_expr(alert::Column::UpdatedAt, Expr::value(now))
            .filter(alert::Column::Id.eq(found.id))
            .filter(alert::Column::Status.eq(alert::Status::Open))
            .filter(alert::Column::EscalateAt.eq(deadline))
            .exec(&txn)
            .await?;
        if done.rows_affected == 0 {
            continue; // acknowledged meanwhile, or another worker did it
        }
        let (alert, written) = announce(&txn, found.id, Some("alert.escalated"), now).await?;
        txn.commit().await?;
        tracing::info!(alert_id = %alert.id, level = alert.level, "alert escalated");
        if written > 0 {
            nudges.wake_deliveries();
        }
        escalated += 1;
    }
    Ok(escalated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn a_stored_severity_is_spelled_as_the_rules_spell_it_and_maps_back() {
        for column in alert::Severity::iter() {
            assert_eq!(column.to_value(), ranked(column).as_str());
            assert_eq!(stored(ranked(column)), column);
        }
    }
}
