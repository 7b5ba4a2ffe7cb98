//! Periodic work done once across worker replicas: whoever inserts the
//! (job, slot) row first does the slot's work; everyone else skips it.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, OnConflict, Query};
use uuid::Uuid;

use crate::error::{ServiceError, ServiceResult};

/// Claims slot number `slot` of `job` for `worker`; `false` when another
/// worker already has it.
pub async fn claim(
    db: &impl ConnectionTrait,
    job: &str,
    slot: i64,
    worker: Uuid,
    now: i64,
) -> ServiceResult<bool> {
    let mut claim = Query::insert();
    claim
        .into_table(Alias::new("job_slots"))
        .columns(["job", "slot", "claimed_by", "claimed_at"].map(Alias::new))
        .values([job.into(), slot.into(), worker.into(), now.into()])
        .map_err(|err| ServiceError::Internal(format!("slot statement: {err}")))?
        .on_conflict(
            OnConflict::columns([Alias::new("job"), Alias::new("slot")])
                .do_nothing()
                .to_owned(),
        );
    Ok(db.execute(&claim).await?.rows_affected() > 0)
}
