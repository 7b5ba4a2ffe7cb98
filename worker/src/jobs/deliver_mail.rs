//! Delivers due emails from the mail outbox: claim under a lease, send by
//! SMTP or write as an `.eml` file, finish with fencing (which clears the
//! body once the email is delivered or dead). At least once: a worker that
//! dies mid-send leaves its claim to expire and the email goes again, with
//! the same Message-ID (and, as a file, the same file name).

use dorsal_service::mail;
use dorsal_service::outbox::Attempt;
use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;
use crate::mail::Mailer;
use crate::outbox::{LEASE_MS, MAIL_BATCH, jitter};

/// One round: claims up to [`MAIL_BATCH`] due emails and sends them all at once
/// ([`super::send_all`]). Returns how many were claimed.
#[tracing::instrument(name = "deliver_mail", skip_all)]
pub async fn run(ctx: &JobCtx, mailer: &Mailer, now: Timestamp) -> Result<usize, JobError> {
    let (round, started) = (now, std::time::Instant::now());
    let claimed = mail::claim(
        &ctx.db,
        ctx.worker_id,
        now.as_millisecond(),
        LEASE_MS,
        MAIL_BATCH,
    )
    .await?;
    super::send_all(&claimed, |item| {
        send(ctx, mailer, item, super::since(round, started))
    })
    .await
}

/// Sends one claimed email at `now` (when it is still ours) and records
/// the attempt.
async fn send(
    ctx: &JobCtx,
    mailer: &Mailer,
    item: &mail::Claimed,
    now: Timestamp,
) -> Result<(), JobError> {
    let (round, started) = (now, std::time::Instant::now());
    if !super::keep_claim::<mail::Outbox>(ctx, item.id, item.attempt, now).await? {
        return Ok(());
    }
    let attempt = match mail::open(&ctx.data_keys, item) {
        Ok(open) => mailer.send(item.id, &open, now).await,
        Err(err) => {
            tracing::warn!(mail_id = %item.id, error = %err, "an email does not decrypt; not sent");
            Attempt::Failed {
                status: None,
                error: format!("cannot decrypt the email: {err}"),
                retry_after: None,
            }
        }
    };
    let outcome = match &attempt {
        Attempt::Delivered { .. } => "delivered",
        Attempt::Failed { .. } => "failed",
        Attempt::Gone | Attempt::NoEndpoint | Attempt::Expired => "dead",
    };
    match &attempt {
        Attempt::Failed { error, .. } => {
            tracing::warn!(mail_id = %item.id, attempt = item.attempt, outcome, error = %error, "email attempt");
        }
        _ => tracing::info!(mail_id = %item.id, attempt = item.attempt, outcome, "email attempt"),
    }
    metrics::counter!("dorsal_delivery_attempts_total", "outbox" => "mail", "outcome" => outcome)
        .increment(1);
    let done = super::since(round, started).as_millisecond();
    mail::finish(&ctx.db, item, ctx.worker_id, &attempt, done, jitter()).await?;
    Ok(())
}
