//! Webhook endpoints of an org (admins only) and the delivery outbox:
//! messages written in the same transaction as the alert that causes them,
//! claimed by workers under a lease, finished with fencing.

use dorsal_domain::Violations;
use dorsal_domain::red_flags::Severity;
use dorsal_domain::role::Capability;
use dorsal_domain::webhooks::{LEAST_SENT, check_target, format_secret, is_sent};
use dorsal_entity::{alert, care_team, delivery, outbox, webhook};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, LoaderTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use secrecy::SecretString;
use uuid::Uuid;

use crate::access::Actor;
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::sealed::{DataKeys, Row, SealError};
use crate::secret::{new_id, random_bytes};
use crate::severity::{ranked, stored};

/// A webhook endpoint as stored, its secret sealed (see [`crate::sealed`]);
/// the secret is shown only when made or rotated.
pub use dorsal_entity::webhook::Model as Endpoint;

fn new_secret() -> ServiceResult<SecretString> {
    Ok(format_secret(&random_bytes::<24>()?).into())
}

/// The endpoint's signing secret, decrypted to sign a message.
pub fn signing_secret(keys: &DataKeys, endpoint: &Endpoint) -> Result<SecretString, SealError> {
    keys.open(Row::of(webhook::Entity, endpoint.id), &endpoint.secret)
}

/// An admin registers an endpoint for the org's alert events; returns it
/// with its secret in plain text, to be shown this once.
pub async fn create(
    db: &DatabaseConnection,
    keys: &DataKeys,
    actor: Actor,
    url: &str,
    min_severity: Option<&str>,
    allow_private: bool,
    now: i64,
) -> ServiceResult<(Endpoint, SecretString)> {
    let org_id = actor.staff_org(Capability::Administer)?;
    let mut violations = Violations::new();
    let url = violations.check("/url", check_target(url, allow_private));
    let severity = min_severity.map_or(Some(LEAST_SENT), Severity::parse);
    if !severity.is_some_and(is_sent) {
        violations.add(
            "/min_severity",
            "must be urgent or emergency (routine alerts stay in the inbox)",
        );
    }
    violations.into_result()?;
    let url = url.or_internal("validated url missing")?;
    let severity = severity.or_internal("validated severity missing")?;
    let (id, secret) = (new_id(), new_secret()?);
    let made = webhook::ActiveModel {
        id: Set(id),
        org_id: Set(org_id),
        url: Set(url.to_string()),
        secret: Set(keys.seal(Row::of(webhook::Entity, id), &secret)?),
        min_severity: Set(stored(severity)),
        created_at: Set(now),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        deleted_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((made, secret))
}

/// The org's endpoints.
pub async fn list(db: &DatabaseConnection, actor: Actor) -> ServiceResult<Vec<webhook::Model>> {
    let org_id = actor.staff_org(Capability::Administer)?;
    Ok(webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(org_id))
        .filter(webhook::Column::DeletedAt.is_null())
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?)
}

async fn own(db: &DatabaseConnection, actor: Actor, id: Uuid) -> ServiceResult<webhook::Model> {
    let org_id = actor.staff_org(Capability::Administer)?;
    webhook::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|w| w.org_id == org_id && w.deleted_at.is_none())
        .ok_or(ServiceError::NotFound("webhook"))
}

/// Removes an endpoint; its pending messages are not sent.
pub async fn delete(
    db: &DatabaseConnection,
    actor: Actor,
    id: Uuid,
    now: i64,
) -> ServiceResult<()> {
    let found = own(db, actor, id).await?;
    let mut model: webhook::ActiveModel = found.into();
    model.deleted_at = Set(Some(now));
    model.update(db).await?;
    Ok(())
}

/// A new secret for an endpoint (and re-enables one disabled by a 410);
/// returns it with the new secret in plain text, to be shown this once.
pub async fn rotate(
    db: &DatabaseConnection,
    keys: &DataKeys,
    actor: Actor,
    id: Uuid,
) -> ServiceResult<(Endpoint, SecretString)> {
    let found = own(db, actor, id).await?;
    let secret = new_secret()?;
    let mut model: webhook::ActiveModel = found.into();
    model.secret = Set(keys.seal(Row::of(webhook::Entity, id), &secret)?);
    model.disabled_at = Set(None);
    model.disabled_reason = Set(None);
    Ok((model.update(db).await?, secret))
}

/// How many of an endpoint's latest deliveries [`recent_deliveries`]
/// returns.
pub const RECENT_DELIVERIES: u64 = 20;

/// One delivery of an endpoint as its admin sees it: its outcome, never
/// its payload.
#[derive(Debug, Clone)]
pub struct DeliverySummary {
    /// Delivery id.
    pub id: Uuid,
    /// The alert it is about.
    pub alert_id: Uuid,
    /// `alert.created`, `alert.acknowledged`, ...
    pub event: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    /// What went wrong last (an error code or short reason, no payload).
    pub last_error: Option<String>,
    /// When it was written, ms since the epoch.
    pub created_at: i64,
    /// When it was delivered, if it was.
    pub delivered_at: Option<i64>,
}

/// The latest [`RECENT_DELIVERIES`] deliveries of one of the admin's org's
/// endpoints, newest first. Another org's endpoint is `NotFound`.
pub async fn recent_deliveries(
    db: &DatabaseConnection,
    actor: Actor,
    id: Uuid,
) -> ServiceResult<Vec<DeliverySummary>> {
    let endpoint = own(db, actor, id).await?;
    let rows = delivery::Entity::find()
        .filter(delivery::Column::WebhookId.eq(endpoint.id))
        .order_by_desc(delivery::Column::CreatedAt)
        .order_by_desc(delivery::Column::Id)
        .limit(RECENT_DELIVERIES)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| DeliverySummary {
            id: row.id,
            alert_id: row.alert_id,
            event: row.event,
            status: row.status.to_value(),
            attempts: row.attempt,
            last_status: row.last_status,
            last_error: row.last_error,
            created_at: row.created_at,
            delivered_at: row.delivered_at,
        })
        .collect())
}

/// The body of an alert event.
fn payload(event: &str, alert: &alert::Model, now: i64) -> String {
    let at = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    serde_json::json!({
        "type": event,
        "timestamp": at(now),
        "data": {
            "id": alert.id,
            "patient_id": alert.patient_id,
            "rule": format!("{}@{}", alert.rule, alert.rule_version),
            "severity": alert.severity.to_value(),
            "status": alert.status.to_value(),
            "level": alert.level,
            "created_at": at(alert.created_at),
        },
    })
    .to_string()
}

/// Writes one message per endpoint that wants `alert`'s severity, for every
/// org caring for the patient, in the caller's transaction. Routine alerts
/// stay in the inbox. Returns how many were written.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    alert: &alert::Model,
    event: &str,
    now: i64,
) -> ServiceResult<usize> {
    let severity = ranked(alert.severity);
    if !is_sent(severity) {
        return Ok(0);
    }
    let orgs: Vec<Uuid> = care_team::Entity::find()
        .filter(care_team::Column::PatientId.eq(alert.patient_id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.org_id)
        .collect();
    if orgs.is_empty() {
        return Ok(0);
    }
    let endpoints = webhook::Entity::find()
        .filter(webhook::Column::OrgId.is_in(orgs))
        .filter(webhook::Column::DeletedAt.is_null())
        .filter(webhook::Column::DisabledAt.is_null())
        .all(db)
        .await?;
    let body = payload(event, alert, now);
    let mut written = 0;
    for endpoint in endpoints
        .iter()
        .filter(|w| severity >= ranked(w.min_severity))
    {
        delivery::ActiveModel {
            id: Set(new_id()),
            webhook_id: Set(endpoint.id),
            patient_id: Set(alert.patient_id),
            alert_id: Set(alert.id),
            event: Set(event.to_owned()),
            msg_id: Set(format!("msg_{}", new_id().simple())),
            payload: Set(body.clone()),
            status: Set(outbox::Status::Pending),
            attempt: Set(0),
            next_attempt_at: Set(now),
            claimed_by: Set(None),
            lease_until: Set(None),
            last_status: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            delivered_at: Set(None),
        }
        .insert(db)
        .await?;
        written += 1;
    }
    if written > 0 && db.get_database_backend() == DbBackend::Postgres {
        // Delivered at commit to every worker process listening.
        db.execute_unprepared(&format!("NOTIFY {DELIVERIES_CHANNEL}"))
            .await?;
    }
    Ok(written)
}

/// The PostgreSQL channel workers LISTEN on for new messages.
pub const DELIVERIES_CHANNEL: &str = "dorsal_deliveries";

/// On PostgreSQL, wakes this process's worker whenever any process commits
/// webhook messages (`LISTEN`), until `stop` resolves. Elsewhere it returns
/// at once: the in-process wake-up and the poll cover SQLite.
pub async fn listen_for_deliveries(
    db: &DatabaseConnection,
    nudges: &crate::sync::Nudges,
    stop: impl std::future::Future<Output = ()>,
) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    let listen = async move {
        loop {
            let listener = async {
                let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(DELIVERIES_CHANNEL).await?;
                loop {
                    listener.recv().await?;
                    nudges.wake_deliveries();
                }
                #[expect(unreachable_code, reason = "the loop only ends with an error")]
                Ok::<(), sea_orm::sqlx::Error>(())
            };
            if let Err(err) = listener.await {
                tracing::warn!(error = %err, "LISTEN for deliveries failed; the 1 s poll covers it; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    };
    tokio::select! {
        () = stop => {}
        () = listen => {}
    }
}

/// The webhook outbox, for [`crate::outbox`]'s renewal.
pub type Outbox = delivery::Entity;

/// A claimed message with where it goes.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The message (its `attempt` is this attempt's number).
    pub delivery: delivery::Model,
    /// The endpoint, if it still exists and is enabled.
    pub endpoint: Option<webhook::Model>,
}

/// Claims up to `limit` due messages for `worker` until `now + lease_ms`.
/// On PostgreSQL concurrent workers skip each other's rows (`FOR UPDATE SKIP
/// LOCKED`); on SQLite the single statement is atomic. A message whose
/// lease ran out (its worker died) is due again, same `msg_id`.
pub async fn claim(
    db: &DatabaseConnection,
    worker: Uuid,
    now: i64,
    lease_ms: i64,
    limit: u64,
) -> ServiceResult<Vec<Claimed>> {
    let claimed =
        crate::outbox::claim::<delivery::Entity>(db, worker, now, lease_ms, limit).await?;
    // The endpoints in one query; a deleted or disabled one is no endpoint.
    let endpoints = claimed
        .load_one(
            webhook::Entity::find()
                .filter(webhook::Column::DeletedAt.is_null())
                .filter(webhook::Column::DisabledAt.is_null()),
            db,
        )
        .await?;
    Ok(claimed
        .into_iter()
        .zip(endpoints)
        .map(|(delivery, endpoint)| Claimed { delivery, endpoint })
        .collect())
}

pub use crate::outbox::Attempt;

/// Records how the attempt of `claimed` ended. Fenced: if another worker
/// took the message over (this one's lease ran out), nothing is written and
/// `false` is returned.
pub async fn finish(
    db: &DatabaseConnection,
    claimed: &delivery::Model,
    worker: Uuid,
    attempt: Attempt,
    now: i64,
    jitter: f64,
) -> ServiceResult<bool> {
    let recorded = crate::outbox::finish::<delivery::Entity>(
        db,
        claimed.id,
        worker,
        claimed.attempt,
        &attempt,
        now,
        jitter,
    )
    .await?;
    if !recorded {
        return Ok(false);
    }
    if matches!(attempt, Attempt::Gone) {
        webhook::Entity::update_many()
            .col_expr(webhook::Column::DisabledAt, Expr::value(now))
            .col_expr(
                webhook::Column::DisabledReason,
                Expr::value("the receiver answered 410 Gone"),
            )
            .filter(webhook::Column::Id.eq(claimed.webhook_id))
            .exec(db)
            .await?;
    }
    Ok(true)
}
