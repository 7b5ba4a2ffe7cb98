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
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::db::{POSTGRES_NOW_MS, lease_now};
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

/// The statement claiming up to `limit` due messages of outbox `table`
/// (a fixed name, never input) for `worker` at `now`, each for `lease_ms`.
/// Leases are timed by [`lease_now`]: the database's clock on PostgreSQL.
pub fn claim_statement(
    backend: DbBackend,
    table: &'static str,
    worker: Uuid,
    now: i64,
    lease_ms: i64,
    limit: u64,
) -> Statement {
    let limit = i64::try_from(limit).unwrap_or(100);
    let (sql, values): (String, Vec<Value>) = match backend {
        DbBackend::Postgres => (
            format!(
                "UPDATE {table} SET claimed_by = $1, lease_until = {db_now} + $2, \
                 attempt = attempt + 1 \
                 WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < {db_now}) ORDER BY next_attempt_at LIMIT $4 \
                 FOR UPDATE SKIP LOCKED) RETURNING *",
                db_now = POSTGRES_NOW_MS
            ),
            vec![worker.into(), lease_ms.into(), now.into(), limit.into()],
        ),
        _ => (
            format!(
                "UPDATE {table} SET claimed_by = ?, lease_until = ?, attempt = attempt + 1 \
                 WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' AND next_attempt_at <= ? \
                 AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at LIMIT ?) RETURNING *"
            ),
            vec![
                worker.into(),
                (now + lease_ms).into(),
                now.into(),
                now.into(),
                limit.into(),
            ],
        ),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Records how attempt number `attempt_no` of message `id` in `table`
/// ended. Fenced: if another worker took the message over (this one's
/// lease ran out), nothing is written and `false` is returned.
#[expect(
    clippy::too_many_arguments,
    reason = "one fenced update, every input a column"
)]
pub async fn finish(
    db: &impl ConnectionTrait,
    table: &'static str,
    id: Uuid,
    worker: Uuid,
    attempt_no: i64,
    attempt: &Attempt,
    now: i64,
    jitter: f64,
) -> ServiceResult<bool> {
    let mut update = Query::update();
    update
        .table(Alias::new(table))
        .value(Alias::new("claimed_by"), Option::<Uuid>::None)
        .value(Alias::new("lease_until"), Option::<i64>::None)
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .and_where(Expr::col(Alias::new("claimed_by")).eq(worker))
        .and_where(Expr::col(Alias::new("attempt")).eq(attempt_no));
    match attempt {
        Attempt::Delivered { status } => {
            update
                .value(Alias::new("status"), Status::Delivered)
                .value(Alias::new("delivered_at"), now)
                .value(Alias::new("last_status"), i64::from(*status));
        }
        Attempt::Gone | Attempt::NoEndpoint | Attempt::Expired => {
            update.value(Alias::new("status"), Status::Dead).value(
                Alias::new("last_error"),
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
                .value(Alias::new("last_status"), status.map(i64::from))
                .value(Alias::new("last_error"), error.clone());
            match next_attempt(n, now, *retry_after, jitter) {
                Some(at) => update.value(Alias::new("next_attempt_at"), at),
                None => update.value(Alias::new("status"), Status::Dead),
            };
        }
    }
    let done = db.execute(&update).await?;
    if done.rows_affected() == 0 {
        tracing::warn!(table, delivery_id = %id, "lease lost; another worker owns this message");
        return Ok(false);
    }
    Ok(true)
}

/// Messages waiting (pending, due or not) in each outbox: `("webhook", n)`,
/// `("push", n)` and `("mail", n)`.
pub async fn backlog(db: &impl ConnectionTrait) -> ServiceResult<Vec<(&'static str, i64)>> {
    let mut out = Vec::with_capacity(3);
    for (outbox, table) in [
        ("webhook", "deliveries"),
        ("push", "push_deliveries"),
        ("mail", crate::mail::TABLE),
    ] {
        let select = Query::select()
            .expr_as(
                Expr::col(sea_orm::sea_query::Asterisk).count(),
                Alias::new("n"),
            )
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new("status")).eq(Status::Pending))
            .take();
        if let Some(row) = db.query_one(&select).await? {
            out.push((outbox, row.try_get::<i64>("", "n")?));
        }
    }
    Ok(out)
}

/// Extends this worker's claim on message `id` by `lease_ms` from now
/// ([`lease_now`]) just before a send, so a batch sent one by one never
/// outlives its lease. `false`: the claim was lost (its lease ran out and
/// another worker took the message), and this worker must not send it.
pub async fn renew(
    db: &impl ConnectionTrait,
    table: &'static str,
    id: Uuid,
    worker: Uuid,
    attempt_no: i64,
    now: i64,
    lease_ms: i64,
) -> ServiceResult<bool> {
    let until = lease_now(db.get_database_backend(), now).add(lease_ms);
    let update = Query::update()
        .table(Alias::new(table))
        .value(Alias::new("lease_until"), until)
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .and_where(Expr::col(Alias::new("claimed_by")).eq(worker))
        .and_where(Expr::col(Alias::new("attempt")).eq(attempt_no))
        .to_owned();
    Ok(db.execute(&update).await?.rows_affected() > 0)
}
