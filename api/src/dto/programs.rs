//! Exercises, plans, adherence and trends on the wire.

use dorsal_domain::programs::{DayAdherence, ItemInput, Media, NightTrend, PlanInput, PlanItem};
use dorsal_service::programs::{Exercise, NewExercise, Plan};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::rfc3339;

/// An exercise of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExerciseOut {
    /// Id.
    pub id: Uuid,
    /// The org that added it; null for built-in exercises.
    pub org_id: Option<Uuid>,
    /// Used in plans.
    pub slug: String,
    /// Name.
    pub name: String,
    /// How to do it.
    pub instructions: String,
    /// When to stop.
    pub safety_note: String,
    /// Default sets.
    pub default_sets: i64,
    /// Default repetitions.
    pub default_reps: i64,
    /// Default seconds held.
    pub default_hold_seconds: i64,
    /// An image of the exercise: an absolute `https://` URL.
    pub image_url: Option<String>,
    /// The image's alt text; present exactly when `image_url` is.
    pub image_alt: Option<String>,
    /// A video of the exercise: an absolute `https://` URL.
    pub video_url: Option<String>,
}

impl From<Exercise> for ExerciseOut {
    fn from(e: Exercise) -> Self {
        ExerciseOut {
            id: e.id,
            org_id: e.org_id,
            slug: e.slug,
            name: e.name,
            instructions: e.instructions,
            safety_note: e.safety_note,
            default_sets: e.default_sets,
            default_reps: e.default_reps,
            default_hold_seconds: e.default_hold_seconds,
            image_url: e.media.image_url,
            image_alt: e.media.image_alt,
            video_url: e.media.video_url,
        }
    }
}

/// `POST /v1/exercises`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExerciseIn {
    /// `a-z`, `0-9`, `-`.
    pub slug: String,
    /// Name.
    pub name: String,
    /// How to do it.
    pub instructions: String,
    /// When to stop (default: stay in a pain-free range).
    pub safety_note: Option<String>,
    /// Default sets.
    pub default_sets: i64,
    /// Default repetitions.
    pub default_reps: i64,
    /// Default seconds held.
    pub default_hold_seconds: i64,
    /// An image of the exercise: an absolute `https://` URL of at most
    /// 2,000 characters, no spaces.
    #[schema(max_length = 2000, pattern = "^https://")]
    pub image_url: Option<String>,
    /// What the image shows (1–300 characters): required with
    /// `image_url`, refused without it.
    #[schema(max_length = 300)]
    pub image_alt: Option<String>,
    /// A video of the exercise: an absolute `https://` URL of at most
    /// 2,000 characters, no spaces.
    #[schema(max_length = 2000, pattern = "^https://")]
    pub video_url: Option<String>,
}

impl From<ExerciseIn> for NewExercise {
    fn from(e: ExerciseIn) -> Self {
        NewExercise {
            slug: e.slug,
            name: e.name,
            instructions: e.instructions,
            safety_note: e.safety_note,
            default_sets: e.default_sets,
            default_reps: e.default_reps,
            default_hold_seconds: e.default_hold_seconds,
            media: Media {
                image_url: e.image_url,
                image_alt: e.image_alt,
                video_url: e.video_url,
            },
        }
    }
}

/// One exercise of a new plan.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanItemIn {
    /// Catalog slug.
    pub exercise_slug: String,
    /// Sets (default: the exercise's).
    pub sets: Option<i64>,
    /// Repetitions (default: the exercise's).
    pub reps: Option<i64>,
    /// Seconds held (default: the exercise's).
    pub hold_seconds: Option<i64>,
    /// Times a day (default 1).
    pub times_per_day: Option<i64>,
}

/// `POST /v1/patients/{id}/plans` and `PUT /v1/plans/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanIn {
    /// Title.
    pub title: String,
    /// First day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub starts_on: String,
    /// Last day.
    #[schema(format = Date)]
    pub ends_on: Option<String>,
    /// Evening reminder, `HH:MM` in the patient's zone.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub reminder_time: Option<String>,
    /// Notes for the patient.
    pub notes: Option<String>,
    /// Exercises, in order.
    pub items: Vec<PlanItemIn>,
}

impl From<PlanIn> for PlanInput {
    fn from(p: PlanIn) -> Self {
        PlanInput {
            title: p.title,
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            reminder_time: p.reminder_time,
            notes: p.notes,
            items: p
                .items
                .into_iter()
                .map(|i| ItemInput {
                    exercise_slug: i.exercise_slug,
                    sets: i.sets,
                    reps: i.reps,
                    hold_seconds: i.hold_seconds,
                    times_per_day: i.times_per_day,
                })
                .collect(),
        }
    }
}

/// One exercise of a plan, as prescribed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanItemOut {
    /// 1-based order.
    pub position: i64,
    /// Catalog slug.
    pub exercise_slug: String,
    /// Name at the time of prescribing.
    pub name: String,
    /// Instructions at the time of prescribing.
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
    /// The exercise's image when prescribed.
    pub image_url: Option<String>,
    /// The image's alt text.
    pub image_alt: Option<String>,
    /// The exercise's video when prescribed.
    pub video_url: Option<String>,
}

impl From<PlanItem> for PlanItemOut {
    fn from(i: PlanItem) -> Self {
        PlanItemOut {
            position: i.position,
            exercise_slug: i.exercise_slug,
            name: i.name,
            instructions: i.instructions,
            safety_note: i.safety_note,
            sets: i.sets,
            reps: i.reps,
            hold_seconds: i.hold_seconds,
            times_per_day: i.times_per_day,
            image_url: i.media.image_url,
            image_alt: i.media.image_alt,
            video_url: i.media.video_url,
        }
    }
}

/// A plan at one version.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    /// Plan id (also the id of the patient's synced `exercise_plans` row).
    pub id: String,
    /// Whose plan.
    pub patient_id: Uuid,
    /// This version.
    pub version: i64,
    /// The newest version.
    pub latest_version: i64,
    /// `active` or `archived`.
    pub status: &'static str,
    /// Title.
    pub title: String,
    /// First day.
    pub starts_on: String,
    /// Last day.
    pub ends_on: Option<String>,
    /// Evening reminder time.
    pub reminder_time: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Who wrote this version.
    pub therapist_name: String,
    /// RFC 3339 instant this version was written.
    pub written_at: String,
    /// Exercises.
    pub items: Vec<PlanItemOut>,
}

impl From<Plan> for PlanOut {
    fn from(p: Plan) -> Self {
        PlanOut {
            id: p.id,
            patient_id: p.patient_id,
            version: p.version,
            latest_version: p.latest_version,
            status: p.status,
            title: p.body.title,
            starts_on: p.body.starts_on,
            ends_on: p.body.ends_on,
            reminder_time: p.body.reminder_time,
            notes: p.body.notes,
            therapist_name: p.body.therapist_name,
            written_at: rfc3339(p.written_at),
            items: p.body.items.into_iter().map(PlanItemOut::from).collect(),
        }
    }
}

/// A date range, inclusive.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First local date, `YYYY-MM-DD`.
    #[param(format = Date)]
    pub from: String,
    /// Last local date, `YYYY-MM-DD` (at most 366 days after `from`).
    #[param(format = Date)]
    pub to: String,
}

/// One day of adherence.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayAdherenceOut {
    /// Local date.
    pub date: String,
    /// Sessions prescribed.
    pub prescribed: u32,
    /// Sessions logged.
    pub done: u32,
    /// Mean pain before.
    pub pain_before: Option<f64>,
    /// Mean pain after.
    pub pain_after: Option<f64>,
}

impl From<DayAdherence> for DayAdherenceOut {
    fn from(d: DayAdherence) -> Self {
        DayAdherenceOut {
            date: d.date.to_string(),
            prescribed: d.prescribed,
            done: d.done,
            pain_before: d.pain_before,
            pain_after: d.pain_after,
        }
    }
}

/// Adherence per day.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdherenceOut {
    /// Days of the range, in order.
    pub days: Vec<DayAdherenceOut>,
}

/// One night of the trends.
#[derive(Debug, Serialize, ToSchema)]
pub struct NightOut {
    /// The night (its evening's date).
    pub night_of: String,
    /// Worst night pain.
    pub pain_max: Option<i64>,
    /// Mean night pain.
    pub pain_mean: Option<f64>,
    /// Night pain entries.
    pub pain_logs: u32,
    /// Sleep quality 1–5.
    pub sleep_quality: Option<f64>,
    /// Awakenings.
    pub awakenings: Option<f64>,
    /// Woken by pain.
    pub woke_from_pain: Option<bool>,
}

impl From<NightTrend> for NightOut {
    fn from(n: NightTrend) -> Self {
        NightOut {
            night_of: n.night_of.to_string(),
            pain_max: n.pain_max,
            pain_mean: n.pain_mean,
            pain_logs: n.pain_logs,
            sleep_quality: n.sleep_quality,
            awakenings: n.awakenings,
            woke_from_pain: n.woke_from_pain,
        }
    }
}

/// Nightly series for charts.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendsOut {
    /// Nights of the range, in order.
    pub nights: Vec<NightOut>,
}
