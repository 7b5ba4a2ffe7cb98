//! Home exercise programs: what a valid plan is, and the adherence and
//! trend figures computed from a patient's diary in their own time zone.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

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

/// An exercise's image and video: absolute `https://` URLs, and the
/// image's alt text (present exactly when the image is).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// An image of the exercise.
    pub image_url: Option<String>,
    /// What the image shows, for people who cannot see it.
    pub image_alt: Option<String>,
    /// A video of the exercise.
    pub video_url: Option<String>,
}

/// One exercise of a plan, as prescribed: a snapshot of the catalog entry,
/// so a later catalog edit never changes a patient's program silently.
/// Stored as JSON in each plan version (see [`PlanBody`]), so its serde
/// shape is the stored one; the FHIR export and the API's `PlanItemOut`
/// read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// 1-based order.
    pub position: i64,
    /// Catalog slug.
    pub exercise_slug: String,
    /// Name.
    pub name: String,
    /// Instructions.
    pub instructions: String,
    /// Safety note.
    pub safety_note: String,
    /// Sets.
    pub sets: i64,
    /// Repetitions.
    pub reps: i64,
    /// Seconds held.
    pub hold_seconds: i64,
    /// Times a day.
    pub times_per_day: i64,
    /// The exercise's media when prescribed (none in versions written
    /// before the catalog had media).
    #[serde(default, flatten)]
    pub media: Media,
}

/// A plan version's content, as stored (JSON in each plan version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanBody {
    /// Title.
    pub title: String,
    /// First day.
    pub starts_on: String,
    /// Last day.
    pub ends_on: Option<String>,
    /// Reminder time.
    pub reminder_time: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Who wrote this version.
    pub therapist_name: String,
    /// The exercises.
    pub items: Vec<PlanItem>,
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
    /// When, in milliseconds since the epoch (any instant of the quarter
    /// hour the sessions were logged in).
    pub performed_at: i64,
    /// Sessions logged in that quarter hour.
    pub done: u32,
    /// Their pain before, 0–10, where given.
    pub pain_before: Tally,
    /// Their pain after, 0–10, where given.
    pub pain_after: Tally,
}

/// Whole numbers summed up: how many, their total and the largest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many.
    pub count: u32,
    /// Their sum.
    pub sum: i64,
    /// The largest, if any.
    pub max: Option<i64>,
}

impl std::ops::Add for Tally {
    type Output = Tally;

    /// Both tallies together.
    fn add(self, other: Tally) -> Tally {
        Tally {
            count: self.count.saturating_add(other.count),
            sum: self.sum.saturating_add(other.sum),
            max: self.max.max(other.max),
        }
    }
}

impl Tally {
    /// One value.
    pub fn of(value: i64) -> Tally {
        Tally {
            count: 1,
            sum: value,
            max: Some(value),
        }
    }

    /// The mean, if there is any value.
    pub fn mean(self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / f64::from(self.count))
    }
}

fn tally(values: impl Iterator<Item = i64>) -> Tally {
    values.fold(Tally::default(), |t, v| t + Tally::of(v))
}

/// The width of the buckets reports read logs in: a quarter hour. Every
/// zone's offset is a whole number of quarter hours, so a quarter hour
/// never straddles a local day or a noon-to-noon night, and a report reads
/// at most 96 rows a day whatever was logged.
pub const BUCKET_MS: i64 = 15 * 60 * 1000;

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

/// Prescribed and done per local day. On a day two plans cover (a handover)
/// the larger prescription counts, not the sum.
pub fn adherence(
    tz: &TimeZone,
    days: &[Date],
    plans: &[PlanWindow],
    sessions: &[Session],
) -> Vec<DayAdherence> {
    let mut by_day: HashMap<Date, (u32, Tally, Tally)> = HashMap::new();
    for session in sessions {
        if let Some(day) = local_date(session.performed_at, tz) {
            let entry = by_day.entry(day).or_default();
            *entry = (
                entry.0.saturating_add(session.done),
                entry.1 + session.pain_before,
                entry.2 + session.pain_after,
            );
        }
    }
    days.iter()
        .map(|day| {
            let (done, before, after) = by_day.get(day).copied().unwrap_or_default();
            DayAdherence {
                date: *day,
                prescribed: plans
                    .iter()
                    .filter(|p| p.covers(*day))
                    .map(|p| p.sessions_per_day)
                    .max()
                    .unwrap_or(0),
                done,
                pain_before: before.mean(),
                pain_after: after.mean(),
            }
        })
        .collect()
}

/// Night pain entries (logged with `period = night`) of one quarter hour
/// ([`BUCKET_MS`]), as trends read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PainPoint {
    /// When, in milliseconds since the epoch (any instant of the quarter
    /// hour).
    pub recorded_at: i64,
    /// Their intensities, 0–10.
    pub intensity: Tally,
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
    let mut by_night: HashMap<Date, Tally> = HashMap::new();
    for point in pains {
        if let Some(night) = night_of(point.recorded_at, tz) {
            let entry = by_night.entry(night).or_default();
            *entry = *entry + point.intensity;
        }
    }
    nights
        .iter()
        .map(|night| {
            let pain = by_night.get(night).copied().unwrap_or_default();
            let sleep: Vec<&SleepPoint> = sleeps.iter().filter(|s| s.night_of == *night).collect();
            NightTrend {
                night_of: *night,
                pain_max: pain.max,
                pain_mean: pain.mean(),
                pain_logs: pain.count,
                sleep_quality: tally(sleep.iter().filter_map(|s| s.quality)).mean(),
                awakenings: tally(sleep.iter().filter_map(|s| s.awakenings)).mean(),
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
                done: 1,
                pain_before: Tally::of(6),
                pain_after: Tally::of(4),
            }, // Oct 31 23:30 EDT
            Session {
                performed_at: ms("2026-11-01T05:30:00Z"),
                done: 1,
                pain_before: Tally::of(5),
                pain_after: Tally::default(),
            }, // Nov 1 01:30 EDT
            Session {
                performed_at: ms("2026-11-01T06:30:00Z"),
                done: 1,
                pain_before: Tally::of(3),
                pain_after: Tally::of(2),
            }, // Nov 1 01:30 EST
            Session {
                performed_at: ms("2026-11-02T04:30:00Z"),
                done: 1,
                pain_before: Tally::default(),
                pain_after: Tally::default(),
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
                intensity: Tally::of(4),
            }, // Oct 31 23:30
            PainPoint {
                recorded_at: ms("2026-11-01T06:30:00Z"),
                intensity: Tally::of(8),
            }, // Nov 1 01:30 EST
            PainPoint {
                recorded_at: ms("2026-11-01T15:00:00Z"),
                intensity: Tally::of(9),
            }, // Nov 1 10:00: still night of Oct 31
            PainPoint {
                recorded_at: ms("2026-11-02T08:00:00Z"),
                intensity: Tally::of(5),
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
