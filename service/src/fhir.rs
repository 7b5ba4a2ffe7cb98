//! Loads one patient's data for the FHIR R4 export; the mapping itself is
//! `domain::fhir`.

use dorsal_domain::calendar;
use dorsal_domain::fhir::{
    AlertData, CarePlanData, Export, MAX_ENTRIES, PainEntry, PatientData, SleepEntry, WINDOW_DAYS,
};
use dorsal_domain::role::Capability;
use dorsal_entity::{alert, alert_evidence};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::access::{PatientAccess, load_user};
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::programs::list_plans;
use crate::sync::rows::{get, live_rows};

const DAY_MS: i64 = 86_400_000;

/// The patient's FHIR R4 Bundle as `access` may see it: the diary of the
/// last [`WINDOW_DAYS`] days, the active plan (for staff, only their own
/// org's, as with `GET /v1/patients/{id}/plans`) and, for roles that may
/// see alerts, each unresolved alert with the pain logs it rests on.
#[tracing::instrument(skip_all)]
pub async fn patient_bundle(
    db: &impl ConnectionTrait,
    access: &PatientAccess,
    now: i64,
) -> ServiceResult<serde_json::Value> {
    let patient_id = access.patient_id();
    let user = load_user(db, patient_id).await.map_err(|err| match err {
        ServiceError::NotFound(_) => ServiceError::NotFound("patient"),
        other => other,
    })?;

    let mut select = live_rows("profiles", [patient_id]);
    select.columns(["timezone", "birth_date", "sex"].map(Alias::new));
    let (timezone, birth_date, sex) = match db.query_one(&select).await? {
        Some(row) => (
            get::<Option<String>>(&row, "timezone")?,
            get::<Option<String>>(&row, "birth_date")?,
            get::<Option<String>>(&row, "sex")?,
        ),
        None => (None, None, None),
    };
    let zone = calendar::zone(timezone.as_deref());
    let since = now - WINDOW_DAYS * DAY_MS;

    // Alerts are for the roles that may act on them (decisions: "Who sees
    // alerts"); the export does not widen that.
    let with_alerts = access.actor().role.can(Capability::ActOnAlerts);
    let alerts = if with_alerts {
        unresolved_alerts(db, patient_id).await?
    } else {
        Vec::new()
    };

    let mut select = live_rows("pain_logs", [patient_id]);
    let recent = Expr::col(Alias::new("recorded_at")).gte(since);
    let wanted = if with_alerts {
        // The evidence of an unresolved alert is exported whatever its age.
        let evidence = Query::select()
            .column(alert_evidence::Column::LogId)
            .from(alert_evidence::Entity)
            .and_where(Expr::col(alert_evidence::Column::PatientId).eq(patient_id))
            .and_where(
                Expr::col(alert_evidence::Column::AlertId).in_subquery(
                    Query::select()
                        .column(alert::Column::Id)
                        .from(alert::Entity)
                        .and_where(Expr::col(alert::Column::PatientId).eq(patient_id))
                        .and_where(Expr::col(alert::Column::Status).ne(alert::Status::Resolved))
                        .take(),
                ),
            )
            .take();
        recent.or(Expr::col(Alias::new("id")).in_subquery(evidence))
    } else {
        recent
    };
    // The newest entries first, one more than is kept, to know whether
    // some were left out; then listed oldest first.
    select
        .columns(["id", "recorded_at", "intensity", "location"].map(Alias::new))
        .and_where(wanted)
        .order_by(Alias::new("recorded_at"), Order::Desc)
        .order_by(Alias::new("id"), Order::Desc)
        .limit(MAX_ENTRIES + 1);
    let mut omitted = Vec::new();
    let mut rows = db.query_all(&select).await?;
    if cap(&mut rows) {
        omitted.push(format!(
            "only the newest {MAX_ENTRIES} pain entries of the last {WINDOW_DAYS} days are included"
        ));
    }
    let pains = rows
        .iter()
        .map(|row| {
            Ok(PainEntry {
                id: get(row, "id")?,
                recorded_at: get(row, "recorded_at")?,
                intensity: get(row, "intensity")?,
                location: get(row, "location")?,
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;

    // Nights are local dates; a day of slack keeps every night whose
    // evening falls inside the window.
    let first_night = calendar::local_date(since - DAY_MS, &zone)
        .map(|d| d.to_string())
        .or_internal("export window out of range")?;
    let mut select = live_rows("sleep_logs", [patient_id]);
    select
        .columns(
            [
                "id",
                "night_of",
                "bedtime",
                "wake_time",
                "quality",
                "awakenings",
                "woke_from_pain",
            ]
            .map(Alias::new),
        )
        .and_where(Expr::col(Alias::new("night_of")).gte(first_night))
        .order_by(Alias::new("night_of"), Order::Desc)
        .order_by(Alias::new("id"), Order::Desc)
        .limit(MAX_ENTRIES + 1);
    let mut rows = db.query_all(&select).await?;
    if cap(&mut rows) {
        omitted.push(format!(
            "only the newest {MAX_ENTRIES} sleep entries of the last {WINDOW_DAYS} days are included"
        ));
    }
    let sleeps = rows
        .iter()
        .map(|row| {
            Ok(SleepEntry {
                id: get(row, "id")?,
                night_of: get(row, "night_of")?,
                bedtime: get(row, "bedtime")?,
                wake_time: get(row, "wake_time")?,
                quality: get(row, "quality")?,
                awakenings: get(row, "awakenings")?,
                woke_from_pain: get::<Option<bool>>(row, "woke_from_pain")?.unwrap_or(false),
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;

    let plan = list_plans(db, access)
        .await?
        .into_iter()
        .find(|p| p.status == "active")
        .map(|p| CarePlanData {
            id: p.id,
            version: p.version,
            body: p.body,
        });

    Ok(dorsal_domain::fhir::bundle(&Export {
        patient: PatientData {
            id: patient_id,
            display_name: user.display_name,
            birth_date,
            sex,
        },
        zone,
        now,
        pains,
        sleeps,
        plan,
        alerts,
        omitted,
    }))
}

/// Keeps the first [`MAX_ENTRIES`] of rows read newest first, in oldest
/// first order; whether any were dropped.
fn cap(rows: &mut Vec<sea_orm::QueryResult>) -> bool {
    let dropped = rows.len() > usize::try_from(MAX_ENTRIES).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(MAX_ENTRIES).unwrap_or(usize::MAX));
    rows.reverse();
    dropped
}

/// The patient's alerts that are not resolved, oldest first, with the ids
/// of their evidence logs.
async fn unresolved_alerts(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> ServiceResult<Vec<AlertData>> {
    let found = alert::Entity::find()
        .filter(alert::Column::PatientId.eq(patient_id))
        .filter(alert::Column::Status.ne(alert::Status::Resolved))
        .order_by_asc(alert::Column::CreatedAt)
        .order_by_asc(alert::Column::Id)
        .all(db)
        .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    // Evidence beyond the pain entries exported cannot be referred to;
    // the newest is read, bounded like them.
    let mut evidence = alert_evidence::Entity::find()
        .filter(alert_evidence::Column::PatientId.eq(patient_id))
        .filter(alert_evidence::Column::AlertId.is_in(found.iter().map(|a| a.id)))
        .order_by_desc(alert_evidence::Column::RecordedAt)
        .order_by_desc(alert_evidence::Column::LogId)
        .limit(MAX_ENTRIES)
        .all(db)
        .await?;
    evidence.reverse();
    Ok(found
        .into_iter()
        .map(|a| AlertData {
            id: a.id,
            evidence: evidence
                .iter()
                .filter(|e| e.alert_id == a.id)
                .map(|e| e.log_id.clone())
                .collect(),
            rule: a.rule,
            rule_version: a.rule_version,
            severity: a.severity.to_value(),
            status: a.status.to_value(),
            created_at: a.created_at,
            acknowledged_at: a.acknowledged_at,
        })
        .collect())
}
