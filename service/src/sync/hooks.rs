//! Data derived from a patient's synced tables that their writes keep
//! current. A hook names the tables its data is computed from; a
//! [`super::PatientWrite`] that touched any of them runs it in its own
//! transaction just before committing. The module owning the data provides
//! the hook (the reminder schedule: `reminders::SCHEDULE`) and `Core::open`
//! registers it in the [`CommitHooks`] the state holds and each commit is
//! handed, so the write path names none of them.

use std::future::Future;
use std::pin::Pin;

use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use crate::error::ServiceResult;

/// A hook's run, borrowing the write's transaction.
pub type HookRun<'a> = Pin<Box<dyn Future<Output = ServiceResult<()>> + Send + 'a>>;

/// Derived data, recomputed by every write to the tables it is computed
/// from.
#[derive(Debug, Clone, Copy)]
pub struct CommitHook {
    /// The synced tables the data is computed from.
    pub tables: &'static [&'static str],
    /// Recomputes one patient's data at `now` (ms), inside the write's
    /// transaction.
    pub run: for<'a> fn(&'a DatabaseTransaction, Uuid, i64) -> HookRun<'a>,
}

impl CommitHook {
    /// Whether a write that touched `tables` must run this hook.
    pub fn fed_by(&self, tables: &[&str]) -> bool {
        self.tables.iter().any(|t| tables.contains(t))
    }
}

/// The hooks every patient write runs before it commits, as registered at
/// startup.
#[derive(Debug, Clone, Copy)]
pub struct CommitHooks {
    hooks: &'static [CommitHook],
}

impl CommitHooks {
    /// The writes' hooks are `hooks`.
    pub const fn new(hooks: &'static [CommitHook]) -> Self {
        Self { hooks }
    }

    /// The hooks a write that touched `tables` runs, in registration order.
    pub fn fed_by<'t>(&self, tables: &'t [&str]) -> impl Iterator<Item = &'static CommitHook> + 't {
        self.hooks.iter().filter(move |hook| hook.fed_by(tables))
    }
}
