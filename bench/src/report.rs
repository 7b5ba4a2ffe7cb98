//! The figures as Markdown: the tables every run prints, and `REPORT.md`
//! (the machine, a summary against SPEC §9's targets, the tables, how each
//! figure is measured).

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, Statement};

use crate::{idle, latency, load, reminders, sync, workspace_root};

/// The most a reminder tick may take.
pub const TICK_TARGET: Duration = Duration::from_millis(100);
/// Memory is flat when it grows by at most this fraction from the first
/// tick to the last.
pub const FLAT: f64 = 0.10;
/// The slowest p99 allowed under load.
pub const LOAD_P99_TARGET: Duration = Duration::from_millis(100);
/// The slowest p95 allowed from a red-flag push to its webhook.
pub const ALERT_P95_TARGET: Duration = Duration::from_secs(1);
/// The most `dorsal serve` may hold at rest, KiB.
pub const IDLE_TARGET_KIB: u64 = 50 * 1024;
/// Push and pull throughput as a fraction of their references.
pub const PUSH_TARGET: f64 = 0.5;
/// See [`PUSH_TARGET`].
pub const PULL_TARGET: f64 = 0.3;

/// Everything measured, per database, in the order measured.
#[derive(Debug, Default)]
pub struct Results {
    /// Push and pull throughput.
    pub sync: Vec<(&'static str, sync::Figures)>,
    /// Red-flag push → webhook, one alert at a time.
    pub latency: Vec<(&'static str, latency::Figures)>,
    /// The reminder tick.
    pub reminders: Vec<(&'static str, reminders::Figures)>,
    /// 200 devices.
    pub load: Vec<(&'static str, load::Figures)>,
    /// `dorsal serve` at rest.
    pub idle: Vec<(&'static str, idle::Figures)>,
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "**FAIL**" }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// A target, in whole milliseconds.
fn ms_target(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A whole number with thousands separators.
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The push target applies to PostgreSQL only (SPEC §9).
pub fn push_has_target(database: &str) -> bool {
    database == "PostgreSQL"
}

/// Whether memory stayed flat across the ticks.
pub fn flat(f: &reminders::Figures) -> bool {
    f.rss_last_kib as f64 <= f.rss_first_kib as f64 * (1.0 + FLAT)
}

fn tick_passes(f: &reminders::Figures) -> bool {
    f.tick <= TICK_TARGET && flat(f)
}

fn load_passes(f: &load::Figures) -> bool {
    f.endpoints
        .iter()
        .filter(|e| e.endpoint.is_endpoint())
        .all(|e| e.errors == 0 && e.p99 < LOAD_P99_TARGET)
}

fn reference_select(database: &str) -> &'static str {
    if database == "PostgreSQL" {
        "`SELECT json_agg`"
    } else {
        "`SELECT json_group_array(json_object(..))`"
    }
}

/// The detailed tables of whatever was measured.
pub fn tables(results: &Results) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_tables(&mut out, results);
    out
}

fn write_tables(out: &mut String, results: &Results) -> std::fmt::Result {
    if !results.sync.is_empty() {
        writeln!(
            out,
            "### Sync throughput\n\n{} pain logs pushed over HTTP in batches of {} and pulled in pages \
             of {}, beside raw SQL doing the same on the same database; medians of {} rounds.\n",
            thousands(sync::ROWS as f64),
            thousands(sync::BATCH as f64),
            thousands(sync::BATCH as f64),
            sync::ROUNDS
        )?;
        writeln!(
            out,
            "| figure | database | dorsal rows/s | raw SQL rows/s | ratio | target | result |"
        )?;
        writeln!(out, "|---|---|---:|---:|---:|---:|---|")?;
        for (database, f) in &results.sync {
            let ratio = f.push / f.raw_insert;
            let (target, result) = if push_has_target(database) {
                (format!("≥ {PUSH_TARGET}"), verdict(ratio >= PUSH_TARGET))
            } else {
                ("(PostgreSQL only)".to_owned(), "—")
            };
            writeln!(
                out,
                "| push (HTTP, validated, red flags evaluated, per-record outcomes) vs multi-row `INSERT` \
                 | {database} | {} | {} | {ratio:.2} | {target} | {result} |",
                thousands(f.push),
                thousands(f.raw_insert),
            )?;
        }
        for (database, f) in &results.sync {
            let ratio = f.pull / f.raw_select;
            writeln!(
                out,
                "| pull (HTTP, paged) vs {} | {database} | {} | {} | {ratio:.2} | ≥ {PULL_TARGET} | {} |",
                reference_select(database),
                thousands(f.pull),
                thousands(f.raw_select),
                verdict(ratio >= PULL_TARGET)
            )?;
        }
        writeln!(out)?;
    }
    if !results.load.is_empty() {
        writeln!(
            out,
            "### {} devices syncing for {} s\n\nEach device pulls since its cursor and pushes 1–5 pain \
             and sleep logs once a second; one push in {} carries a red flag. Latency is from \
             sending a request to the last byte of its answer. The pushes with a red flag are \
             shown apart too; with so few of them, their p99 is their slowest.\n",
            load::DEVICES,
            load::SECONDS,
            load::RED_FLAG_EVERY
        )?;
        writeln!(
            out,
            "| database | endpoint | requests | errors | p50 | p99 | max | target | result |"
        )?;
        writeln!(out, "|---|---|---:|---:|---:|---:|---:|---|---|")?;
        for (database, f) in &results.load {
            for e in &f.endpoints {
                let (target, result) = if e.endpoint.is_endpoint() {
                    (
                        format!("no error, p99 < {}", ms_target(LOAD_P99_TARGET)),
                        verdict(e.errors == 0 && e.p99 < LOAD_P99_TARGET),
                    )
                } else {
                    ("(part of the push row)".to_owned(), "—")
                };
                writeln!(
                    out,
                    "| {database} | {} | {} | {} | {} | {} | {} | {target} | {result} |",
                    e.endpoint.label(),
                    thousands(e.requests as f64),
                    e.errors,
                    ms(e.p50),
                    ms(e.p99),
                    ms(e.max),
                )?;
            }
        }
        writeln!(out)?;
        for (database, f) in &results.load {
            write!(
                out,
                "- {database}: {} requests/s; {} of {} red flags reached the webhook, push → webhook \
                 p50 {} / p95 {} under load",
                thousands(f.rate),
                f.delivered,
                f.red_flags,
                ms(f.alert_p50),
                ms(f.alert_p95)
            )?;
            if f.errors.is_empty() {
                writeln!(out, "; no errors.")?;
            } else {
                let kinds: Vec<String> = f
                    .errors
                    .iter()
                    .map(|(kind, n)| format!("{n} × {kind}"))
                    .collect();
                writeln!(out, "; errors: {}.", kinds.join(", "))?;
            }
        }
        writeln!(out)?;
    }
    if !results.latency.is_empty() {
        writeln!(
            out,
            "### Red-flag push → webhook\n\n{} emergency alerts one after another, from sending the \
             push to the loopback receiver getting the signed request.\n",
            latency::ALERTS
        )?;
        writeln!(out, "| database | p50 | p95 | target | result |")?;
        writeln!(out, "|---|---:|---:|---|---|")?;
        for (database, f) in &results.latency {
            writeln!(
                out,
                "| {database} | {} | {} | p95 ≤ {} (aim 50 ms) | {} |",
                ms(f.p50),
                ms(f.p95),
                ms_target(ALERT_P95_TARGET),
                verdict(f.p95 <= ALERT_P95_TARGET)
            )?;
        }
        writeln!(out)?;
    }
    if !results.reminders.is_empty() {
        writeln!(
            out,
            "### Reminder tick\n\n{} patients with a schedule, {} due (each with a push device); \
             median of {} ticks. Memory is this process's RSS; flat means it grew by at most {:.0}% \
             from the first tick to the last.\n",
            thousands(reminders::PATIENTS as f64),
            thousands(reminders::DUE as f64),
            reminders::ROUNDS,
            FLAT * 100.0
        )?;
        writeln!(
            out,
            "| database | tick | raw SQL (select due, insert, update) | raw / tick | RSS after 1st / last tick | target | result |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---|---|")?;
        for (database, f) in &results.reminders {
            writeln!(
                out,
                "| {database} | {} | {} | {:.2} | {} / {} | ≤ {}, memory flat | {} |",
                ms(f.tick),
                ms(f.raw),
                f.raw.as_secs_f64() / f.tick.as_secs_f64(),
                mib(f.rss_first_kib),
                mib(f.rss_last_kib),
                ms_target(TICK_TARGET),
                verdict(tick_passes(f))
            )?;
        }
        writeln!(out)?;
    }
    if !results.idle.is_empty() {
        writeln!(
            out,
            "### `dorsal serve` at rest\n\nThe release binary on a fresh database, {} s after \
             `/readyz` first answered.\n",
            idle::SETTLE.as_secs()
        )?;
        writeln!(
            out,
            "| database | RSS at rest | peak RSS (startup and migrations) | target | result |"
        )?;
        writeln!(out, "|---|---:|---:|---|---|")?;
        for (database, f) in &results.idle {
            writeln!(
                out,
                "| {database} | {} | {} | ≤ {} MiB | {} |",
                mib(f.rss_kib),
                mib(f.peak_kib),
                IDLE_TARGET_KIB / 1024,
                verdict(f.rss_kib <= IDLE_TARGET_KIB)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Facts about the machine and the software measured.
#[derive(Debug)]
pub struct Machine {
    date: String,
    commit: String,
    cpu: String,
    cores: usize,
    memory_kib: u64,
    os: String,
    kernel: String,
    postgres: String,
    sqlite: String,
    rustc: String,
    load_before: String,
    /// The load average when the run ended (set by the caller).
    pub load_after: String,
}

/// The 1-, 5- and 15-minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn first_line(command: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(command)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .ok()?;
    output.status.success().then(|| {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned()
    })
}

fn file_field(path: &str, key: &str, separator: char) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|line| {
            let (k, v) = line.split_once(separator)?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
        })
}

impl Machine {
    /// Reads them before a run; `server` is the PostgreSQL server measured.
    pub async fn read(server: &str) -> anyhow::Result<Machine> {
        let query = async |url: &str, sql: &str| -> anyhow::Result<String> {
            let db = Database::connect(url).await?;
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await?;
            let value = row.map(|r| r.try_get::<String>("", "v")).transpose()?;
            db.close().await?;
            Ok(value.unwrap_or_default())
        };
        let commit = first_line("git", &["rev-parse", "--short", "HEAD"])
            .unwrap_or_else(|| "unknown".into());
        let dirty = first_line("git", &["status", "--porcelain"]).is_some_and(|l| !l.is_empty());
        Ok(Machine {
            date: jiff::Timestamp::now()
                .strftime("%Y-%m-%d %H:%M UTC")
                .to_string(),
            commit: if dirty {
                format!("{commit} (with uncommitted changes)")
            } else {
                commit
            },
            cpu: file_field("/proc/cpuinfo", "model name", ':').unwrap_or_else(|| "unknown".into()),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_kib: file_field("/proc/meminfo", "MemTotal", ':')
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0),
            os: file_field("/etc/os-release", "PRETTY_NAME", '=')
                .unwrap_or_else(|| "unknown".into()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|k| k.trim().to_owned())
                .unwrap_or_default(),
            postgres: query(server, "SELECT current_setting('server_version') AS v").await?,
            sqlite: query("sqlite::memory:", "SELECT sqlite_version() AS v").await?,
            rustc: first_line("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
            load_before: load_average(),
            load_after: String::new(),
        })
    }
}

/// `REPORT.md`.
pub fn document(results: &Results, machine: &Machine) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_document(&mut out, results, machine);
    out
}

fn write_document(out: &mut String, results: &Results, m: &Machine) -> std::fmt::Result {
    writeln!(
        out,
        "# dorsal benchmark report\n\nWritten by `cargo run --release -p bench -- report` on {}, \
         commit {}. Every figure is measured beside its reference in the same run, against the \
         targets of SPEC §9. Figures vary by about ±20% from run to run, more when other work \
         shares the machine (see the load averages below).\n",
        m.date, m.commit
    )?;
    writeln!(out, "## Machine\n\n| | |\n|---|---|")?;
    writeln!(out, "| CPU | {}, {} cores |", m.cpu, m.cores)?;
    writeln!(
        out,
        "| memory | {:.1} GiB |",
        m.memory_kib as f64 / 1024.0 / 1024.0
    )?;
    writeln!(out, "| OS | {}, Linux {} |", m.os, m.kernel)?;
    writeln!(
        out,
        "| PostgreSQL | {}, same machine, loopback TCP |",
        m.postgres
    )?;
    writeln!(
        out,
        "| SQLite | {} (bundled), a file in the temporary folder, WAL, `synchronous = NORMAL` |",
        m.sqlite
    )?;
    writeln!(out, "| Rust | {}, release profile |", m.rustc)?;
    writeln!(
        out,
        "| load average (1, 5, 15 min) | {} before the run; {} at its end, the bench's own work \
         included |",
        m.load_before, m.load_after
    )?;
    writeln!(out)?;

    writeln!(out, "## Summary\n")?;
    writeln!(
        out,
        "| SPEC §9 figure | database | dorsal | reference, same run | target | result |"
    )?;
    writeln!(out, "|---|---|---:|---:|---|---|")?;
    for (database, f) in &results.sync {
        let ratio = f.push / f.raw_insert;
        let (target, result) = if push_has_target(database) {
            (
                format!("≥ {PUSH_TARGET} × reference"),
                verdict(ratio >= PUSH_TARGET),
            )
        } else {
            ("none (PostgreSQL only)".to_owned(), "—")
        };
        writeln!(
            out,
            "| push of 10,000 pain logs, batches of 1,000 | {database} | {} rows/s ({ratio:.2} ×) | {} rows/s, multi-row `INSERT` | {target} | {result} |",
            thousands(f.push),
            thousands(f.raw_insert)
        )?;
    }
    for (database, f) in &results.sync {
        let ratio = f.pull / f.raw_select;
        writeln!(
            out,
            "| pull of 10,000 rows, pages of 1,000 | {database} | {} rows/s ({ratio:.2} ×) | {} rows/s, {} | ≥ {PULL_TARGET} × reference | {} |",
            thousands(f.pull),
            thousands(f.raw_select),
            reference_select(database),
            verdict(ratio >= PULL_TARGET)
        )?;
    }
    for (database, f) in &results.load {
        let endpoints = || f.endpoints.iter().filter(|e| e.endpoint.is_endpoint());
        let requests: usize = endpoints().map(|e| e.requests).sum();
        let errors: usize = endpoints().map(|e| e.errors).sum();
        let worst = endpoints().map(|e| e.p99).max().unwrap_or_default();
        writeln!(
            out,
            "| {} devices syncing for {} s | {database} | {} requests, {errors} errors, worst p99 {} | | no error, p99 < {} | {} |",
            load::DEVICES,
            load::SECONDS,
            thousands(requests as f64),
            ms(worst),
            ms_target(LOAD_P99_TARGET),
            verdict(load_passes(f))
        )?;
    }
    for (database, f) in &results.latency {
        writeln!(
            out,
            "| red-flag push → webhook sent | {database} | p95 {} (p50 {}) | | p95 ≤ {} (aim 50 ms) | {} |",
            ms(f.p95),
            ms(f.p50),
            ms_target(ALERT_P95_TARGET),
            verdict(f.p95 <= ALERT_P95_TARGET)
        )?;
    }
    for (database, f) in &results.reminders {
        writeln!(
            out,
            "| reminder tick, 100,000 patients, 1,000 due | {database} | {}, RSS {} → {} | {} raw SQL | ≤ {}, memory flat | {} |",
            ms(f.tick),
            mib(f.rss_first_kib),
            mib(f.rss_last_kib),
            ms(f.raw),
            ms_target(TICK_TARGET),
            verdict(tick_passes(f))
        )?;
    }
    for (database, f) in &results.idle {
        writeln!(
            out,
            "| `dorsal serve` idle RSS | {database} | {} | | ≤ {} MiB | {} |",
            mib(f.rss_kib),
            IDLE_TARGET_KIB / 1024,
            verdict(f.rss_kib <= IDLE_TARGET_KIB)
        )?;
    }
    writeln!(out, "\n![dorsal beside its references](figures.png)\n")?;
    writeln!(out, "## Details\n")?;
    write_tables(out, results)?;
    writeln!(out, "## How each figure is measured\n")?;
    writeln!(
        out,
        "- Everything runs on this one machine: the API, the worker, the database servers and the \
           clients share its cores, so the figures are a floor rather than a ceiling.\n\
         - The bench process installs no tracing subscriber, so the in-process server writes no \
           request logs; `dorsal serve` (the idle figure) runs with its default logging.\n\
         - **Push / pull**: a patient registers and logs in over HTTP, pushes {rows} pain logs in \
           batches of {batch} (`POST /v1/sync/push`, each batch validated, red flags evaluated, \
           one transaction) and pulls them back from scratch (`GET /v1/sync/pull?limit={limit}`). \
           The reference inserts the same rows with one multi-row `INSERT` per batch into an \
           empty copy of `pain_logs` with the same keys and indexes, and reads them back page by \
           page as one JSON array built by the database (`json_agg` of every column on PostgreSQL, \
           `json_group_array(json_object(..))` of every column on SQLite), decoded by the client. \
           Rows/s are medians of {rounds} rounds, ours and raw alternating.\n\
         - **{devices} devices**: {devices} patient accounts are created through the service \
           (Argon2id included) and joined to one clinic's care team; their access tokens are \
           signed as a login would sign them. Each device has its own HTTP connection and, once a \
           second for {seconds} s (starts staggered over the first second), pulls since its \
           cursor (every page) and pushes 1–5 pain and sleep logs; one push in {every} carries \
           a pain log with saddle numbness, an emergency red flag, which the worker (running \
           beside the API on the same pool, as in `dorsal serve`) sends to the clinic's loopback \
           webhook. The devices run on a Tokio runtime of their own (two threads), as a separate \
           client process would. Any transport error, non-2xx answer or rejected record is an \
           error. Latency is from sending a request to the last byte of its answer.\n\
         - **Red-flag push → webhook**: {alerts} patients, one after another, each push one pain \
           log with loss of bladder control; from sending the push to the loopback receiver \
           getting the signed `alert.raised` request. On PostgreSQL the API and the worker use \
           separate pools, so the wake-up crosses `LISTEN/NOTIFY`.\n\
         - **Reminder tick**: {patients} schedules seeded with raw SQL, {due} of them due, each \
           with a push device; `fire_reminders::run` timed over {ticks} successive evenings. The \
           reference selects the due ids through the same index, inserts {due} notification rows \
           in one statement and updates the {due} schedules in one statement.\n\
         - **Idle RSS**: `target/release/dorsal serve` started on a fresh database with a free \
           port, `VmRSS` read from `/proc/<pid>/status` {settle} s after `/readyz` answered, then \
           stopped with SIGTERM (it must exit cleanly).\n\
         - The chart is drawn with plotters and the system's DejaVu Sans (Debian package \
           `fonts-dejavu-core`).",
        rows = thousands(sync::ROWS as f64),
        batch = thousands(sync::BATCH as f64),
        limit = sync::BATCH,
        rounds = sync::ROUNDS,
        devices = load::DEVICES,
        seconds = load::SECONDS,
        every = load::RED_FLAG_EVERY,
        alerts = latency::ALERTS,
        patients = thousands(reminders::PATIENTS as f64),
        due = thousands(reminders::DUE as f64),
        ticks = reminders::ROUNDS,
        settle = idle::SETTLE.as_secs(),
    )?;
    Ok(())
}
