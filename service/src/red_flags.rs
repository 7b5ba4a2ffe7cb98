//! Red flags in the push transaction: every pain log just written is
//! evaluated; the patient gets advice at once (in the push answer and as a
//! synced notification), and the alert for the care team is opened or the
//! log attached to the open one, atomically with the log itself.

use std::collections::BTreeMap;

use dorsal_domain::calendar;
use dorsal_domain::locale::{self as advice, ClinicLine, Locale, Text};
use dorsal_domain::red_flags::{
    Finding, History, Needed, PainFacts, ProfileFacts, Rule, Severity, Snapshot, Thresholds,
    UNRELENTING, diary_since, evaluate, evaluate_over_time, pain_log_columns, profile_columns,
};
use dorsal_domain::sync::schema::table;
use dorsal_domain::sync::{Cell, ColumnSpec};
use dorsal_entity::{alert, alert_evidence};
use jiff::tz::TimeZone;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryResult, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Db, begin_write};
use crate::error::{OrInternal, ServiceResult};
use crate::secret::new_id;
use crate::severity::{ranked, stored};
use crate::sync::Nudges;
use crate::sync::PatientWrite;
use crate::sync::rows::{get, live_rows, read_cell};

const DAY_MS: i64 = 86_400_000;

/// Red-flag advice for the records just pushed, as the push answer
/// carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Advisory {
    /// Rule code.
    pub code: String,
    /// `routine`, `urgent` or `emergency`.
    pub severity: String,
    /// Headline.
    pub title: String,
    /// What to do.
    pub body: String,
}

/// What the rules read of the patient's profile, and the zone they read
/// it in; the columns are the ones the rules declare.
async fn profile(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> ServiceResult<(ProfileFacts, TimeZone)> {
    let mut select = live_rows("profiles", [patient_id]);
    select.columns(profile_columns().iter().map(|c| Alias::new(c.name)));
    let Some(row) = db.query_one(&select).await? else {
        return Ok((ProfileFacts::default(), TimeZone::UTC));
    };
    let cells = profile_columns()
        .iter()
        .map(|column| Ok((column.name, read_cell(&row, column)?)))
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    Ok(ProfileFacts::from_cells(|name| {
        cells.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }))
}

/// The pain-log columns the rules read, with `id`.
fn pain_columns() -> Vec<Alias> {
    let mut columns = vec![Alias::new("id")];
    columns.extend(pain_log_columns().iter().map(|c| Alias::new(c.name)));
    columns
}

fn pain_facts(row: &QueryResult) -> ServiceResult<PainFacts> {
    let id: String = get(row, "id")?;
    let cells = pain_log_columns()
        .iter()
        .map(|column| Ok((column.name, read_cell(row, column)?)))
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    PainFacts::from_cells(&id, |name| {
        cells.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    })
    .or_internal("a pain log without instant or intensity")
}

/// A pain log as written, from its cells; `None` without the required
/// instant and intensity (which validation guarantees).
pub fn pain_facts_from_cells(id: &str, cells: &[(&'static ColumnSpec, Cell)]) -> Option<PainFacts> {
    PainFacts::from_cells(id, |name| {
        cells.iter().find(|(c, _)| c.name == name).map(|(_, v)| v)
    })
}

/// Evaluates the pain logs just written in `write` — `fresh` as inserted,
/// and `reread` (updated or merged ones, whose stored values may differ
/// from what was pushed) read back — records alerts and advice
/// notifications in the same transaction, and returns the advice for the
/// push answer (one per rule).
#[tracing::instrument(skip_all)]
pub async fn on_pain_logs(
    write: &PatientWrite,
    fresh: Vec<PainFacts>,
    reread: &[&str],
    thresholds: &Thresholds,
    now: i64,
) -> ServiceResult<Vec<Advisory>> {
    if fresh.is_empty() && reread.is_empty() {
        return Ok(Vec::new());
    }
    let db = write.txn();
    let patient_id = write.patient_id();
    // The re-read logs, through the id index alone (filtering by patient in
    // SQL lets PostgreSQL pick the patient index and scan every row).
    let mut pushed: Vec<PainFacts> = fresh;
    for chunk in reread.chunks(500) {
        let select = Query::select()
            .columns(pain_columns())
            .column(Alias::new("patient_id"))
            .from(Alias::new("pain_logs"))
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
            .and_where(Expr::col(Alias::new("deleted")).eq(false))
            .take();
        for row in db.query_all(&select).await? {
            if get::<Uuid>(&row, "patient_id")? == patient_id {
                pushed.push(pain_facts(&row)?);
            }
        }
    }
    if pushed.is_empty() {
        return Ok(Vec::new());
    }
    let (facts, tz) = profile(db, patient_id).await?;

    // Only the history the rules declare for the pushed logs: whole logs
    // when one looks back at them, just the instants of unrelenting night
    // pain for one that counts such nights. A diary logged in bulk stays
    // cheap to evaluate.
    let needed = Needed::for_logs(&pushed, &facts, &tz, thresholds);
    let mut earlier = Vec::new();
    if let Some(since) = needed.logs_since {
        let mut select = live_rows("pain_logs", [patient_id]);
        select
            .columns(pain_columns())
            .and_where(Expr::col(Alias::new("recorded_at")).gte(since));
        earlier = db
            .query_all(&select)
            .await?
            .iter()
            .map(pain_facts)
            .collect::<ServiceResult<Vec<_>>>()?;
    }
    let mut history = History::new(&earlier, &tz);
    if let Some(nights) = needed.unrelenting_nights {
        // The pushed logs give their own nights; the database is asked only
        // for the nights before the latest of them, and for one instant
        // per quarter hour (enough to know the night), so a patient who
        // logs often is not read back entry by entry.
        let recorded_at = || Expr::col(Alias::new("recorded_at"));
        let (period, night) = UNRELENTING.period;
        let (eased, not_eased) = UNRELENTING.eased_by_rest;
        let mut select = live_rows("pain_logs", [patient_id]);
        select
            .expr_as(recorded_at().min(), Alias::new("recorded_at"))
            .and_where(Expr::col(Alias::new(period)).eq(night))
            .and_where(Expr::col(Alias::new(eased)).eq(not_eased))
            .and_where(recorded_at().gte(nights.since))
            .and_where(recorded_at().lt(nights.before))
            .add_group_by([recorded_at().div(calendar::NIGHT_BUCKET_MS)]);
        let instants = db
            .query_all(&select)
            .await?
            .iter()
            .map(|row| get::<i64>(row, "recorded_at"))
            .collect::<ServiceResult<Vec<_>>>()?;
        history.add_unrelenting_nights(&instants, &tz);
        history.add_unrelenting_nights_of(&pushed, &tz);
    }
    let mut open: Vec<String> = alert::Entity::find()
        .filter(alert::Column::PatientId.eq(patient_id))
        .filter(alert::Column::Status.ne(alert::Status::Resolved))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.rule)
        .collect();

    let mut advisories: BTreeMap<&'static str, Advisory> = BTreeMap::new();
    // The patient's language, country and clinic line, read once the first
    // rule matches: most pushes raise nothing and read nothing more.
    let mut words: Option<(Locale, Option<ClinicLine>)> = None;
    for log in &pushed {
        let snapshot = Snapshot {
            log,
            history: &history,
            profile: &facts,
            tz: &tz,
            open_rules: &open,
        };
        for finding in evaluate(&snapshot, thresholds) {
            record(write, log, &finding, thresholds, now).await?;
            if !open.iter().any(|code| code == finding.rule.code) {
                open.push(finding.rule.code.to_owned());
            }
            let (locale, line) = match &mut words {
                Some(words) => words,
                None => words.insert((
                    crate::locale::locale(db, patient_id).await?,
                    crate::locale::clinic_lines(db, &[patient_id])
                        .await?
                        .remove(&patient_id),
                )),
            };
            let text = advice::red_flag(finding.rule, finding.severity, locale, line.as_ref())
                .or_internal("red-flag advice missing from the catalogs")?;
            advise(write, log, &finding, &text, now).await?;
            let advisory = Advisory {
                code: finding.rule.code.to_owned(),
                severity: finding.severity.as_str().to_owned(),
                title: text.title,
                body: text.body,
            };
            let keep = advisories
                .get(finding.rule.code)
                .is_none_or(|a| Severity::parse(&a.severity) < Some(finding.severity));
            if keep {
                advisories.insert(finding.rule.code, advisory);
            }
        }
    }
    Ok(advisories.into_values().collect())
}

/// Opens the alert for (patient, rule) or attaches the log to the open one.
/// A log already counted for the rule (a retried push) changes nothing, so
/// a resolved alert is raised again only by a new log.
async fn record(
    write: &PatientWrite,
    log: &PainFacts,
    finding: &Finding,
    thresholds: &Thresholds,
    now: i64,
) -> ServiceResult<()> {
    let wrote = record_alert(
        write.txn(),
        write.patient_id(),
        finding.rule,
        finding.severity,
        &log.id,
        log.recorded_at,
        &finding.matched,
        thresholds,
        now,
    )
    .await?;
    if wrote {
        write.wrote_outbox();
    }
    Ok(())
}

/// Opens the alert for (patient, rule) or attaches the log to the open one.
/// A log already counted for the rule changes nothing.
#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one finding, used by two callers"
)]
async fn record_alert(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    rule: &'static Rule,
    severity: Severity,
    log_id: &str,
    recorded_at: i64,
    matched: &[(&'static str, serde_json::Value)],
    thresholds: &Thresholds,
    now: i64,
) -> ServiceResult<bool> {
    let mut outbox = false;
    let escalate_at = thresholds.escalation_delay_ms(severity).map(|d| now + d);
    let code = rule.code;
    let counted = alert_evidence::Entity::find()
        .filter(alert_evidence::Column::PatientId.eq(patient_id))
        .filter(alert_evidence::Column::Rule.eq(code))
        .filter(alert_evidence::Column::LogId.eq(log_id))
        .one(db)
        .await?
        .is_some();
    if counted {
        return Ok(false);
    }
    let open = alert::Entity::find()
        .filter(alert::Column::PatientId.eq(patient_id))
        .filter(alert::Column::Rule.eq(code))
        .filter(alert::Column::Status.ne(alert::Status::Resolved))
        .one(db)
        .await?;
    let alert_id = match open {
        Some(existing) => {
            let id = existing.id;
            let raise = ranked(existing.severity) < severity;
            let was_routine = ranked(existing.severity) == Severity::Routine;
            let unacknowledged = existing.status == alert::Status::Open;
            let mut model: alert::ActiveModel = existing.into();
            model.updated_at = Set(now);
            if raise {
                model.severity = Set(stored(severity));
                if unacknowledged {
                    model.escalate_at = Set(escalate_at);
                }
            }
            let updated = model.update(db).await?;
            // A routine alert that becomes urgent goes out for the first time.
            if raise
                && was_routine
                && crate::webhooks::enqueue(db, &updated, "alert.raised", now).await? > 0
            {
                outbox = true;
            }
            id
        }
        None => {
            let id = new_id();
            let raised = alert::ActiveModel {
                id: Set(id),
                patient_id: Set(patient_id),
                rule: Set(code.to_owned()),
                rule_version: Set(i64::from(rule.version)),
                severity: Set(stored(severity)),
                level: Set(0),
                status: Set(alert::Status::Open),
                created_at: Set(now),
                updated_at: Set(now),
                acknowledged_at: Set(None),
                acknowledged_by: Set(None),
                resolved_at: Set(None),
                resolved_by: Set(None),
                resolution_note: Set(None),
                escalate_at: Set(escalate_at),
            }
            .insert(db)
            .await?;
            if crate::webhooks::enqueue(db, &raised, "alert.raised", now).await? > 0 {
                outbox = true;
            }
            // The alert id leads to the patient and the rule only through
            // the database, behind access checks. The rule is not logged:
            // this line runs inside the request span, which names the
            // patient, and a rule beside a person is health information.
            tracing::info!(alert_id = %id, severity = severity.as_str(), "alert raised");
            id
        }
    };
    let matched: serde_json::Map<String, serde_json::Value> = matched
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    alert_evidence::ActiveModel {
        id: Set(new_id()),
        alert_id: Set(alert_id),
        patient_id: Set(patient_id),
        rule: Set(code.to_owned()),
        log_id: Set(log_id.to_owned()),
        matched: Set(serde_json::Value::Object(matched).to_string()),
        recorded_at: Set(recorded_at),
        attached_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(outbox)
}

/// The patient's `red_flag_advice` notification for this log and rule,
/// written once (a retry leaves the one already there, read or not).
async fn advise(
    write: &PatientWrite,
    log: &PainFacts,
    finding: &Finding,
    text: &Text,
    now: i64,
) -> ServiceResult<()> {
    let notifications = table("notifications").or_internal("no notifications table")?;
    let id = format!("rf.{}.{}", finding.rule.code, log.id);
    let exists = crate::sync::rows::known_ids(
        write.txn(),
        notifications,
        write.patient_id(),
        &[id.as_str()],
    )
    .await?;
    if exists.own.contains_key(&id) || exists.taken.contains(&id) {
        return Ok(());
    }
    let row = notifications.row(vec![
        ("kind", Cell::Text("red_flag_advice".into())),
        ("title", Cell::Text(text.title.clone())),
        ("body", Cell::Text(text.body.clone())),
        ("severity", Cell::Text(finding.severity.as_str().into())),
        ("created_at", Cell::Int(now)),
    ]);
    write.upsert(notifications, &id, row).await
}

const TIME_RULES_JOB: &str = "time_rules";
const SLOT_MS: i64 = 3_600_000;

/// Evaluates the time-based rules (night-pain streaks, not improving,
/// worsening) for every patient who logged pain in the last two days. Runs
/// once per hour across all workers: the first to claim the hour's slot
/// does it. Returns the alerts opened or extended, or `None` when another
/// worker has the slot.
#[tracing::instrument(skip_all)]
pub async fn evaluate_time_rules(
    db: &Db,
    nudges: &Nudges,
    thresholds: &Thresholds,
    worker: Uuid,
    now: i64,
) -> ServiceResult<Option<usize>> {
    let slot = now / SLOT_MS;
    if !crate::slots::claim(db, TIME_RULES_JOB, slot, worker, now).await? {
        return Ok(None);
    }
    let active = Query::select()
        .distinct()
        .column(Alias::new("patient_id"))
        .from(Alias::new("pain_logs"))
        .and_where(Expr::col(Alias::new("deleted")).eq(false))
        .and_where(Expr::col(Alias::new("recorded_at")).gte(now - 2 * DAY_MS))
        .take();
    let patients: Vec<Uuid> = db
        .query_all(&active)
        .await?
        .iter()
        .map(|row| get(row, "patient_id"))
        .collect::<ServiceResult<_>>()?;
    let mut recorded = 0;
    for patient_id in patients {
        let (_, tz) = profile(db, patient_id).await?;
        let mut select = live_rows("pain_logs", [patient_id]);
        select
            .columns(pain_columns())
            .and_where(Expr::col(Alias::new("recorded_at")).gte(diary_since(now, thresholds)));
        let logs = db
            .query_all(&select)
            .await?
            .iter()
            .map(pain_facts)
            .collect::<ServiceResult<Vec<_>>>()?;
        let findings = evaluate_over_time(&logs, &tz, now, thresholds);
        if findings.is_empty() {
            continue;
        }
        let txn = begin_write(db).await?;
        let mut outbox = false;
        for finding in &findings {
            outbox |= record_alert(
                &txn,
                patient_id,
                finding.rule,
                finding.rule.severity,
                &finding.log_id,
                finding.recorded_at,
                &finding.matched,
                thresholds,
                now,
            )
            .await?;
        }
        txn.commit().await?;
        if outbox {
            nudges.wake_deliveries();
        }
        recorded += findings.len();
    }
    crate::slots::finish(db, TIME_RULES_JOB, slot, worker, now).await?;
    Ok(Some(recorded))
}
