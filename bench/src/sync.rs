//! Sync throughput (SPEC §9): 10,000 pain logs pushed over HTTP in batches
//! of 1,000 and pulled back in pages of 1,000, beside the same rows written
//! by one multi-row `INSERT` per batch into a copy of the table (same
//! columns, keys and indexes) and read back as JSON by the database itself
//! (`json_agg` on PostgreSQL, `json_group_array(json_object(..))` on
//! SQLite), page by page, in the same run. Each figure is the median of
//! five rounds, ours and raw alternating.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dorsal_api::{App, AppState};
use dorsal_service::Core;
use dorsal_service::clock::SystemClock;
use dorsal_service::config::Config;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{DATA_KEY, JWT_SECRET, note, progress};

/// Rows pushed and pulled per round.
pub const ROWS: usize = 10_000;
/// Rows per push batch and per pull page.
pub const BATCH: usize = 1_000;
/// Each figure is the median of this many rounds.
pub const ROUNDS: usize = 5;

/// Medians, rows per second.
#[derive(Debug)]
pub struct Figures {
    /// Push over HTTP.
    pub push: f64,
    /// The multi-row INSERT reference.
    pub raw_insert: f64,
    /// Pull over HTTP.
    pub pull: f64,
    /// The JSON SELECT reference.
    pub raw_select: f64,
}

fn pain_log(round: usize, n: usize) -> Value {
    json!({"id": format!("bench-{round}-{n:06}"), "recorded_at": 1_763_900_000_000_i64 + n as i64,
        "intensity": (n % 11) as i64, "period": "night", "note": "stiff after sitting",
        "_status": "created", "_changed": ""})
}

fn rate(rows: usize, took: Duration) -> f64 {
    rows as f64 / took.as_secs_f64()
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

/// An empty copy of `pain_logs` with the same keys and indexes.
async fn copy_table(db: &DatabaseConnection, table: &str) -> anyhow::Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "CREATE TABLE {table} (LIKE pain_logs INCLUDING ALL)"
        ))
        .await?;
        return Ok(());
    }
    // SQLite has no LIKE: replay the table's own DDL (table first, then
    // its indexes, whose names all start with the table's) under the new name.
    let ddl = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'pain_logs' AND sql IS NOT NULL \
             ORDER BY type = 'index'",
        ))
        .await?;
    for row in ddl {
        let sql: String = row.try_get("", "sql")?;
        let renamed = sql.replace("\"pain_logs", &format!("\"{table}"));
        if renamed == sql {
            bail!("cannot rename the DDL {sql}");
        }
        db.execute_unprepared(&renamed).await?;
    }
    Ok(())
}

/// The same rows as one multi-row INSERT per batch, straight into a copy of
/// the table.
async fn raw_insert(
    db: &DatabaseConnection,
    patient: Uuid,
    round: usize,
) -> anyhow::Result<Duration> {
    let table = format!("raw_pain_logs_{round}");
    copy_table(db, &table).await?;
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

/// One page of the patient's rows as a JSON array built by the database.
fn json_page_sql(
    backend: DbBackend,
    columns: &[(String, String)],
    patient: Uuid,
    page: usize,
) -> String {
    let offset = page * BATCH;
    match backend {
        DbBackend::Postgres => format!(
            "SELECT json_agg(t) AS rows FROM (SELECT * FROM pain_logs WHERE patient_id = '{patient}' \
             ORDER BY change_seq, id LIMIT {BATCH} OFFSET {offset}) t"
        ),
        _ => {
            // Every column, as json_agg does; the UUID (a blob here) as hex.
            let fields: Vec<String> = columns
                .iter()
                .map(|(name, kind)| {
                    if kind.starts_with("uuid") {
                        format!("'{name}', lower(hex(\"{name}\"))")
                    } else {
                        format!("'{name}', \"{name}\"")
                    }
                })
                .collect();
            format!(
                "SELECT json_group_array(json_object({})) AS rows FROM (SELECT * FROM pain_logs \
                 WHERE patient_id = ? ORDER BY change_seq, id LIMIT {BATCH} OFFSET {offset})",
                fields.join(", ")
            )
        }
    }
}

/// The same rows read back as JSON by the database itself, in pages.
async fn raw_select(db: &DatabaseConnection, patient: Uuid) -> anyhow::Result<Duration> {
    let backend = db.get_database_backend();
    let mut columns = Vec::new();
    if backend == DbBackend::Sqlite {
        for row in db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT name, type FROM pragma_table_info('pain_logs')",
            ))
            .await?
        {
            columns.push((row.try_get("", "name")?, row.try_get("", "type")?));
        }
    }
    let started = Instant::now();
    for page in 0..ROWS / BATCH {
        let sql = json_page_sql(backend, &columns, patient, page);
        let statement = match backend {
            DbBackend::Sqlite => Statement::from_sql_and_values(backend, sql, [patient.into()]),
            _ => Statement::from_string(backend, sql),
        };
        let row = db.query_one_raw(statement).await?.context("no page")?;
        let rows: Value = match backend {
            DbBackend::Sqlite => serde_json::from_str(&row.try_get::<String>("", "rows")?)?,
            _ => row.try_get("", "rows")?,
        };
        if rows.as_array().map_or(0, Vec::len) != BATCH {
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

/// Push and pull against their references on the database at `url`.
pub async fn measure(name: &str, url: &str) -> anyhow::Result<Figures> {
    let bar = progress(ROUNDS as u64, &format!("sync throughput, {name}"))?;
    let mut config = Config::defaults_with_database(url)?;
    config.jwt_secret = Some(JWT_SECRET.into());
    config.data_key = Some(DATA_KEY.into());
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
        note(
            &bar,
            format_args!(
                "  round {round}: push {push:?} pull {pull:?} raw insert {raw_push:?} raw select {raw_pull:?}"
            ),
        );
        timings.push([push, pull, raw_push, raw_pull]);
        bar.inc(1);
    }
    bar.finish_and_clear();
    shutdown.cancel();
    core.db.clone().close().await?;
    let median = |i: usize| {
        let mut all: Vec<Duration> = timings.iter().map(|t| t[i]).collect();
        all.sort_unstable();
        rate(ROWS, all[all.len() / 2])
    };
    Ok(Figures {
        push: median(0),
        pull: median(1),
        raw_insert: median(2),
        raw_select: median(3),
    })
}
