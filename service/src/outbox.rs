//! What the webhook, push and mail outboxes share: claiming due messages under a
//! lease, and recording an attempt with fencing.
//!
//! A claim sets `claimed_by`, `lease_until` and `attempt += 1` in one
//! statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers
//! skip each other's rows; on SQLite the statement is atomic). A message
//! whose lease ran out (its worker died) is due again. Recording an attempt
//! only succeeds for the worker and attempt that hold the claim.

use dorsal_domain::webhooks::next_attempt;
use dorsal_entity::outbox::Status;
use dorsal_entity::{delivery, mail_outbox, push_delivery};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query, UpdateStatement};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use crate::db::lease_now;
use crate::error::ServiceResult;

/// How an attempt ended.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// 2xx.
    Delivered {
        /// Status code.
        status: u16,
    },
    /// The receiver wants no more: a webhook answered 410 (the endpoint is
    /// disabled), a push service said the device token is gone (the device
    /// is deactivated).
    Gone,
    /// Anything else; retried on the schedule, dead after the last step.
    Failed {
        /// Status code, if a response came.
        status: Option<u16>,
        /// What went wrong (no payload contents).
        error: String,
        /// The receiver's `Retry-After`, seconds.
        retry_after: Option<i64>,
    },
    /// There is nowhere to send it (endpoint deleted, channel not
    /// configured): nothing is sent.
    NoEndpoint,
    /// Too late to be worth sending (a reminder retried into the night).
    Expired,
}

/// An outbox table: the webhook messages (`deliveries`), the device pushes
/// (`push_deliveries`) and the emails (`mail_outbox`) are claimed, renewed
/// and finished alike, through the columns they share.
pub trait Outbox: EntityTrait + Default {
    /// Message id.
    const ID: Self::Column;
    /// Where the message stands ([`Status`]).
    const STATUS: Self::Column;
    /// Attempts so far; the claim's fencing token.
    const ATTEMPT: Self::Column;
    /// When it is due.
    const NEXT_ATTEMPT_AT: Self::Column;
    /// The worker holding the claim.
    const CLAIMED_BY: Self::Column;
    /// When the claim runs out.
    const LEASE_UNTIL: Self::Column;
    /// The receiver's last status code.
    const LAST_STATUS: Self::Column;
    /// What went wrong last.
    const LAST_ERROR: Self::Column;
    /// When it was delivered.
    const DELIVERED_AT: Self::Column;

    /// The table's name, for the logs.
    fn table() -> &'static str {
        Self::default().table_name()
    }
}

/// The columns of an outbox entity, each named once.
macro_rules! outbox {
    ($($entity:ident),+) => {$(
        impl Outbox for $entity::Entity {
            const ID: Self::Column = $entity::Column::Id;
            const STATUS: Self::Column = $entity::Column::Status;
            const ATTEMPT: Self::Column = $entity::Column::Attempt;
            const NEXT_ATTEMPT_AT: Self::Column = $entity::Column::NextAttemptAt;
            const CLAIMED_BY: Self::Column = $entity::Column::ClaimedBy;
            const LEASE_UNTIL: Self::Column = $entity::Column::LeaseUntil;
            const LAST_STATUS: Self::Column = $entity::Column::LastStatus;
            const LAST_ERROR: Self::Column = $entity::Column::LastError;
            const DELIVERED_AT: Self::Column = $entity::Column::DeliveredAt;
        }
    )+};
}

outbox!(delivery, push_delivery, mail_outbox);

/// The statement claiming up to `limit` due messages of outbox `O` for
/// `worker` at `now`, each for `lease_ms`, returning them. One statement
/// for both backends: the lock clause (`FOR UPDATE SKIP LOCKED`, so
/// concurrent PostgreSQL workers skip each other's rows) is left out on
/// SQLite, where the statement is atomic anyway. Leases are timed by
/// [`lease_now`]: the database's clock on PostgreSQL.
pub fn claim_statement<O: Outbox>(
    backend: DbBackend,
    worker: Uuid,
    now: i64,
    lease_ms: i64,
    limit: u64,
) -> UpdateStatement {
    let lease_now = || lease_now(backend, now);
    let due = Query::select()
        .column(O::ID)
        .from(O::default())
        .and_where(Expr::col(O::STATUS).eq(Status::Pending))
        .and_where(Expr::col(O::NEXT_ATTEMPT_AT).lte(now))
        .and_where(
            Expr::col(O::LEASE_UNTIL)
                .is_null()
                .or(Expr::col(O::LEASE_UNTIL).lt(lease_now())),
        )
        .order_by(O::NEXT_ATTEMPT_AT, Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .take();
    Query::update()
        .table(O::default())
        .value(O::CLAIMED_BY, worker)
        .value(O::LEASE_UNTIL, lease_now().add(lease_ms))
        .value(O::ATTEMPT, Expr::col(O::ATTEMPT).add(1))
        .and_where(Expr::col(O::ID).in_subquery(due))
        .returning_all()
        .take()
}

/// Claims up to `limit` due messages of outbox `O` for `worker` until
/// `now + lease_ms` ([`claim_statement`]); each comes back with its
/// `attempt` raised to this attempt's number.
pub async fn claim<O: Outbox>(
    db: &impl ConnectionTrait,
    worker: Uuid,
    now: i64,
    lease_ms: i64,
    limit: u64,
) -> ServiceResult<Vec<O::Model>> {
    let backend = db.get_database_backend();
    let statement = backend.build(&claim_statement::<O>(backend, worker, now, lease_ms, limit));
    Ok(O::find().from_raw_sql(statement).all(db).await?)
}

/// Records how attempt number `attempt_no` of message `id` of outbox `O`
/// ended. Fenced: if another worker took the message over (this one's
/// lease ran out), nothing is written and `false` is returned.
pub async fn finish<O: Outbox>(
    db: &impl ConnectionTrait,
    id: Uuid,
    worker: Uuid,
    attempt_no: i64,
    attempt: &Attempt,
    now: i64,
    jitter: f64,
) -> ServiceResult<bool> {
    let mut update = Query::update();
    update
        .table(O::default())
        .value(O::CLAIMED_BY, Option::<Uuid>::None)
        .value(O::LEASE_UNTIL, Option::<i64>::None)
        .and_where(Expr::col(O::ID).eq(id))
        .and_where(Expr::col(O::CLAIMED_BY).eq(worker))
        .and_where(Expr::col(O::ATTEMPT).eq(attempt_no));
    match attempt {
        Attempt::Delivered { status } => {
            update
                .value(O::STATUS, Status::Delivered)
                .value(O::DELIVERED_AT, now)
                .value(O::LAST_STATUS, i64::from(*status));
        }
        Attempt::Gone | Attempt::NoEndpoint | Attempt::Expired => {
            update.value(O::STATUS, Status::Dead).value(
                O::LAST_ERROR,
                match attempt {
                    Attempt::Gone => "gone: the receiver no longer accepts messages",
                    Attempt::Expired => "expired before it could be sent",
                    _ => "nowhere to send: endpoint deleted or channel not configured",
                },
            );
        }
        Attempt::Failed {
            status,
            error,
            retry_after,
        } => {
            let n = u32::try_from(attempt_no).unwrap_or(u32::MAX);
            update
                .value(O::LAST_STATUS, status.map(i64::from))
                .value(O::LAST_ERROR, error.clone());
            match next_attempt(n, now, *retry_after, jitter) {
                Some(at) => update.value(O::NEXT_ATTEMPT_AT, at),
                None => update.value(O::STATUS, Status::Dead),
            };
        }
    }
    let done = db.execute(&update).await?;
    if done.rows_affected() == 0 {
        let table = O::table();
        tracing::warn!(table, delivery_id = %id, "lease lost; another worker owns this message");
        return Ok(false);
    }
    Ok(true)
}

/// Messages waiting (pending, due or not) in each outbox: `("webhook", n)`,
/// `("push", n)` and `("mail", n)`.
pub async fn backlog(db: &impl ConnectionTrait) -> ServiceResult<Vec<(&'static str, i64)>> {
    Ok(vec![
        ("webhook", pending::<delivery::Entity>(db).await?),
        ("push", pending::<push_delivery::Entity>(db).await?),
        ("mail", pending::<mail_outbox::Entity>(db).await?),
    ])
}

/// Messages waiting in outbox `O`.
async fn pending<O: Outbox>(db: &impl ConnectionTrait) -> ServiceResult<i64>
where
    O::Model: Sync,
{
    let n = O::find()
        .filter(Expr::col(O::STATUS).eq(Status::Pending))
        .count(db)
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Extends this worker's claim on message `id` by `lease_ms` from now
/// ([`lease_now`]) just before a send, so a batch sent one by one never
/// outlives its lease. `false`: the claim was lost (its lease ran out and
/// another worker took the message), and this worker must not send it.
pub async fn renew<O: Outbox>(
    db: &impl ConnectionTrait,
    id: Uuid,
    worker: Uuid,
    attempt_no: i64,
    now: i64,
    lease_ms: i64,
) -> ServiceResult<bool> {
    let until = lease_now(db.get_database_backend(), now).add(lease_ms);
    let update = Query::update()
        .table(O::default())
        .value(O::LEASE_UNTIL, until)
        .and_where(Expr::col(O::ID).eq(id))
        .and_where(Expr::col(O::CLAIMED_BY).eq(worker))
        .and_where(Expr::col(O::ATTEMPT).eq(attempt_no))
        .to_owned();
    Ok(db.execute(&update).await?.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_statement_locks_on_postgresql_and_leaves_the_lock_out_on_sqlite() {
        let worker = Uuid::nil();
        let sql = |backend: DbBackend| {
            backend
                .build(&claim_statement::<delivery::Entity>(
                    backend, worker, 1_000, 30_000, 50,
                ))
                .to_string()
        };
        let postgres = sql(DbBackend::Postgres);
        assert!(postgres.contains("FOR UPDATE SKIP LOCKED"), "{postgres}");
        assert!(postgres.contains("EXTRACT(EPOCH FROM now())"), "{postgres}");
        assert!(postgres.ends_with("RETURNING *"), "{postgres}");
        let sqlite = sql(DbBackend::Sqlite);
        assert!(!sqlite.contains("FOR UPDATE"), "{sqlite}");
        assert!(!sqlite.contains("now()"), "{sqlite}");
        assert!(sqlite.ends_with("RETURNING *"), "{sqlite}");
    }
}
