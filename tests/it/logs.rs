//! No patient data in logs: a whole clinical flow (diary push with notes,
//! a red flag, its webhook, a reminder, a prompt scan, an export) runs
//! with a log subscriber capturing everything at debug level, and the
//! capture must not hold any of the words the patient wrote, nor a red-flag
//! rule on a line (or in a span) that names a person.

use dorsal_domain::red_flags::{RULES, TIME_RULES};
use dorsal_tests::Clinic;
use dorsal_tests::reminders::{new_plan, next_fire};
use dorsal_tests::sync::{profile, push_rows};
use dorsal_worker::JobCtx;
use dorsal_worker::delivery::HttpSender;
use dorsal_worker::jobs::{deliver_webhooks, fire_reminders, send_prompts};
use serde_json::json;

const SECRET_WORDS: &[&str] = &[
    "numb-when-cycling-zebra",
    "slept-on-sofa-quokka",
    "stretched-in-kitchen-ocelot",
];

#[tokio::test]
async fn a_whole_clinical_flow_logs_no_patient_words() {
    // Other tests' logs may land in the capture too, which does no harm.
    let capture = dorsal_tests::capture_logs();

    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let hook = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });
    app.post(
        "/v1/webhooks",
        Some(&org.admin.token),
        json!({"url": url}),
        201,
    )
    .await;

    profile(
        &app,
        &patient,
        json!({"timezone": "Europe/Berlin", "reminders_enabled": true}),
    )
    .await;
    push_rows(
        &app,
        &patient,
        "pain_logs",
        vec![json!({"id": "l1", "recorded_at": 1_795_000_000_000_i64,
        "intensity": 9, "saddle_numbness": true, "note": SECRET_WORDS[0]})],
    )
    .await;
    push_rows(
        &app,
        &patient,
        "sleep_logs",
        vec![json!({"id": "s1", "night_of": "2026-11-17",
        "woke_from_pain": true, "note": SECRET_WORDS[1]})],
    )
    .await;
    push_rows(
        &app,
        &patient,
        "exercise_sessions",
        vec![json!({"id": "e1",
        "performed_at": 1_795_000_000_000_i64, "note": SECRET_WORDS[2]})],
    )
    .await;
    new_plan(&app, &therapist, &patient, Some("21:00")).await;
    let ctx = JobCtx::from(&app.core);
    let sender = HttpSender::new(true).unwrap();
    let now = jiff::Timestamp::now();
    assert!(deliver_webhooks::run(&ctx, &sender, now).await.unwrap() >= 1);
    let (_, at) = next_fire(&app, patient.id).await;
    fire_reminders::run(&ctx, at).await.unwrap();
    send_prompts::run(&ctx, now).await.unwrap();
    app.get("/v1/me/export", Some(&patient.token), 200).await;
    app.get("/v1/alerts", Some(&org.admin.token), 200).await;

    let logs = capture.text();
    assert!(logs.contains("alert raised"), "the capture works: {logs}");
    for word in SECRET_WORDS {
        assert!(!logs.contains(word), "{word} leaked into the logs");
    }
    assert!(
        !logs.contains(&patient.email),
        "an email leaked into the logs"
    );
    let people = [patient.id.to_string(), therapist.id.to_string()];
    for line in logs.lines().filter(|line| names_a_person(line, &people)) {
        for rule in RULES.iter().chain(TIME_RULES) {
            assert!(
                !has_word(line, rule.code),
                "a rule sits beside a person in the logs: {line}"
            );
        }
    }
}

/// Whether a log line (with its spans' fields) names a user or patient.
fn names_a_person(line: &str, ids: &[String]) -> bool {
    line.contains("user_id=")
        || line.contains("patient_id=")
        || ids.iter().any(|id| line.contains(id.as_str()))
}

/// Whether `word` occurs in `line` with no identifier character either side.
fn has_word(line: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

#[tokio::test]
async fn only_a_short_plain_client_request_id_reaches_the_logs() {
    let capture = dorsal_tests::capture_logs();
    let app = dorsal_tests::TestApp::spawn().await;
    let sent_id = |id: &'static str| {
        let request = app.client.get(app.url("/healthz"));
        async move {
            let response = request.header("x-request-id", id).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(sent_id("trace-4f2a.9:1_b").await, "trace-4f2a.9:1_b");
    let long: &'static str = "a".repeat(65).leak();
    let refused = [
        "Jane Doe; bladder control lost",
        long,
        "id\twith\ttabs",
        "\"quoted\"",
    ];
    for id in refused {
        let answered = sent_id(id).await;
        assert_ne!(answered, id);
        assert!(answered.parse::<uuid::Uuid>().is_ok(), "{answered}");
    }
    let logs = capture.text();
    assert!(logs.contains("trace-4f2a.9:1_b"), "the capture works");
    assert!(!logs.contains("bladder control lost"));
    assert!(!logs.contains(long));
}

#[tokio::test]
async fn a_server_error_is_logged_once_with_its_cause_and_its_place() {
    let capture = dorsal_tests::capture_logs();
    let app = dorsal_tests::TestApp::spawn().await;
    let patient = app.register_patient().await;
    // A stored role no release writes: every request of this account is
    // now a bug on the server's side, not the caller's.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.core.db,
        "UPDATE users SET role = 'astronaut'",
    )
    .await
    .unwrap();
    let request_id = format!("fault-{}", uuid::Uuid::new_v4().simple());
    let response = app
        .client
        .get(app.url("/v1/me"))
        .bearer_auth(&patient.token)
        .header("x-request-id", &request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let body: serde_json::Value = response.json().await.unwrap();
    dorsal_tests::assert_problem(&body, 500, "internal_error");
    assert!(
        !body.to_string().contains("astronaut") && !body.to_string().contains(".rs"),
        "the cause stays on the server: {body}"
    );

    let logs = capture.text();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains(&request_id) && line.contains("ERROR"))
        .collect();
    assert_eq!(lines.len(), 1, "one error line for the request: {lines:#?}");
    let line = lines[0];
    assert!(line.contains("internal error"), "{line}");
    assert!(line.contains("status=500"), "{line}");
    assert!(
        line.contains("service/src/"),
        "the line names where the fault was raised: {line}"
    );
}
