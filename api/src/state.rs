//! The state every handler receives.

use std::sync::Arc;

use dorsal_service::Core;
use dorsal_service::Db;
use dorsal_service::auth::Auth;
use dorsal_service::clock::SharedClock;
use dorsal_service::config::Config;
use dorsal_service::sealed::DataKeys;

/// Shared, cheaply cloned handles.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Connection pool.
    pub db: Db,
    /// Tokens and passwords.
    pub auth: Arc<Auth>,
    /// The keys stored secrets are sealed under.
    pub data_keys: Arc<DataKeys>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Time.
    pub clock: SharedClock,
    /// Sync hints.
    pub nudges: dorsal_service::sync::Nudges,
    /// What patient writes keep current before they commit.
    pub commit_hooks: dorsal_service::sync::CommitHooks,
}

impl From<Core> for AppState {
    fn from(core: Core) -> Self {
        Self {
            db: core.db,
            auth: core.auth,
            data_keys: core.data_keys,
            config: core.config,
            clock: core.clock,
            nudges: core.nudges,
            commit_hooks: core.commit_hooks,
        }
    }
}
