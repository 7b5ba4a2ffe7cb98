//! The background worker: a thin UTC ticker (tokio-cron-scheduler) that runs
//! jobs against the database. Jobs coordinate only through the database.

pub mod delivery;
pub mod device_push;
pub mod jobs;
pub mod mail;
pub mod outbox;
pub mod scheduler;

use std::sync::Arc;

use dorsal_service::clock::SharedClock;
use dorsal_service::config::Config;
use dorsal_service::sealed::DataKeys;
use dorsal_service::{Core, Db};

pub use scheduler::Worker;

/// Why the worker could not run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Another process already runs the worker on this SQLite database.
    #[error(
        "another dorsal process already runs the worker on {database}; on SQLite only one \
         process may: stop it, or start this one with `dorsal api`"
    )]
    AlreadyRunning {
        /// The database file.
        database: String,
    },
    /// The worker lock file could not be opened.
    #[error("cannot open the worker lock {path}: {source}")]
    Lock {
        /// Lock file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The scheduler failed.
    #[error("scheduler: {0}")]
    Scheduler(#[from] tokio_cron_scheduler::JobSchedulerError),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Http(String),
    /// A device-push provider is misconfigured.
    #[error("push: {0}")]
    DevicePush(String),
    /// Mail cannot be sent as configured.
    #[error("mail: {0}")]
    Mail(String),
}

/// What every job receives.
#[derive(Debug, Clone)]
pub struct JobCtx {
    /// Connection pool.
    pub db: Db,
    /// Configuration.
    pub config: Arc<Config>,
    /// The keys stored secrets are sealed under.
    pub data_keys: Arc<DataKeys>,
    /// The clock jobs read "now" from (injected in tests).
    pub clock: SharedClock,
    /// This worker's identity in claims.
    pub worker_id: uuid::Uuid,
    /// Wake-ups from writers in this process.
    pub nudges: dorsal_service::sync::Nudges,
}

impl From<&Core> for JobCtx {
    fn from(core: &Core) -> Self {
        Self {
            db: core.db.clone(),
            config: core.config.clone(),
            data_keys: core.data_keys.clone(),
            clock: core.clock.clone(),
            worker_id: uuid::Uuid::now_v7(),
            nudges: core.nudges.clone(),
        }
    }
}

impl JobCtx {
    /// Shared handle for the scheduler's closures.
    pub fn shared(self) -> Arc<Self> {
        Arc::new(self)
    }
}
