//! Security sweeps over the whole API, driven by its own OpenAPI document
//! so a new route cannot be forgotten: every secured operation refuses a
//! missing, forged or `alg: none` token with 401 problem+json.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dorsal_entity::user;
use dorsal_tests::{Clinic, TestApp};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

/// Every (method, concrete path) the document marks as needing a token,
/// with path parameters filled by a random id.
fn secured_operations(document: &Value) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    for (template, item) in paths {
        for (verb, operation) in item.as_object().into_iter().flatten() {
            let Ok(method) = Method::from_bytes(verb.to_uppercase().as_bytes()) else {
                continue;
            };
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            if !secured {
                continue;
            }
            let mut path = String::new();
            for segment in template.split('/') {
                if !path.is_empty() || !segment.is_empty() {
                    path.push('/');
                }
                if segment.starts_with('{') {
                    path.push_str(&Uuid::now_v7().to_string());
                } else {
                    path.push_str(segment);
                }
            }
            out.push((method, path));
        }
    }
    out
}

fn forged_tokens() -> Vec<(&'static str, String)> {
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = part(serde_json::json!({"sub": Uuid::now_v7(), "role": "admin",
        "exp": 4_102_444_800_i64, "iat": 1_700_000_000_i64, "jti": "x"}));
    vec![
        (
            "alg none",
            format!(
                "{}.{claims}.",
                part(serde_json::json!({"alg": "none", "typ": "JWT"}))
            ),
        ),
        (
            "RS256 header on an HS key",
            format!(
                "{}.{claims}.{}",
                part(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
                URL_SAFE_NO_PAD.encode([7u8; 256])
            ),
        ),
        (
            "HS256 signed with another key",
            format!(
                "{}.{claims}.{}",
                part(serde_json::json!({"alg": "HS256", "typ": "JWT"})),
                URL_SAFE_NO_PAD.encode([1u8; 32])
            ),
        ),
        ("not a token", "garbage".to_owned()),
    ]
}

#[tokio::test]
async fn every_secured_operation_refuses_missing_and_forged_tokens() {
    let app = TestApp::spawn().await;
    let tokens = forged_tokens()
        .into_iter()
        .map(|(name, token)| (name, Some(token)))
        .chain([("no token", None)])
        .collect();
    refused_everywhere(&app, tokens, None).await;
}

#[tokio::test]
async fn a_token_outliving_its_account_is_refused_everywhere_and_writes_nothing() {
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    app.call(
        Method::DELETE,
        "/v1/me",
        Some(&patient.token),
        Some(serde_json::json!({"password": dorsal_tests::PASSWORD})),
        204,
    )
    .await;
    user::Entity::update_many()
        .col_expr(user::Column::Active, false.into())
        .filter(user::Column::Id.eq(therapist.id))
        .exec(&app.core.db)
        .await
        .unwrap();
    let devices = app.count("devices").await;
    let audit = app.count("audit_log").await;
    let tokens = vec![
        ("an erased patient's token", Some(patient.token.clone())),
        (
            "a deactivated therapist's token",
            Some(therapist.token.clone()),
        ),
    ];
    refused_everywhere(&app, tokens, Some(["account_gone", "account_inactive"])).await;
    assert_eq!(app.count("devices").await, devices, "a device was stored");
    assert_eq!(app.count("audit_log").await, audit, "something was done");
    // Their other credentials are refused too; the org's admin still works.
    app.post(
        "/v1/auth/refresh",
        None,
        serde_json::json!({"refresh_token": therapist.refresh}),
        401,
    )
    .await;
    let login = app
        .post(
            "/v1/auth/login",
            None,
            serde_json::json!({"email": therapist.email, "password": dorsal_tests::PASSWORD}),
            401,
        )
        .await;
    assert_eq!(login["code"], "invalid_credentials");
    app.get("/v1/patients", Some(&org.admin.token), 200).await;
}

/// Calls every secured operation of the document with each token and
/// asserts a 401 problem+json, with one of `codes` when given.
async fn refused_everywhere(
    app: &TestApp,
    tokens: Vec<(&str, Option<String>)>,
    codes: Option<[&str; 2]>,
) {
    let document = app.get("/openapi.json", None, 200).await;
    let operations = secured_operations(&document);
    assert!(operations.len() > 30, "the sweep found too few operations");
    for (method, path) in &operations {
        for (what, token) in &tokens {
            let mut request = app.client.request(method.clone(), app.url(path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            // A body where one is expected, so no operation fails on it first.
            if matches!(
                *method,
                Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            ) {
                request = request.json(&serde_json::json!({}));
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            let body = response.text().await.unwrap();
            assert_eq!(
                status, 401,
                "{method} {path} with {what} was not refused: {body}"
            );
            assert!(
                content_type.starts_with("application/problem+json"),
                "{method} {path}"
            );
            if let Some(codes) = codes {
                let code = serde_json::from_str::<Value>(&body).unwrap()["code"].clone();
                assert!(codes.iter().any(|c| code == *c), "{method} {path}: {body}");
            }
        }
    }
}

/// A body each operation with a path parameter accepts, so the sweep below
/// reaches its access check rather than its validation. An operation added
/// without one here fails the sweep with a 422 until it is given one.
fn valid_body(method: &Method, template: &str) -> Option<Value> {
    let plan = serde_json::json!({"title": "Evening stretches", "starts_on": "2026-11-01",
        "items": [{"exercise_slug": "childs-pose"}]});
    match (method.as_str(), template) {
        ("POST", "/v1/patients/{id}/plans") | ("PUT", "/v1/plans/{id}") => Some(plan),
        ("POST", "/v1/alerts/{id}/resolve") => Some(serde_json::json!({"note": "seen"})),
        ("PATCH", "/v1/staff/{id}") => Some(serde_json::json!({"active": false})),
        ("POST", _) | ("PUT", _) => Some(serde_json::json!({})),
        _ => None,
    }
}

/// A query string with a value for each required query parameter the
/// operation documents (dates are all this API requires).
fn required_query(operation: &Value) -> String {
    let pairs: Vec<String> = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query" && p["required"] == true)
        .map(|p| {
            let value = match p["schema"]["format"].as_str() {
                Some("date") => "2026-11-01",
                _ => "1",
            };
            format!("{}={value}", p["name"].as_str().unwrap_or_default())
        })
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// The ids another org must not reach, by the collection a path names.
struct Theirs {
    patient: String,
    alert: String,
    plan: String,
    device: String,
    webhook: String,
    org: String,
    staff: String,
}

impl Theirs {
    /// Ids that name nothing.
    fn nobodys() -> Theirs {
        let id = || Uuid::now_v7().to_string();
        Theirs {
            patient: id(),
            alert: id(),
            plan: id(),
            device: id(),
            webhook: id(),
            org: id(),
            staff: id(),
        }
    }

    fn fill(&self, template: &str) -> String {
        let id = match template.split('/').nth(2) {
            Some("patients") => &self.patient,
            Some("alerts") => &self.alert,
            Some("plans") => &self.plan,
            Some("devices") => &self.device,
            Some("webhooks") => &self.webhook,
            Some("care-team") => &self.org,
            Some("staff") => &self.staff,
            other => panic!("no fixture id for {other:?}: add one"),
        };
        template
            .replace("{id}", id)
            .replace("{org_id}", id)
            .replace("{version}", "1")
    }

    fn all(&self) -> [&str; 7] {
        [
            &self.patient,
            &self.alert,
            &self.plan,
            &self.device,
            &self.webhook,
            &self.org,
            &self.staff,
        ]
    }
}

/// What the owning org and patient see of their data: must not change
/// whatever another org tries.
async fn owners_view(app: &TestApp, clinic: &dorsal_tests::Clinic, theirs: &Theirs) -> Vec<Value> {
    let (therapist, clinician, patient) = (&clinic.therapist, &clinic.clinician, &clinic.patient);
    vec![
        app.get(
            &format!("/v1/alerts/{}", theirs.alert),
            Some(&clinician.token),
            200,
        )
        .await,
        app.get(
            &format!("/v1/plans/{}", theirs.plan),
            Some(&therapist.token),
            200,
        )
        .await,
        app.get("/v1/webhooks", Some(&clinic.org.admin.token), 200)
            .await,
        app.get("/v1/devices", Some(&patient.token), 200).await,
        app.get(
            "/v1/sync/pull?last_pulled_at=null&schema_version=1",
            Some(&patient.token),
            200,
        )
        .await,
    ]
}

#[tokio::test]
async fn another_orgs_tokens_get_the_same_answer_as_for_ids_that_do_not_exist() {
    let clinic = dorsal_tests::Clinic::spawn().await;
    let app = &clinic.app;
    // The first org's patient has diaries, a red-flag alert, a device and
    // a plan; the org has a webhook.
    const NOTE: &str = "numb-saddle-ZQXJ";
    let now = jiff::Timestamp::now().as_millisecond();
    let logs = serde_json::json!({"pain_logs": {"created": [
        {"id": "e1", "recorded_at": now - 60_000, "intensity": 8, "saddle_numbness": true, "note": NOTE},
        {"id": "e2", "recorded_at": now - 120_000, "intensity": 3, "note": NOTE}]}});
    app.post(
        "/v1/sync/push",
        Some(&clinic.patient.token),
        serde_json::json!({"changes": logs}),
        200,
    )
    .await;
    let alerts = app
        .get("/v1/alerts", Some(&clinic.clinician.token), 200)
        .await;
    let device = app
        .post(
            "/v1/devices",
            Some(&clinic.patient.token),
            serde_json::json!({"provider": "fcm", "token": "their-phone"}),
            201,
        )
        .await;
    let plan =
        dorsal_tests::reminders::new_plan(app, &clinic.therapist, &clinic.patient, None).await;
    let webhook = app
        .post(
            "/v1/webhooks",
            Some(&clinic.org.admin.token),
            serde_json::json!({"url": "http://127.0.0.1:9/hook"}),
            201,
        )
        .await;
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    let theirs = Theirs {
        patient: clinic.patient.id.to_string(),
        alert: text(&alerts["items"][0]["id"]),
        plan,
        device: text(&device["id"]),
        webhook: text(&webhook["id"]),
        org: clinic.org.id.to_string(),
        staff: clinic.therapist.id.to_string(),
    };
    let before = owners_view(app, &clinic, &theirs).await;

    // A second org with every role, and its own patient.
    let other = app.create_org("Elsewhere").await;
    let therapist = app.add_staff(&other, "therapist").await;
    let mut callers = vec![
        ("admin", other.admin.clone()),
        ("clinician", app.add_staff(&other, "clinician").await),
        ("patient", app.patient_of(&therapist).await),
    ];
    callers.push(("therapist", therapist));

    let document = app.get("/openapi.json", None, 200).await;
    let mut swept = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        for (verb, operation) in item.as_object().unwrap() {
            let Ok(method) = Method::from_bytes(verb.to_uppercase().as_bytes()) else {
                continue;
            };
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let streams = operation["responses"]["200"]["content"]
                .get("text/event-stream")
                .is_some();
            if !secured || streams {
                continue;
            }
            for (role, caller) in &callers {
                let query = required_query(operation);
                let call = |path: String| {
                    let mut request = app
                        .client
                        .request(method.clone(), app.url(&format!("{path}{query}")))
                        .bearer_auth(&caller.token);
                    if let Some(body) = valid_body(&method, template) {
                        request = request.json(&body);
                    }
                    request.send()
                };
                if template.contains('{') {
                    // Their id, then one that names nothing: one answer.
                    let real = call(theirs.fill(template)).await.unwrap();
                    let status = real.status();
                    let body = real.text().await.unwrap();
                    let missing = call(Theirs::nobodys().fill(template))
                        .await
                        .unwrap()
                        .status();
                    assert!(
                        status == 404 || status == 403,
                        "{role}: {method} {template} answered {status}: {body}"
                    );
                    assert_eq!(
                        status, missing,
                        "{role}: {method} {template} tells their id from a missing one"
                    );
                    swept += 1;
                } else if method == Method::GET {
                    // Lists and searches show none of it.
                    let body = call(template.clone()).await.unwrap().text().await.unwrap();
                    for id in theirs.all().into_iter().chain([NOTE]) {
                        assert!(
                            !body.contains(id),
                            "{role}: GET {template} shows another org's {id}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        swept >= 4 * 15,
        "the sweep found too few operations: {swept}"
    );
    assert_eq!(
        owners_view(app, &clinic, &theirs).await,
        before,
        "nothing of theirs changed"
    );
}

#[tokio::test]
async fn the_document_lists_the_errors_every_operation_can_answer() {
    let app = TestApp::spawn().await;
    let document = app.get("/openapi.json", None, 200).await;
    for (template, item) in document["paths"].as_object().unwrap() {
        for (verb, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            let mut expected = Vec::new();
            if operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
            {
                expected.extend(["401", "403", "503"]);
            }
            if operation.get("requestBody").is_some() {
                expected.extend(["400", "413", "415", "422"]);
            }
            if template.contains('{') {
                expected.push("404");
            }
            for status in expected {
                assert!(
                    responses.get(status).is_some(),
                    "{verb} {template} does not document {status}"
                );
            }
            for (status, response) in responses.as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{verb} {template} {status} is not a problem"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn sql_in_any_input_is_stored_or_refused_as_data_never_run() {
    let clinic = dorsal_tests::Clinic::spawn().await;
    let (app, patient) = (&clinic.app, &clinic.patient);
    const SQL: &str = "x'); DROP TABLE pain_logs; --";
    let now = jiff::Timestamp::now().as_millisecond();
    // In a note: stored verbatim and pulled back verbatim.
    let logs = serde_json::json!({"pain_logs": {"created": [
        {"id": "q1", "recorded_at": now, "intensity": 2, "note": SQL},
        {"id": SQL, "recorded_at": now, "intensity": 2}]}});
    let outcome = app
        .post(
            "/v1/sync/push",
            Some(&patient.token),
            serde_json::json!({"changes": logs}),
            200,
        )
        .await;
    assert_eq!(outcome["results"]["pain_logs"]["q1"], "applied");
    assert_eq!(
        outcome["results"]["pain_logs"][SQL], "rejected",
        "{outcome}"
    );
    let page = app
        .get(
            "/v1/sync/pull?last_pulled_at=null&schema_version=1",
            Some(&patient.token),
            200,
        )
        .await;
    assert_eq!(page["changes"]["pain_logs"]["created"][0]["note"], SQL);
    // As a table name, a query value, a path id, a login and an invite.
    let table =
        serde_json::json!({"changes": {"pain_logs; DROP TABLE users; --": {"created": []}}});
    app.post("/v1/sync/push", Some(&patient.token), table, 400)
        .await;
    app.get(
        "/v1/sync/pull?last_pulled_at=1%3BDROP%20TABLE%20users",
        Some(&patient.token),
        400,
    )
    .await;
    app.get(
        "/v1/plans/1'%20OR%20'1'='1",
        Some(&clinic.therapist.token),
        404,
    )
    .await;
    app.get(
        "/v1/patients/00000000-0000-0000-0000-000000000000'%20OR%201=1--/plans",
        Some(&clinic.therapist.token),
        404,
    )
    .await;
    app.post(
        "/v1/auth/login",
        None,
        serde_json::json!({"email": "' OR 1=1 --", "password": "' OR 1=1 --"}),
        401,
    )
    .await;
    app.post(
        "/v1/care-team/join",
        Some(&patient.token),
        serde_json::json!({"code": "' OR '1'='1"}),
        404,
    )
    .await;
    // Everything is still there.
    assert_eq!(app.count("pain_logs").await, 1);
    assert!(app.count("users").await >= 4);
}
