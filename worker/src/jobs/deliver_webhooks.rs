//! Delivers due webhook messages: claim under a lease, send, finish with
//! fencing. At least once: a worker that dies mid-send leaves its claim to
//! expire, and the message goes again with the same `webhook-id`.

use dorsal_service::webhooks::{self, Attempt};
use jiff::Timestamp;
use secrecy::ExposeSecret;

use super::JobError;
use crate::JobCtx;
use crate::delivery::HttpSender;
use crate::outbox::{BATCH, LEASE_MS, jitter};

/// One round: claims up to [`BATCH`] due messages and sends them all at
/// once ([`super::send_all`]). Returns how many were claimed.
#[tracing::instrument(name = "deliver_webhooks", skip_all)]
pub async fn run(ctx: &JobCtx, sender: &HttpSender, now: Timestamp) -> Result<usize, JobError> {
    let (round, started) = (now, std::time::Instant::now());
    let claimed = webhooks::claim(
        &ctx.db,
        ctx.worker_id,
        now.as_millisecond(),
        LEASE_MS,
        BATCH,
    )
    .await?;
    super::send_all(&claimed, |item| {
        send(ctx, sender, item, super::since(round, started))
    })
    .await
}

/// Sends one claimed message at `now` (when it is still ours) and records
/// the attempt.
async fn send(
    ctx: &JobCtx,
    sender: &HttpSender,
    item: &webhooks::Claimed,
    now: Timestamp,
) -> Result<(), JobError> {
    let (round, started) = (now, std::time::Instant::now());
    let delivery = &item.delivery;
    if !super::keep_claim::<webhooks::Outbox>(ctx, delivery.id, delivery.attempt, now).await? {
        return Ok(());
    }
    let attempt = match &item.endpoint {
        None => Attempt::NoEndpoint,
        Some(endpoint) => match webhooks::signing_secret(&ctx.data_keys, endpoint) {
            Ok(secret) => {
                sender
                    .send(
                        &endpoint.url,
                        secret.expose_secret(),
                        &delivery.msg_id,
                        &delivery.payload,
                        now.as_second(),
                    )
                    .await
            }
            Err(err) => {
                tracing::warn!(delivery_id = %delivery.id, webhook_id = %endpoint.id, error = %err,
                    "the webhook's signing secret does not decrypt; not sent");
                super::undecryptable("the webhook's", &err)
            }
        },
    };
    let outcome = match &attempt {
        Attempt::Delivered { .. } => "delivered",
        Attempt::Gone => "gone",
        Attempt::Failed { .. } => "failed",
        Attempt::NoEndpoint => "no endpoint",
        Attempt::Expired => "expired",
    };
    tracing::info!(delivery_id = %delivery.id, alert_id = %delivery.alert_id, attempt = delivery.attempt, outcome, "webhook attempt");
    metrics::counter!("dorsal_delivery_attempts_total", "outbox" => "webhook", "outcome" => outcome)
        .increment(1);
    if matches!(attempt, Attempt::Delivered { .. }) {
        // The message was written with its alert: this is the alert's
        // time from being raised to reaching the clinic's endpoint.
        let seconds = (now.as_millisecond() - delivery.created_at).max(0) as f64 / 1000.0;
        metrics::histogram!("dorsal_alert_delivery_seconds").record(seconds);
    }
    let done = super::since(round, started).as_millisecond();
    webhooks::finish(&ctx.db, delivery, ctx.worker_id, attempt, done, jitter()).await?;
    Ok(())
}
