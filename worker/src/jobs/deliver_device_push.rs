//! Delivers due device pushes: claim under a lease, send through the device's
//! provider, finish with fencing. A token the provider says is gone
//! deactivates the device.

use dorsal_service::device_push;
use dorsal_service::outbox::Attempt;
use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;
use crate::device_push::{DevicePushMessage, GatewayTarget, Providers};
use crate::outbox::{BATCH, LEASE_MS, jitter};

/// One round: claims up to [`BATCH`] due device pushes and sends them all at
/// once (a provider that hangs costs the round one timeout). Returns how
/// many were claimed.
#[tracing::instrument(name = "deliver_device_push", skip_all)]
pub async fn run(ctx: &JobCtx, providers: &Providers, now: Timestamp) -> Result<usize, JobError> {
    let (round, started) = (now, std::time::Instant::now());
    let claimed = device_push::claim(
        &ctx.db,
        ctx.worker_id,
        now.as_millisecond(),
        LEASE_MS,
        BATCH,
    )
    .await?;
    super::send_all(&claimed, |item| {
        send(ctx, providers, item, super::since(round, started))
    })
    .await
}

/// Sends one claimed push at `now` (when it is still ours) and records the
/// attempt.
async fn send(
    ctx: &JobCtx,
    providers: &Providers,
    item: &device_push::ClaimedDevicePush,
    now: Timestamp,
) -> Result<(), JobError> {
    let (round, started) = (now, std::time::Instant::now());
    let delivery = &item.delivery;
    if !super::keep_claim::<device_push::Outbox>(ctx, delivery.id, delivery.attempt, now).await? {
        return Ok(());
    }
    let provider = item
        .device
        .as_ref()
        .and_then(|d| providers.for_device(d).map(|p| (d, p)));
    let expired = delivery
        .expires_at
        .is_some_and(|until| now.as_millisecond() > until);
    let attempt = match provider {
        _ if expired => Attempt::Expired,
        None => Attempt::NoEndpoint,
        Some((device, provider)) => match gateway(ctx, item) {
            Err(attempt) => attempt,
            Ok(gateway) => match DevicePushMessage::new(delivery.id, &delivery.language) {
                Some(message) => provider.send(device, gateway.as_ref(), &message, now).await,
                None => Attempt::Failed {
                    status: None,
                    error: "the push's words are missing from the catalogs".to_owned(),
                    retry_after: None,
                },
            },
        },
    };
    let outcome = match &attempt {
        Attempt::Delivered { .. } => "delivered",
        Attempt::Gone => "token gone",
        Attempt::Failed { .. } => "failed",
        Attempt::NoEndpoint => "no channel",
        Attempt::Expired => "expired",
    };
    tracing::info!(delivery_id = %delivery.id, device_id = %delivery.device_id, attempt = delivery.attempt, outcome, "push attempt");
    metrics::counter!("dorsal_delivery_attempts_total", "outbox" => "push", "outcome" => outcome)
        .increment(1);
    let done = super::since(round, started).as_millisecond();
    device_push::finish(&ctx.db, delivery, ctx.worker_id, attempt, done, jitter()).await?;
    Ok(())
}

/// The claimed push's gateway with its secret decrypted for signing, or the
/// failed attempt when the secret does not decrypt.
fn gateway(
    ctx: &JobCtx,
    item: &device_push::ClaimedDevicePush,
) -> Result<Option<GatewayTarget>, Attempt> {
    let Some(gateway) = &item.gateway else {
        return Ok(None);
    };
    match device_push::signing_secret(&ctx.data_keys, gateway) {
        Ok(secret) => Ok(Some(GatewayTarget {
            url: gateway.url.clone(),
            secret,
        })),
        Err(err) => {
            tracing::warn!(delivery_id = %item.delivery.id, org_id = %gateway.org_id, error = %err,
                "the push gateway's signing secret does not decrypt; not sent");
            Err(super::undecryptable("the push gateway's", &err))
        }
    }
}
