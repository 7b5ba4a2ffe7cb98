//! Accounts and tokens: register, login, refresh rotation and reuse, logout,
//! and every way a bearer token can be wrong.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dorsal_tests::{PASSWORD, TEST_JWT_SECRET, TestApp, assert_problem};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn a_patient_registers_logs_in_and_reads_their_account() {
    let app = TestApp::spawn().await;
    let created = app
        .post(
            "/v1/auth/register",
            None,
            json!({"email": "  Ana@Example.ORG ", "password": PASSWORD, "display_name": " Ana "}),
            201,
        )
        .await;
    assert_eq!(created["email"], "ana@example.org");
    assert_eq!(created["role"], "patient");
    assert_eq!(created["org_id"], Value::Null);

    let tokens = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": "ANA@example.org", "password": PASSWORD}),
            200,
        )
        .await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let me = app
        .get("/v1/me", tokens["access_token"].as_str(), 200)
        .await;
    assert_eq!(
        me,
        json!({"id": created["id"], "email": "ana@example.org", "display_name": "Ana",
        "role": "patient", "org_id": null})
    );
}

#[tokio::test]
async fn a_second_account_with_the_same_email_is_a_conflict_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "ana@example.org", "password": PASSWORD, "display_name": "Ana"});
    app.post("/v1/auth/register", None, body, 201).await;
    let again = json!({"email": "ANA@example.org", "password": PASSWORD, "display_name": "Other"});
    let problem = app.post("/v1/auth/register", None, again, 409).await;
    assert_problem(&problem, 409, "email_taken");
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn registration_names_every_invalid_field() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "not-an-email", "password": "short", "display_name": "  "});
    let problem = app.post("/v1/auth/register", None, body, 422).await;
    assert_problem(&problem, 422, "validation_failed");
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/email", "/password", "/display_name"]);
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let wrong = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": patient.email, "password": "wrong password"}),
            401,
        )
        .await;
    let unknown = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": "nobody@home.test", "password": PASSWORD}),
            401,
        )
        .await;
    assert_problem(&wrong, 401, "invalid_credentials");
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn logins_are_rate_limited_per_account() {
    let app = TestApp::spawn_with(|c| c.auth.login_per_account_per_minute = 3).await;
    let patient = app.register_patient().await; // one login already spent
    let wrong = json!({"email": patient.email, "password": "wrong password"});
    app.post("/v1/auth/login", None, wrong.clone(), 401).await;
    app.post("/v1/auth/login", None, wrong.clone(), 401).await;
    let response = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(&response.json().await.unwrap(), 429, "rate_limited");
    // The limit is per account: another account still logs in.
    app.register_patient().await;
}

#[tokio::test]
async fn logins_are_rate_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.auth.login_per_address_per_minute = 2).await;
    for n in 0..2 {
        let body = json!({"email": format!("nobody{n}@home.test"), "password": PASSWORD});
        app.post("/v1/auth/login", None, body, 401).await;
    }
    let body = json!({"email": "someone-else@home.test", "password": PASSWORD});
    app.post("/v1/auth/login", None, body, 429).await;
}

#[tokio::test]
async fn registrations_are_rate_limited_per_address_before_any_work() {
    let app = TestApp::spawn_with(|c| c.auth.register_per_address_per_hour = 3).await;
    let body = |n: u32| json!({"email": format!("new{n}@home.test"), "password": PASSWORD, "display_name": "Pat"});
    for n in 0..3 {
        app.post("/v1/auth/register", None, body(n), 201).await;
    }
    let response = app
        .client
        .post(app.url("/v1/auth/register"))
        .json(&body(3))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1200).contains(&retry_after), "{retry_after}");
    assert_problem(&response.json().await.unwrap(), 429, "rate_limited");
    // A taken email is refused by the limit too: enumeration stays slow.
    app.post("/v1/auth/register", None, body(0), 429).await;
    assert_eq!(app.count("users").await, 3);
    // Logins from the same address are a separate budget.
    app.login("new0@home.test").await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let first = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": patient.refresh}),
            200,
        )
        .await;
    let second = first["refresh_token"].as_str().unwrap();
    assert_ne!(second, patient.refresh);
    app.get("/v1/me", first["access_token"].as_str(), 200).await;

    // The spent token comes back after the grace window: someone has a
    // copy. End the family.
    app.clock.advance(std::time::Duration::from_secs(11));
    let reused = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": patient.refresh}),
            401,
        )
        .await;
    assert_problem(&reused, 401, "refresh_token_reused");
    let revoked = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": second}),
            401,
        )
        .await;
    assert_problem(&revoked, 401, "invalid_refresh_token");

    // Another login is another family and still works.
    let other = app.login(&patient.email).await;
    app.post(
        "/v1/auth/refresh",
        None,
        json!({"refresh_token": other.refresh}),
        200,
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_presented_twice_at_once_gets_one_successor_and_keeps_the_family() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let body = json!({"refresh_token": patient.refresh});
    // Two tabs renewing at the same moment with the one token they share.
    let (a, b) = tokio::join!(
        app.post("/v1/auth/refresh", None, body.clone(), 200),
        app.post("/v1/auth/refresh", None, body.clone(), 200),
    );
    assert_eq!(a["refresh_token"], b["refresh_token"], "one successor");
    app.get("/v1/me", a["access_token"].as_str(), 200).await;
    app.get("/v1/me", b["access_token"].as_str(), 200).await;
    // Seconds later, within the window: the same successor again.
    app.clock.advance(std::time::Duration::from_secs(9));
    let again = app.post("/v1/auth/refresh", None, body.clone(), 200).await;
    assert_eq!(again["refresh_token"], a["refresh_token"]);
    // The family lives on: the successor renews.
    let next = json!({"refresh_token": a["refresh_token"]});
    let renewed = app.post("/v1/auth/refresh", None, next, 200).await;
    // Once the successor itself is spent, the old token is a stolen copy.
    let reused = app.post("/v1/auth/refresh", None, body, 401).await;
    assert_problem(&reused, 401, "refresh_token_reused");
    let ended = json!({"refresh_token": renewed["refresh_token"]});
    app.post("/v1/auth/refresh", None, ended, 401).await;
}

#[tokio::test]
async fn logout_ends_the_session_and_is_idempotent() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let body = json!({"refresh_token": patient.refresh});
    app.post("/v1/auth/logout", None, body.clone(), 204).await;
    app.post("/v1/auth/logout", None, body.clone(), 204).await;
    app.post("/v1/auth/refresh", None, body, 401).await;
}

#[tokio::test]
async fn unknown_refresh_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let problem = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": "nope"}),
            401,
        )
        .await;
    assert_problem(&problem, 401, "invalid_refresh_token");
}

fn claims(sub: Uuid, exp_offset: i64) -> Value {
    let now = jiff::Timestamp::now().as_second();
    json!({"sub": sub, "role": "patient", "org": null, "iat": now, "exp": now + exp_offset,
        "jti": Uuid::new_v4()})
}

fn sign(claims: &Value, secret: &str, kid: Option<String>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid;
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).unwrap().kid
}

#[tokio::test]
async fn every_kind_of_bad_token_is_refused_with_a_bearer_challenge() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let kid = kid_of(&patient.token);
    assert!(kid.is_some(), "tokens carry a kid");

    let expired = sign(&claims(patient.id, -60), TEST_JWT_SECRET, kid.clone());
    let wrong_signature = sign(
        &claims(patient.id, 600),
        "another-secret-another-secret-0000",
        kid.clone(),
    );
    let wrong_kid = sign(
        &claims(patient.id, 600),
        TEST_JWT_SECRET,
        Some("not-our-key".into()),
    );
    let no_kid = sign(&claims(patient.id, 600), TEST_JWT_SECRET, None);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(patient.id, 600).to_string());
    let alg_none = format!("{header}.{payload}.");
    let mut tampered = patient.token.clone();
    tampered.insert(tampered.len() / 2, 'x');

    let cases: [(Option<&str>, &str, &str); 8] = [
        (None, "missing_token", "Bearer"),
        (Some("Basic dXNlcjpwYXNz"), "missing_token", "Bearer"),
        (
            Some("Bearer not-a-jwt"),
            "invalid_token",
            "Bearer error=\"invalid_token\"",
        ),
        (
            Some(&format!("Bearer {expired}")),
            "token_expired",
            "Bearer error=\"invalid_token\"",
        ),
        (
            Some(&format!("Bearer {wrong_signature}")),
            "invalid_token",
            "Bearer error=\"invalid_token\"",
        ),
        (
            Some(&format!("Bearer {wrong_kid}")),
            "invalid_token",
            "Bearer error=\"invalid_token\"",
        ),
        (
            Some(&format!("Bearer {no_kid}")),
            "invalid_token",
            "Bearer error=\"invalid_token\"",
        ),
        (
            Some(&format!("Bearer {alg_none}")),
            "invalid_token",
            "Bearer error=\"invalid_token\"",
        ),
    ];
    for (authorization, code, challenge) in cases {
        let mut request = app.client.get(app.url("/v1/me"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        assert_eq!(
            response.headers()["www-authenticate"],
            challenge,
            "{authorization:?}"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        assert_problem(&response.json().await.unwrap(), 401, code);
    }
    let tampered = app.get("/v1/me", Some(&tampered), 401).await;
    assert_problem(&tampered, 401, "invalid_token");
    // The genuine token still works, and one signed by us with a valid kid too.
    app.get("/v1/me", Some(&patient.token), 200).await;
    app.get(
        "/v1/me",
        Some(&sign(&claims(patient.id, 600), TEST_JWT_SECRET, kid)),
        200,
    )
    .await;
}

#[tokio::test]
async fn a_token_signed_with_the_previous_secret_still_works_after_rotation() {
    let old = TestApp::spawn().await;
    let patient = old.register_patient().await;
    let rotated = TestApp::spawn_with(|c| {
        c.jwt_secret = Some("the-new-secret-the-new-secret-000000".into());
        c.auth.previous_jwt_secret = Some(TEST_JWT_SECRET.into());
    })
    .await;
    // Different database, same claims: the account lookup fails, the token
    // itself is accepted (401 account_gone, not invalid_token).
    let problem = rotated.get("/v1/me", Some(&patient.token), 401).await;
    assert_problem(&problem, 401, "account_gone");
    let without =
        TestApp::spawn_with(|c| c.jwt_secret = Some("the-new-secret-the-new-secret-000000".into()))
            .await;
    let problem = without.get("/v1/me", Some(&patient.token), 401).await;
    assert_problem(&problem, 401, "invalid_token");
}
