//! The jobs a tick runs. Each is a plain `async fn run(&JobCtx, now)`.

pub mod deliver_webhooks;

use jiff::Timestamp;

use crate::JobCtx;

/// Why a job run failed; the tick logs it and carries on.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The application layer failed.
    #[error(transparent)]
    Service(#[from] dorsal_service::ServiceError),
}

/// One tick: every due job, in order. Delivery, reminders and escalation
/// jobs join this list as they are built.
pub async fn tick(_ctx: &JobCtx, now: Timestamp) -> Result<(), JobError> {
    tracing::trace!(%now, "tick");
    Ok(())
}
