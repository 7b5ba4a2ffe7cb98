//! `cargo run --release -p bench [sync] [latency] [reminders]`: dorsal's
//! figures (SPEC §9), each beside the same work done as raw SQL on the same
//! server in the same run; with no argument, all of them. `DATABASE_URL`
//! names the PostgreSQL server (default
//! `postgres://postgres@127.0.0.1:5432/test`); scratch databases are
//! created and dropped, SQLite ones in a temporary folder.

mod latency;
mod reminders;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dorsal_api::{App, AppState};
use dorsal_service::Core;
use dorsal_service::clock::SystemClock;
use dorsal_service::config::Config;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const ROWS: usize = 10_000;
const BATCH: usize = 1_000;
/// Each figure is the median of this many rounds, ours and raw alternating.
const ROUNDS: usize = 5;

fn pain_log(round: usize, n: usize) -> Value {
    json!({"id": format!("bench-{round}-{n:06}"), "recorded_at": 1_763_900_000_000_i64 + n as i64,
        "intensity": (n % 11) as i64, "period": "night", "note": "stiff after sitting",
        "_status": "created", "_changed": ""})
}

fn rate(rows: usize, took: Duration) -> f64 {
    rows as f64 / took.as_secs_f64()
}

struct Scratch {
    server: String,
    name: String,
    url: String,
}

impl Scratch {
    async fn create(server: &str) -> anyhow::Result<Scratch> {
        let name = format!("dorsal_bench_{}", Uuid::new_v4().simple());
        let admin = Database::connect(server)
            .await
            .context("connect to DATABASE_URL")?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        admin.close().await?;
        let prefix = server.rsplit_once('/').map_or(server, |(prefix, _)| prefix);
        Ok(Scratch {
            server: server.to_owned(),
            url: format!("{prefix}/{name}"),
            name,
        })
    }

    async fn drop(self) -> anyhow::Result<()> {
        let admin = Database::connect(&self.server).await?;
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(admin.close().await?)
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("{path}: {}", response.status());
        }
        Ok(response.json().await?)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("{path}: {}", response.status());
        }
        Ok(response.json().await?)
    }
}

async fn patient(http: &reqwest::Client, base: &str, round: usize) -> anyhow::Result<String> {
    let account = json!({"email": format!("bench{round}@home.test"), "password": "bench password 1", "display_name": "Bench"});
    http.post(format!("{base}/v1/auth/register"))
        .json(&account)
        .send()
        .await?
        .error_for_status()?;
    let tokens: Value = http
        .post(format!("{base}/v1/auth/login"))
        .json(&account)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    tokens["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access token")
}

/// The same rows as one multi-row INSERT per batch, straight into a copy of
/// the table.
async fn raw_insert(
    db: &DatabaseConnection,
    patient: Uuid,
    round: usize,
) -> anyhow::Result<Duration> {
    let table = format!("raw_pain_logs_{round}");
    db.execute_unprepared(&format!(
        "CREATE TABLE {table} (LIKE pain_logs INCLUDING ALL)"
    ))
    .await?;
    let started = Instant::now();
    for batch in 0..ROWS / BATCH {
        let mut insert = Query::insert();
        insert.into_table(Alias::new(table.as_str())).columns(
            [
                "id",
                "patient_id",
                "change_seq",
                "deleted",
                "recorded_at",
                "intensity",
                "period",
                "note",
            ]
            .map(Alias::new),
        );
        for n in batch * BATCH..(batch + 1) * BATCH {
            let row = pain_log(round, n);
            insert.values([
                row["id"].as_str().unwrap_or_default().into(),
                patient.into(),
                (batch as i64 + 2).into(),
                false.into(),
                row["recorded_at"].as_i64().into(),
                row["intensity"].as_i64().into(),
                "night".into(),
                "stiff after sitting".into(),
            ])?;
        }
        db.execute(&insert).await?;
    }
    Ok(started.elapsed())
}

/// The same rows read back as JSON by the database itself, in pages.
async fn raw_select(db: &DatabaseConnection, patient: Uuid) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for page in 0..ROWS / BATCH {
        let sql = format!(
            "SELECT json_agg(t) AS rows FROM (SELECT * FROM pain_logs WHERE patient_id = '{patient}' \
             ORDER BY change_seq, id LIMIT {BATCH} OFFSET {}) t",
            page * BATCH
        );
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?;
        let text: Option<Value> = row.map(|r| r.try_get("", "rows")).transpose()?;
        if text.as_ref().and_then(Value::as_array).map_or(0, Vec::len) != BATCH {
            bail!("raw select returned a short page");
        }
    }
    Ok(started.elapsed())
}

/// Pushes the round's rows in batches; the time taken.
async fn push_all(client: &Client, round: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut cursor = Value::Null;
    for batch in 0..ROWS / BATCH {
        let rows: Vec<Value> = (batch * BATCH..(batch + 1) * BATCH)
            .map(|n| pain_log(round, n))
            .collect();
        let body = json!({"changes": {"pain_logs": {"created": rows, "updated": [], "deleted": []}}, "lastPulledAt": cursor});
        let answer = client.post("/v1/sync/push", &body).await?;
        if answer["experimentalRejectedIds"]
            .as_object()
            .is_some_and(|o| !o.is_empty())
        {
            bail!("the benchmark's rows were rejected");
        }
        cursor = json!(batch + 2);
    }
    Ok(started.elapsed())
}

/// Pulls everything from scratch in pages; the time taken.
async fn pull_all(client: &Client) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut since = "null".to_owned();
    let mut pulled = 0;
    loop {
        let page = client
            .get(&format!(
                "/v1/sync/pull?last_pulled_at={since}&limit={BATCH}"
            ))
            .await?;
        pulled += page["changes"]["pain_logs"]["created"]
            .as_array()
            .map_or(0, Vec::len)
            + page["changes"]["pain_logs"]["updated"]
                .as_array()
                .map_or(0, Vec::len);
        since = page["timestamp"].to_string();
        if page["has_more"] != true {
            break;
        }
    }
    if pulled != ROWS {
        bail!("pulled {pulled} rows, expected {ROWS}");
    }
    Ok(started.elapsed())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dorsal_worker::delivery::install_crypto_provider();
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let run = |part: &str| wanted.is_empty() || wanted.iter().any(|w| w == part);
    if run("sync") {
        sync(&server).await?;
    }
    if run("latency") {
        alert_latency(&server).await?;
    }
    if run("reminders") {
        reminder_tick(&server).await?;
    }
    Ok(())
}

/// A temporary SQLite database URL and its folder.
fn sqlite_scratch() -> anyhow::Result<(String, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("dorsal-bench-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok((
        format!("sqlite://{}/dorsal.db?mode=rwc", dir.display()),
        dir,
    ))
}

async fn reminder_tick(server: &str) -> anyhow::Result<()> {
    println!(
        "\nreminder tick: {} patients with a schedule, {} due (each with a push device), \
         median of {} ticks\n",
        reminders::PATIENTS,
        reminders::DUE,
        reminders::ROUNDS
    );
    println!(
        "| database | tick | raw SQL (select due, insert, update) | ratio | RSS after 1st / last tick | target |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let (sqlite_url, sqlite_dir) = sqlite_scratch()?;
    let scratch = Scratch::create(server).await?;
    for (name, url) in [
        ("SQLite", sqlite_url.as_str()),
        ("PostgreSQL", scratch.url.as_str()),
    ] {
        eprintln!("reminder tick on {name}");
        let f = reminders::measure(url).await?;
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.2} | {:.1} / {:.1} MiB | ≤ 100 ms, memory flat |",
            f.tick.as_secs_f64() * 1e3,
            f.raw.as_secs_f64() * 1e3,
            f.raw.as_secs_f64() / f.tick.as_secs_f64(),
            f.rss_first_kib as f64 / 1024.0,
            f.rss_last_kib as f64 / 1024.0,
        );
    }
    scratch.drop().await?;
    std::fs::remove_dir_all(&sqlite_dir).ok();
    Ok(())
}

async fn sync(server: &str) -> anyhow::Result<()> {
    let scratch = Scratch::create(server).await?;
    let mut config = Config::defaults_with_database(&scratch.url)?;
    config.jwt_secret = Some("bench-secret-bench-secret-bench-secret-00".into());
    config.bind = "127.0.0.1:0".into();
    let core = Core::open(config, Arc::new(SystemClock), true).await?;
    let app = App::bind(AppState::from(core.clone()), "127.0.0.1:0").await?;
    let base = format!("http://{}", app.local_addr()?);
    let shutdown = CancellationToken::new();
    tokio::spawn(app.serve(shutdown.clone()));

    let http = reqwest::Client::new();
    let mut timings: Vec<[Duration; 4]> = Vec::new();
    for round in 0..ROUNDS {
        let client = Client {
            token: patient(&http, &base, round).await?,
            http: http.clone(),
            base: base.clone(),
        };
        let me = client.get("/v1/me").await?;
        let patient_id: Uuid = me["id"].as_str().context("no id")?.parse()?;
        let push = push_all(&client, round).await?;
        let pull = pull_all(&client).await?;
        let raw_push = raw_insert(&core.db, patient_id, round).await?;
        let raw_pull = raw_select(&core.db, patient_id).await?;
        eprintln!(
            "round {round}: push {push:?} pull {pull:?} raw insert {raw_push:?} raw select {raw_pull:?}"
        );
        timings.push([push, pull, raw_push, raw_pull]);
    }
    shutdown.cancel();
    core.db.clone().close().await?;
    scratch.drop().await?;
    let median = |i: usize| {
        let mut all: Vec<Duration> = timings.iter().map(|t| t[i]).collect();
        all.sort_unstable();
        all[all.len() / 2]
    };
    let (push, pull, raw_push, raw_pull) = (median(0), median(1), median(2), median(3));

    println!(
        "dorsal sync throughput, PostgreSQL, {ROWS} pain logs in batches/pages of {BATCH}, \
         median of {ROUNDS} rounds\n"
    );
    println!("| figure | dorsal rows/s | raw SQL rows/s | ratio | target |");
    println!("|---|---:|---:|---:|---:|");
    for (name, ours, raw, target) in [
        (
            "push (HTTP, validated, per-record outcomes) vs multi-row INSERT",
            push,
            raw_push,
            0.5,
        ),
        ("pull (HTTP, paged) vs SELECT json_agg", pull, raw_pull, 0.3),
    ] {
        let (ours, raw) = (rate(ROWS, ours), rate(ROWS, raw));
        println!(
            "| {name} | {ours:.0} | {raw:.0} | {:.2} | ≥ {target} |",
            ours / raw
        );
    }

    Ok(())
}

async fn alert_latency(server: &str) -> anyhow::Result<()> {
    println!(
        "\nred-flag push -> webhook received, {} emergency alerts, loopback receiver\n",
        latency::ALERTS
    );
    println!("| database | p50 | p95 | target |");
    println!("|---|---:|---:|---:|");
    let (sqlite_url, sqlite_dir) = sqlite_scratch()?;
    let scratch = Scratch::create(server).await?;
    for (name, url) in [
        ("SQLite", sqlite_url.as_str()),
        ("PostgreSQL", scratch.url.as_str()),
    ] {
        let (p50, p95) = latency::measure(url).await?;
        println!(
            "| {name} | {:.1} ms | {:.1} ms | p95 ≤ 1000 ms (aim 50 ms) |",
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3
        );
    }
    scratch.drop().await?;
    std::fs::remove_dir_all(&sqlite_dir).ok();
    Ok(())
}
