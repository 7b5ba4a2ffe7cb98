//! The history the single-log rules look back at: what of the stored
//! diary they need, as each rule declares it ([`Lookback`]), and the
//! patient's pain logs indexed once per push.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{DAY_MS, Lookback, PainFacts, ProfileFacts, RULES, Thresholds};
use crate::calendar::{night_of, night_start};

/// What the single-log rules read of the stored diary to evaluate some
/// logs: the union of what each rule declares for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needed {
    /// The patient's whole logs recorded from this instant on, when a rule
    /// looks back at logs: one window for all, the longest any rule
    /// declares, so a rule comparing with the previous log sees the same
    /// logs whichever rule asked for them.
    pub logs_since: Option<i64>,
    /// When the logs recorded in this range had night pain not eased by
    /// rest, when a rule counts such nights.
    pub unrelenting_nights: Option<NightRange>,
}

/// Instants from `since` (inclusive) to `before` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NightRange {
    /// The first instant.
    pub since: i64,
    /// The end: the start of the latest night the evaluated logs bring
    /// themselves.
    pub before: i64,
}

impl Needed {
    /// What the rules need to evaluate `logs` (a push's) for a patient
    /// with `profile` in `tz`.
    pub fn for_logs(
        logs: &[PainFacts],
        profile: &ProfileFacts,
        tz: &TimeZone,
        t: &Thresholds,
    ) -> Needed {
        let Some(earliest) = logs.iter().map(|p| p.recorded_at).min() else {
            return Needed::default();
        };
        let mut longest: Option<i64> = None;
        let mut looks_back = false;
        let mut nights: Option<i64> = None;
        for rule in RULES {
            match rule.looks_back {
                Lookback::Logs { days, when } => {
                    longest = longest.max(Some(days(t)));
                    looks_back |= logs.iter().any(|p| when(p, profile));
                }
                Lookback::UnrelentingNights { nights: n } => nights = nights.max(Some(n)),
                Lookback::Nothing | Lookback::Diary { .. } => {}
            }
        }
        // A day more than declared: windows count days, instants do not
        // start at midnight.
        let since = |days: i64| earliest.saturating_sub((days + 1) * DAY_MS);
        let logs_since = longest.filter(|_| looks_back).map(since);
        let latest_night = logs
            .iter()
            .filter(|p| unrelenting(p))
            .filter_map(|p| night_of(p.recorded_at, tz))
            .max();
        let unrelenting_nights = nights.zip(latest_night).map(|(n, latest)| NightRange {
            since: since(n),
            before: night_start(latest, tz).unwrap_or(i64::MAX),
        });
        Needed {
            logs_since,
            unrelenting_nights,
        }
    }
}

/// A patient's pain logs, sorted by time, with the nights of unrelenting
/// night pain precomputed: built once per push, so evaluating many logs
/// stays O(log n) each instead of rescanning the diary.
#[derive(Debug, Clone)]
pub struct History<'a> {
    sorted: Vec<&'a PainFacts>,
    pub(super) unrelenting_nights: BTreeSet<Date>,
}

/// What makes a log's pain unrelenting night pain, as pain-log columns
/// and the values they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unrelenting {
    /// The period column and its value: at night.
    pub period: (&'static str, &'static str),
    /// The eased-by-rest column and its value: not eased.
    pub eased_by_rest: (&'static str, bool),
}

/// Night pain not eased by rest: [`History`] counts a night by it, and a
/// store asked for the nights of [`Needed::unrelenting_nights`] filters
/// its logs on the same columns and values.
pub const UNRELENTING: Unrelenting = Unrelenting {
    period: ("period", "night"),
    eased_by_rest: ("eased_by_rest", false),
};

pub(super) fn unrelenting(p: &PainFacts) -> bool {
    p.period.as_deref() == Some(UNRELENTING.period.1)
        && p.eased_by_rest == UNRELENTING.eased_by_rest.1
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

    /// Adds the nights of `logs` (the ones being evaluated) that had night
    /// pain not eased by rest.
    pub fn add_unrelenting_nights_of(&mut self, logs: &[PainFacts], tz: &TimeZone) {
        self.unrelenting_nights.extend(
            logs.iter()
                .filter(|p| unrelenting(p))
                .filter_map(|p| night_of(p.recorded_at, tz)),
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_793_503_800_000;

    fn log(pain: PainFacts) -> PainFacts {
        PainFacts {
            id: "a".into(),
            recorded_at: T,
            intensity: 4,
            ..pain
        }
    }

    fn needed(pain: PainFacts, profile: &ProfileFacts) -> Needed {
        Needed::for_logs(
            &[log(pain)],
            profile,
            &TimeZone::UTC,
            &Thresholds::default(),
        )
    }

    #[test]
    fn logs_are_read_back_only_for_a_rule_that_looks_back_and_as_far_as_the_longest() {
        let none = ProfileFacts::default();
        assert_eq!(needed(PainFacts::default(), &none), Needed::default());
        let weak = PainFacts {
            leg_weakness: true,
            ..PainFacts::default()
        };
        assert_eq!(needed(weak, &none).logs_since, Some(T - 31 * DAY_MS));
        let cancer = ProfileFacts {
            cancer_history: true,
            ..ProfileFacts::default()
        };
        assert_eq!(
            needed(PainFacts::default(), &cancer).logs_since,
            Some(T - 31 * DAY_MS)
        );
        let night = PainFacts {
            period: Some("night".into()),
            ..PainFacts::default()
        };
        let nights = needed(night, &none);
        assert_eq!(nights.logs_since, None);
        assert_eq!(
            nights.unrelenting_nights.map(|n| n.since),
            Some(T - 8 * DAY_MS)
        );
    }
}
