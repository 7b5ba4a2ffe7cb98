//! `cargo run --release -p bench [report | sync latency reminders load idle]`:
//! dorsal's figures (SPEC §9) on SQLite and on PostgreSQL, each beside the
//! same work done as raw SQL on the same database in the same run. With no
//! argument, or `report`, all of them, and the report is written to
//! `bench/report/` (`REPORT.md`, `figures.png`); naming parts runs just
//! those and prints their tables. `DATABASE_URL` names the PostgreSQL server
//! (default `postgres://postgres@127.0.0.1:5432/test`); scratch databases
//! are created and dropped, SQLite ones in a temporary folder. Progress goes
//! to stderr, the tables to stdout.

mod chart;
mod idle;
mod latency;
mod load;
mod reminders;
mod report;
mod sync;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

use crate::report::Results;

/// Signs the bench's access tokens (every core the bench opens shares it).
const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret-00";
/// The data key every benchmarked dorsal seals stored secrets under.
const DATA_KEY: &str = "bench-data-key-bench-data-key-bench-data-0";
const PARTS: [&str; 5] = ["sync", "latency", "reminders", "load", "idle"];

/// A scratch database on the PostgreSQL server, dropped by [`Scratch::drop`].
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

/// A fresh SQLite database and a fresh PostgreSQL one, for one part.
struct Databases {
    sqlite_dir: PathBuf,
    sqlite: String,
    postgres: Scratch,
}

impl Databases {
    async fn create(server: &str) -> anyhow::Result<Databases> {
        let sqlite_dir =
            std::env::temp_dir().join(format!("dorsal-bench-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&sqlite_dir)?;
        Ok(Databases {
            sqlite: format!("sqlite://{}/dorsal.db?mode=rwc", sqlite_dir.display()),
            sqlite_dir,
            postgres: Scratch::create(server).await?,
        })
    }

    /// The databases by name, in the order every table lists them.
    fn each(&self) -> [(&'static str, &str); 2] {
        [
            ("SQLite", self.sqlite.as_str()),
            ("PostgreSQL", self.postgres.url.as_str()),
        ]
    }

    async fn drop(self) -> anyhow::Result<()> {
        self.postgres.drop().await?;
        std::fs::remove_dir_all(&self.sqlite_dir).ok();
        Ok(())
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn progress(len: u64, what: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix:<32} [{bar:30}] {pos:>3}/{len:3} {msg} ({elapsed})")?
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(250));
    note(&bar, format_args!("{what} ..."));
    Ok(bar)
}

/// A line on stderr above the bar, shown whether or not the bar is.
fn note(bar: &ProgressBar, line: impl Display) {
    bar.suspend(|| eprintln!("{line}"));
}

/// The `q` quantile of `sorted` by nearest rank; zero when empty.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A field of `/proc/<process>/status` in KiB (`process` is a pid or
/// `self`); zero when unreadable.
fn status_kib(process: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn workspace_root() -> &'static Path {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench.parent().unwrap_or(bench)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dorsal_worker::delivery::install_crypto_provider();
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    if let Some(unknown) = wanted
        .iter()
        .find(|w| *w != "report" && !PARTS.contains(&w.as_str()))
    {
        bail!(
            "unknown part {unknown:?}; usage: bench [report | {}]",
            PARTS.join(" ")
        );
    }
    let everything = wanted.is_empty() || wanted.iter().any(|w| w == "report");
    let run = |part: &str| everything || wanted.iter().any(|w| w == part);

    // Read first, so the load average is the machine's before the run.
    let machine = if everything {
        Some(report::Machine::read(&server).await?)
    } else {
        None
    };
    let mut results = Results::default();
    if run("sync") {
        let databases = Databases::create(&server).await?;
        for (name, url) in databases.each() {
            results.sync.push((name, sync::measure(name, url).await?));
        }
        databases.drop().await?;
    }
    if run("latency") {
        let databases = Databases::create(&server).await?;
        for (name, url) in databases.each() {
            results
                .latency
                .push((name, latency::measure(name, url).await?));
        }
        databases.drop().await?;
    }
    if run("reminders") {
        let databases = Databases::create(&server).await?;
        for (name, url) in databases.each() {
            results
                .reminders
                .push((name, reminders::measure(name, url).await?));
        }
        databases.drop().await?;
    }
    if run("load") {
        let databases = Databases::create(&server).await?;
        for (name, url) in databases.each() {
            results.load.push((name, load::measure(name, url).await?));
        }
        databases.drop().await?;
    }
    if run("idle") {
        let binary = idle::build().await?;
        let databases = Databases::create(&server).await?;
        for (name, url) in databases.each() {
            results
                .idle
                .push((name, idle::measure(&binary, name, url).await?));
        }
        databases.drop().await?;
    }

    println!("{}", report::tables(&results));
    if let Some(mut machine) = machine {
        machine.load_after = report::load_average();
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("report");
        std::fs::create_dir_all(&folder)?;
        let markdown = folder.join("REPORT.md");
        std::fs::write(&markdown, report::document(&results, &machine))
            .with_context(|| format!("writing {}", markdown.display()))?;
        let png = folder.join("figures.png");
        chart::draw(&results, &png)?;
        eprintln!("wrote {} and {}", markdown.display(), png.display());
    }
    Ok(())
}
