//! Periodic work done once across worker replicas: a worker claims the
//! (job, slot) row under a lease, does the slot's work, and marks it done.
//! Everyone else skips a slot that is done or whose lease still runs; a
//! worker that dies half-way leaves a lease that runs out, and the next
//! worker to look does the slot again. The work must therefore be safe to
//! repeat (the jobs using slots write under unique keys).

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use uuid::Uuid;

use crate::db::lease_now;
use crate::error::{OrInternal, ServiceResult};

/// How long a claim holds before another worker may take the slot.
pub const LEASE_MS: i64 = 15 * 60 * 1000;

/// Claims slot number `slot` of `job` for `worker` at `now`: `false` when
/// the slot is done, or another worker's lease on it still runs.
pub async fn claim(
    db: &impl ConnectionTrait,
    job: &str,
    slot: i64,
    worker: Uuid,
    now: i64,
) -> ServiceResult<bool> {
    let existing = |column: &str| Expr::col((Alias::new("job_slots"), Alias::new(column)));
    // The lease is timed by the database's clock on PostgreSQL.
    let lease_now = || lease_now(db.get_database_backend(), now);
    let mut claim = Query::insert();
    claim
        .into_table(Alias::new("job_slots"))
        .columns(["job", "slot", "claimed_by", "claimed_at"].map(Alias::new))
        .values([job.into(), slot.into(), worker.into(), lease_now()])
        .or_internal("slot statement")?
        .on_conflict(
            OnConflict::columns([Alias::new("job"), Alias::new("slot")])
                .update_columns([Alias::new("claimed_by"), Alias::new("claimed_at")])
                .action_and_where(
                    existing("done_at")
                        .is_null()
                        .and(existing("claimed_at").lte(lease_now().sub(LEASE_MS))),
                )
                .to_owned(),
        );
    Ok(db.execute(&claim).await?.rows_affected() > 0)
}

/// Marks `worker`'s slot done; a worker whose lease was taken over marks
/// nothing (the new owner will).
pub async fn finish(
    db: &impl ConnectionTrait,
    job: &str,
    slot: i64,
    worker: Uuid,
    now: i64,
) -> ServiceResult<()> {
    let done = Query::update()
        .table(Alias::new("job_slots"))
        .value(Alias::new("done_at"), now)
        .and_where(Expr::col(Alias::new("job")).eq(job))
        .and_where(Expr::col(Alias::new("slot")).eq(slot))
        .and_where(Expr::col(Alias::new("claimed_by")).eq(worker))
        .take();
    db.execute(&done).await?;
    Ok(())
}
