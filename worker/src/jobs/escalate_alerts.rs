//! Escalates alerts nobody acknowledged in time.

use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;

/// One pass; returns how many alerts were escalated.
#[tracing::instrument(name = "escalate_alerts", skip_all)]
pub async fn run(ctx: &JobCtx, now: Timestamp) -> Result<usize, JobError> {
    Ok(dorsal_service::alerts::escalate_due(
        &ctx.db,
        &ctx.nudges,
        &ctx.config.red_flags,
        now.as_millisecond(),
    )
    .await?)
}
