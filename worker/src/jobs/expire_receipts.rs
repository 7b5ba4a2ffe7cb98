//! Stored push answers older than `sync.receipt_days`, once an hour
//! across all workers.

use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;

/// Deletes expired receipts if this worker claims the hour's slot; `None`
/// when another worker has it.
#[tracing::instrument(name = "expire_receipts", skip_all)]
pub async fn run(ctx: &JobCtx, now: Timestamp) -> Result<Option<u64>, JobError> {
    Ok(dorsal_service::sync::receipts::expire(
        &ctx.db,
        ctx.config.sync.receipt_ttl_ms(),
        ctx.worker_id,
        now.as_millisecond(),
    )
    .await?)
}
