//! Prompts (mattress, sleep-position tips, PT referral, adherence nudges)
//! and the therapist digest (SPEC §7).
//!
//! Once an hour, one worker (the one that claims the hour's slot) looks at
//! the patients who could be due: recent sleep logs, an old mattress, an
//! active plan, or an open `not_improving` alert. A prompt goes out only in
//! the patient's local daytime and outside quiet hours, and at most once
//! per its period: the last one sent is looked up, and the row recording
//! it is unique per (patient, kind, subject, local date).

use std::collections::{HashMap, HashSet};

use dorsal_domain::calendar;
use dorsal_domain::locale::Locale;
use dorsal_domain::prompts::{self, DIGEST_AFTER, Due, Facts, Limits, Mattress, Night};
use dorsal_domain::reminders::QuietHours;
use dorsal_domain::role::Capability;
use dorsal_entity::{alert, care_team, plan, user};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Actor;
use crate::audit;
use crate::config::RemindersConfig;
use crate::db::{Db, begin_write};
use crate::error::{OrInternal, ServiceResult};
use crate::notify::{self, Notice};
use crate::secret::new_id;
use crate::sync::Nudges;
use crate::sync::rows::{get, live_rows};
use crate::sync::write::{lock_clocks, take_change_numbers};

const JOB: &str = "prompts";
const SLOT_MS: i64 = 3_600_000;
/// Patients looked at per batch of queries.
const CHUNK: usize = 500;

fn utc_date(now: Timestamp, days_back: i64) -> ServiceResult<String> {
    now.checked_sub(SignedDuration::from_hours(24 * days_back))
        .map(|t| t.to_zoned_datetime(TimeZone::UTC).date().to_string())
        .or_internal("date")
}

async fn patient_ids(
    db: &impl ConnectionTrait,
    select: &sea_orm::sea_query::SelectStatement,
) -> ServiceResult<Vec<Uuid>> {
    db.query_all(select)
        .await?
        .iter()
        .map(|row| get(row, "patient_id"))
        .collect()
}

/// Everyone who could have a prompt due.
async fn candidates(
    db: &DatabaseConnection,
    config: &RemindersConfig,
    now: Timestamp,
) -> ServiceResult<Vec<Uuid>> {
    let mut out = HashSet::new();
    let recent_nights = Query::select()
        .distinct()
        .column(Alias::new("patient_id"))
        .from(Alias::new("sleep_logs"))
        .and_where(Expr::col(Alias::new("deleted")).eq(false))
        .and_where(Expr::col(Alias::new("night_of")).gte(utc_date(now, 15)?))
        .take();
    out.extend(patient_ids(db, &recent_nights).await?);
    // A day of slack either side of the patient's own date.
    let old_enough = utc_date(now, i64::from(config.mattress_years) * 365 - 1)?;
    let old_mattresses = Query::select()
        .distinct()
        .column(Alias::new("patient_id"))
        .from(Alias::new("mattresses"))
        .and_where(Expr::col(Alias::new("deleted")).eq(false))
        .and_where(Expr::col(Alias::new("retired_at")).is_null())
        .and_where(Expr::col(Alias::new("purchased_on")).lte(old_enough))
        .take();
    out.extend(patient_ids(db, &old_mattresses).await?);
    let active_plans = plan::Entity::find()
        .select_only()
        .column(plan::Column::PatientId)
        .filter(plan::Column::ArchivedAt.is_null())
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    out.extend(active_plans);
    let not_improving = alert::Entity::find()
        .select_only()
        .column(alert::Column::PatientId)
        .filter(alert::Column::Rule.eq("not_improving"))
        .filter(alert::Column::Status.ne(alert::Status::Resolved))
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    out.extend(not_improving);
    let mut out: Vec<Uuid> = out.into_iter().collect();
    out.sort_unstable();
    Ok(out)
}

/// The patients of `chunk` for whom now is inside prompt hours and outside
/// quiet hours, with their local date.
async fn awake(
    db: &DatabaseConnection,
    chunk: &[Uuid],
    config: &RemindersConfig,
    now: Timestamp,
) -> ServiceResult<HashMap<Uuid, Date>> {
    let mut select = live_rows("profiles", chunk.iter().copied());
    select.columns(["patient_id", "timezone", "quiet_start", "quiet_end"].map(Alias::new));
    let mut profiles: HashMap<Uuid, (TimeZone, Option<QuietHours>)> = HashMap::new();
    for row in db.query_all(&select).await? {
        let tz: Option<String> = get(&row, "timezone")?;
        let quiet_start: Option<String> = get(&row, "quiet_start")?;
        let quiet_end: Option<String> = get(&row, "quiet_end")?;
        profiles.insert(
            get(&row, "patient_id")?,
            (
                calendar::zone(tz.as_deref()),
                QuietHours::parse(quiet_start.as_deref(), quiet_end.as_deref()),
            ),
        );
    }
    let mut out = HashMap::new();
    for patient in chunk {
        let (tz, quiet) = profiles.remove(patient).unwrap_or((TimeZone::UTC, None));
        let local = now.to_zoned_datetime(tz.clone());
        let hour = local.hour();
        if hour < config.prompt_from_hour
            || hour >= config.prompt_until_hour
            || quiet.is_some_and(|q| q.contains(local.time()))
        {
            continue;
        }
        out.insert(*patient, local.date());
    }
    Ok(out)
}

/// The facts the prompt rules need, for every patient in `locals`.
async fn facts(
    db: &DatabaseConnection,
    locals: &HashMap<Uuid, Date>,
    now: Timestamp,
) -> ServiceResult<HashMap<Uuid, Facts>> {
    let ids: Vec<Uuid> = locals.keys().copied().collect();
    let mut out: HashMap<Uuid, Facts> = locals
        .iter()
        .map(|(id, today)| {
            (
                *id,
                Facts {
                    today: *today,
                    ..Facts::default()
                },
            )
        })
        .collect();
    let mut select = live_rows("sleep_logs", ids.iter().copied());
    select
        .columns(
            [
                "patient_id",
                "night_of",
                "woke_from_pain",
                "position",
                "pillow_between_knees",
                "pillow_under_knees",
                "pillow_under_hips",
                "mattress_sagging",
                "pressure_points",
            ]
            .map(Alias::new),
        )
        .and_where(Expr::col(Alias::new("night_of")).gte(utc_date(now, 16)?));
    for row in db.query_all(&select).await? {
        let patient: Uuid = get(&row, "patient_id")?;
        let night_of: String = get(&row, "night_of")?;
        let (Some(facts), Some(night_of)) =
            (out.get_mut(&patient), calendar::parse_date(&night_of))
        else {
            continue;
        };
        let flag = |c: &str| get::<Option<bool>>(&row, c).map(|b| b.unwrap_or(false));
        facts.nights.push(Night {
            night_of,
            woke_from_pain: flag("woke_from_pain")?,
            position: get(&row, "position")?,
            pillow_between_knees: flag("pillow_between_knees")?,
            pillow_under_knees: flag("pillow_under_knees")?,
            pillow_under_hips: flag("pillow_under_hips")?,
            mattress_sagging: flag("mattress_sagging")?,
            pressure_points: flag("pressure_points")?,
        });
    }
    let mut select = live_rows("mattresses", ids.iter().copied());
    select
        .columns(["patient_id", "id", "purchased_on"].map(Alias::new))
        .and_where(Expr::col(Alias::new("retired_at")).is_null());
    for row in db.query_all(&select).await? {
        let patient: Uuid = get(&row, "patient_id")?;
        let bought: String = get(&row, "purchased_on")?;
        let (Some(facts), Some(purchased_on)) =
            (out.get_mut(&patient), calendar::parse_date(&bought))
        else {
            continue;
        };
        // The newest mattress is the one slept on.
        if facts
            .mattress
            .as_ref()
            .is_none_or(|m| m.purchased_on < purchased_on)
        {
            facts.mattress = Some(Mattress {
                id: get(&row, "id")?,
                purchased_on,
            });
        }
    }
    for patient in alert::Entity::find()
        .select_only()
        .column(alert::Column::PatientId)
        .filter(alert::Column::PatientId.is_in(ids.iter().copied()))
        .filter(alert::Column::Rule.eq("not_improving"))
        .filter(alert::Column::Status.ne(alert::Status::Resolved))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
    {
        if let Some(facts) = out.get_mut(&patient) {
            facts.not_improving = true;
        }
    }
    for (patient, since) in plan::Entity::find()
        .select_only()
        .column(plan::Column::PatientId)
        .column(plan::Column::CreatedAt)
        .filter(plan::Column::PatientId.is_in(ids.iter().copied()))
        .filter(plan::Column::ArchivedAt.is_null())
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
    {
        if let (Some(facts), Ok(since)) =
            (out.get_mut(&patient), Timestamp::from_millisecond(since))
        {
            facts.plan_since = Some(since);
        }
    }
    // A plan is in force only from its first day to its last, the
    // patient's today: no nudge to keep up a program not yet begun or over.
    let mut in_force = HashSet::new();
    let mut windows = live_rows("exercise_plans", ids.iter().copied());
    windows
        .columns(["patient_id", "starts_on", "ends_on"].map(Alias::new))
        .and_where(Expr::col(Alias::new("status")).eq("active"));
    for row in db.query_all(&windows).await? {
        let patient: Uuid = get(&row, "patient_id")?;
        let day = |column: &str| -> ServiceResult<Option<Date>> {
            Ok(get::<Option<String>>(&row, column)?.and_then(|d| calendar::parse_date(&d)))
        };
        let (starts, ends) = (day("starts_on")?, day("ends_on")?);
        if let Some(facts) = out.get(&patient)
            && starts.is_none_or(|d| d <= facts.today)
            && ends.is_none_or(|d| facts.today <= d)
        {
            in_force.insert(patient);
        }
    }
    for (patient, facts) in &mut out {
        if !in_force.contains(patient) {
            facts.plan_since = None;
        }
    }
    for (patient, last) in last_sessions(db, &ids).await? {
        if let (Some(facts), Ok(last)) = (out.get_mut(&patient), Timestamp::from_millisecond(last))
        {
            facts.last_session = Some(last);
        }
    }
    Ok(out)
}

/// Each patient's latest exercise session (ms).
async fn last_sessions(
    db: &impl ConnectionTrait,
    patients: &[Uuid],
) -> ServiceResult<HashMap<Uuid, i64>> {
    let mut out = HashMap::new();
    for chunk in patients.chunks(CHUNK) {
        let mut select = live_rows("exercise_sessions", chunk.iter().copied());
        select
            .column(Alias::new("patient_id"))
            .expr_as(
                Func::max(Expr::col(Alias::new("performed_at"))),
                Alias::new("last"),
            )
            .group_by_col(Alias::new("patient_id"));
        for row in db.query_all(&select).await? {
            let last: Option<i64> = get(&row, "last")?;
            if let Some(last) = last {
                out.insert(get(&row, "patient_id")?, last);
            }
        }
    }
    Ok(out)
}

/// When each (patient, kind, subject) was last prompted.
async fn last_prompts(
    db: &DatabaseConnection,
    patients: &[Uuid],
) -> ServiceResult<HashMap<(Uuid, String, String), i64>> {
    let select = Query::select()
        .columns(["patient_id", "kind", "subject"].map(Alias::new))
        .expr_as(
            Func::max(Expr::col(Alias::new("created_at"))),
            Alias::new("last"),
        )
        .from(Alias::new("prompts"))
        .and_where(Expr::col(Alias::new("patient_id")).is_in(patients.iter().copied()))
        .group_by_columns(["patient_id", "kind", "subject"].map(Alias::new))
        .take();
    let mut out = HashMap::new();
    for row in db.query_all(&select).await? {
        out.insert(
            (
                get(&row, "patient_id")?,
                get(&row, "kind")?,
                get(&row, "subject")?,
            ),
            get(&row, "last")?,
        );
    }
    Ok(out)
}

/// How long a prompt's pushes may still go out: it was sent in daytime.
const DEVICE_PUSH_FOR_MS: i64 = 4 * 3_600_000;

fn notice(
    patient_id: Uuid,
    due: &Due,
    today: Date,
    locale: &Locale,
    now_ms: i64,
) -> ServiceResult<Notice> {
    let mut id = format!("{}.{today}", due.kind);
    if !due.subject.is_empty() {
        id.push('.');
        id.push_str(&due.subject);
    }
    let text = due
        .text(locale)
        .or_internal("prompt missing from the catalogs")?;
    Ok(Notice {
        patient_id,
        id,
        kind: due.kind,
        title: text.title,
        body: text.body,
        language: locale.language.clone(),
        severity: if due.kind == "pt_referral" {
            "routine"
        } else {
            "info"
        },
        device_push_until: now_ms + DEVICE_PUSH_FOR_MS,
    })
}

/// Writes the prompts of one batch of patients; returns how many went out.
async fn send(
    db: &Db,
    nudges: &Nudges,
    due: Vec<(Uuid, Due, Date)>,
    now_ms: i64,
) -> ServiceResult<usize> {
    if due.is_empty() {
        return Ok(0);
    }
    let txn = begin_write(db).await?;
    let patients: Vec<Uuid> = due.iter().map(|(p, _, _)| *p).collect();
    let locked = lock_clocks(&txn, &patients).await?;
    let due: Vec<_> = due
        .into_iter()
        .filter(|(p, _, _)| locked.contains(p))
        .collect();
    if due.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    let mut insert = Query::insert();
    insert.into_table(Alias::new("prompts")).columns(
        [
            "id",
            "patient_id",
            "kind",
            "subject",
            "local_date",
            "notification_id",
            "created_at",
        ]
        .map(Alias::new),
    );
    // In the language each patient has now: what is written keeps it.
    let locales = crate::locale::locales(&txn, &patients).await?;
    let notices: Vec<Notice> = due
        .iter()
        .map(|(p, d, today)| {
            let locale = locales.get(p).cloned().unwrap_or_default();
            notice(*p, d, *today, &locale, now_ms)
        })
        .collect::<ServiceResult<_>>()?;
    for ((patient, d, today), n) in due.iter().zip(&notices) {
        insert
            .values([
                new_id().into(),
                (*patient).into(),
                d.kind.into(),
                d.subject.as_str().into(),
                today.to_string().into(),
                n.id.as_str().into(),
                now_ms.into(),
            ])
            .or_internal("prompt statement")?;
    }
    insert
        .on_conflict(
            OnConflict::columns(["patient_id", "kind", "subject", "local_date"].map(Alias::new))
                .do_nothing()
                .to_owned(),
        )
        .returning(Query::returning().columns(["patient_id", "notification_id"].map(Alias::new)));
    let mut recorded = HashSet::new();
    for row in txn.query_all(&insert).await? {
        recorded.insert((
            get::<Uuid>(&row, "patient_id")?,
            get::<String>(&row, "notification_id")?,
        ));
    }
    let notices: Vec<Notice> = notices
        .into_iter()
        .filter(|n| recorded.contains(&(n.patient_id, n.id.clone())))
        .collect();
    let writers: Vec<Uuid> = notices.iter().map(|n| n.patient_id).collect();
    let seqs = take_change_numbers(&txn, &writers).await?;
    let pushes = notify::write(&txn, &notices, &seqs, now_ms).await?;
    txn.commit().await?;
    for (patient, seq) in seqs {
        nudges.send(patient, seq);
    }
    if pushes > 0 {
        nudges.wake_deliveries();
    }
    // Counts only: a patient id beside a prompt kind would say something
    // about that patient's health.
    tracing::info!(sent = notices.len(), "prompts sent");
    Ok(notices.len())
}

/// The hourly prompt scan. `None` when another worker has this hour.
#[tracing::instrument(skip_all)]
pub async fn scan(
    db: &Db,
    nudges: &Nudges,
    config: &RemindersConfig,
    worker: Uuid,
    now: Timestamp,
) -> ServiceResult<Option<usize>> {
    let now_ms = now.as_millisecond();
    let slot = now_ms / SLOT_MS;
    if !crate::slots::claim(db, JOB, slot, worker, now_ms).await? {
        return Ok(None);
    }
    let limits = Limits {
        mattress_years: config.mattress_years,
    };
    let mut sent = 0;
    for chunk in candidates(db, config, now).await?.chunks(CHUNK) {
        let locals = awake(db, chunk, config, now).await?;
        if locals.is_empty() {
            continue;
        }
        let facts = facts(db, &locals, now).await?;
        let ids: Vec<Uuid> = facts.keys().copied().collect();
        let last = last_prompts(db, &ids).await?;
        let mut due = Vec::new();
        for (patient, facts) in &facts {
            for d in prompts::due(facts, now, limits) {
                let key = (*patient, d.kind.to_owned(), d.subject.clone());
                let previous = last
                    .get(&key)
                    .and_then(|ms| Timestamp::from_millisecond(*ms).ok());
                if prompts::may_repeat(&d, previous, now) {
                    due.push((*patient, d, facts.today));
                }
            }
        }
        sent += send(db, nudges, due, now_ms).await?;
    }
    crate::slots::finish(db, JOB, slot, worker, now_ms).await?;
    Ok(Some(sent))
}

/// A patient on the therapist digest.
#[derive(Debug, Clone, Serialize)]
pub struct DigestEntry {
    /// Patient id.
    pub patient_id: Uuid,
    /// Patient's name.
    pub display_name: String,
    /// The active plan.
    pub plan_id: String,
    /// When that plan was given (ms).
    pub plan_since: i64,
    /// The last exercise session (ms), if any.
    pub last_session_at: Option<i64>,
    /// Whole days without a session (since the plan, if none ever).
    pub days_without_session: i64,
}

/// The org's patients with an active plan and no exercise session for 14
/// days, longest first. Each listed patient is audited as read.
pub async fn digest(
    db: &DatabaseConnection,
    actor: Actor,
    now_ms: i64,
) -> ServiceResult<Vec<DigestEntry>> {
    let org_id = actor.staff_org(Capability::ReadPatients)?;
    let patients: Vec<Uuid> = care_team::Entity::find()
        .select_only()
        .column(care_team::Column::PatientId)
        .filter(care_team::Column::OrgId.eq(org_id))
        .into_tuple::<Uuid>()
        .all(db)
        .await?;
    let mut out = Vec::new();
    for chunk in patients.chunks(CHUNK) {
        let plans = plan::Entity::find()
            .filter(plan::Column::PatientId.is_in(chunk.iter().copied()))
            .filter(plan::Column::OrgId.eq(org_id))
            .filter(plan::Column::ArchivedAt.is_null())
            .all(db)
            .await?;
        let last = last_sessions(db, chunk).await?;
        let names: HashMap<Uuid, String> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::DisplayName)
            .filter(user::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for found in plans {
            let last_session_at = last.get(&found.patient_id).copied();
            let since = last_session_at.map_or(found.created_at, |s| Ord::max(s, found.created_at));
            let idle = now_ms - since;
            if idle < DIGEST_AFTER.as_millis() as i64 {
                continue;
            }
            out.push(DigestEntry {
                patient_id: found.patient_id,
                display_name: names.get(&found.patient_id).cloned().unwrap_or_default(),
                plan_id: found.id,
                plan_since: found.created_at,
                last_session_at,
                days_without_session: idle / 86_400_000,
            });
        }
    }
    out.sort_by(|a, b| {
        b.days_without_session
            .cmp(&a.days_without_session)
            .then(a.patient_id.cmp(&b.patient_id))
    });
    let ids: Vec<Uuid> = out.iter().map(|e| e.patient_id).collect();
    audit::record(db, actor, &ids, "digest.read", now_ms).await?;
    Ok(out)
}
