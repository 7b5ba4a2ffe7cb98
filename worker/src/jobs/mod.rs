//! The jobs a tick runs. Each is a plain `async fn run(&JobCtx, now)`.

pub mod deliver_push;
pub mod deliver_webhooks;
pub mod escalate_alerts;
pub mod evaluate_time_rules;
pub mod fire_reminders;
pub mod send_prompts;

use jiff::Timestamp;

use crate::JobCtx;

/// Why a job run failed; the tick logs it and carries on.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The application layer failed.
    #[error(transparent)]
    Service(#[from] dorsal_service::ServiceError),
}

/// One tick: every periodic job, in order. (Webhook and push delivery have
/// their own loop, woken by writers, so they never wait for a tick.)
pub async fn tick(ctx: &JobCtx, now: Timestamp) -> Result<(), JobError> {
    // One job failing (say, the database blinking) does not stop the rest.
    let outcomes = [
        escalate_alerts::run(ctx, now).await.map(drop),
        fire_reminders::run(ctx, now).await.map(drop),
        evaluate_time_rules::run(ctx, now).await.map(drop),
        send_prompts::run(ctx, now).await.map(drop),
    ];
    outcomes.into_iter().collect()
}
