//! The subcommands: which halves of dorsal to start, and admin tasks.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use dorsal_api::{App, AppState};
use dorsal_service::Core;
use dorsal_service::clock::SystemClock;
use dorsal_service::config::{Config, LogFormat};
use dorsal_service::users::NewAccount;
use dorsal_worker::{JobCtx, Worker};
use tokio_util::sync::CancellationToken;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

/// Backend for night-time back-pain care.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// An extra configuration file, applied over config/local.toml.
    #[arg(long, global = true, env = "DORSAL_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// API and worker in one process, migrating first (the default).
    Serve,
    /// The HTTP API alone (scale-out; run `dorsal migrate` first).
    Api,
    /// The worker alone (scale-out; several may run on PostgreSQL).
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(Admin),
    /// Seed a demo clinic (staff, patients with two weeks of diaries, one
    /// red flag) into the configured database and print its logins.
    Demo,
}

#[derive(Debug, Subcommand)]
enum Admin {
    /// Create a clinic and its first admin; prints {"org_id", "admin_id"}.
    CreateOrg {
        /// The clinic's name.
        #[arg(long)]
        name: String,
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// The admin's password (at least 10 characters).
        #[arg(long, env = "DORSAL_ADMIN_PASSWORD")]
        password: String,
        /// The admin's display name.
        #[arg(long, default_value = "Administrator")]
        display_name: String,
    },
}

fn init_tracing(config: &Config) {
    let ansi = std::io::stderr().is_terminal();
    // Fails only when a subscriber is already installed, which is harmless.
    let _ = log_subscriber(config, std::io::stderr, ansi).try_init();
}

/// The process's log subscriber writing to `writer`. Colour codes only when
/// `ansi` (the writer is a terminal): in a file or a collector they are noise
/// that breaks searching.
fn log_subscriber<W>(config: &Config, writer: W, ansi: bool) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match config.log_format {
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
        LogFormat::Pretty => Box::new(builder.finish()),
    }
}

/// Cancels the token on SIGTERM or ctrl-c.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, () = term => {} }
        tracing::info!("shutting down");
        trigger.cancel();
    });
    token
}

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    init_tracing(&config);
    let command = cli.command.unwrap_or(Command::Serve);
    let migrate = matches!(
        command,
        Command::Serve | Command::Migrate | Command::Admin(_) | Command::Demo
    );
    let core = Core::open(config, Arc::new(SystemClock), migrate).await?;
    match command {
        Command::Migrate => {
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Admin(Admin::CreateOrg {
            name,
            email,
            password,
            display_name,
        }) => {
            let account = NewAccount {
                email,
                password,
                display_name,
            };
            let (org_id, admin) =
                dorsal_service::users::create_org_with_admin(&core.db, &core.auth, &name, account)
                    .await?;
            println!(
                "{}",
                serde_json::json!({ "org_id": org_id, "admin_id": admin.id })
            );
            Ok(())
        }
        Command::Demo => {
            let demo = dorsal_service::demo::seed(&core).await?;
            println!(
                "Demo clinic {} seeded. Every account's password: {}\n",
                demo.org_id, demo.password
            );
            for login in &demo.logins {
                println!(
                    "  {:<10} {:<40} {}",
                    login.role, login.email, login.display_name
                );
            }
            println!(
                "\nRun `dorsal serve` on the same database and open /clinic; sign in as the \
                 clinician to see the red flag."
            );
            Ok(())
        }
        Command::Worker => Ok(Worker::new(JobCtx::from(&core))?
            .run(shutdown_on_signal())
            .await?),
        Command::Api | Command::Serve => {
            let worker = match command {
                Command::Serve if core.config.worker.enabled_in_serve => {
                    Some(Worker::new(JobCtx::from(&core))?)
                }
                _ => None,
            };
            let shutdown = shutdown_on_signal();
            let app = App::bind(AppState::from(core.clone()), &core.config.bind)
                .await
                .with_context(|| format!("cannot listen on {}", core.config.bind))?;
            tracing::info!(address = %app.local_addr()?, "listening");
            let worker = worker.map(|worker| tokio::spawn(worker.run(shutdown.clone())));
            app.serve(shutdown.clone()).await?;
            shutdown.cancel();
            if let Some(worker) = worker {
                worker.await??;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn logs_written_to_a_pipe_carry_no_colour_codes() {
        for format in [LogFormat::Pretty, LogFormat::Json] {
            let mut config = Config::defaults_with_database("sqlite://dorsal.db").unwrap();
            config.log_format = format;
            let (mut reader, writer) = std::io::pipe().unwrap();
            let ansi = std::os::fd::AsFd::as_fd(&writer).is_terminal();
            let make = move || writer.try_clone().unwrap();
            let subscriber = log_subscriber(&config, make, ansi);
            tracing::subscriber::with_default(subscriber, || {
                let span = tracing::info_span!("request", route = "/v1/me");
                let _entered = span.enter();
                tracing::warn!(alert_id = 7, "something to see");
            });
            let mut text = String::new();
            reader.read_to_string(&mut text).unwrap();
            assert!(text.contains("something to see"), "{format:?}: {text}");
            assert!(!text.contains('\u{1b}'), "{format:?}: {text:?}");
        }
    }
}
