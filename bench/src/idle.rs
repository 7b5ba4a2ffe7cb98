//! `dorsal serve` at rest (SPEC §9): the release binary, started as a
//! process of its own on a fresh database and a free loopback port, left
//! alone for a few seconds after `/readyz` answers (the worker ticking as
//! usual), its resident memory read from `/proc`, then stopped with SIGTERM
//! and expected to exit cleanly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{DATA_KEY, JWT_SECRET, progress, status_kib, workspace_root};

/// How long the server is left alone once ready.
pub const SETTLE: Duration = Duration::from_secs(5);

/// What one database measured.
#[derive(Debug)]
pub struct Figures {
    /// Resident memory at rest, KiB.
    pub rss_kib: u64,
    /// Peak resident memory since start (migrations included), KiB.
    pub peak_kib: u64,
}

/// Builds the release `dorsal` binary (a no-op when it is up to date); its
/// path.
pub async fn build() -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building target/release/dorsal ...");
    let status = tokio::task::spawn_blocking(move || {
        Command::new(cargo)
            .current_dir(root)
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "dorsal",
                "--bin",
                "dorsal",
            ])
            .status()
    })
    .await??;
    if !status.success() {
        bail!("cargo build --release --bin dorsal failed: {status}");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(target.join("release").join("dorsal"))
}

/// The server process, killed if the measurement stops half-way.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
}

/// Idle memory of `binary serve` on the database at `url`.
pub async fn measure(binary: &Path, name: &str, url: &str) -> anyhow::Result<Figures> {
    let bar = progress(SETTLE.as_secs(), &format!("dorsal serve at rest, {name}"))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    // In a folder of its own, so no config/local.toml is picked up.
    let folder = std::env::temp_dir().join(format!("dorsal-idle-{port}"));
    std::fs::create_dir_all(&folder)?;
    let mut server = Server(
        Command::new(binary)
            .arg("serve")
            .current_dir(&folder)
            .env("DATABASE_URL", url)
            .env("DORSAL_BIND", format!("127.0.0.1:{port}"))
            .env("DORSAL_JWT_SECRET", JWT_SECRET)
            .env("DORSAL_DATA_KEY", DATA_KEY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?,
    );
    let pid = server.0.id().to_string();

    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        if let Some(status) = server.0.try_wait()? {
            bail!("dorsal serve exited before it was ready: {status}");
        }
        if Instant::now() > deadline {
            bail!("dorsal serve was not ready within a minute");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(http);
    for _ in 0..SETTLE.as_secs() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        bar.inc(1);
    }
    let figures = Figures {
        rss_kib: status_kib(&pid, "VmRSS"),
        peak_kib: status_kib(&pid, "VmHWM"),
    };
    bar.finish_and_clear();
    if figures.rss_kib == 0 {
        bail!("cannot read /proc/{pid}/status");
    }

    let status = Command::new("kill").args(["-TERM", &pid]).status()?;
    if !status.success() {
        bail!("kill -TERM {pid}: {status}");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = server.0.try_wait()? {
            break exit;
        }
        if Instant::now() > deadline {
            bail!("dorsal serve did not stop within 30 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if !exit.success() {
        bail!("dorsal serve stopped uncleanly after SIGTERM: {exit}");
    }
    std::fs::remove_dir_all(&folder).ok();
    Ok(figures)
}
