//! Fires due evening reminders, batch after batch, until none are due.

use dorsal_service::reminders::{self, FireReport};
use jiff::Timestamp;

use super::JobError;
use crate::JobCtx;

/// Rounds until nothing due is left (or only patients mid-write, left for
/// the next tick); returns the sum of what they did.
#[tracing::instrument(name = "fire_reminders", skip_all)]
pub async fn run(ctx: &JobCtx, now: Timestamp) -> Result<FireReport, JobError> {
    let mut total = FireReport::default();
    loop {
        let round = reminders::fire_due(
            &ctx.db,
            &ctx.nudges,
            &ctx.config.reminders,
            ctx.worker_id,
            now,
        )
        .await?;
        total += round;
        let done = round.due - round.deferred;
        if round.due < usize::try_from(ctx.config.reminders.batch).unwrap_or(usize::MAX)
            || done == 0
        {
            break;
        }
    }
    for (fate, n) in [
        ("sent", total.sent),
        ("missed", total.missed),
        ("skipped_quiet", total.quiet),
        ("skipped_logged", total.logged),
    ] {
        metrics::counter!("dorsal_reminders_total", "fate" => fate).increment(n as u64);
    }
    if total.due > 0 {
        tracing::info!(
            due = total.due,
            sent = total.sent,
            missed = total.missed,
            quiet = total.quiet,
            logged = total.logged,
            already = total.already,
            deferred = total.deferred,
            pushes = total.pushes,
            "reminders fired"
        );
    }
    Ok(total)
}
