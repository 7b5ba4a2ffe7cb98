//! The alert inbox for clinicians and admins: list, read with evidence,
//! acknowledge, resolve. Every access is through `service::access` and
//! audited.

use std::cmp::Reverse;
use std::collections::HashMap;

use dorsal_domain::Violations;
use dorsal_domain::red_flags::{Severity, Thresholds, rule};
use dorsal_domain::role::Capability;
use dorsal_entity::{alert, alert_evidence, care_team, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, LoaderTrait,
    ModelTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Where an alert stands: `open`, `acknowledged` or `resolved`.
pub use dorsal_entity::alert::Status as AlertStatus;

use crate::access::{Actor, patient_access};
use crate::audit;
use crate::db::{Db, begin_write};
use crate::error::{ServiceError, ServiceResult};
use crate::page::{MAX_LIMIT, Page, PageRequest};
use crate::severity::{ranked, stored};
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
    actor.staff_org(Capability::ActOnAlerts)?;
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
    listed(db, actor, status.flatten(), severity.flatten(), page, now).await
}

/// Alerts of the caller's org's patients with `status` and `severity`
/// (`None`: any), newest first; the patients on the page are audited.
async fn listed(
    db: &impl ConnectionTrait,
    actor: Actor,
    status: Option<AlertStatus>,
    severity: Option<alert::Severity>,
    page: PageRequest,
    now: i64,
) -> ServiceResult<Page<AlertView>> {
    let org_id = actor.staff_org(Capability::ActOnAlerts)?;
    let patients = Query::select()
        .column(care_team::Column::PatientId)
        .from(care_team::Entity)
        .and_where(Expr::col(care_team::Column::OrgId).eq(org_id))
        .take();
    let mut query = alert::Entity::find()
        .filter(alert::Column::PatientId.in_subquery(patients))
        .order_by_desc(alert::Column::Id)
        .limit(page.fetch_limit());
    if let Some(status) = status {
        query = query.filter(alert::Column::Status.eq(status));
    }
    if let Some(severity) = severity {
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

fn evidence(row: alert_evidence::Model) -> Evidence {
    Evidence {
        log_id: row.log_id,
        recorded_at: row.recorded_at,
        matched: serde_json::from_str(&row.matched).unwrap_or(serde_json::Value::Null),
        attached_at: row.attached_at,
    }
}

async fn detail(db: &impl ConnectionTrait, found: alert::Model) -> ServiceResult<AlertView> {
    let rows = found
        .find_related(alert_evidence::Entity)
        .order_by_asc(alert_evidence::Column::RecordedAt)
        .all(db)
        .await?;
    Ok(view(found, rows.into_iter().map(evidence).collect()))
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

/// Resolved alerts the inbox shows when not filtered by status: the most
/// recently resolved, a short tail below the rest.
pub const INBOX_RESOLVED_SHOWN: u64 = 20;

/// What the clinic inbox is filtered by (`None`: all).
#[derive(Debug, Clone, Copy, Default)]
pub struct InboxFilter {
    /// Only the section of alerts with this status.
    pub status: Option<AlertStatus>,
    /// Only alerts of this severity.
    pub severity: Option<Severity>,
}

impl InboxFilter {
    /// Whether the section of alerts with `status` is shown (a hidden
    /// section is not read at all).
    pub fn shows(&self, status: AlertStatus) -> bool {
        self.status.is_none_or(|s| s == status)
    }
}

/// One alert of the inbox with its patient's name.
#[derive(Debug)]
pub struct InboxAlert {
    /// The alert, with evidence for open and acknowledged ones.
    pub view: AlertView,
    /// The patient's display name.
    pub patient_name: String,
}

/// The clinic inbox's sections.
#[derive(Debug)]
pub struct Inbox {
    /// Open alerts, most severe and then oldest first.
    pub open: Vec<InboxAlert>,
    /// Acknowledged, not yet resolved, in the same order.
    pub acknowledged: Vec<InboxAlert>,
    /// The most recently resolved, newest first: [`INBOX_RESOLVED_SHOWN`]
    /// of them, or as many as the other sections when filtered to them.
    pub resolved: Vec<InboxAlert>,
}

/// The clinic inbox of the caller's org, as `filter` asks: the alerts of
/// each section with their patients' names, and the evidence of those not
/// resolved. Audited as the API's calls are: a list per section, a read
/// per alert with evidence, a patient read per patient named.
#[tracing::instrument(skip_all)]
pub async fn inbox(
    db: &impl ConnectionTrait,
    actor: Actor,
    filter: InboxFilter,
    now: i64,
) -> ServiceResult<Inbox> {
    // Unfiltered, the resolved are a short tail; asked for, as many as the
    // other sections.
    let resolved_limit = if filter.status.is_some() {
        MAX_LIMIT
    } else {
        INBOX_RESOLVED_SHOWN
    };
    let open = section(db, actor, filter, AlertStatus::Open, MAX_LIMIT, now).await?;
    let acknowledged =
        section(db, actor, filter, AlertStatus::Acknowledged, MAX_LIMIT, now).await?;
    let resolved = section(
        db,
        actor,
        filter,
        AlertStatus::Resolved,
        resolved_limit,
        now,
    )
    .await?;
    // The list leaves out the evidence; the inbox shows it for the alerts
    // not resolved, each read audited as `GET /v1/alerts/{id}` is.
    let active: Vec<alert::Model> = open.into_iter().chain(acknowledged).collect();
    let read: Vec<Uuid> = active.iter().map(|a| a.patient_id).collect();
    audit::record(db, actor, &read, "alerts.read", now).await?;
    let found = active
        .load_many(
            alert_evidence::Entity::find().order_by_asc(alert_evidence::Column::RecordedAt),
            db,
        )
        .await?;
    let active: Vec<AlertView> = active
        .into_iter()
        .zip(found)
        .map(|(a, rows)| view(a, rows.into_iter().map(evidence).collect()))
        .collect();
    let resolved: Vec<AlertView> = resolved.into_iter().map(|a| view(a, Vec::new())).collect();
    let names = patient_names(
        db,
        actor,
        active.iter().chain(&resolved).map(|v| v.alert.patient_id),
        now,
    )
    .await?;
    let named = |view: AlertView| InboxAlert {
        patient_name: names
            .get(&view.alert.patient_id)
            .cloned()
            .unwrap_or_default(),
        view,
    };
    let (mut open, mut acknowledged): (Vec<_>, Vec<_>) = active
        .into_iter()
        .map(named)
        .partition(|item| item.view.alert.status == AlertStatus::Open);
    for list in [&mut open, &mut acknowledged] {
        // Most urgent first, then oldest first.
        list.sort_by_key(|item| {
            (
                Reverse(ranked(item.view.alert.severity)),
                item.view.alert.created_at,
            )
        });
    }
    Ok(Inbox {
        open,
        acknowledged,
        resolved: resolved.into_iter().map(named).collect(),
    })
}

/// The inbox's section of alerts with `status`, if `filter` shows it.
async fn section(
    db: &impl ConnectionTrait,
    actor: Actor,
    filter: InboxFilter,
    status: AlertStatus,
    limit: u64,
    now: i64,
) -> ServiceResult<Vec<alert::Model>> {
    if !filter.shows(status) {
        return Ok(Vec::new());
    }
    let page = PageRequest::new(Some(limit), None);
    let severity = filter.severity.map(stored);
    let found = listed(db, actor, Some(status), severity, page, now).await?;
    Ok(found.items.into_iter().map(|v| v.alert).collect())
}

/// Display names of `patients` of the caller's org, in one query; each
/// patient is audited as a read, as `GET /v1/patients/{id}` is.
async fn patient_names(
    db: &impl ConnectionTrait,
    actor: Actor,
    patients: impl Iterator<Item = Uuid>,
    now: i64,
) -> ServiceResult<HashMap<Uuid, String>> {
    let mut ids: Vec<Uuid> = Vec::new();
    for id in patients {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let org_id = actor.staff_org(Capability::ReadPatients)?;
    audit::record(db, actor, &ids, "patients.read", now).await?;
    let names = care_team::Entity::find()
        .select_only()
        .column(care_team::Column::PatientId)
        .column(user::Column::DisplayName)
        .inner_join(user::Entity)
        .filter(care_team::Column::OrgId.eq(org_id))
        .filter(care_team::Column::PatientId.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?;
    Ok(names.into_iter().collect())
}

const RESOLVED: ServiceError = ServiceError::Conflict {
    code: "alert_resolved",
    detail: "this alert is already resolved",
};

/// Acknowledges an open alert (acknowledging twice changes nothing). It
/// cancels pending escalation and tells the org's systems.
#[tracing::instrument(skip_all, fields(alert_id = %id))]
pub async fn acknowledge(
    db: &Db,
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
#[tracing::instrument(skip_all, fields(alert_id = %id))]
pub async fn resolve(
    db: &Db,
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
#[tracing::instrument(skip_all)]
pub async fn escalate_due(
    db: &Db,
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
