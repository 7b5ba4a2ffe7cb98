//! The hourly prompt scan (mattress, sleep tips, PT referral, adherence),
//! once per hour across all workers.

use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;

/// Scans if this worker claims the hour; `None` when another one has it.
#[tracing::instrument(name = "send_prompts", skip_all)]
pub async fn run(ctx: &JobCtx, now: Timestamp) -> Result<Option<usize>, JobError> {
    Ok(dorsal_service::prompts::scan(
        &ctx.db,
        &ctx.nudges,
        &ctx.config.reminders,
        ctx.worker_id,
        now,
    )
    .await?)
}
