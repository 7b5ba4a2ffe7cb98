//! Operations: Prometheus metrics by route template, the API reader at
//! `/docs` (served by dorsal alone, under a same-origin policy), and
//! request ids.

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

/// Asserts that a Content-Security-Policy starts from `default-src 'none'`
/// and allows nothing from another origin: every source is `'self'` or
/// `'none'`, `data:` only for images, and never `'unsafe-inline'` or
/// `'unsafe-eval'`.
pub(crate) fn assert_same_origin_policy(csp: &str) {
    let directives: Vec<(&str, Vec<&str>)> = csp
        .split(';')
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            let mut words = d.split_whitespace();
            (words.next().unwrap(), words.collect())
        })
        .collect();
    assert!(
        directives.contains(&("default-src", vec!["'none'"])),
        "{csp}"
    );
    for (name, sources) in &directives {
        for source in sources {
            let allowed = match *source {
                "'self'" | "'none'" => true,
                "data:" => *name == "img-src",
                _ => false,
            };
            assert!(allowed, "{source} in {name}: {csp}");
        }
    }
}

/// The values of every `src` and `href` attribute in `html`.
fn linked(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for attribute in [" src=\"", " href=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            let end = rest.find('"').unwrap();
            found.push(&rest[..end]);
        }
    }
    found
}

#[tokio::test]
async fn docs_load_their_reader_from_dorsal_alone_under_a_same_origin_policy_as_the_clinic() {
    let app = dorsal_tests::TestApp::spawn().await;
    let response = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert_same_origin_policy(csp);
    for directive in ["script-src 'self';", "style-src 'self';"] {
        assert!(csp.contains(directive), "{csp}");
    }
    let html = response.text().await.unwrap();
    // No other origin named, and no inline script to allow.
    assert!(!html.contains("://"), "{html}");
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=\"/").count(),
        "{html}"
    );

    let links = linked(&html);
    assert!(links.len() >= 3, "{links:?}");
    for link in links {
        assert!(
            link.starts_with('/') && !link.starts_with("//"),
            "{link} is not a path on dorsal"
        );
        let response = app.client.get(app.url(link)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{link}");
        let content_type = response.headers()["content-type"].to_str().unwrap();
        let expected = match link.rsplit('.').next().unwrap() {
            "js" => "text/javascript",
            "css" => "text/css",
            "json" => "application/json",
            other => panic!("{link}: unexpected kind of asset {other}"),
        };
        assert!(content_type.starts_with(expected), "{link}: {content_type}");
        if !link.starts_with("/docs/") {
            continue;
        }
        let headers = response.headers().clone();
        assert_same_origin_policy(headers["content-security-policy"].to_str().unwrap());
        assert_eq!(headers["x-content-type-options"], "nosniff");
        // The path names the content, so it is cached for good.
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let plain = response.bytes().await.unwrap();
        assert!(!plain.is_empty());
        // Compressed on the way like any other response.
        let gzipped = app
            .client
            .get(app.url(link))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.headers()["content-encoding"], "gzip", "{link}");
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&gzipped.bytes().await.unwrap()[..]),
            &mut unzipped,
        )
        .unwrap();
        assert_eq!(unzipped, plain, "{link}");
    }

    let document = app.get("/openapi.json", None, 200).await;
    assert!(document["paths"]["/v1/devices"].is_object());
    assert!(document["paths"]["/v1/me/export"].is_object());

    // The clinic's pages are held to the same rule, with no script at all
    // (signed-in pages are checked in `clinic`).
    let sign_in = app.client.get(app.url("/clinic")).send().await.unwrap();
    let csp = sign_in.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert_same_origin_policy(csp);
    assert!(!csp.contains("script-src"), "{csp}");
    // Their styles come from dorsal's stylesheet, not from the page.
    let html = sign_in.text().await.unwrap();
    assert!(!html.contains("<style"), "{html}");
    let sheets: Vec<&str> = linked(&html)
        .into_iter()
        .filter(|l| l.ends_with(".css"))
        .collect();
    assert_eq!(sheets, ["/clinic/assets/clinic.css"]);
    let sheet = app.client.get(app.url(sheets[0])).send().await.unwrap();
    assert_eq!(sheet.status(), 200);
    assert!(
        sheet.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        sheet
            .text()
            .await
            .unwrap()
            .contains("@media (max-width:40rem)")
    );
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

#[tokio::test]
async fn every_failing_job_of_a_tick_is_logged_under_its_own_name() {
    let capture = dorsal_tests::capture_logs();
    let app = dorsal_tests::TestApp::spawn().await;
    // Two jobs claim an hourly slot in this table; without it both fail,
    // and the others still run.
    sea_orm::ConnectionTrait::execute_unprepared(&app.core.db, "DROP TABLE job_slots")
        .await
        .unwrap();
    let ctx = dorsal_worker::JobCtx::from(&app.core);
    let failed = dorsal_worker::jobs::tick(&ctx, jiff::Timestamp::now()).await;
    assert!(failed >= 2, "{failed}");
    let logged = capture.text();
    for job in ["expire_receipts", "forget_limits"] {
        assert!(
            logged
                .lines()
                .any(|line| line.contains("job failed") && line.contains(&format!("job=\"{job}\""))),
            "no failure logged for {job}"
        );
    }
}
