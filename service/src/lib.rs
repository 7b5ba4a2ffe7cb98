//! The application layer shared by the API and the worker: transactions,
//! accounts and tokens, care teams, access decisions and the audit log.

pub mod access;
pub mod actor;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod care_team;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod device_push;
pub mod error;
pub mod exercise_images;
pub mod fhir;
pub mod limits;
pub mod locale;
pub mod mail;
pub mod notify;
pub mod orgs;
pub mod outbox;
pub mod page;
pub mod privacy;
pub mod programs;
pub mod prompts;
pub mod recovery;
pub mod red_flags;
pub mod reminders;
pub mod reports;
pub mod sealed;
pub mod secret;
pub mod severity;
pub mod slots;
pub mod staff;
pub mod sync;
pub mod totp;
pub mod users;
pub mod webhooks;

pub use error::{AuthFailure, InternalError, OrInternal, ServiceError, ServiceResult};

use std::sync::Arc;

pub use db::Db;

use crate::auth::Auth;
use crate::clock::SharedClock;
use crate::config::{Config, ConfigError};
use crate::sealed::DataKeys;

/// The data patient writes keep current, each registered by the module
/// that owns it.
const COMMIT_HOOKS: &[sync::CommitHook] = &[reminders::SCHEDULE];

/// What both the API and the worker stand on: the database, the auth
/// keys, the data keys, the configuration and the clock.
#[derive(Debug, Clone)]
pub struct Core {
    /// Connection pool.
    pub db: Db,
    /// Token keys, password hasher, login limiter.
    pub auth: Arc<Auth>,
    /// The keys stored secrets are sealed under.
    pub data_keys: Arc<DataKeys>,
    /// Validated configuration.
    pub config: Arc<Config>,
    /// The clock everything reads.
    pub clock: SharedClock,
    /// "Pull now" hints to patients' devices.
    pub nudges: sync::Nudges,
    /// What patient writes keep current before they commit.
    pub commit_hooks: sync::CommitHooks,
}

/// Why dorsal could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Bad or missing configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// Anything else that stopped startup.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl Core {
    /// Resolves the signing secrets and the data keys, opens the pool and,
    /// when `migrate` is set, applies pending migrations and seals the
    /// stored secrets not yet under the data key
    /// ([`sealed::seal_stored_secrets`]).
    pub async fn open(
        config: Config,
        clock: SharedClock,
        migrate: bool,
    ) -> Result<Core, StartupError> {
        let secret = auth::resolve_jwt_secret(&config)?;
        let previous_secret = auth::resolve_previous_jwt_secret(&config)?;
        let data_keys = Arc::new(DataKeys::from_config(&config)?);
        let db = db::connect(&config).await?;
        if migrate {
            db::migrate(&db).await?;
            sealed::seal_stored_secrets(&db, &data_keys).await?;
        }
        let auth = Auth::new(
            &config.auth,
            &secret,
            previous_secret.as_ref(),
            clock.clone(),
        )?;
        Ok(Core {
            db,
            auth,
            data_keys,
            config: Arc::new(config),
            clock,
            nudges: sync::Nudges::new(),
            commit_hooks: sync::CommitHooks::new(COMMIT_HOOKS),
        })
    }
}
