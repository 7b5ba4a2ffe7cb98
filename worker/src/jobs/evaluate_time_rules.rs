//! The time-based red-flag rules, once an hour across all workers.

use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;

/// Evaluates the rules if this worker claims the hour's slot; `None` when
/// another worker has it.
#[tracing::instrument(name = "evaluate_time_rules", skip_all)]
pub async fn run(ctx: &JobCtx, now: Timestamp) -> Result<Option<usize>, JobError> {
    Ok(dorsal_service::red_flags::evaluate_time_rules(
        &ctx.db,
        &ctx.nudges,
        &ctx.config.red_flags,
        ctx.worker_id,
        now.as_millisecond(),
    )
    .await?)
}
