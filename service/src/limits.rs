//! Rate limits kept in the database, so every API process counts against
//! the same allowance: a limit per process would let N processes take N
//! times as many guesses.
//!
//! Each limit is the generic cell rate algorithm (GCRA): a burst of
//! `count`, then one more every `period / count`. One row per limited key
//! holds the instant the allowance is used up to (the "theoretical arrival
//! time"); taking a cell is one conditional upsert, so two processes
//! racing for the last cell cannot both get it. Keys are digests: the
//! table never holds an address or an email. On PostgreSQL the database's
//! clock times every process alike (as leases do); on SQLite, one process,
//! the app's clock.

use dorsal_entity::rate_limit;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::db::lease_now;
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::secret::digest;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// One kind of limit: `count` attempts per `period_ms`, under a name that
/// keeps its keys apart from every other limit's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    name: &'static str,
    count: u32,
    period_ms: i64,
}

impl Limit {
    /// `count` per minute (at least one).
    pub fn per_minute(name: &'static str, count: u32) -> Limit {
        Limit {
            name,
            count: Ord::max(count, 1),
            period_ms: MINUTE_MS,
        }
    }

    /// `count` per hour (at least one).
    pub fn per_hour(name: &'static str, count: u32) -> Limit {
        Limit {
            name,
            count: Ord::max(count, 1),
            period_ms: HOUR_MS,
        }
    }

    /// Time one cell takes to come back, in milliseconds.
    fn interval_ms(&self) -> i64 {
        Ord::max(self.period_ms / i64::from(self.count), 1)
    }

    /// The stored key for `subject` under this limit.
    fn key(&self, subject: &str) -> String {
        digest(&format!("dorsal-limit:{}:{subject}", self.name))
    }

    /// Takes one cell for `subject`, or `RateLimited` with how long until
    /// one comes back. `now_ms` is the caller's clock (used on SQLite).
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        subject: &str,
        now_ms: i64,
    ) -> ServiceResult<()> {
        let now = lease_now(db.get_database_backend(), now_ms);
        let key = self.key(subject);
        let tat = Expr::col((rate_limit::Entity, rate_limit::Column::Tat));
        // The allowance starts at the later of the stored instant and now.
        let from = Expr::case(tat.clone().gt(now.clone()), tat).finally(now.clone());
        let next = from.add(self.interval_ms());
        let take = Query::insert()
            .into_table(rate_limit::Entity)
            .columns([rate_limit::Column::Key, rate_limit::Column::Tat])
            .values([Expr::val(key.clone()), now.clone().add(self.interval_ms())])
            .or_internal("rate limit statement")?
            .on_conflict(
                OnConflict::column(rate_limit::Column::Key)
                    .value(rate_limit::Column::Tat, next.clone())
                    .action_and_where(next.sub(now.clone()).lte(self.period_ms))
                    .to_owned(),
            )
            .returning_col(rate_limit::Column::Tat)
            .to_owned();
        if db.query_one(&take).await?.is_some() {
            return Ok(());
        }
        // Refused: one cell is back once the stored instant is within a
        // period (less one interval) of now.
        let ahead: Option<i64> = rate_limit::Entity::find_by_id(key)
            .select_only()
            .column_as(Expr::col(rate_limit::Column::Tat).sub(now), "ahead")
            .into_tuple()
            .one(db)
            .await?;
        let wait_ms = ahead
            .unwrap_or(0)
            .saturating_add(self.interval_ms())
            .saturating_sub(self.period_ms);
        Err(ServiceError::RateLimited {
            retry_after_secs: u64::try_from(wait_ms.div_euclid(1000) + 1).unwrap_or(1),
        })
    }
}

/// The slot job that forgets spent limits.
const JOB: &str = "forget_rate_limits";
const SLOT_MS: i64 = HOUR_MS;

/// Deletes the rows whose allowance is whole again (a row at or before now
/// is the same as no row), once an hour across all workers; the number
/// deleted, or `None` when another worker has the hour's slot.
pub async fn forget_spent(
    db: &DatabaseConnection,
    worker: Uuid,
    now_ms: i64,
) -> ServiceResult<Option<u64>> {
    let slot = now_ms / SLOT_MS;
    if !crate::slots::claim(db, JOB, slot, worker, now_ms).await? {
        return Ok(None);
    }
    let now = lease_now(db.get_database_backend(), now_ms);
    let deleted = rate_limit::Entity::delete_many()
        .filter(Expr::col(rate_limit::Column::Tat).lte(now))
        .exec(db)
        .await?
        .rows_affected;
    crate::slots::finish(db, JOB, slot, worker, now_ms).await?;
    Ok(Some(deleted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_comes_back_every_period_over_count() {
        assert_eq!(Limit::per_minute("login", 60).interval_ms(), 1_000);
        assert_eq!(Limit::per_hour("register", 20).interval_ms(), 180_000);
        assert_eq!(Limit::per_hour("reset", 0).interval_ms(), HOUR_MS);
    }

    #[test]
    fn keys_are_digests_apart_per_limit() {
        let a = Limit::per_minute("a", 1).key("127.0.0.1");
        let b = Limit::per_minute("b", 1).key("127.0.0.1");
        assert_ne!(a, b);
        assert!(!a.contains("127"));
    }
}
