//! Operations: Prometheus metrics by route template, the API reader at
//! `/docs`, and request ids.

use dorsal_tests::Clinic;
use serde_json::json;

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_backlogs_without_patient_data() {
    let Clinic { app, patient, .. } = Clinic::spawn().await;
    let body = json!({"changes": {"pain_logs": {"created": [
        {"id": "m1", "recorded_at": 1_795_000_000_000_i64, "intensity": 4, "note": "secret-diary-words"}]}}});
    app.post("/v1/sync/push", Some(&patient.token), body, 200)
        .await;
    app.get(
        &format!("/v1/patients/{}", patient.id),
        Some(&patient.token),
        200,
    )
    .await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total")
            && l.contains(r#"route="/v1/sync/push""#)
            && l.contains(r#"status="200""#)),
        "{text}"
    );
    // Routes by template, never the raw path with its ids.
    assert!(text.contains(r#"route="/v1/patients/{id}""#), "{text}");
    assert!(!text.contains(&patient.id.to_string()));
    assert!(!text.contains("secret-diary-words"));
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"dorsal_sync_rows_total{direction="push"}"#));
    assert!(
        text.contains(r#"dorsal_delivery_backlog{outbox="webhook"} 0"#),
        "{text}"
    );
    assert!(text.contains(r#"dorsal_delivery_backlog{outbox="push"}"#));
}

#[tokio::test]
async fn docs_serve_a_reader_for_the_openapi_document() {
    let Clinic { app, .. } = Clinic::spawn().await;
    let response = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"data-url="/openapi.json""#));
    let document = app.get("/openapi.json", None, 200).await;
    assert!(document["paths"]["/v1/devices"].is_object());
    assert!(document["paths"]["/v1/me/export"].is_object());
}

#[tokio::test]
async fn the_demo_seeds_a_clinic_to_look_around_in() {
    let app = dorsal_tests::TestApp::spawn().await;
    let demo = dorsal_service::demo::seed(&app.core).await.unwrap();
    let login = |role: &str| {
        demo.logins
            .iter()
            .find(|l| l.role == role)
            .map(|l| l.email.clone())
            .unwrap()
    };
    let tokens = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": login("clinician"), "password": demo.password}),
            200,
        )
        .await;
    let token = tokens["access_token"].as_str().unwrap();
    let inbox = app.get("/v1/alerts", Some(token), 200).await;
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one red flag: {inbox}");
    assert_eq!(items[0]["severity"], "emergency");
    let patients = app.get("/v1/patients", Some(token), 200).await;
    assert_eq!(patients["items"].as_array().unwrap().len(), 3);
    let patient = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": login("patient"), "password": demo.password}),
            200,
        )
        .await;
    let page = app
        .get(
            "/v1/sync/pull?last_pulled_at=null",
            Some(patient["access_token"].as_str().unwrap()),
            200,
        )
        .await;
    assert_eq!(
        page["changes"]["sleep_logs"]["created"]
            .as_array()
            .unwrap()
            .len(),
        14
    );
    assert_eq!(
        page["changes"]["exercise_plans"]["created"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A second demo beside the first: new accounts, no clash.
    let again = dorsal_service::demo::seed(&app.core).await.unwrap();
    assert_ne!(again.logins[0].email, demo.logins[0].email);
}
