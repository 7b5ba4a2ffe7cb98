//! A patient's diary over days in tests: today's noon to reckon from, nights
//! woken by pain, and a plan backdated to when it was given.

use dorsal_entity::plan;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::sync::push_rows;
use crate::{Login, TestApp};

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// Today at 12:00 UTC.
pub fn noon() -> Timestamp {
    Timestamp::now()
        .to_zoned_datetime(TimeZone::UTC)
        .date()
        .at(12, 0, 0, 0)
        .to_zoned_datetime(TimeZone::UTC)
        .expect("noon today")
        .timestamp()
}

/// The UTC date `days_back` days before `at`, as `night_of` is written.
pub fn date(at: Timestamp, days_back: i32) -> String {
    at.checked_sub(DAY * days_back)
        .expect("a date in range")
        .to_zoned_datetime(TimeZone::UTC)
        .date()
        .to_string()
}

/// The patient logs the nights `days` days before `at` as woken by pain,
/// each with the fields of `extra`.
pub async fn woken_nights(app: &TestApp, who: &Login, at: Timestamp, days: &[i32], extra: Value) {
    let extra = extra.as_object().expect("extra fields as an object");
    let rows = days
        .iter()
        .map(|d| {
            let mut row = json!({"id": format!("night-{}-{d}", who.id.simple()),
                "night_of": date(at, *d), "woke_from_pain": true});
            if let Some(row) = row.as_object_mut() {
                row.extend(extra.clone());
            }
            row
        })
        .collect();
    push_rows(app, who, "sleep_logs", rows).await;
}

/// Backdates the patient's active plan to `at`.
pub async fn plan_given(app: &TestApp, who: &Login, at: Timestamp) {
    plan::Entity::update_many()
        .col_expr(plan::Column::CreatedAt, Expr::value(at.as_millisecond()))
        .filter(plan::Column::PatientId.eq(who.id))
        .exec(&app.core.db)
        .await
        .expect("backdate the plan");
}
