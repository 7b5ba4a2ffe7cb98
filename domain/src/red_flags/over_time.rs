//! The rules over time: a patient's recent diary as a whole, evaluated by
//! the worker on a schedule. Each rule's entry in the table is the
//! constant its function reports findings with.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::json;

use super::{DAY_MS, Lookback, PainFacts, Rule, Severity, TIME_RULES, Thresholds};
use crate::calendar::night_of;

/// The earliest instant of the diary the rules over time read at `now`:
/// the longest window any of them declares.
pub fn diary_since(now_ms: i64, t: &Thresholds) -> i64 {
    let days = TIME_RULES
        .iter()
        .filter_map(|rule| match rule.looks_back {
            Lookback::Diary { days } => Some(days(t)),
            Lookback::Nothing | Lookback::Logs { .. } | Lookback::UnrelentingNights { .. } => None,
        })
        .max()
        .unwrap_or(0);
    now_ms - days * DAY_MS
}

/// A time-based finding and the newest log it rests on (its evidence key).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeFinding {
    /// The rule.
    pub rule: &'static Rule,
    /// The newest log the finding rests on.
    pub log_id: String,
    /// When that log was recorded.
    pub recorded_at: i64,
    /// What matched.
    pub matched: Vec<(&'static str, serde_json::Value)>,
}

fn mean_of(values: &[i64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<i64>() as f64 / values.len() as f64)
}

/// What every rule over time sees: the diary up to `now`, oldest first.
struct Diary<'a> {
    sorted: Vec<&'a PainFacts>,
    newest: &'a PainFacts,
    tz: &'a TimeZone,
    now_ms: i64,
    t: &'a Thresholds,
}

impl Diary<'_> {
    /// The intensities logged from `from` (inclusive) to `to` (exclusive).
    fn window(&self, from: i64, to: i64) -> Vec<i64> {
        self.sorted
            .iter()
            .filter(|p| p.recorded_at >= from && p.recorded_at < to)
            .map(|p| p.intensity)
            .collect()
    }

    /// A finding resting on the newest log.
    fn newest_finding(
        &self,
        rule: &'static Rule,
        matched: Vec<(&'static str, serde_json::Value)>,
    ) -> TimeFinding {
        TimeFinding {
            rule,
            log_id: self.newest.id.clone(),
            recorded_at: self.newest.recorded_at,
            matched,
        }
    }
}

/// Evaluates the time-based rules over `logs` (the patient's pain logs
/// since at least [`diary_since`]) at `now`, in the order of
/// [`TIME_RULES`].
pub fn evaluate_over_time(
    logs: &[PainFacts],
    tz: &TimeZone,
    now_ms: i64,
    t: &Thresholds,
) -> Vec<TimeFinding> {
    let mut sorted: Vec<&PainFacts> = logs.iter().filter(|p| p.recorded_at <= now_ms).collect();
    sorted.sort_by_key(|p| p.recorded_at);
    let Some(newest) = sorted.last().copied() else {
        return Vec::new();
    };
    let diary = Diary {
        sorted,
        newest,
        tz,
        now_ms,
        t,
    };
    let rules: [fn(&Diary<'_>) -> Option<TimeFinding>; 3] =
        [night_pain_streak, not_improving, worsening_trend];
    rules.iter().filter_map(|rule| rule(&diary)).collect()
}

/// Bad nights running (TC-1): it reads the last nights of the diary.
pub const NIGHT_PAIN_STREAK: Rule = Rule {
    code: "night_pain_streak",
    version: 1,
    severity: Severity::Routine,
    message: "red-flag-night-pain-streak",
    clinician_action: "Night pain of 7 or more on 3 nights running: PT review; check sleep position \
                       and the evening routine.",
    fields: &["period", "intensity", "recorded_at"],
    looks_back: Lookback::Diary {
        days: |t| i64::try_from(t.night_pain_streak_nights).unwrap_or(i64::MAX),
    },
    sources: "Medbridge Pathways (pain >= 7 critical); design notes TC-1",
};

/// The worst night pain at or above the threshold on K nights running,
/// ending with the latest night that has a night log.
fn night_pain_streak(d: &Diary<'_>) -> Option<TimeFinding> {
    let t = d.t;
    let mut nights: BTreeMap<Date, (i64, &PainFacts)> = BTreeMap::new();
    for p in d
        .sorted
        .iter()
        .filter(|p| p.period.as_deref() == Some("night"))
    {
        if let Some(night) = night_of(p.recorded_at, d.tz) {
            let entry = nights.entry(night).or_insert((p.intensity, p));
            if p.intensity >= entry.0 {
                *entry = (p.intensity, p);
            }
        }
    }
    let (&last, _) = nights.iter().next_back()?;
    let mut run = Vec::new();
    let mut day = last;
    while let Some((worst, log)) = nights.get(&day) {
        if *worst < t.night_pain_streak_intensity {
            break;
        }
        run.push(*log);
        if run.len() == t.night_pain_streak_nights {
            break;
        }
        match day.yesterday() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    if run.len() < t.night_pain_streak_nights {
        return None;
    }
    let latest = run.first()?;
    Some(TimeFinding {
        rule: &NIGHT_PAIN_STREAK,
        log_id: latest.id.clone(),
        recorded_at: latest.recorded_at,
        matched: vec![
            ("nights", json!(run.len())),
            ("min_intensity", json!(t.night_pain_streak_intensity)),
        ],
    })
}

/// Not improving after 14 days (TC-2): it reads an episode of at least 14
/// days and the `new_episode_days` gap before it that marks where it began.
pub const NOT_IMPROVING: Rule = Rule {
    code: "not_improving",
    version: 1,
    severity: Severity::Routine,
    message: "red-flag-not-improving",
    clinician_action: "Not improving after 14 days of self-care: PT review; consider re-scoring \
                       STarT Back.",
    fields: &["intensity", "recorded_at"],
    looks_back: Lookback::Diary {
        days: |t| t.new_episode_days + 15,
    },
    sources: "Ostelo 2008 (MIC 2 points / 30%); design notes TC-2",
};

/// 14+ days since the episode began, >= 4 logs in the first 3 days and in
/// the last 7, and not at least max(2, 30%) better.
fn not_improving(d: &Diary<'_>) -> Option<TimeFinding> {
    let episode_start = {
        let mut start = d.newest.recorded_at;
        for p in d.sorted.iter().rev() {
            if start - p.recorded_at > d.t.new_episode_days * DAY_MS {
                break;
            }
            start = p.recorded_at;
        }
        start
    };
    if d.now_ms - episode_start < 14 * DAY_MS {
        return None;
    }
    let first = d.window(episode_start, episode_start + 3 * DAY_MS);
    let last = d.window(d.now_ms - 7 * DAY_MS, d.now_ms + 1);
    if first.len() < 4 || last.len() < 4 {
        return None;
    }
    let (baseline, current) = (mean_of(&first)?, mean_of(&last)?);
    let needed = f64::max(2.0, 0.3 * baseline);
    (baseline - current < needed).then(|| {
        d.newest_finding(
            &NOT_IMPROVING,
            vec![
                ("baseline_mean", json!(baseline)),
                ("last_7_days_mean", json!(current)),
            ],
        )
    })
}

/// Worsening week on week (TC-3): it reads the last two weeks.
pub const WORSENING_TREND: Rule = Rule {
    code: "worsening_trend",
    version: 1,
    severity: Severity::Routine,
    message: "red-flag-worsening-trend",
    clinician_action: "7-day mean pain up by 2 or more: review and re-ask the red-flag checklist.",
    fields: &["intensity", "recorded_at"],
    looks_back: Lookback::Diary { days: |_| 14 },
    sources: "Medbridge Pathways (+2 = high); design notes TC-3",
};

/// The last 7 days' mean at least 2 above the 7 before.
fn worsening_trend(d: &Diary<'_>) -> Option<TimeFinding> {
    let recent = d.window(d.now_ms - 7 * DAY_MS, d.now_ms + 1);
    let before = d.window(d.now_ms - 14 * DAY_MS, d.now_ms - 7 * DAY_MS);
    if recent.len() < 2 || before.len() < 2 {
        return None;
    }
    let (now_mean, then_mean) = (mean_of(&recent)?, mean_of(&before)?);
    (now_mean >= then_mean + 2.0).then(|| {
        d.newest_finding(
            &WORSENING_TREND,
            vec![
                ("last_7_days_mean", json!(now_mean)),
                ("previous_7_days_mean", json!(then_mean)),
            ],
        )
    })
}

#[cfg(test)]
mod time_tests {
    use super::*;

    const NOW: i64 = 1_793_600_000_000;

    fn at(id: &str, days_ago: f64, intensity: i64, night: bool) -> PainFacts {
        PainFacts {
            id: id.into(),
            recorded_at: NOW - (days_ago * DAY_MS as f64) as i64,
            intensity,
            period: night.then(|| "night".to_owned()),
            ..PainFacts::default()
        }
    }

    fn codes(logs: &[PainFacts]) -> Vec<&'static str> {
        evaluate_over_time(logs, &TimeZone::UTC, NOW, &Thresholds::default())
            .into_iter()
            .map(|f| f.rule.code)
            .collect()
    }

    #[test]
    fn three_bad_nights_running_make_a_streak_and_a_gap_breaks_it() {
        let streak = [
            at("a", 2.9, 7, true),
            at("b", 1.9, 8, true),
            at("c", 0.9, 9, true),
        ];
        assert_eq!(codes(&streak), ["night_pain_streak"]);
        let broken = [
            at("a", 3.9, 7, true),
            at("b", 1.9, 8, true),
            at("c", 0.9, 9, true),
        ];
        assert_eq!(codes(&broken), Vec::<&str>::new());
        let mild = [
            at("a", 2.9, 6, true),
            at("b", 1.9, 8, true),
            at("c", 0.9, 9, true),
        ];
        assert_eq!(codes(&mild), Vec::<&str>::new());
        let daytime = [
            at("a", 2.9, 7, false),
            at("b", 1.9, 8, true),
            at("c", 0.9, 9, true),
        ];
        assert_eq!(codes(&daytime), Vec::<&str>::new());
    }

    #[test]
    fn not_improving_compares_the_first_three_days_with_the_last_seven() {
        let mut logs: Vec<PainFacts> = (0..4)
            .map(|i| at(&format!("f{i}"), 15.5 - f64::from(i) * 0.5, 6, false))
            .collect();
        logs.extend((0..4).map(|i| at(&format!("l{i}"), 6.0 - f64::from(i), 5, false)));
        assert_eq!(
            codes(&logs),
            ["not_improving"],
            "6 -> 5 is less than 2 points better"
        );
        let mut better: Vec<PainFacts> = (0..4)
            .map(|i| at(&format!("f{i}"), 15.5 - f64::from(i) * 0.5, 6, false))
            .collect();
        better.extend((0..4).map(|i| at(&format!("l{i}"), 6.0 - f64::from(i), 4, false)));
        assert_eq!(codes(&better), Vec::<&str>::new(), "2 points better");
        let too_few: Vec<PainFacts> = logs.iter().take(7).cloned().collect();
        assert_eq!(
            codes(&too_few),
            Vec::<&str>::new(),
            "3 logs in the last week are not enough"
        );
    }

    #[test]
    fn a_two_point_rise_week_on_week_is_a_worsening_trend() {
        let logs = [
            at("a", 12.0, 3, false),
            at("b", 10.0, 3, false),
            at("c", 5.0, 5, false),
            at("d", 2.0, 5, false),
        ];
        assert_eq!(codes(&logs), ["worsening_trend"]);
        let flat = [
            at("a", 12.0, 3, false),
            at("b", 10.0, 3, false),
            at("c", 5.0, 4, false),
            at("d", 2.0, 4, false),
        ];
        assert_eq!(codes(&flat), Vec::<&str>::new());
    }
}
