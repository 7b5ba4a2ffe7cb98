//! Rate-limit rows whose allowance is whole again, once an hour across all
//! workers, so the table holds only keys limited lately.

use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;

/// Deletes spent limits if this worker claims the hour's slot; `None` when
/// another worker has it.
#[tracing::instrument(name = "forget_limits", skip_all)]
pub async fn run(ctx: &JobCtx, now: Timestamp) -> Result<Option<u64>, JobError> {
    Ok(dorsal_service::limits::forget_spent(&ctx.db, ctx.worker_id, now.as_millisecond()).await?)
}
