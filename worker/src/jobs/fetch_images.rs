//! Fetches exercise images into the database, once a minute, so the clinic
//! pages can show them from dorsal's own origin. Each image URL is fetched
//! with the webhook sender's guarded client (no redirects, no proxies,
//! public addresses only), a short timeout, a 2 MiB cap read chunk by
//! chunk, and only PNG, JPEG, WebP or GIF whose bytes agree with the
//! response's `Content-Type`. A failure is recorded and tried again after
//! an hour, then later and later (at most daily). Logs name the exercise,
//! never its URL.

use std::time::Duration;

use dorsal_service::exercise_images::{self, Claimed, Fetched, MAX_BYTES};
use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;
use crate::delivery::HttpSender;

/// Images claimed per round.
pub const BATCH: u64 = 20;
/// The longest one image fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Images stored.
    pub stored: usize,
    /// Fetches that failed (recorded, retried later).
    pub failed: usize,
}

/// Claims images due for fetching, a batch at a time, and fetches each
/// batch at once, until none are due.
#[tracing::instrument(name = "fetch_images", skip_all)]
pub async fn run(ctx: &JobCtx, sender: &HttpSender, now: Timestamp) -> Result<Report, JobError> {
    let mut report = Report::default();
    loop {
        let started = std::time::Instant::now();
        let claimed =
            exercise_images::claim(&ctx.db, ctx.worker_id, now.as_millisecond(), BATCH).await?;
        let outcomes = futures_util::future::join_all(
            claimed
                .iter()
                .map(|item| fetch_one(ctx, sender, item, super::since(now, started))),
        )
        .await;
        for outcome in outcomes {
            if outcome? {
                report.stored += 1;
            } else {
                report.failed += 1;
            }
        }
        if (claimed.len() as u64) < BATCH {
            break;
        }
    }
    Ok(report)
}

/// Fetches one claimed image and records the outcome; `true` when stored.
async fn fetch_one(
    ctx: &JobCtx,
    sender: &HttpSender,
    item: &Claimed,
    now: Timestamp,
) -> Result<bool, JobError> {
    let started = std::time::Instant::now();
    let fetched = fetch(sender, &item.url).await;
    let outcome = match &fetched {
        Fetched::Image {
            content_type,
            bytes,
        } => {
            tracing::info!(exercise_id = %item.exercise_id, content_type, bytes = bytes.len(), "exercise image stored");
            "stored"
        }
        Fetched::Failed(reason) => {
            tracing::warn!(exercise_id = %item.exercise_id, attempt = item.attempts + 1, reason = %reason, "exercise image not stored");
            "failed"
        }
    };
    metrics::counter!("dorsal_exercise_image_fetches_total", "outcome" => outcome).increment(1);
    let done = super::since(now, started).as_millisecond();
    let stored = matches!(fetched, Fetched::Image { .. });
    if !exercise_images::finish(&ctx.db, item, ctx.worker_id, fetched, done).await? {
        tracing::warn!(exercise_id = %item.exercise_id, "image claim lost before recording; left to its new owner");
    }
    Ok(stored)
}

/// GETs `url` and keeps the body when it is an allowed image. The reason
/// for a refusal never repeats the URL.
pub async fn fetch(sender: &HttpSender, url: &str) -> Fetched {
    let failed = |reason: &str| Fetched::Failed(reason.to_owned());
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return failed("the URL does not parse");
    };
    // https only, as the catalog requires; plain http only where private
    // targets are allowed (tests and local setups).
    match parsed.scheme() {
        "https" => {}
        "http" if sender.allow_private() => {}
        _ => return failed("the URL is not https"),
    }
    if let Err(reason) = sender.literal_allowed(&parsed) {
        return Fetched::Failed(reason);
    }
    let response = sender
        .client()
        .get(parsed)
        .header("accept", exercise_images::ALLOWED.join(", "))
        .timeout(TIMEOUT)
        .send()
        .await;
    let mut response = match response {
        Ok(response) => response,
        Err(err) => return Fetched::Failed(crate::delivery::failure(&err)),
    };
    let status = response.status();
    if !status.is_success() {
        return Fetched::Failed(format!("HTTP {status}"));
    }
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Refused before reading when the type or the announced size is wrong.
    let declared = content_type
        .as_deref()
        .map(exercise_images::media_type)
        .unwrap_or_default();
    if !exercise_images::ALLOWED.contains(&declared.as_str()) {
        return Fetched::Failed(exercise_images::type_refused(&declared));
    }
    let too_large = || failed("the image is larger than 2 MiB");
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BYTES as u64)
    {
        return too_large();
    }
    // Never more than the cap in memory, whatever the length says.
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_BYTES {
                    return too_large();
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(err) if err.is_timeout() => return failed("timed out"),
            Err(_) => return failed("the response body broke off"),
        }
    }
    match exercise_images::check_image(content_type.as_deref(), &bytes) {
        Ok(content_type) => Fetched::Image {
            content_type,
            bytes,
        },
        Err(reason) => Fetched::Failed(reason),
    }
}
