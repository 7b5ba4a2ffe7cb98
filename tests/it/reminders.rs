//! Evening stretch reminders: a plan's time in the patient's own zone,
//! through the worker into the patient's pull; exactly one per local date
//! across replicas and restarts; the grace window, quiet hours and a
//! session already logged.

use dorsal_entity::reminder_schedule;
use dorsal_service::reminders::FireReport;
use dorsal_tests::reminders::{fire, new_plan, next_fire, schedule};
use dorsal_tests::sync::{notifications, profile, push_rows};
use dorsal_tests::{Clinic, TestApp};
use dorsal_worker::JobCtx;
use dorsal_worker::jobs::fire_reminders;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sea_orm::{EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn a_plans_reminder_fires_at_its_local_time_and_reaches_the_patients_pull() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    profile(
        &app,
        &patient,
        json!({"timezone": "America/New_York", "reminders_enabled": true}),
    )
    .await;
    assert!(
        schedule(&app, patient.id).await.is_none(),
        "no plan, no reminder"
    );
    let plan_id = new_plan(&app, &therapist, &patient, Some("20:30")).await;
    let (date, at) = next_fire(&app, patient.id).await;
    let ny = TimeZone::get("America/New_York").unwrap();
    let local = at.to_zoned_datetime(ny);
    assert_eq!(
        (local.date(), local.time()),
        (date, Time::constant(20, 30, 0, 0))
    );
    assert!(at > Timestamp::now());

    let ctx = JobCtx::from(&app.core);
    let early = fire(&ctx, at.checked_sub(SignedDuration::from_secs(1)).unwrap()).await;
    assert_eq!(early.due, 0, "not yet");
    let mut events = app
        .client
        .get(app.url("/v1/sync/events"))
        .bearer_auth(&patient.token)
        .send()
        .await
        .unwrap();
    let report = fire(&ctx, at).await;
    assert_eq!((report.due, report.sent), (1, 1));
    // The device is told to pull, and finds the reminder.
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), events.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("event: sync"));
    let sent = notifications(&app, &patient, "stretch_reminder").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], format!("stretch.{date}"));
    assert_eq!(sent[0]["created_at"], at.as_millisecond());

    // Another replica at the same instant finds nothing due; tomorrow is next.
    assert_eq!(fire(&JobCtx::from(&app.core), at).await.due, 0);
    assert_eq!(
        next_fire(&app, patient.id).await.0,
        date.tomorrow().unwrap()
    );
    assert_eq!(
        app.count("reminder_occurrences").await,
        1,
        "one occurrence, one date"
    );

    // Archiving the plan stops the reminders in the same write.
    let archive = format!("/v1/plans/{plan_id}/archive");
    app.post(&archive, Some(&therapist.token), json!({}), 200)
        .await;
    let stopped = schedule(&app, patient.id).await.unwrap();
    assert!(!stopped.enabled);
    assert_eq!(stopped.next_fire_at, None);
    let tomorrow = at.checked_add(SignedDuration::from_hours(24)).unwrap();
    assert_eq!(fire(&ctx, tomorrow).await.due, 0);
}

#[tokio::test]
async fn a_logged_session_quiet_hours_and_a_moved_time_each_keep_one_per_date() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    profile(
        &app,
        &patient,
        json!({"timezone": "Europe/Berlin", "reminders_enabled": true, "stretch_reminder_time": "21:00"}),
    )
    .await;
    new_plan(&app, &therapist, &patient, None).await;
    let ctx = JobCtx::from(&app.core);

    // The evening's session is already logged: nothing is sent.
    let (d1, at1) = next_fire(&app, patient.id).await;
    let before = at1.checked_sub(SignedDuration::from_hours(1)).unwrap();
    push_rows(
        &app,
        &patient,
        "exercise_sessions",
        vec![json!({"id": "session-1", "performed_at": before.as_millisecond()})],
    )
    .await;
    let report = fire(&ctx, at1).await;
    assert_eq!((report.logged, report.sent), (1, 0));

    // Quiet hours from 20:00 cover the next evening's 21:00.
    profile(
        &app,
        &patient,
        json!({"timezone": "Europe/Berlin", "reminders_enabled": true,
        "stretch_reminder_time": "21:00", "quiet_start": "20:00", "quiet_end": "07:00"}),
    )
    .await;
    let (d2, at2) = next_fire(&app, patient.id).await;
    assert_eq!(d2, d1.tomorrow().unwrap());
    let report = fire(&ctx, at2).await;
    assert_eq!((report.quiet, report.sent), (1, 0));

    // Without quiet hours the third evening is sent ...
    profile(
        &app,
        &patient,
        json!({"timezone": "Europe/Berlin", "reminders_enabled": true,
        "stretch_reminder_time": "21:00"}),
    )
    .await;
    let (d3, at3) = next_fire(&app, patient.id).await;
    assert_eq!(d3, d2.tomorrow().unwrap());
    assert_eq!(fire(&ctx, at3).await.sent, 1);
    // ... and moving the time later that evening does not send it again:
    // the next one is the day after, at the new time.
    profile(
        &app,
        &patient,
        json!({"timezone": "Europe/Berlin", "reminders_enabled": true,
        "stretch_reminder_time": "23:00"}),
    )
    .await;
    let (d4, at4) = next_fire(&app, patient.id).await;
    assert_eq!(d4, d3.tomorrow().unwrap());
    let berlin = TimeZone::get("Europe/Berlin").unwrap();
    assert_eq!(
        at4.to_zoned_datetime(berlin).time(),
        Time::constant(23, 0, 0, 0)
    );

    // A new zone takes effect for the next occurrence, at the same wall time.
    profile(
        &app,
        &patient,
        json!({"timezone": "Asia/Tokyo", "reminders_enabled": true,
        "stretch_reminder_time": "23:00"}),
    )
    .await;
    let (d5, at5) = next_fire(&app, patient.id).await;
    let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
    assert!(d5 > d3);
    assert_eq!(
        at5.to_zoned_datetime(tokyo).time(),
        Time::constant(23, 0, 0, 0)
    );

    let sent = notifications(&app, &patient, "stretch_reminder").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], format!("stretch.{d3}"));
    assert_eq!(app.count("reminder_occurrences").await, 3);
}

/// Schedules written straight into the database: `n` patients due at
/// `due`, each in UTC at the local time of `due`.
pub async fn due_schedules(app: &TestApp, due: Timestamp, n: usize) -> Vec<Uuid> {
    let local = due.to_zoned_datetime(TimeZone::UTC);
    let patients: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    for chunk in patients.chunks(500) {
        let rows = chunk.iter().map(|p| reminder_schedule::ActiveModel {
            id: Set(Uuid::now_v7()),
            patient_id: Set(*p),
            kind: Set("stretch".into()),
            local_time: Set(local.time().strftime("%H:%M").to_string()),
            timezone: Set("UTC".into()),
            quiet_start: Set(None),
            quiet_end: Set(None),
            enabled: Set(true),
            next_local_date: Set(Some(local.date().to_string())),
            next_fire_at: Set(Some(due.as_millisecond())),
            last_local_date: Set(None),
            from_date: Set(None),
            until_date: Set(None),
            version: Set(1),
            updated_at: Set(0),
        });
        reminder_schedule::Entity::insert_many(rows)
            .exec(&app.core.db)
            .await
            .unwrap();
    }
    patients
}

#[tokio::test]
async fn eight_replicas_fire_three_thousand_due_reminders_exactly_once() {
    let app = TestApp::spawn_with(|c| c.reminders.batch = 250).await;
    let due = Timestamp::from_second(1_794_993_600).unwrap(); // 2026-11-18T09:20Z
    due_schedules(&app, due, 3_000).await;
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let ctx = JobCtx::from(&app.core);
            tokio::spawn(async move { fire_reminders::run(&ctx, due).await.unwrap() })
        })
        .collect();
    let mut sent = 0;
    let mut already = 0;
    for worker in workers {
        let report = worker.await.unwrap();
        sent += report.sent;
        already += report.already;
    }
    assert_eq!(
        sent, 3_000,
        "each sent once across replicas ({already} already done)"
    );
    assert_eq!(app.count("notifications").await, 3_000);
    assert_eq!(app.count("reminder_occurrences").await, 3_000);
    let distinct = app
        .count("(SELECT DISTINCT patient_id, id FROM notifications) AS d")
        .await;
    assert_eq!(distinct, 3_000, "no duplicate keys");
    // And a late straggler finds nothing.
    assert_eq!(fire(&JobCtx::from(&app.core), due).await.due, 0);
}

#[tokio::test]
async fn after_downtime_a_reminder_goes_late_within_grace_and_is_recorded_missed_beyond() {
    let app = TestApp::spawn().await; // grace: 120 minutes
    let t = Timestamp::from_second(1_795_024_800).unwrap(); // 2026-11-18T18:00Z
    let hour = SignedDuration::from_hours(1);
    let on_time = due_schedules(&app, t, 1).await[0];
    let earlier = due_schedules(&app, t.checked_sub(hour).unwrap(), 1).await[0];
    let days_ago = due_schedules(&app, t.checked_sub(hour * 72).unwrap(), 1).await[0];

    // Every worker was down from before the due times until T + 70 min.
    let restart = t.checked_add(SignedDuration::from_mins(70)).unwrap();
    let first = fire(&JobCtx::from(&app.core), restart).await;
    assert_eq!((first.sent, first.missed), (1, 2), "{first:?}");
    // The schedule three days stale still has this evening's reminder,
    // 70 minutes late and within grace: the next round sends it.
    let second = fire(&JobCtx::from(&app.core), restart).await;
    assert_eq!((second.sent, second.missed), (1, 0), "{second:?}");
    // Another worker restarting at the same moment sends nothing more.
    let third = fire(&JobCtx::from(&app.core), restart).await;
    assert_eq!(third, FireReport::default());

    let status = |patient: Uuid| {
        let db = app.core.db.clone();
        async move {
            use sea_orm::{ConnectionTrait, Statement};
            let backend = db.get_database_backend();
            let sql = match backend {
                sea_orm::DbBackend::Postgres => {
                    "SELECT status, local_date FROM reminder_occurrences WHERE patient_id = $1 ORDER BY local_date"
                }
                _ => {
                    "SELECT status, local_date FROM reminder_occurrences WHERE patient_id = ? ORDER BY local_date"
                }
            };
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [patient.into()],
                ))
                .await
                .unwrap();
            rows.iter()
                .map(|r| {
                    (
                        r.try_get::<String>("", "status").unwrap(),
                        r.try_get::<String>("", "local_date").unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        status(on_time).await,
        [("sent".to_owned(), "2026-11-18".to_owned())]
    );
    assert_eq!(
        status(earlier).await,
        [("missed".to_owned(), "2026-11-18".to_owned())]
    );
    // Three days down: the stale date is recorded once, the days between
    // are not backfilled, and this evening's went out late.
    assert_eq!(
        status(days_ago).await,
        [
            ("missed".to_owned(), "2026-11-15".to_owned()),
            ("sent".to_owned(), "2026-11-18".to_owned())
        ]
    );
    for patient in [on_time, earlier, days_ago] {
        let (date, at) = next_fire(&app, patient).await;
        assert!(at > restart);
        assert_eq!(date, "2026-11-19".parse::<Date>().unwrap());
    }
    assert_eq!(app.count("notifications").await, 2);

    // The next evening, within grace, all three go out once.
    let next = t.checked_add(SignedDuration::from_hours(24)).unwrap();
    let late = next.checked_add(SignedDuration::from_mins(5)).unwrap();
    let report = fire(&JobCtx::from(&app.core), late).await;
    assert_eq!(report.sent, 3, "{report:?}");
    assert_eq!(app.count("notifications").await, 5);
}

#[tokio::test]
async fn a_plan_reminds_from_its_first_day_to_its_last_and_then_stops() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let tz = TimeZone::get("America/New_York").unwrap();
    profile(
        &app,
        &patient,
        json!({"timezone": "America/New_York", "reminders_enabled": true}),
    )
    .await;
    let today = Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let first = today.checked_add(jiff::Span::new().days(3)).unwrap();
    let last = first.tomorrow().unwrap();
    let body = json!({"title": "Two evenings", "starts_on": first.to_string(),
        "ends_on": last.to_string(), "reminder_time": "21:00",
        "items": [{"exercise_slug": "childs-pose"}]});
    let path = format!("/v1/patients/{}/plans", patient.id);
    app.post(&path, Some(&therapist.token), body, 201).await;

    // Nothing before the plan's first day.
    let (date, at) = next_fire(&app, patient.id).await;
    assert_eq!(date, first);
    assert_eq!(at.to_zoned_datetime(tz.clone()).time().hour(), 21);
    let ctx = JobCtx::from(&app.core);
    assert_eq!(fire(&ctx, at).await.sent, 1);
    let (date, at) = next_fire(&app, patient.id).await;
    assert_eq!(date, last);
    assert_eq!(fire(&ctx, at).await.sent, 1);
    // After its last day the schedule rests.
    let rested = schedule(&app, patient.id).await.unwrap();
    assert_eq!((rested.next_local_date, rested.next_fire_at), (None, None));
    let later = at
        .checked_add(jiff::SignedDuration::from_hours(24 * 7))
        .unwrap();
    assert_eq!(fire(&ctx, later).await.due, 0);
    assert_eq!(
        notifications(&app, &patient, "stretch_reminder")
            .await
            .len(),
        2
    );
}
