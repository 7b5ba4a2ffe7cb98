//! Evening stretch reminders (SPEC §7).
//!
//! Each patient has one schedule row holding the next instant it fires,
//! precomputed in the patient's zone and indexed, so a tick reads only what
//! is due. The schedule follows the profile and the active plan: any write
//! to either (through [`crate::sync::PatientWrite`]) recomputes it in the
//! same transaction, by the commit hook [`SCHEDULE`].
//!
//! Firing is one transaction per batch: take due schedules (`FOR UPDATE
//! SKIP LOCKED` on PostgreSQL; SQLite's write transaction excludes other
//! writers), record one occurrence per (schedule, local date) — a unique
//! key, so a second replica, a retry or a moved reminder time can never
//! make a second — write the notification and its pushes for those that
//! are sent, and move each schedule to its next date. Nothing is claimed
//! outside the transaction, so a worker that dies mid-batch leaves nothing
//! half done.

use std::collections::{HashMap, HashSet};

use dorsal_domain::locale::Locale;
use dorsal_domain::reminders::{
    DEFAULT_REMINDER_TIME, QuietHours, expires_at, next_fire, parse_time,
};
use dorsal_entity::reminder_schedule;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, LockBehavior, LockType, OnConflict, Order, Query,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, Set, Statement,
};
use uuid::Uuid;

use crate::config::RemindersConfig;
use crate::db::{Db, begin_write};
use crate::error::{OrInternal, ServiceResult};
use crate::notify::{self, Notice};
use crate::secret::new_id;
use crate::sync::rows::{get, live_rows};
use crate::sync::write::{lock_clocks, take_change_numbers};
use crate::sync::{CommitHook, Nudges};
use crate::webhooks::DELIVERIES_CHANNEL;

/// The schedule kind of the evening stretch reminder.
pub const STRETCH: &str = "stretch";

/// What the schedule should be, from the profile and the active plan.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    local_time: String,
    timezone: String,
    quiet_start: Option<String>,
    quiet_end: Option<String>,
    enabled: bool,
    /// The plan's first and last day, when it has them.
    from_date: Option<String>,
    until_date: Option<String>,
}

async fn wanted(txn: &DatabaseTransaction, patient_id: Uuid) -> ServiceResult<Option<Wanted>> {
    let mut select = live_rows("profiles", [patient_id]);
    select.columns(
        [
            "timezone",
            "reminders_enabled",
            "stretch_reminder_time",
            "quiet_start",
            "quiet_end",
        ]
        .map(Alias::new),
    );
    let Some(profile) = txn.query_one(&select).await? else {
        return Ok(None);
    };
    let mut select = live_rows("exercise_plans", [patient_id]);
    select
        .columns(["reminder_time", "starts_on", "ends_on"].map(Alias::new))
        .and_where(Expr::col(Alias::new("status")).eq("active"))
        .order_by(Alias::new("change_seq"), Order::Desc)
        .limit(1);
    let plan = txn.query_one(&select).await?;
    let (plan_time, from_date, until_date): (Option<String>, Option<String>, Option<String>) =
        match &plan {
            Some(row) => (
                get(row, "reminder_time")?,
                get(row, "starts_on")?,
                get(row, "ends_on")?,
            ),
            None => (None, None, None),
        };
    let profile_time: Option<String> = get(&profile, "stretch_reminder_time")?;
    let enabled: Option<bool> = get(&profile, "reminders_enabled")?;
    let timezone: Option<String> = get(&profile, "timezone")?;
    let Some(timezone) = timezone else {
        return Ok(None);
    };
    Ok(Some(Wanted {
        local_time: plan_time
            .or(profile_time)
            .unwrap_or_else(|| DEFAULT_REMINDER_TIME.to_owned()),
        timezone,
        quiet_start: get(&profile, "quiet_start")?,
        quiet_end: get(&profile, "quiet_end")?,
        enabled: enabled.unwrap_or(false) && plan.is_some(),
        from_date,
        until_date,
    }))
}

/// The next (date, instant) of a schedule with these settings after `now`,
/// never on or before `last` (the last date it fired for), nor outside the
/// plan's days `from..=until`.
fn next_of(wanted: &Wanted, last: Option<&str>, now: Timestamp) -> Option<(Date, Timestamp)> {
    let tz = TimeZone::get(&wanted.timezone).ok()?;
    let at = parse_time(&wanted.local_time)?;
    let date = |d: Option<&str>| d.and_then(|d| d.parse::<Date>().ok());
    let after_last = date(last).and_then(|d| d.tomorrow().ok());
    let not_before = after_last.max(date(wanted.from_date.as_deref()));
    let next = next_fire(&tz, at, now, not_before).ok()?;
    within(next, date(wanted.until_date.as_deref()))
}

/// `next`, unless it falls after the plan's last day.
fn within(next: (Date, Timestamp), until: Option<Date>) -> Option<(Date, Timestamp)> {
    until.is_none_or(|until| next.0 <= until).then_some(next)
}

/// What a stored schedule was computed from.
fn stored(found: &reminder_schedule::Model) -> Wanted {
    Wanted {
        local_time: found.local_time.clone(),
        timezone: found.timezone.clone(),
        quiet_start: found.quiet_start.clone(),
        quiet_end: found.quiet_end.clone(),
        enabled: found.enabled,
        from_date: found.from_date.clone(),
        until_date: found.until_date.clone(),
    }
}

/// The reminder schedule is computed from the profile and the active plan:
/// a write to either recomputes it before it commits.
pub const SCHEDULE: CommitHook = CommitHook {
    tables: &["profiles", "exercise_plans"],
    run: |txn, patient_id, now_ms| Box::pin(refresh_schedule(txn, patient_id, now_ms)),
};

/// Brings the patient's stretch schedule in line with their profile and
/// active plan, inside the transaction that changed either. A change of
/// time, zone or quiet hours takes effect from the next occurrence; the
/// occurrence key keeps a date that already fired from firing again.
async fn refresh_schedule(
    txn: &DatabaseTransaction,
    patient_id: Uuid,
    now_ms: i64,
) -> ServiceResult<()> {
    let wanted = wanted(txn, patient_id).await?;
    let existing = reminder_schedule::Entity::find()
        .filter(reminder_schedule::Column::PatientId.eq(patient_id))
        .filter(reminder_schedule::Column::Kind.eq(STRETCH))
        .one(txn)
        .await?;
    let wanted = match (wanted, &existing) {
        (None, None) => return Ok(()),
        (Some(w), _) => w,
        // The profile is gone: keep the row (its last date) but stop it.
        (None, Some(found)) => Wanted {
            enabled: false,
            ..stored(found)
        },
    };
    if existing
        .as_ref()
        .is_some_and(|found| stored(found) == wanted)
    {
        return Ok(());
    }
    if !wanted.enabled && existing.is_none() {
        return Ok(());
    }
    let now = Timestamp::from_millisecond(now_ms).or_internal("clock")?;
    let last = existing.as_ref().and_then(|s| s.last_local_date.clone());
    let next = if wanted.enabled {
        next_of(&wanted, last.as_deref(), now)
    } else {
        None
    };
    let model = reminder_schedule::ActiveModel {
        id: Set(existing.as_ref().map_or_else(new_id, |s| s.id)),
        patient_id: Set(patient_id),
        kind: Set(STRETCH.to_owned()),
        local_time: Set(wanted.local_time),
        timezone: Set(wanted.timezone),
        quiet_start: Set(wanted.quiet_start),
        quiet_end: Set(wanted.quiet_end),
        enabled: Set(wanted.enabled),
        next_local_date: Set(next.map(|(d, _)| d.to_string())),
        next_fire_at: Set(next.map(|(_, at)| at.as_millisecond())),
        last_local_date: Set(last),
        from_date: Set(wanted.from_date),
        until_date: Set(wanted.until_date),
        version: Set(existing.as_ref().map_or(1, |s| s.version + 1)),
        updated_at: Set(now_ms),
    };
    if existing.is_some() {
        model.update(txn).await?;
    } else {
        model.insert(txn).await?;
    }
    tracing::debug!(%patient_id, "reminder schedule updated");
    Ok(())
}

/// What became of a due occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The notification was written and handed to push delivery.
    Sent,
    /// Past its grace window (downtime): recorded, not sent.
    Missed,
    /// Inside the patient's quiet hours.
    Quiet,
    /// That day's exercise session was already logged.
    Logged,
}

impl Fate {
    fn as_str(self) -> &'static str {
        match self {
            Fate::Sent => "sent",
            Fate::Missed => "missed",
            Fate::Quiet => "skipped_quiet",
            Fate::Logged => "skipped_logged",
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FireReport {
    /// Due schedules taken.
    pub due: usize,
    /// Reminders written.
    pub sent: usize,
    /// Recorded as missed.
    pub missed: usize,
    /// Skipped for quiet hours.
    pub quiet: usize,
    /// Skipped because the session was logged.
    pub logged: usize,
    /// Already recorded for that date (by another replica, or before the
    /// time was moved).
    pub already: usize,
    /// Left for the next round: the patient was mid-write.
    pub deferred: usize,
    /// Pushes queued.
    pub pushes: usize,
}

impl std::ops::AddAssign for FireReport {
    fn add_assign(&mut self, round: FireReport) {
        self.due += round.due;
        self.sent += round.sent;
        self.missed += round.missed;
        self.quiet += round.quiet;
        self.logged += round.logged;
        self.already += round.already;
        self.deferred += round.deferred;
        self.pushes += round.pushes;
    }
}

struct Due {
    id: Uuid,
    patient_id: Uuid,
    tz: TimeZone,
    at: Time,
    quiet: Option<QuietHours>,
    date: Date,
    due_at: Timestamp,
    /// The plan's last day.
    until: Option<Date>,
}

fn due_schedule(row: &sea_orm::QueryResult) -> ServiceResult<Result<Due, Uuid>> {
    let id: Uuid = get(row, "id")?;
    let timezone: String = get(row, "timezone")?;
    let local_time: String = get(row, "local_time")?;
    let date: Option<String> = get(row, "next_local_date")?;
    let due_at: Option<i64> = get(row, "next_fire_at")?;
    let quiet_start: Option<String> = get(row, "quiet_start")?;
    let quiet_end: Option<String> = get(row, "quiet_end")?;
    let until: Option<String> = get(row, "until_date")?;
    let parsed = (|| {
        Some(Due {
            id,
            patient_id: get(row, "patient_id").ok()?,
            tz: TimeZone::get(&timezone).ok()?,
            at: parse_time(&local_time)?,
            quiet: QuietHours::parse(quiet_start.as_deref(), quiet_end.as_deref()),
            date: date?.parse().ok()?,
            due_at: Timestamp::from_millisecond(due_at?).ok()?,
            until: until.and_then(|d| d.parse().ok()),
        })
    })();
    Ok(parsed.ok_or(id))
}

/// The (patient, local date) pairs on which the patients of `due` logged an
/// exercise session, up to `now`.
async fn sessions_logged(
    txn: &DatabaseTransaction,
    due: &[Due],
    now: Timestamp,
) -> ServiceResult<HashSet<(Uuid, Date)>> {
    let zones: HashMap<Uuid, &TimeZone> = due.iter().map(|d| (d.patient_id, &d.tz)).collect();
    // Two days back covers the start of any local date that is due now.
    let from = now.as_millisecond() - 2 * 86_400_000;
    let mut out = HashSet::new();
    for chunk in due.chunks(1000) {
        let mut select = live_rows("exercise_sessions", chunk.iter().map(|d| d.patient_id));
        select
            .columns(["patient_id", "performed_at"].map(Alias::new))
            .and_where(Expr::col(Alias::new("performed_at")).gte(from))
            .and_where(Expr::col(Alias::new("performed_at")).lte(now.as_millisecond()));
        for row in txn.query_all(&select).await? {
            let patient: Uuid = get(&row, "patient_id")?;
            let at: i64 = get(&row, "performed_at")?;
            if let (Some(tz), Ok(at)) = (zones.get(&patient), Timestamp::from_millisecond(at)) {
                out.insert((patient, at.to_zoned_datetime((*tz).clone()).date()));
            }
        }
    }
    Ok(out)
}

fn placeholders(backend: DbBackend, rows: usize, per_row: usize) -> String {
    let mut n = 0;
    (0..rows)
        .map(|_| {
            let row: Vec<String> = (0..per_row)
                .map(|_| {
                    n += 1;
                    match backend {
                        DbBackend::Postgres => format!("${n}"),
                        _ => "?".to_owned(),
                    }
                })
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A schedule moved on: its id, its next (date, instant) or `None` to stop
/// one that can no longer be computed, and the date it just fired for.
type Move = (Uuid, Option<(Date, Timestamp)>, Option<Date>);

/// Moves each schedule on, one statement per few hundred rows.
async fn advance(txn: &DatabaseTransaction, moves: &[Move]) -> ServiceResult<()> {
    let backend = txn.get_database_backend();
    for chunk in moves.chunks(500) {
        let sql = format!(
            "WITH v(id, next_local_date, next_fire_at, last_local_date) AS (VALUES {}) \
             UPDATE reminder_schedules SET next_local_date = v.next_local_date, \
             next_fire_at = v.next_fire_at, \
             last_local_date = COALESCE(v.last_local_date, reminder_schedules.last_local_date) \
             FROM v WHERE reminder_schedules.id = v.id",
            placeholders(backend, chunk.len(), 4)
        );
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 4);
        for (id, next, fired) in chunk {
            values.push((*id).into());
            values.push(next.map(|(d, _)| d.to_string()).into());
            values.push(next.map(|(_, at)| at.as_millisecond()).into());
            values.push(fired.map(|d| d.to_string()).into());
        }
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}

/// The id of a stretch reminder's notification: the local date, so the
/// same date can only ever be one row.
fn reminder_id(due: &Due) -> String {
    format!("stretch.{}", due.date)
}

/// The notification a stretch reminder writes; its pushes stop when the
/// occurrence expires.
fn reminder_notice(due: &Due, expires: Timestamp, locale: &Locale) -> ServiceResult<Notice> {
    let text = dorsal_domain::locale::text("stretch-reminder", locale, &[])
        .or_internal("the stretch reminder missing from the catalogs")?;
    Ok(Notice {
        patient_id: due.patient_id,
        id: reminder_id(due),
        kind: "stretch_reminder",
        title: text.title,
        body: text.body,
        severity: "info",
        language: locale.language.clone(),
        device_push_until: expires.as_millisecond(),
    })
}

/// Fires the due reminders of one batch (see the module notes). Returns
/// what became of them; `due == 0` means nothing was due.
#[tracing::instrument(skip_all)]
pub async fn fire_due(
    db: &Db,
    nudges: &Nudges,
    config: &RemindersConfig,
    worker: Uuid,
    now: Timestamp,
) -> ServiceResult<FireReport> {
    let now_ms = now.as_millisecond();
    let grace = SignedDuration::from_mins(config.grace_minutes);
    let txn = begin_write(db).await?;
    let select = Query::select()
        .columns([
            reminder_schedule::Column::Id,
            reminder_schedule::Column::PatientId,
            reminder_schedule::Column::LocalTime,
            reminder_schedule::Column::Timezone,
            reminder_schedule::Column::QuietStart,
            reminder_schedule::Column::QuietEnd,
            reminder_schedule::Column::NextLocalDate,
            reminder_schedule::Column::NextFireAt,
            reminder_schedule::Column::UntilDate,
        ])
        .from(reminder_schedule::Entity)
        .and_where(Expr::col(reminder_schedule::Column::NextFireAt).lte(now_ms))
        .order_by(reminder_schedule::Column::NextFireAt, Order::Asc)
        .limit(config.batch)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .take();
    let rows = txn.query_all(&select).await?;
    let mut report = FireReport {
        due: rows.len(),
        ..FireReport::default()
    };
    if rows.is_empty() {
        txn.rollback().await?;
        return Ok(report);
    }
    let mut due = Vec::with_capacity(rows.len());
    let mut moves = Vec::with_capacity(rows.len());
    for row in &rows {
        match due_schedule(row)? {
            Ok(d) => due.push(d),
            Err(broken) => {
                tracing::warn!(schedule_id = %broken, "reminder schedule cannot be computed; stopped");
                moves.push((broken, None, None));
            }
        }
    }
    let patients: Vec<Uuid> = due.iter().map(|d| d.patient_id).collect();
    let locked = lock_clocks(&txn, &patients).await?;
    let (due, deferred): (Vec<Due>, Vec<Due>) = due
        .into_iter()
        .partition(|d| locked.contains(&d.patient_id));
    report.deferred = deferred.len();
    let logged = sessions_logged(&txn, &due, now).await?;

    let mut fates = Vec::with_capacity(due.len());
    for d in &due {
        let expires = expires_at(&d.tz, d.date, d.due_at, grace, d.quiet)
            .unwrap_or(d.due_at.checked_add(grace).unwrap_or(d.due_at));
        let fate = if now > expires {
            Fate::Missed
        } else if d.quiet.is_some_and(|q| q.contains_instant(&d.tz, now)) {
            Fate::Quiet
        } else if logged.contains(&(d.patient_id, d.date)) {
            Fate::Logged
        } else {
            Fate::Sent
        };
        fates.push((expires, fate));
        // The next date still within grace counts: after a long outage the
        // stale date is recorded missed, and this evening's, if only a
        // little late, goes out in the next round.
        let after = now.checked_sub(grace).unwrap_or(now).max(d.due_at);
        let next = next_fire(&d.tz, d.at, after, d.date.tomorrow().ok())
            .ok()
            .and_then(|next| within(next, d.until));
        moves.push((d.id, next, Some(d.date)));
    }

    // Record the occurrences; the unique key says which are new.
    let mut recorded: HashSet<Uuid> = HashSet::new();
    for (chunk, chunk_fates) in due.chunks(500).zip(fates.chunks(500)) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("reminder_occurrences"))
            .columns(
                [
                    "id",
                    "schedule_id",
                    "patient_id",
                    "local_date",
                    "due_at",
                    "expires_at",
                    "status",
                    "processed_at",
                    "worker",
                    "notification_id",
                ]
                .map(Alias::new),
            );
        for (d, (expires, fate)) in chunk.iter().zip(chunk_fates) {
            let notification = (*fate == Fate::Sent).then(|| reminder_id(d));
            insert
                .values([
                    new_id().into(),
                    d.id.into(),
                    d.patient_id.into(),
                    d.date.to_string().into(),
                    d.due_at.as_millisecond().into(),
                    expires.as_millisecond().into(),
                    fate.as_str().into(),
                    now_ms.into(),
                    worker.into(),
                    notification.into(),
                ])
                .or_internal("occurrence statement")?;
        }
        insert
            .on_conflict(
                OnConflict::columns([Alias::new("schedule_id"), Alias::new("local_date")])
                    .do_nothing()
                    .to_owned(),
            )
            .returning_col(Alias::new("schedule_id"));
        for row in txn.query_all(&insert).await? {
            recorded.insert(get(&row, "schedule_id")?);
        }
    }

    let mut sending = Vec::new();
    for (d, (expires, fate)) in due.iter().zip(&fates) {
        if !recorded.contains(&d.id) {
            report.already += 1;
            continue;
        }
        match fate {
            Fate::Sent => {
                report.sent += 1;
                sending.push((d, *expires));
            }
            Fate::Missed => report.missed += 1,
            Fate::Quiet => report.quiet += 1,
            Fate::Logged => report.logged += 1,
        }
    }
    // Worded in the language each patient has now.
    let patients: Vec<Uuid> = sending.iter().map(|(d, _)| d.patient_id).collect();
    let locales = crate::locale::locales(&txn, &patients).await?;
    let notices = sending
        .into_iter()
        .map(|(d, expires)| {
            let locale = locales.get(&d.patient_id).cloned().unwrap_or_default();
            reminder_notice(d, expires, &locale)
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    let writers: Vec<Uuid> = notices.iter().map(|n| n.patient_id).collect();
    let seqs = take_change_numbers(&txn, &writers).await?;
    report.pushes = notify::write(&txn, &notices, &seqs, now_ms).await?;
    advance(&txn, &moves).await?;
    if report.pushes > 0 && txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("NOTIFY {DELIVERIES_CHANNEL}"))
            .await?;
    }
    txn.commit().await?;
    for (patient, seq) in seqs {
        nudges.send(patient, seq);
    }
    if report.pushes > 0 {
        nudges.wake_deliveries();
    }
    Ok(report)
}
