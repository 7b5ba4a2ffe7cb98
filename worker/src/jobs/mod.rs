//! The jobs a tick runs. Each is a plain `async fn run(&JobCtx, now)`.

pub mod deliver_device_push;
pub mod deliver_mail;
pub mod deliver_webhooks;
pub mod escalate_alerts;
pub mod evaluate_time_rules;
pub mod expire_receipts;
pub mod fetch_images;
pub mod fire_reminders;
pub mod forget_limits;
pub mod send_prompts;

use std::time::Instant;

use dorsal_service::outbox::{Attempt, Outbox};
use dorsal_service::sealed::SealError;
use jiff::{SignedDuration, Timestamp};

use crate::JobCtx;

/// Why a job run failed; the tick logs it and carries on.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The application layer failed.
    #[error(transparent)]
    Service(#[from] dorsal_service::ServiceError),
    /// Sends of a round failed; each was logged as it failed.
    #[error("{failed} of {of} sends failed")]
    Sends {
        /// How many failed.
        failed: usize,
        /// How many the round sent.
        of: usize,
    },
}

/// One tick: every periodic job, in order. (Webhook, device-push and mail delivery have
/// their own loop, woken by writers, so they never wait for a tick.) One job
/// failing (say, the database blinking) does not stop the rest; each failure
/// is logged under its job's name. Returns how many jobs failed.
pub async fn tick(ctx: &JobCtx, now: Timestamp) -> usize {
    let outcomes = [
        (
            "escalate_alerts",
            escalate_alerts::run(ctx, now).await.map(drop),
        ),
        (
            "fire_reminders",
            fire_reminders::run(ctx, now).await.map(drop),
        ),
        (
            "evaluate_time_rules",
            evaluate_time_rules::run(ctx, now).await.map(drop),
        ),
        ("send_prompts", send_prompts::run(ctx, now).await.map(drop)),
        (
            "expire_receipts",
            expire_receipts::run(ctx, now).await.map(drop),
        ),
        (
            "forget_limits",
            forget_limits::run(ctx, now).await.map(drop),
        ),
    ];
    let mut failed = 0;
    for (job, outcome) in outcomes {
        if let Err(err) = outcome {
            tracing::error!(job, error = %err, "job failed");
            failed += 1;
        }
    }
    failed
}

/// `now` moved on by the time elapsed since `started`: a round's clock for
/// each send in it, so each attempt is timed and signed when it happens,
/// while a test's injected `now` still governs.
pub fn since(now: Timestamp, started: Instant) -> Timestamp {
    SignedDuration::try_from(started.elapsed())
        .ok()
        .and_then(|elapsed| now.checked_add(elapsed).ok())
        .unwrap_or(now)
}

/// The attempt of a message whose signing secret (`whose`: "the webhook's")
/// does not decrypt: nothing is sent, and it is retried on the schedule, so
/// restoring the missing key in the configuration lets a later attempt go.
pub fn undecryptable(whose: &str, err: &SealError) -> Attempt {
    Attempt::Failed {
        status: None,
        error: format!("cannot decrypt {whose} signing secret: {err}"),
        retry_after: None,
    }
}

/// Sends every claimed item of a round at once, so a receiver that hangs
/// costs the round one timeout rather than one per message. Each send that
/// fails is logged on its own, in the round's span; the round then fails
/// with how many did. Returns how many were claimed.
pub async fn send_all<'a, T, F, Fut>(claimed: &'a [T], send: F) -> Result<usize, JobError>
where
    F: FnMut(&'a T) -> Fut,
    Fut: Future<Output = Result<(), JobError>>,
{
    let outcomes = futures_util::future::join_all(claimed.iter().map(send)).await;
    let mut failed = 0;
    for err in outcomes.into_iter().filter_map(Result::err) {
        tracing::error!(error = %err, "send failed");
        failed += 1;
    }
    if failed > 0 {
        return Err(JobError::Sends {
            failed,
            of: claimed.len(),
        });
    }
    Ok(claimed.len())
}

/// Just before sending message `id` of outbox `O`: renews this worker's
/// fenced claim so a batch sent one by one never outlives its lease.
/// `false` when the claim was lost meanwhile (another worker owns the
/// message now): it must not be sent.
pub async fn keep_claim<O: Outbox>(
    ctx: &JobCtx,
    id: uuid::Uuid,
    attempt: i64,
    now: Timestamp,
) -> Result<bool, JobError> {
    let renewed = dorsal_service::outbox::renew::<O>(
        &ctx.db,
        id,
        ctx.worker_id,
        attempt,
        now.as_millisecond(),
        crate::outbox::LEASE_MS,
    )
    .await?;
    if !renewed {
        let table = O::table();
        tracing::warn!(table, delivery_id = %id, "lease lost before sending; skipped");
    }
    Ok(renewed)
}
