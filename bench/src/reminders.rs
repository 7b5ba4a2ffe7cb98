//! The reminder tick (SPEC §9): 100,000 patients with a schedule, 1,000 of
//! them due, each due patient with one push device. One tick finds the due
//! schedules through the index, records their occurrences, writes their
//! notifications and pushes, and moves them to the next evening. Each
//! round fires the next evening of the same 1,000; the others are not due
//! during the run. Beside it, the least raw SQL doing the same kind of
//! work: select the due ids through the index, insert 1,000 notification
//! rows in one statement, update the 1,000 schedules in one statement.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dorsal_service::Core;
use dorsal_service::clock::SystemClock;
use dorsal_service::config::Config;
use dorsal_worker::JobCtx;
use dorsal_worker::jobs::fire_reminders;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use uuid::Uuid;

use crate::{DATA_KEY, JWT_SECRET, note, progress, status_kib};

/// Patients with a schedule.
pub const PATIENTS: usize = 100_000;
/// Of which due in each tick.
pub const DUE: usize = 1_000;
/// Ticks measured (each the next evening).
pub const ROUNDS: usize = 5;

/// What one backend measured.
#[derive(Debug)]
pub struct Figures {
    /// Median tick.
    pub tick: Duration,
    /// Median raw reference.
    pub raw: Duration,
    /// Resident memory after the first tick, KiB.
    pub rss_first_kib: u64,
    /// Resident memory after the last tick, KiB.
    pub rss_last_kib: u64,
}

/// This process's resident set size, KiB.
fn rss_kib() -> u64 {
    status_kib("self", "VmRSS")
}

async fn insert_rows(
    db: &DatabaseConnection,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<sea_orm::Value>>,
) -> anyhow::Result<()> {
    let rows: Vec<Vec<sea_orm::Value>> = rows.collect();
    let per = 30_000 / columns.len();
    for chunk in rows.chunks(per) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)));
        for row in chunk {
            insert.values(row.iter().cloned().map(Into::into))?;
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

async fn seed(db: &DatabaseConnection, due: Timestamp) -> anyhow::Result<()> {
    let local = due.to_zoned_datetime(TimeZone::UTC);
    let patients: Vec<Uuid> = (0..PATIENTS).map(|_| Uuid::now_v7()).collect();
    let later = due.checked_add(SignedDuration::from_hours(24 * 30))?;
    insert_rows(
        db,
        "reminder_schedules",
        &[
            "id",
            "patient_id",
            "kind",
            "local_time",
            "timezone",
            "enabled",
            "next_local_date",
            "next_fire_at",
            "version",
            "updated_at",
        ],
        patients.iter().enumerate().map(|(i, p)| {
            // The due ones now; the rest spread over a day a month ahead.
            let (date, at) = if i < DUE {
                (local.date(), due)
            } else {
                let at = later
                    .checked_add(SignedDuration::from_secs((i % 86_400) as i64))
                    .unwrap_or(later);
                (at.to_zoned_datetime(TimeZone::UTC).date(), at)
            };
            vec![
                Uuid::now_v7().into(),
                (*p).into(),
                "stretch".into(),
                local.time().strftime("%H:%M").to_string().into(),
                "UTC".into(),
                true.into(),
                date.to_string().into(),
                at.as_millisecond().into(),
                1i64.into(),
                0i64.into(),
            ]
        }),
    )
    .await?;
    insert_rows(
        db,
        "sync_clocks",
        &["patient_id", "seq"],
        patients.iter().map(|p| vec![(*p).into(), 5i64.into()]),
    )
    .await?;
    insert_rows(
        db,
        "devices",
        &[
            "id",
            "patient_id",
            "provider",
            "token",
            "active",
            "created_at",
            "updated_at",
        ],
        patients.iter().take(DUE).map(|p| {
            vec![
                Uuid::now_v7().into(),
                (*p).into(),
                "fcm".into(),
                format!("token-{p}").into(),
                true.into(),
                0i64.into(),
                0i64.into(),
            ]
        }),
    )
    .await?;
    db.execute_unprepared("ANALYZE").await?;
    Ok(())
}

/// The raw reference for one evening of the due patients.
async fn raw_tick(
    db: &DatabaseConnection,
    at: Timestamp,
    round: usize,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let select = Query::select()
        .columns(["id", "patient_id"].map(Alias::new))
        .from(Alias::new("raw_schedules"))
        .and_where(Expr::col(Alias::new("next_fire_at")).lte(at.as_millisecond()))
        .limit(DUE as u64)
        .take();
    let rows = db.query_all(&select).await?;
    if rows.len() != DUE {
        bail!("raw tick found {} due", rows.len());
    }
    let mut insert = Query::insert();
    insert.into_table(Alias::new("raw_notifications")).columns(
        [
            "id",
            "patient_id",
            "change_seq",
            "deleted",
            "kind",
            "title",
            "body",
            "severity",
            "created_at",
        ]
        .map(Alias::new),
    );
    let mut ids = Vec::with_capacity(DUE);
    for row in &rows {
        let id: Uuid = row.try_get("", "id")?;
        let patient: Uuid = row.try_get("", "patient_id")?;
        ids.push(id);
        insert.values([
            format!("stretch.{round}").into(),
            patient.into(),
            6i64.into(),
            false.into(),
            "stretch_reminder".into(),
            "Time for your evening stretches".into(),
            "Your home program takes a few minutes.".into(),
            "info".into(),
            at.as_millisecond().into(),
        ])?;
    }
    db.execute(&insert).await?;
    let next = at
        .checked_add(SignedDuration::from_hours(24))?
        .as_millisecond();
    let update = Query::update()
        .table(Alias::new("raw_schedules"))
        .value(Alias::new("next_fire_at"), next)
        .and_where(Expr::col(Alias::new("id")).is_in(ids))
        .take();
    db.execute(&update).await?;
    Ok(started.elapsed())
}

/// Measures the tick on the database at `url` (migrated here).
pub async fn measure(name: &str, url: &str) -> anyhow::Result<Figures> {
    let bar = progress(ROUNDS as u64, &format!("reminder tick, {name}"))?;
    bar.set_message("seeding");
    let mut config = Config::defaults_with_database(url)?;
    config.jwt_secret = Some(JWT_SECRET.into());
    config.data_key = Some(DATA_KEY.into());
    let core = Core::open(config, Arc::new(SystemClock), true).await?;
    let db = &core.db;
    let due = Timestamp::from_second(1_795_024_800)?; // an evening, 18:00 UTC
    seed(db, due).await?;
    // Copies for the raw reference, with the same indexes.
    for (copy, table) in [
        ("raw_schedules", "reminder_schedules"),
        ("raw_notifications", "notifications"),
    ] {
        let sql = match db.get_database_backend() {
            DbBackend::Postgres => format!("CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)"),
            _ => format!("CREATE TABLE {copy} AS SELECT * FROM {table} WHERE 0"),
        };
        db.execute_unprepared(&sql).await?;
    }
    db.execute_unprepared("INSERT INTO raw_schedules SELECT * FROM reminder_schedules")
        .await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("CREATE INDEX raw_schedules_due ON raw_schedules (next_fire_at)")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX raw_notifications_pk ON raw_notifications (patient_id, id)",
        )
        .await?;
    }
    db.execute_unprepared("ANALYZE").await?;
    bar.set_message("");

    let ctx = JobCtx::from(&core);
    let mut ticks = Vec::new();
    let mut raws = Vec::new();
    let mut rss_first = 0;
    for round in 0..ROUNDS {
        let at = due.checked_add(SignedDuration::from_hours(24 * round as i64))?;
        let started = Instant::now();
        let report = fire_reminders::run(&ctx, at).await?;
        let took = started.elapsed();
        if report.sent != DUE || report.pushes != DUE {
            bail!(
                "tick {round} sent {} with {} pushes",
                report.sent,
                report.pushes
            );
        }
        let raw = raw_tick(db, at, round).await?;
        note(
            &bar,
            format_args!(
                "  round {round}: tick {took:?} raw {raw:?} rss {} KiB",
                rss_kib()
            ),
        );
        if round == 0 {
            rss_first = rss_kib();
        }
        ticks.push(took);
        raws.push(raw);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let rss_last = rss_kib();
    core.db.clone().close().await.context("close")?;
    ticks.sort_unstable();
    raws.sort_unstable();
    Ok(Figures {
        tick: ticks[ROUNDS / 2],
        raw: raws[ROUNDS / 2],
        rss_first_kib: rss_first,
        rss_last_kib: rss_last,
    })
}
