//! The jobs a tick runs. Each is a plain `async fn run(&JobCtx, now)`.

pub mod deliver_webhooks;
pub mod escalate_alerts;
pub mod evaluate_time_rules;

use jiff::Timestamp;

use crate::JobCtx;

/// Why a job run failed; the tick logs it and carries on.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The application layer failed.
    #[error(transparent)]
    Service(#[from] dorsal_service::ServiceError),
}

/// One tick: every periodic job, in order. (Webhook delivery has its own
/// loop, woken by writers, so it never waits for a tick.)
pub async fn tick(ctx: &JobCtx, now: Timestamp) -> Result<(), JobError> {
    escalate_alerts::run(ctx, now).await?;
    evaluate_time_rules::run(ctx, now).await?;
    Ok(())
}
