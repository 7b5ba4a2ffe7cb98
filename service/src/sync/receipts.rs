//! Stored push answers (`Idempotency-Key` receipts) expire: a device
//! retries a push within minutes or hours, not weeks, and each receipt
//! holds a whole answer.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use uuid::Uuid;

use crate::db::{Db, begin_write};
use crate::error::ServiceResult;

/// The slot job that collects expired receipts.
const JOB: &str = "expire_push_receipts";
/// Receipts are collected once an hour across all workers.
const SLOT_MS: i64 = 60 * 60 * 1000;

/// Deletes the receipts older than `ttl_ms` if this worker claims the
/// hour's slot; the number deleted, or `None` when another worker has it.
/// A push retried after that is applied again, which the sync rules make
/// harmless (a created record that exists is an update).
pub async fn expire(db: &Db, ttl_ms: i64, worker: Uuid, now: i64) -> ServiceResult<Option<u64>> {
    let slot = now / SLOT_MS;
    if !crate::slots::claim(db, JOB, slot, worker, now).await? {
        return Ok(None);
    }
    let txn = begin_write(db).await?;
    let delete = Query::delete()
        .from_table(Alias::new("sync_push_receipts"))
        .and_where(Expr::col(Alias::new("created_at")).lt(now.saturating_sub(ttl_ms)))
        .take();
    let deleted = txn.execute(&delete).await?.rows_affected();
    txn.commit().await?;
    crate::slots::finish(db, JOB, slot, worker, now).await?;
    Ok(Some(deleted))
}
