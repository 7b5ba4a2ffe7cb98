//! Plans and their reminders in tests: a plan from a therapist, the
//! patient's reminder schedule, and the worker's firing run by hand.

use dorsal_entity::reminder_schedule;
use dorsal_service::reminders::FireReport;
use dorsal_worker::JobCtx;
use dorsal_worker::jobs::fire_reminders;
use jiff::Timestamp;
use jiff::civil::Date;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::{Login, TestApp};

/// `therapist` gives `patient` a plan starting 2026-11-01, reminding at
/// `reminder_time` when given; the plan's id.
pub async fn new_plan(
    app: &TestApp,
    therapist: &Login,
    patient: &Login,
    reminder_time: Option<&str>,
) -> String {
    let mut body = json!({"title": "Evening stretches", "starts_on": "2026-11-01",
        "items": [{"exercise_slug": "childs-pose"}]});
    if let Some(time) = reminder_time {
        body["reminder_time"] = json!(time);
    }
    let path = format!("/v1/patients/{}/plans", patient.id);
    let plan = app.post(&path, Some(&therapist.token), body, 201).await;
    plan["id"].as_str().expect("a plan id").to_owned()
}

/// The patient's reminder schedule, if they have one.
pub async fn schedule(app: &TestApp, patient: Uuid) -> Option<reminder_schedule::Model> {
    reminder_schedule::Entity::find()
        .filter(reminder_schedule::Column::PatientId.eq(patient))
        .one(&app.core.db)
        .await
        .expect("read the reminder schedule")
}

/// The schedule's next (date, instant).
pub async fn next_fire(app: &TestApp, patient: Uuid) -> (Date, Timestamp) {
    let s = schedule(app, patient).await.expect("a reminder schedule");
    (
        s.next_local_date
            .expect("a next date")
            .parse()
            .expect("a date"),
        Timestamp::from_millisecond(s.next_fire_at.expect("a next instant")).expect("an instant"),
    )
}

/// The worker's reminder job, run once at `at`.
pub async fn fire(ctx: &JobCtx, at: Timestamp) -> FireReport {
    fire_reminders::run(ctx, at).await.expect("reminders fired")
}
