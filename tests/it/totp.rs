//! Staff two-factor sign-in (TOTP): the RFC 6238 vectors, enrolment and
//! confirmation, logins with and without a code, the ±1 step window, the
//! replay guard, recovery codes, turning it off, and an org that requires
//! it.

use std::time::Duration;

use dorsal_service::clock::Clock;
use dorsal_tests::{Login, Org, PASSWORD, TestApp, assert_problem};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

/// Seconds one code lasts.
const STEP: i64 = 30;

/// An app whose login limits leave room for a test's many logins to one
/// account (the limits themselves are tested in `auth`).
async fn spawn() -> TestApp {
    TestApp::spawn_with(|config| {
        config.auth.login_per_account_per_minute = 1_000;
        config.auth.login_per_address_per_minute = 1_000;
    })
    .await
}

/// An app, an org, and one of its therapists.
async fn clinic() -> (TestApp, Org, Login) {
    let app = spawn().await;
    let org = app.create_org("Clinic").await;
    let therapist = app.add_staff(&org, "therapist").await;
    (app, org, therapist)
}

/// Moves the app's clock to about a second into a step it has not been in
/// yet, so the calls that follow fall within one step.
pub(crate) fn fresh_step(app: &TestApp) {
    let into_step = app.clock.now().as_millisecond().rem_euclid(STEP * 1000);
    let ahead = u64::try_from((STEP + 1) * 1000 - into_step).unwrap();
    app.clock.advance(Duration::from_millis(ahead));
}

/// The code `secret` gives `steps` steps from the app's now.
pub(crate) fn code(app: &TestApp, secret: &str, steps: i64) -> String {
    let at = app.clock.now().as_second() + steps * STEP;
    dorsal_service::totp::code_at(secret, u64::try_from(at).unwrap()).unwrap()
}

/// Turns TOTP on for `who`; returns the secret and the recovery codes.
/// The clock is left two steps past the confirming code's (which is
/// spent), so the previous step's code is unspent too.
pub(crate) async fn enrol(app: &TestApp, who: &Login) -> (String, Vec<String>) {
    let enrolment = app
        .call(
            reqwest::Method::POST,
            "/v1/me/totp",
            Some(&who.token),
            None,
            200,
        )
        .await;
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    fresh_step(app);
    let confirmed = app
        .post(
            "/v1/me/totp/confirm",
            Some(&who.token),
            json!({"code": code(app, &secret, 0)}),
            200,
        )
        .await;
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    fresh_step(app);
    fresh_step(app);
    (secret, codes)
}

/// A login as `email` with the fixture password and `totp`, if any.
pub(crate) async fn login_with(
    app: &TestApp,
    email: &str,
    totp: Option<&str>,
    expect: u16,
) -> Value {
    let mut body = json!({"email": email, "password": PASSWORD});
    if let Some(totp) = totp {
        body["totp"] = json!(totp);
    }
    app.post("/v1/auth/login", None, body, expect).await
}

fn token(tokens: &Value) -> &str {
    tokens["access_token"].as_str().unwrap()
}

#[test]
fn codes_match_the_rfc_6238_sha1_vectors() {
    // RFC 6238 Appendix B: the ASCII secret "12345678901234567890", whose
    // 8-digit codes end in our 6-digit ones.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    for (time, eight_digits) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        let code = dorsal_service::totp::code_at(secret, time).unwrap();
        assert_eq!(code, eight_digits[2..], "at {time}");
    }
}

#[tokio::test]
async fn staff_turn_totp_on_and_then_log_in_with_the_previous_current_or_next_code() {
    let (app, _, therapist) = clinic().await;
    let enrolment = app
        .call(
            reqwest::Method::POST,
            "/v1/me/totp",
            Some(&therapist.token),
            None,
            200,
        )
        .await;
    let secret = enrolment["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    let email = therapist.email.replace('@', "%40");
    assert!(
        uri.starts_with(&format!("otpauth://totp/dorsal:{email}?")),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("issuer=dorsal"), "{uri}");
    // Until confirmed, logins need no code.
    login_with(&app, &therapist.email, None, 200).await;
    // Restarting gives a new secret; the first one's codes no longer count.
    let restarted = app
        .call(
            reqwest::Method::POST,
            "/v1/me/totp",
            Some(&therapist.token),
            None,
            200,
        )
        .await;
    let fresh = restarted["secret"].as_str().unwrap().to_owned();
    assert_ne!(fresh, secret);
    fresh_step(&app);
    let stale = app
        .post(
            "/v1/me/totp/confirm",
            Some(&therapist.token),
            json!({"code": code(&app, secret, 0)}),
            400,
        )
        .await;
    assert_problem(&stale, 400, "invalid_totp");
    let confirmed = app
        .post(
            "/v1/me/totp/confirm",
            Some(&therapist.token),
            json!({"code": code(&app, &fresh, 0)}),
            200,
        )
        .await;
    let codes = confirmed["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let mut distinct: Vec<&str> = codes.iter().map(|c| c.as_str().unwrap()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    assert_eq!(app.count("totp_recovery_codes").await, 10);
    // Stored sealed, never as the secret itself.
    let stored: Option<String> = dorsal_entity::user::Entity::find_by_id(therapist.id)
        .one(&app.core.db)
        .await
        .unwrap()
        .unwrap()
        .totp_secret;
    let stored = stored.unwrap();
    assert!(
        stored.starts_with("v1.") && !stored.contains(&fresh),
        "{stored}"
    );

    // Two steps on, so that the previous step is not the confirming one.
    fresh_step(&app);
    fresh_step(&app);
    let required = login_with(&app, &therapist.email, None, 401).await;
    assert_problem(&required, 401, "totp_required");
    // Each code of a later step than the last one taken logs in.
    for steps in [-1, 0, 1] {
        let tokens = login_with(
            &app,
            &therapist.email,
            Some(&code(&app, &fresh, steps)),
            200,
        )
        .await;
        app.get("/v1/patients", Some(token(&tokens)), 200).await;
    }
}

#[tokio::test]
async fn wrong_far_old_and_spent_codes_get_the_answer_of_a_wrong_password() {
    let (app, _, therapist) = clinic().await;
    let (secret, _) = enrol(&app, &therapist).await;
    let wrong_password = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": therapist.email, "password": "not the password",
                   "totp": code(&app, &secret, 0)}),
            401,
        )
        .await;
    assert_problem(&wrong_password, 401, "invalid_credentials");
    let current = code(&app, &secret, 0);
    let window = [
        code(&app, &secret, -1),
        current.clone(),
        code(&app, &secret, 1),
    ];
    let wrong = (0..10)
        .map(|n| format!("{n}{n}{n}{n}{n}{n}"))
        .find(|c| !window.contains(c))
        .unwrap();
    for refused in [
        code(&app, &secret, 2),
        code(&app, &secret, -2),
        wrong,
        "abc".to_owned(),
        "1234567".to_owned(),
    ] {
        let answer = login_with(&app, &therapist.email, Some(&refused), 401).await;
        assert_eq!(answer, wrong_password, "{refused}");
    }
    login_with(&app, &therapist.email, Some(&current), 200).await;
    // The same code again, and a code of an earlier step, are spent.
    let replay = login_with(&app, &therapist.email, Some(&current), 401).await;
    assert_eq!(replay, wrong_password);
    let earlier = login_with(&app, &therapist.email, Some(&code(&app, &secret, -1)), 401).await;
    assert_eq!(earlier, wrong_password);
    // A minute on, the code is two steps old.
    app.clock.advance(Duration::from_secs(60));
    let old = login_with(&app, &therapist.email, Some(&current), 401).await;
    assert_eq!(old, wrong_password);
    login_with(&app, &therapist.email, Some(&code(&app, &secret, 0)), 200).await;
}

#[tokio::test]
async fn two_logins_at_once_with_one_code_give_one_session() {
    let (app, _, therapist) = clinic().await;
    let (secret, _) = enrol(&app, &therapist).await;
    let body = json!({"email": therapist.email, "password": PASSWORD,
                      "totp": code(&app, &secret, 0)});
    let send = || {
        app.client
            .post(app.url("/v1/auth/login"))
            .json(&body)
            .send()
    };
    let (first, second) = tokio::join!(send(), send());
    let mut statuses = [first.unwrap().status(), second.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED]);
}

#[tokio::test]
async fn a_recovery_code_logs_in_once() {
    let (app, _, therapist) = clinic().await;
    let (_, codes) = enrol(&app, &therapist).await;
    let tokens = login_with(&app, &therapist.email, Some(&codes[0]), 200).await;
    app.get("/v1/me", Some(token(&tokens)), 200).await;
    let again = login_with(&app, &therapist.email, Some(&codes[0]), 401).await;
    assert_problem(&again, 401, "invalid_credentials");
    // Typed in lower case, without the dash.
    let typed = codes[1].replace('-', "").to_lowercase();
    login_with(&app, &therapist.email, Some(&typed), 200).await;
}

#[tokio::test]
async fn turning_totp_off_takes_a_code_and_deletes_the_secret_and_recovery_codes() {
    let (app, org, therapist) = clinic().await;
    let (secret, codes) = enrol(&app, &therapist).await;
    let delete = |body: Value, expect: u16| {
        app.call(
            reqwest::Method::DELETE,
            "/v1/me/totp",
            Some(&therapist.token),
            Some(body),
            expect,
        )
    };
    for wrong in ["abc", "", "000000"] {
        if wrong == code(&app, &secret, 0) {
            continue;
        }
        let refused = delete(json!({"code": wrong}), 400).await;
        assert_problem(&refused, 400, "invalid_totp");
    }
    let missing = delete(json!({}), 422).await;
    assert_problem(&missing, 422, "invalid_body");
    assert_eq!(app.count("totp_recovery_codes").await, 10);
    login_with(&app, &therapist.email, None, 401).await;

    delete(json!({"code": codes[3]}), 204).await;
    assert_eq!(app.count("totp_recovery_codes").await, 0);
    login_with(&app, &therapist.email, None, 200).await;
    let off = delete(json!({"code": code(&app, &secret, 0)}), 409).await;
    assert_problem(&off, 409, "totp_not_enabled");

    // On again, and off with a current code.
    let (secret, _) = enrol(&app, &therapist).await;
    delete(json!({"code": code(&app, &secret, 0)}), 204).await;
    login_with(&app, &therapist.email, None, 200).await;

    let audit = app.get("/v1/audit", Some(&org.admin.token), 200).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_id"] == therapist.id.to_string())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "totp.disabled",
            "totp.enabled",
            "totp.disabled",
            "totp.enabled"
        ]
    );
}

#[tokio::test]
async fn only_staff_enrol_and_an_enabled_account_cannot_enrol_again() {
    let (app, _, therapist) = clinic().await;
    let patient = app.patient_of(&therapist).await;
    let post = |who: &Login, path: &'static str, expect: u16| {
        let token = who.token.clone();
        let app = &app;
        async move {
            app.call(
                reqwest::Method::POST,
                path,
                Some(&token),
                Some(json!({"code": "123456"})),
                expect,
            )
            .await
        }
    };
    assert_problem(&post(&patient, "/v1/me/totp", 403).await, 403, "forbidden");
    assert_problem(
        &post(&patient, "/v1/me/totp/confirm", 403).await,
        403,
        "forbidden",
    );
    let not_started = post(&therapist, "/v1/me/totp/confirm", 409).await;
    assert_problem(&not_started, 409, "totp_not_enrolling");

    enrol(&app, &therapist).await;
    let again = post(&therapist, "/v1/me/totp", 409).await;
    assert_problem(&again, 409, "totp_enabled");
    let confirm_again = post(&therapist, "/v1/me/totp/confirm", 409).await;
    assert_problem(&confirm_again, 409, "totp_enabled");
}

#[tokio::test]
async fn bad_input_gets_a_clear_problem_and_changes_nothing() {
    let (app, org, therapist) = clinic().await;
    app.call(
        reqwest::Method::POST,
        "/v1/me/totp",
        Some(&therapist.token),
        None,
        200,
    )
    .await;
    for (body, status, code) in [
        (json!({}), 422, "invalid_body"),
        (json!({"code": 123_456}), 422, "invalid_body"),
        (json!({"code": null}), 422, "invalid_body"),
        (json!({"code": "abc"}), 400, "invalid_totp"),
        (json!({"code": ""}), 400, "invalid_totp"),
    ] {
        let problem = app
            .post("/v1/me/totp/confirm", Some(&therapist.token), body, status)
            .await;
        assert_problem(&problem, status, code);
    }
    let response = app
        .client
        .post(app.url("/v1/me/totp/confirm"))
        .bearer_auth(&therapist.token)
        .header("content-type", "application/json")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    // Still off: a login needs no code.
    login_with(&app, &therapist.email, None, 200).await;
    let typed = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": therapist.email, "password": PASSWORD, "totp": 123_456}),
            422,
        )
        .await;
    assert_problem(&typed, 422, "invalid_body");

    for (body, status, code) in [
        (json!({}), 422, "invalid_body"),
        (json!({"require_totp": "yes"}), 422, "invalid_body"),
        (json!({"require_totp": null}), 422, "invalid_body"),
    ] {
        let problem = app
            .call(
                reqwest::Method::PATCH,
                "/v1/org",
                Some(&org.admin.token),
                Some(body),
                status,
            )
            .await;
        assert_problem(&problem, status, code);
    }
    let unchanged = app.get("/v1/org", Some(&org.admin.token), 200).await;
    assert_eq!(unchanged["require_totp"], false);
}

#[tokio::test]
async fn only_an_admin_changes_the_org_and_patients_do_not_see_it() {
    let (app, org, therapist) = clinic().await;
    let patient = app.patient_of(&therapist).await;
    let seen = app.get("/v1/org", Some(&therapist.token), 200).await;
    assert_eq!(
        seen,
        json!({"id": org.id, "name": "Clinic", "require_totp": false, "contact": null})
    );
    assert_problem(
        &app.get("/v1/org", Some(&patient.token), 403).await,
        403,
        "forbidden",
    );
    for who in [&therapist, &patient] {
        let refused = app
            .call(
                reqwest::Method::PATCH,
                "/v1/org",
                Some(&who.token),
                Some(json!({"require_totp": true})),
                403,
            )
            .await;
        assert_problem(&refused, 403, "forbidden");
    }
    let seen = app.get("/v1/org", Some(&org.admin.token), 200).await;
    assert_eq!(seen["require_totp"], false);
}

#[tokio::test]
async fn an_org_that_requires_totp_keeps_staff_without_it_to_their_own_account_until_they_enrol() {
    let (app, org, therapist) = clinic().await;
    let clinician = app.add_staff(&org, "clinician").await;
    let patient = app.patient_of(&therapist).await;
    // The admin turns it on for themselves first, then requires it.
    let (admin_secret, _) = enrol(&app, &org.admin).await;
    let changed = app
        .call(
            reqwest::Method::PATCH,
            "/v1/org",
            Some(&org.admin.token),
            Some(json!({"require_totp": true})),
            200,
        )
        .await;
    assert_eq!(changed["require_totp"], true);
    let audit = app.get("/v1/audit", Some(&org.admin.token), 200).await;
    assert_eq!(audit["items"][0]["action"], "org.totp_required");

    // Tokens of staff without TOTP, old and new, reach only /v1/me*.
    let fresh = login_with(&app, &clinician.email, None, 200).await;
    for restricted in [therapist.token.as_str(), token(&fresh)] {
        for path in ["/v1/patients", "/v1/org", "/v1/alerts", "/v1/audit"] {
            let refused = app.get(path, Some(restricted), 403).await;
            assert_problem(&refused, 403, "totp_enrolment_required");
        }
        app.get("/v1/me", Some(restricted), 200).await;
    }
    let invite = app
        .post("/v1/invites", Some(&therapist.token), json!({}), 403)
        .await;
    assert_problem(&invite, 403, "totp_enrolment_required");
    // Patients and staff with TOTP are not affected.
    app.get("/v1/me/export", Some(&patient.token), 200).await;
    app.get("/v1/patients", Some(&org.admin.token), 200).await;
    let admin_login = login_with(
        &app,
        &org.admin.email,
        Some(&code(&app, &admin_secret, 0)),
        200,
    )
    .await;
    app.get("/v1/audit", Some(token(&admin_login)), 200).await;

    // The therapist enrols with the restricted token; a fresh login then
    // gets a full token.
    let (secret, _) = enrol(&app, &therapist).await;
    let tokens = login_with(&app, &therapist.email, Some(&code(&app, &secret, 0)), 200).await;
    app.get("/v1/patients", Some(token(&tokens)), 200).await;
    app.post("/v1/invites", Some(token(&tokens)), json!({}), 201)
        .await;
    // The clinician is still held to their own account.
    let refused = app.get("/v1/patients", Some(token(&fresh)), 403).await;
    assert_problem(&refused, 403, "totp_enrolment_required");
}

#[tokio::test]
async fn the_document_describes_the_two_factor_operations_and_their_errors() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", None, 200).await;
    for (path, verb, statuses) in [
        ("/v1/me/totp", "post", &["200", "401", "403", "409"][..]),
        (
            "/v1/me/totp",
            "delete",
            &["204", "400", "401", "403", "409", "422"],
        ),
        (
            "/v1/me/totp/confirm",
            "post",
            &["200", "400", "403", "409", "422"],
        ),
        ("/v1/org", "get", &["200", "401", "403"]),
        ("/v1/org", "patch", &["200", "403", "422"]),
        ("/v1/auth/login", "post", &["200", "401", "429"]),
    ] {
        let responses = &doc["paths"][path][verb]["responses"];
        for status in statuses {
            assert!(responses.get(*status).is_some(), "{verb} {path} {status}");
        }
    }
    let login = &doc["components"]["schemas"]["LoginIn"]["properties"];
    assert!(login.get("totp").is_some(), "{login}");
    let described = doc["paths"]["/v1/auth/login"]["post"]["responses"]["401"]["description"]
        .as_str()
        .unwrap();
    assert!(described.contains("totp_required"), "{described}");
}

#[tokio::test]
async fn a_totp_secret_is_sealed_again_when_the_data_key_rotates_and_still_gives_codes() {
    let (app, _, therapist) = clinic().await;
    let (secret, _) = enrol(&app, &therapist).await;
    let stored = || async {
        dorsal_entity::user::Entity::find_by_id(therapist.id)
            .one(&app.core.db)
            .await
            .unwrap()
            .unwrap()
            .totp_secret
            .unwrap()
    };
    let before = stored().await;
    let mut config = app.database.config();
    config.data_key = Some("the-next-data-key-the-next-data-key-0000".into());
    config.previous_data_key = Some(dorsal_tests::TEST_DATA_KEY.into());
    let clock = std::sync::Arc::new(app.clock.clone());
    let migrated = dorsal_service::Core::open(config.clone(), clock.clone(), true)
        .await
        .unwrap();
    let after = stored().await;
    assert_ne!(after, before);
    assert!(after.starts_with(&format!("v1.{}.", migrated.data_keys.kid())));

    // Only the new key now: the code still logs in.
    config.previous_data_key = None;
    let rotated = dorsal_service::Core::open(config, clock, false)
        .await
        .unwrap();
    let (addr, shutdown) = dorsal_tests::serve(&rotated).await;
    let response = app
        .client
        .post(format!("http://{addr}/v1/auth/login"))
        .json(&json!({"email": therapist.email, "password": PASSWORD,
                      "totp": code(&app, &secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    shutdown.cancel();
}
