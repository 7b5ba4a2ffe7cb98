//! Home exercise programs: what a valid plan is, and the adherence and
//! trend figures computed from a patient's diary in their own time zone.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::Violations;
use crate::calendar::{local_date, night_of, parse_date};
use crate::sync::record::parse_local_time;

/// Items one plan may hold.
pub const MAX_ITEMS: usize = 30;

/// One exercise as a therapist prescribes it; absent numbers take the
/// exercise's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInput {
    /// Catalog slug.
    pub exercise_slug: String,
    /// Sets.
    pub sets: Option<i64>,
    /// Repetitions per set.
    pub reps: Option<i64>,
    /// Seconds each repetition is held.
    pub hold_seconds: Option<i64>,
    /// Times a day.
    pub times_per_day: Option<i64>,
}

/// A plan as a therapist writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanInput {
    /// Title shown to the patient.
    pub title: String,
    /// First day, `YYYY-MM-DD`.
    pub starts_on: String,
    /// Last day, if any.
    pub ends_on: Option<String>,
    /// Evening reminder time, `HH:MM`, local to the patient.
    pub reminder_time: Option<String>,
    /// Notes for the patient.
    pub notes: Option<String>,
    /// The exercises, in order.
    pub items: Vec<ItemInput>,
}

fn in_range(violations: &mut Violations, pointer: String, value: Option<i64>, min: i64, max: i64) {
    if let Some(v) = value
        && !(min..=max).contains(&v)
    {
        violations.add(pointer, format!("must be from {min} to {max}"));
    }
}

/// Checks a plan's fields; the exercise slugs are checked against the
/// catalog by the caller.
pub fn validate_plan(input: &PlanInput) -> Result<(), Violations> {
    let mut violations = Violations::new();
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        violations.add("/title", "must be 1-200 characters");
    }
    let starts = parse_date(&input.starts_on);
    if starts.is_none() {
        violations.add("/starts_on", "must be a date, YYYY-MM-DD");
    }
    if let Some(ends_on) = &input.ends_on {
        match (parse_date(ends_on), starts) {
            (None, _) => violations.add("/ends_on", "must be a date, YYYY-MM-DD"),
            (Some(end), Some(start)) if end < start => {
                violations.add("/ends_on", "must not be before starts_on")
            }
            _ => {}
        }
    }
    if let Some(time) = &input.reminder_time
        && parse_local_time(time).is_none()
    {
        violations.add("/reminder_time", "must be a local time, HH:MM");
    }
    if input
        .notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > 1000)
    {
        violations.add("/notes", "must be at most 1000 characters");
    }
    if input.items.is_empty() || input.items.len() > MAX_ITEMS {
        violations.add("/items", format!("must hold 1-{MAX_ITEMS} exercises"));
    }
    for (i, item) in input.items.iter().enumerate() {
        in_range(
            &mut violations,
            format!("/items/{i}/sets"),
            item.sets,
            1,
            20,
        );
        in_range(
            &mut violations,
            format!("/items/{i}/reps"),
            item.reps,
            1,
            100,
        );
        in_range(
            &mut violations,
            format!("/items/{i}/hold_seconds"),
            item.hold_seconds,
            0,
            600,
        );
        in_range(
            &mut violations,
            format!("/items/{i}/times_per_day"),
            item.times_per_day,
            1,
            6,
        );
    }
    violations.into_result()
}

/// When a plan prescribed sessions, in the patient's local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanWindow {
    /// First day.
    pub starts_on: Date,
    /// Last day, if any.
    pub ends_on: Option<Date>,
    /// The day it was archived (no longer prescribed from then on).
    pub archived_on: Option<Date>,
    /// Sessions a day: the most `times_per_day` among its items.
    pub sessions_per_day: u32,
}

impl PlanWindow {
    fn covers(&self, day: Date) -> bool {
        self.starts_on <= day
            && self.ends_on.is_none_or(|end| day <= end)
            && self.archived_on.is_none_or(|archived| day < archived)
    }
}

/// A logged exercise session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// When, in milliseconds since the epoch.
    pub performed_at: i64,
    /// Pain before, 0–10.
    pub pain_before: Option<i64>,
    /// Pain after, 0–10.
    pub pain_after: Option<i64>,
}

/// One day of adherence.
#[derive(Debug, Clone, PartialEq)]
pub struct DayAdherence {
    /// The local date.
    pub date: Date,
    /// Sessions prescribed (0 when no plan covered the day).
    pub prescribed: u32,
    /// Sessions logged.
    pub done: u32,
    /// Mean pain before the day's sessions.
    pub pain_before: Option<f64>,
    /// Mean pain after the day's sessions.
    pub pain_after: Option<f64>,
}

fn mean(values: impl Iterator<Item = i64>) -> Option<f64> {
    let (sum, n) = values.fold((0i64, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum as f64 / f64::from(n))
}

/// Prescribed and done per local day. On a day two plans cover (a handover)
/// the larger prescription counts, not the sum.
pub fn adherence(
    tz: &TimeZone,
    days: &[Date],
    plans: &[PlanWindow],
    sessions: &[Session],
) -> Vec<DayAdherence> {
    days.iter()
        .map(|day| {
            let todays: Vec<&Session> = sessions
                .iter()
                .filter(|s| local_date(s.performed_at, tz) == Some(*day))
                .collect();
            DayAdherence {
                date: *day,
                prescribed: plans
                    .iter()
                    .filter(|p| p.covers(*day))
                    .map(|p| p.sessions_per_day)
                    .max()
                    .unwrap_or(0),
                done: u32::try_from(todays.len()).unwrap_or(u32::MAX),
                pain_before: mean(todays.iter().filter_map(|s| s.pain_before)),
                pain_after: mean(todays.iter().filter_map(|s| s.pain_after)),
            }
        })
        .collect()
}

/// A logged pain entry, as trends read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PainPoint {
    /// When, in milliseconds since the epoch.
    pub recorded_at: i64,
    /// 0–10.
    pub intensity: i64,
    /// Whether the patient logged it as night pain.
    pub at_night: bool,
}

/// A logged night's sleep, as trends read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SleepPoint {
    /// The night.
    pub night_of: Date,
    /// 1–5.
    pub quality: Option<i64>,
    /// Times woken.
    pub awakenings: Option<i64>,
    /// Woken by pain.
    pub woke_from_pain: bool,
}

/// One night of the trend series.
#[derive(Debug, Clone, PartialEq)]
pub struct NightTrend {
    /// The night (its evening's date).
    pub night_of: Date,
    /// Worst night pain.
    pub pain_max: Option<i64>,
    /// Mean night pain.
    pub pain_mean: Option<f64>,
    /// Night pain entries.
    pub pain_logs: u32,
    /// Sleep quality (mean if logged twice).
    pub sleep_quality: Option<f64>,
    /// Awakenings (mean if logged twice).
    pub awakenings: Option<f64>,
    /// Woken by pain on any log of the night.
    pub woke_from_pain: Option<bool>,
}

/// Nightly pain (entries logged as `night`, by the noon-to-noon night they
/// fall in) and sleep, per night.
pub fn trends(
    tz: &TimeZone,
    nights: &[Date],
    pains: &[PainPoint],
    sleeps: &[SleepPoint],
) -> Vec<NightTrend> {
    nights
        .iter()
        .map(|night| {
            let pain: Vec<i64> = pains
                .iter()
                .filter(|p| p.at_night && night_of(p.recorded_at, tz) == Some(*night))
                .map(|p| p.intensity)
                .collect();
            let sleep: Vec<&SleepPoint> = sleeps.iter().filter(|s| s.night_of == *night).collect();
            NightTrend {
                night_of: *night,
                pain_max: pain.iter().copied().max(),
                pain_mean: mean(pain.iter().copied()),
                pain_logs: u32::try_from(pain.len()).unwrap_or(u32::MAX),
                sleep_quality: mean(sleep.iter().filter_map(|s| s.quality)),
                awakenings: mean(sleep.iter().filter_map(|s| s.awakenings)),
                woke_from_pain: (!sleep.is_empty()).then(|| sleep.iter().any(|s| s.woke_from_pain)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use jiff::civil::date;

    use super::*;
    use crate::calendar::{days, zone};

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn plan() -> PlanInput {
        PlanInput {
            title: "Evening stretches".into(),
            starts_on: "2026-11-01".into(),
            ends_on: None,
            reminder_time: Some("21:00".into()),
            notes: None,
            items: vec![ItemInput {
                exercise_slug: "cat-cow".into(),
                sets: Some(1),
                reps: Some(10),
                hold_seconds: None,
                times_per_day: Some(2),
            }],
        }
    }

    #[test]
    fn plans_are_validated_field_by_field() {
        assert!(validate_plan(&plan()).is_ok());
        let mut bad = plan();
        bad.title = " ".into();
        bad.ends_on = Some("2026-10-01".into());
        bad.reminder_time = Some("9pm".into());
        bad.items[0].reps = Some(0);
        bad.items[0].times_per_day = Some(7);
        let pointers: Vec<String> = validate_plan(&bad)
            .unwrap_err()
            .iter()
            .map(|v| v.pointer.clone())
            .collect();
        assert_eq!(
            pointers,
            [
                "/title",
                "/ends_on",
                "/reminder_time",
                "/items/0/reps",
                "/items/0/times_per_day"
            ]
        );
        let mut empty = plan();
        empty.items.clear();
        assert!(validate_plan(&empty).is_err());
    }

    #[test]
    fn adherence_counts_sessions_by_local_date_across_the_autumn_change() {
        let ny = zone(Some("America/New_York"));
        let range = days(date(2026, 10, 31), date(2026, 11, 3)).unwrap();
        let plans = [
            PlanWindow {
                starts_on: date(2026, 10, 25),
                ends_on: None,
                archived_on: Some(date(2026, 11, 2)),
                sessions_per_day: 1,
            },
            PlanWindow {
                starts_on: date(2026, 11, 2),
                ends_on: Some(date(2026, 11, 2)),
                archived_on: None,
                sessions_per_day: 2,
            },
        ];
        let sessions = [
            Session {
                performed_at: ms("2026-11-01T03:30:00Z"),
                pain_before: Some(6),
                pain_after: Some(4),
            }, // Oct 31 23:30 EDT
            Session {
                performed_at: ms("2026-11-01T05:30:00Z"),
                pain_before: Some(5),
                pain_after: None,
            }, // Nov 1 01:30 EDT
            Session {
                performed_at: ms("2026-11-01T06:30:00Z"),
                pain_before: Some(3),
                pain_after: Some(2),
            }, // Nov 1 01:30 EST
            Session {
                performed_at: ms("2026-11-02T04:30:00Z"),
                pain_before: None,
                pain_after: None,
            }, // Nov 1 23:30 EST
        ];
        let days = adherence(&ny, &range, &plans, &sessions);
        let summary: Vec<(u32, u32, Option<f64>, Option<f64>)> = days
            .iter()
            .map(|d| (d.prescribed, d.done, d.pain_before, d.pain_after))
            .collect();
        assert_eq!(
            summary,
            [
                (1, 1, Some(6.0), Some(4.0)),
                (1, 3, Some(4.0), Some(2.0)),
                (2, 0, None, None),
                (0, 0, None, None),
            ]
        );
    }

    #[test]
    fn trends_group_night_pain_by_noon_to_noon_nights() {
        let ny = zone(Some("America/New_York"));
        let nights = days(date(2026, 10, 31), date(2026, 11, 1)).unwrap();
        let pains = [
            PainPoint {
                recorded_at: ms("2026-11-01T03:30:00Z"),
                intensity: 4,
                at_night: true,
            }, // Oct 31 23:30
            PainPoint {
                recorded_at: ms("2026-11-01T06:30:00Z"),
                intensity: 8,
                at_night: true,
            }, // Nov 1 01:30 EST
            PainPoint {
                recorded_at: ms("2026-11-01T15:00:00Z"),
                intensity: 9,
                at_night: true,
            }, // Nov 1 10:00: still night of Oct 31
            PainPoint {
                recorded_at: ms("2026-11-01T18:00:00Z"),
                intensity: 2,
                at_night: false,
            }, // day pain: not counted
            PainPoint {
                recorded_at: ms("2026-11-02T08:00:00Z"),
                intensity: 5,
                at_night: true,
            }, // Nov 2 03:00: night of Nov 1
        ];
        let sleeps = [SleepPoint {
            night_of: date(2026, 10, 31),
            quality: Some(2),
            awakenings: Some(3),
            woke_from_pain: true,
        }];
        let series = trends(&ny, &nights, &pains, &sleeps);
        assert_eq!(series[0].pain_max, Some(9));
        assert_eq!(series[0].pain_mean, Some(7.0));
        assert_eq!(series[0].pain_logs, 3);
        assert_eq!(series[0].sleep_quality, Some(2.0));
        assert_eq!(series[0].woke_from_pain, Some(true));
        assert_eq!((series[1].pain_max, series[1].pain_logs), (Some(5), 1));
        assert_eq!(series[1].woke_from_pain, None);
    }
}
