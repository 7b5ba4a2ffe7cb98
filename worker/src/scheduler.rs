//! The scheduler shell: tokio-cron-scheduler as a UTC ticker only (its time
//! zone jobs drift after DST and its stores double-fire across replicas),
//! a tick skipped while the last is still running, and a shutdown that
//! waits for the running tick.

use std::fs::File;
use std::sync::Arc;

use dorsal_service::config::{Backend, Config, sqlite_file};
use secrecy::ExposeSecret as _;
use tokio::sync::Mutex;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::delivery::HttpSender;
use crate::device_push::{FcmProvider, GatewayProvider, Providers};
use crate::jobs::{JobError, deliver_device_push, deliver_mail, deliver_webhooks, fetch_images};
use crate::mail::Mailer;
use crate::{JobCtx, WorkerError, jobs};

/// A running worker.
#[derive(Debug)]
pub struct Worker {
    ctx: Arc<JobCtx>,
    // Held for the worker's life: the kernel releases it if the process dies.
    _owner: Option<File>,
}

/// On SQLite only one process may own the worker role. An OS file lock next
/// to the database file says who does, and is released by the kernel when
/// the owner exits, however it exits.
fn own_worker_role(config: &Config) -> Result<Option<File>, WorkerError> {
    if !matches!(config.backend(), Ok(Backend::Sqlite)) {
        return Ok(None);
    }
    let Some(database) = sqlite_file(config.database_url.expose_secret()) else {
        return Ok(None);
    };
    let mut path = database.clone().into_os_string();
    path.push(".worker-lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| WorkerError::Lock {
            path: path.to_string_lossy().into_owned(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(WorkerError::AlreadyRunning {
            database: database.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(WorkerError::Lock {
            path: path.to_string_lossy().into_owned(),
            source,
        }),
    }
}

/// Rounds of one outbox that may be in flight at once.
const ROUNDS_IN_FLIGHT: usize = 4;

/// One outbox's round: claim a batch, send it, return how many were claimed.
type Round = std::pin::Pin<Box<dyn Future<Output = Result<usize, JobError>> + Send>>;

/// Delivers one outbox as soon as a writer in this process says there is
/// something to send, and at least every second (the fallback for writers
/// elsewhere), until shutdown; the sends in flight complete first.
///
/// Rounds run as tasks: a round waiting on a receiver that hangs does not
/// hold back the next claim, so one org's broken endpoint cannot delay
/// another org's alert. A round that claimed a full `batch` starts the
/// next at once.
async fn deliver_until(
    outbox: &'static str,
    batch: u64,
    mut wake: tokio::sync::watch::Receiver<u64>,
    round: impl Fn() -> Round,
    shutdown: CancellationToken,
) {
    let mut rounds = tokio::task::JoinSet::new();
    loop {
        let start = tokio::select! {
            () = shutdown.cancelled() => break,
            Ok(()) = wake.changed() => true,
            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => true,
            Some(done) = rounds.join_next() => match done {
                Ok(Ok(claimed)) => claimed as u64 >= batch,
                Ok(Err(err)) => {
                    tracing::error!(outbox, error = %err, "delivery failed");
                    false
                }
                Err(err) => {
                    tracing::error!(outbox, error = %err, "delivery round ended abnormally");
                    false
                }
            },
        };
        if start && rounds.len() < ROUNDS_IN_FLIGHT {
            rounds.spawn(round().instrument(tracing::info_span!("deliver", outbox)));
        }
    }
    // Sends in flight finish; nothing new is claimed.
    while rounds.join_next().await.is_some() {}
}

impl Worker {
    /// Takes the worker role (failing fast on SQLite if another process has
    /// it) without starting to tick.
    pub fn new(ctx: JobCtx) -> Result<Worker, WorkerError> {
        let owner = own_worker_role(&ctx.config)?;
        Ok(Worker {
            ctx: ctx.shared(),
            _owner: owner,
        })
    }

    /// Ticks until `shutdown` is cancelled, then waits for the running tick.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), WorkerError> {
        // A mail setting that cannot work stops the start, not each send.
        let mailer = Arc::new(Mailer::from_config(&self.ctx.config)?);
        let running = Arc::new(Mutex::new(()));
        let mut scheduler = JobScheduler::new().await?;
        let cron = format!("*/{} * * * * *", self.ctx.config.worker.tick_seconds);
        let (ctx, guard) = (self.ctx.clone(), running.clone());
        scheduler
            .add(Job::new_async(cron.as_str(), move |_, _| {
                let (ctx, guard) = (ctx.clone(), guard.clone());
                Box::pin(async move {
                    let Ok(_running) = guard.try_lock() else {
                        tracing::debug!("previous tick still running; skipped");
                        return;
                    };
                    let now = ctx.clock.now();
                    // Each job logs its own failure.
                    jobs::tick(&ctx, now)
                        .instrument(tracing::info_span!("tick"))
                        .await;
                })
            })?)
            .await?;
        // Exercise images: once a minute, with a client of their own (a
        // short timeout, the same SSRF guard as webhooks).
        let images =
            HttpSender::with_timeout(self.ctx.config.webhook_allow_private, fetch_images::TIMEOUT)?;
        let fetching = Arc::new(Mutex::new(()));
        let (ctx, guard) = (self.ctx.clone(), fetching.clone());
        scheduler
            .add(Job::new_async("0 * * * * *", move |_, _| {
                let (ctx, guard, images) = (ctx.clone(), guard.clone(), images.clone());
                Box::pin(async move {
                    let Ok(_running) = guard.try_lock() else {
                        tracing::debug!("exercise images still being fetched; skipped");
                        return;
                    };
                    let now = ctx.clock.now();
                    if let Err(err) = fetch_images::run(&ctx, &images, now).await {
                        tracing::error!(job = "fetch_images", error = %err, "job failed");
                    }
                })
            })?)
            .await?;
        scheduler.start().await?;
        let sender = HttpSender::with_timeout(
            self.ctx.config.webhook_allow_private,
            std::time::Duration::from_secs(self.ctx.config.worker.send_timeout_seconds),
        )?;
        let providers = Arc::new(Providers {
            gateway: GatewayProvider::new(sender.clone()),
            fcm: FcmProvider::from_config(&self.ctx.config.push)?,
        });
        let ctx = self.ctx.clone();
        let webhooks = tokio::spawn(deliver_until(
            "webhooks",
            crate::outbox::BATCH,
            self.ctx.nudges.deliveries(),
            move || {
                let (ctx, sender) = (ctx.clone(), sender.clone());
                Box::pin(async move { deliver_webhooks::run(&ctx, &sender, ctx.clock.now()).await })
            },
            shutdown.clone(),
        ));
        let ctx = self.ctx.clone();
        let device_pushes = tokio::spawn(deliver_until(
            "push",
            crate::outbox::BATCH,
            self.ctx.nudges.deliveries(),
            move || {
                let (ctx, providers) = (ctx.clone(), providers.clone());
                Box::pin(async move {
                    deliver_device_push::run(&ctx, &providers, ctx.clock.now()).await
                })
            },
            shutdown.clone(),
        ));
        let ctx = self.ctx.clone();
        let mails = tokio::spawn(deliver_until(
            "mail",
            crate::outbox::MAIL_BATCH,
            self.ctx.nudges.deliveries(),
            move || {
                let (ctx, mailer) = (ctx.clone(), mailer.clone());
                Box::pin(async move { deliver_mail::run(&ctx, &mailer, ctx.clock.now()).await })
            },
            shutdown.clone(),
        ));
        let listen_ctx = self.ctx.clone();
        let listen_stop = shutdown.clone();
        let listener = tokio::spawn(async move {
            dorsal_service::webhooks::listen_for_deliveries(
                &listen_ctx.db,
                &listen_ctx.nudges,
                listen_stop.cancelled(),
            )
            .await;
        });
        tracing::info!(%cron, "worker started");
        shutdown.cancelled().await;
        scheduler.shutdown().await?;
        let _finished = running.lock().await;
        let _fetched = fetching.lock().await;
        // Sends in flight finish; nothing new is claimed.
        let _ = listener.await;
        for deliveries in [webhooks, device_pushes, mails] {
            if let Err(err) = deliveries.await {
                tracing::error!(error = %err, "delivery loop ended abnormally");
            }
        }
        tracing::info!("worker stopped");
        Ok(())
    }
}
