//! The history the single-log rules look back at: a patient's pain logs,
//! indexed once per push.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{DAY_MS, PainFacts};
use crate::calendar::night_of;

/// A patient's pain logs, sorted by time, with the nights of unrelenting
/// night pain precomputed: built once per push, so evaluating many logs
/// stays O(log n) each instead of rescanning the diary.
#[derive(Debug, Clone)]
pub struct History<'a> {
    sorted: Vec<&'a PainFacts>,
    pub(super) unrelenting_nights: BTreeSet<Date>,
}

pub(super) fn unrelenting(p: &PainFacts) -> bool {
    p.period.as_deref() == Some("night") && !p.eased_by_rest
}

impl<'a> History<'a> {
    /// Indexes `logs` for evaluation in `tz`.
    pub fn new(logs: &'a [PainFacts], tz: &TimeZone) -> History<'a> {
        let mut sorted: Vec<&PainFacts> = logs.iter().collect();
        sorted.sort_by_key(|p| p.recorded_at);
        let unrelenting_nights = logs
            .iter()
            .filter(|p| unrelenting(p))
            .filter_map(|p| night_of(p.recorded_at, tz))
            .collect();
        History {
            sorted,
            unrelenting_nights,
        }
    }

    /// Adds the instants of night pain not eased by rest known from
    /// elsewhere (the night-pain rule needs only when they happened).
    pub fn add_unrelenting_nights(&mut self, instants: &[i64], tz: &TimeZone) {
        self.unrelenting_nights
            .extend(instants.iter().filter_map(|at| night_of(*at, tz)));
    }

    /// Logs other than `log` recorded in the `days` days up to and including
    /// `log`'s instant, oldest first.
    pub(super) fn before<'s>(
        &'s self,
        log: &'s PainFacts,
        days: i64,
    ) -> impl DoubleEndedIterator<Item = &'a PainFacts> + 's {
        let start = self
            .sorted
            .partition_point(|p| p.recorded_at < log.recorded_at - days * DAY_MS);
        let end = self
            .sorted
            .partition_point(|p| p.recorded_at <= log.recorded_at);
        self.sorted[start..end]
            .iter()
            .copied()
            .filter(move |p| p.id != log.id)
    }
}
