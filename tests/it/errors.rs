//! Bad input of every kind answers problem+json and writes nothing.

use dorsal_tests::{Clinic, PASSWORD, TestApp};
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

async fn raw(app: &TestApp, path: &str, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut request = app.client.post(app.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "application/problem+json",
        "{path} {status}"
    );
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn malformed_empty_and_mistyped_bodies_are_told_apart_and_write_nothing() {
    let app = TestApp::spawn().await;
    let json_type = Some("application/json");
    // (content type, body, status, code, pointer of the first field error)
    type Case<'a> = (Option<&'a str>, Vec<u8>, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            json_type,
            b"{\"email\": ".to_vec(),
            400,
            "malformed_body",
            None,
        ),
        (json_type, b"".to_vec(), 400, "malformed_body", None),
        (
            json_type,
            b"not json at all".to_vec(),
            400,
            "malformed_body",
            None,
        ),
        (
            json_type,
            b"[1, 2]".to_vec(),
            422,
            "invalid_body",
            Some("/0"),
        ),
        (
            json_type,
            br#"{"email": 5, "password": "x", "display_name": "y"}"#.to_vec(),
            422,
            "invalid_body",
            Some("/email"),
        ),
        (
            json_type,
            br#"{"email": "a@b.test"}"#.to_vec(),
            422,
            "invalid_body",
            Some(""),
        ),
        (
            Some("application/json; charset=utf-8"),
            br#"{"email": null, "password": "x", "display_name": "y"}"#.to_vec(),
            422,
            "invalid_body",
            Some("/email"),
        ),
        (
            None,
            br#"{"email": "a@b.test", "password": "0123456789", "display_name": "y"}"#.to_vec(),
            415,
            "unsupported_media_type",
            None,
        ),
        (
            Some("text/plain"),
            br#"{"email": "a@b.test", "password": "0123456789", "display_name": "y"}"#.to_vec(),
            415,
            "unsupported_media_type",
            None,
        ),
    ];
    for (content_type, body, status, code, pointer) in cases {
        let (got, problem) = raw(&app, "/v1/auth/register", content_type, body).await;
        assert_eq!(
            (got, problem["code"].as_str()),
            (status, Some(code)),
            "{problem}"
        );
        if let Some(pointer) = pointer {
            assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
        }
    }
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn an_oversized_body_is_413_and_writes_nothing() {
    let app = TestApp::spawn_with(|c| c.http.body_limit_bytes = 2048).await;
    let name = "n".repeat(4096);
    let body = json!({"email": "a@b.test", "password": PASSWORD, "display_name": name});
    let (status, problem) = raw(
        &app,
        "/v1/auth/register",
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn unknown_routes_methods_paths_and_queries_answer_problem_json() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Clinic").await;
    let token = Some(org.admin.token.as_str());
    assert_eq!(
        app.get("/v1/nothing-here", token, 404).await["code"],
        "not_found"
    );
    assert_eq!(
        app.get("/v1/patients/not-a-uuid", token, 404).await["code"],
        "not_found"
    );
    assert_eq!(
        app.get("/v1/patients?limit=lots", token, 400).await["code"],
        "invalid_query"
    );
    assert_eq!(
        app.get("/v1/patients?cursor=zzz", token, 400).await["code"],
        "invalid_query"
    );

    let response = app
        .client
        .delete(app.url("/v1/me/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET,HEAD");
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "method_not_allowed"
    );
}

#[tokio::test]
async fn staff_roles_are_validated() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Clinic").await;
    let token = Some(org.admin.token.as_str());
    let body = |role: &str| json!({"email": "x@clinic.test", "password": PASSWORD, "role": role, "display_name": "X"});
    let unknown = app.post("/v1/staff", token, body("root"), 422).await;
    assert_eq!(unknown["errors"][0]["pointer"], "/role");
    let patient = app.post("/v1/staff", token, body("patient"), 422).await;
    assert_eq!(patient["code"], "validation_failed");
    assert_eq!(patient["errors"][0]["pointer"], "/role");
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn a_lost_database_is_503_with_nothing_internal_in_the_body() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    app.core.db.clone().close().await.unwrap();
    let problem = app.get("/v1/me", Some(&patient.token), 503).await;
    assert_eq!(problem["code"], "unavailable");
    let text = problem.to_string().to_lowercase();
    for leak in ["sqlx", "pool", "sqlite", "postgres", "closed"] {
        assert!(!text.contains(leak), "{text}");
    }
    assert_eq!(app.get("/readyz", None, 503).await["code"], "unavailable");
    app.get("/healthz", None, 200).await;
}

// Found by the push decoder's property tests (domain::sync::record_props):
// "+1:30" and "07:-0" parsed as integers and passed for HH:MM.
#[tokio::test]
async fn signed_hours_and_minutes_are_not_local_times() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let profile = json!({"id": patient.id.to_string(), "timezone": "UTC",
        "stretch_reminder_time": "+1:30", "quiet_start": "22:00", "quiet_end": "07:-0"});
    let body = json!({"changes": {"profiles": {"created": [profile]}}, "lastPulledAt": null});
    let answer = app
        .post("/v1/sync/push", Some(&patient.token), body, 200)
        .await;
    assert_eq!(
        answer["results"]["profiles"][patient.id.to_string()],
        "rejected"
    );
    let pointers: Vec<&str> = answer["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        ["/stretch_reminder_time", "/quiet_end"],
        "{answer}"
    );
    assert_eq!(app.count("profiles").await, 0);

    let plan = json!({"title": "Evening", "starts_on": "2026-01-01", "reminder_time": "-0:30",
        "items": [{"exercise_slug": "knees-to-chest"}]});
    let problem = app
        .post(
            &format!("/v1/patients/{}/plans", patient.id),
            Some(&therapist.token),
            plan,
            422,
        )
        .await;
    assert_eq!(
        problem["errors"][0]["pointer"], "/reminder_time",
        "{problem}"
    );
    assert_eq!(app.count("exercise_plans").await, 0);
}

// Found by .ci/fuzz-api once the push body was documented: the body's
// lastPulledAt took any i64 (the query's is checked) and refused 4.0, which
// JSON Schema counts as an integer.
#[tokio::test]
async fn a_push_cursor_must_be_one_a_pull_could_return() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    for cursor in [
        json!(-1),
        json!(9_007_199_254_740_992_i64),
        json!(1.5),
        json!("3"),
    ] {
        let body = format!(r#"{{"changes": {{}}, "lastPulledAt": {cursor}}}"#);
        let response = app
            .client
            .post(app.url("/v1/sync/push"))
            .bearer_auth(&patient.token)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{cursor}");
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "malformed_body", "{cursor}: {problem}");
    }
    let whole = json!({"changes": {"pain_logs": {"created": [{"id": "p1",
        "recorded_at": 1_763_900_000_000_i64, "intensity": 3}]}}, "lastPulledAt": 4.0});
    let answer = app
        .post("/v1/sync/push", Some(&patient.token), whole, 200)
        .await;
    assert_eq!(answer["results"]["pain_logs"]["p1"], "applied");
}

#[tokio::test]
async fn a_nul_character_is_refused_where_it_stands_and_nothing_else_is_lost() {
    let app = TestApp::spawn().await;
    let who = app.register_patient().await;
    // In a diary note: that record alone is refused; the rest is stored.
    let body = json!({"changes": {"pain_logs": {"created": [
        {"id": "nul", "recorded_at": 1_763_900_000_000_i64, "intensity": 3, "note": "a\u{0}b"},
        {"id": "fine", "recorded_at": 1_763_900_000_000_i64, "intensity": 3, "note": "ok"}],
        "deleted": ["x\u{0}y"]},
        "sleep_logs": {"created": [{"id": "s\u{0}1", "night_of": "2026-11-20"}],
            "updated": [{"id": "s2", "night_of": "2026-11-20", "_changed": "note\u{0}"}]}}});
    let outcome = app.post("/v1/sync/push", Some(&who.token), body, 200).await;
    assert_eq!(
        outcome["results"]["pain_logs"]["nul"], "rejected",
        "{outcome}"
    );
    assert_eq!(
        outcome["results"]["pain_logs"]["fine"], "applied",
        "{outcome}"
    );
    assert_eq!(app.count("pain_logs").await, 1);
    // Anywhere in any other body: a 422 that points at it.
    for (path, body, pointer) in [
        (
            "/v1/auth/register",
            json!({"email": "n@home.test", "password": "long enough pass", "display_name": "A\u{0}"}),
            "/display_name",
        ),
        ("/v1/care-team/join", json!({"code": "AB\u{0}CD"}), "/code"),
        (
            "/v1/devices",
            json!({"provider": "fcm", "token": "t\u{0}"}),
            "/token",
        ),
    ] {
        let problem = app.post(path, Some(&who.token), body, 422).await;
        assert_eq!(
            problem["errors"][0]["pointer"], pointer,
            "{path}: {problem}"
        );
    }
    // A backslash followed by "u0000" is ordinary text.
    app.post(
        "/v1/devices",
        Some(&who.token),
        json!({"provider": "fcm", "token": "t\\u0000"}),
        201,
    )
    .await;
}
