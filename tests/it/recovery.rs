//! Password reset by email (SPEC §10), checked where the mail lands, and
//! the limits on guessing shared by every API process.

use std::sync::Arc;
use std::time::Duration;

use dorsal_service::Core;
use dorsal_service::config::Config;
use dorsal_tests::{Clinic, PASSWORD, SentMail, TestApp, assert_problem, serve};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const NEW_PASSWORD: &str = "a brand new password";

async fn ask(app: &TestApp, email: &str, language: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/v1/auth/password-reset"))
        .json(&json!({"email": email}));
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    request.send().await.unwrap()
}

async fn ask_ok(app: &TestApp, email: &str) {
    let answer = ask(app, email, None).await;
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    assert_eq!(answer.text().await.unwrap(), "");
}

/// The next email to `to`, once the worker has delivered it: the code is
/// made and mailed after the request is answered.
async fn mail_to(app: &TestApp, to: &str, seen: usize) -> SentMail {
    for _ in 0..200 {
        app.deliver_mail().await;
        let mails: Vec<SentMail> = app.mailbox().into_iter().filter(|m| m.to == to).collect();
        if mails.len() > seen {
            return mails[seen].clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no email reached {to}");
}

fn code_in(mail: &SentMail) -> String {
    let digits: Vec<&str> = mail
        .body
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() == 8)
        .collect();
    assert_eq!(digits.len(), 1, "{}", mail.body);
    digits[0].to_owned()
}

async fn confirm(app: &TestApp, email: &str, code: &str, password: &str, expect: u16) -> Value {
    app.post(
        "/v1/auth/password-reset/confirm",
        None,
        json!({"email": email, "code": code, "new_password": password}),
        expect,
    )
    .await
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_patient_resets_their_password_with_the_emailed_code_and_every_session_ends() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let other_device = app.login(&patient.email).await;
    ask_ok(&app, &patient.email).await;
    let mail = mail_to(&app, &patient.email, 0).await;
    assert_eq!(mail.subject, "Your dorsal password reset code");
    assert!(mail.body.contains("30 minutes"), "{}", mail.body);
    let code = code_in(&mail);
    // Only a keyed digest is stored, and the sent email's body is cleared.
    let stored: String = app.scalar("SELECT code_digest FROM password_resets").await;
    assert!(!stored.contains(&code));
    assert_eq!(
        app.scalar::<i64>("SELECT COUNT(*) FROM mail_outbox WHERE body IS NOT NULL")
            .await,
        0
    );

    // A weak new password costs no attempt and spends nothing.
    let weak = confirm(&app, &patient.email, &code, "short", 422).await;
    assert_eq!(weak["errors"][0]["pointer"], "/new_password");
    let spaced = format!("{} {}", &code[..4], &code[4..]);
    confirm(&app, &patient.email, &spaced, NEW_PASSWORD, 204).await;

    for session in [&patient, &other_device] {
        let refused = app
            .post(
                "/v1/auth/refresh",
                None,
                json!({"refresh_token": session.refresh}),
                401,
            )
            .await;
        assert_eq!(refused["status"], 401);
    }
    assert_eq!(login_status(&app, &patient.email, PASSWORD).await, 401);
    assert_eq!(login_status(&app, &patient.email, NEW_PASSWORD).await, 200);
    // Single use.
    let spent = confirm(&app, &patient.email, &code, "yet another password", 400).await;
    assert_problem(&spent, 400, "invalid_reset_code");
    assert_eq!(login_status(&app, &patient.email, NEW_PASSWORD).await, 200);
}

#[tokio::test]
async fn an_unknown_email_gets_the_same_answer_and_no_mail() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let unknown = ask(&app, "nobody@home.test", None).await;
    let known = ask(&app, &patient.email, None).await;
    assert_eq!(unknown.status(), known.status());
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.text().await.unwrap(), known.text().await.unwrap());
    mail_to(&app, &patient.email, 0).await;
    app.deliver_mail().await;
    let mailbox = app.mailbox();
    assert_eq!(mailbox.len(), 1);
    assert_eq!(app.count("password_resets").await, 1);
    // Nor does a deactivated account get a code.
    let Clinic {
        app,
        org,
        clinician,
        ..
    } = Clinic::spawn().await;
    app.call(
        reqwest::Method::PATCH,
        &format!("/v1/staff/{}", clinician.id),
        Some(&org.admin.token),
        Some(json!({"active": false})),
        200,
    )
    .await;
    ask_ok(&app, &clinician.email).await;
    ask_ok(&app, &org.admin.email).await;
    mail_to(&app, &org.admin.email, 0).await;
    assert!(app.mailbox().iter().all(|m| m.to != clinician.email));
    let refused = confirm(&app, &clinician.email, "12345678", NEW_PASSWORD, 400).await;
    assert_problem(&refused, 400, "invalid_reset_code");
}

#[tokio::test]
async fn the_email_is_in_the_readers_language_and_carries_no_health_detail() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let answer = ask(&app, &patient.email, Some("es-MX, en;q=0.5")).await;
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    let mail = mail_to(&app, &patient.email, 0).await;
    assert!(
        mail.subject.contains("restablecer la contraseña"),
        "{}",
        mail.subject
    );
    assert!(mail.body.contains("30 minutos"), "{}", mail.body);
    for word in ["pain", "dolor", "alert", "sleep", "Pat"] {
        assert!(!mail.raw.contains(word), "{word} in {}", mail.raw);
    }
    // A language the catalogs lack falls back to English.
    ask(&app, &patient.email, Some("tlh")).await;
    let english = mail_to(&app, &patient.email, 1).await;
    assert_eq!(english.subject, "Your dorsal password reset code");
    // Once the patient's profile says Spanish, that wins over the request.
    dorsal_tests::sync::profile(
        &app,
        &patient,
        serde_json::json!({"timezone": "UTC", "language": "es"}),
    )
    .await;
    ask(&app, &patient.email, Some("en-GB")).await;
    let spanish = mail_to(&app, &patient.email, 2).await;
    assert!(
        spanish.subject.contains("restablecer la contraseña"),
        "{}",
        spanish.subject
    );
    // A profile still on the default English leaves the request's choice.
    dorsal_tests::sync::profile(&app, &patient, json!({"timezone": "UTC", "language": null})).await;
    ask(&app, &patient.email, Some("es")).await;
    let asked = mail_to(&app, &patient.email, 3).await;
    assert!(
        asked.subject.contains("restablecer la contraseña"),
        "{}",
        asked.subject
    );
}

#[tokio::test]
async fn five_wrong_codes_spend_it_and_malformed_ones_change_nothing() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    ask_ok(&app, &patient.email).await;
    let code = code_in(&mail_to(&app, &patient.email, 0).await);
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for malformed in ["abc", "", "1234567", "123456789", "12345678x"] {
        let refused = confirm(&app, &patient.email, malformed, NEW_PASSWORD, 400).await;
        assert_problem(&refused, 400, "invalid_reset_code");
    }
    for _ in 0..4 {
        confirm(&app, &patient.email, wrong, NEW_PASSWORD, 400).await;
    }
    assert_eq!(
        app.scalar::<i64>("SELECT CAST(MAX(attempts) AS BIGINT) FROM password_resets")
            .await,
        4
    );
    // The fifth wrong code spends it: the right one no longer works.
    confirm(&app, &patient.email, wrong, NEW_PASSWORD, 400).await;
    confirm(&app, &patient.email, &code, NEW_PASSWORD, 400).await;
    assert_eq!(login_status(&app, &patient.email, PASSWORD).await, 200);
}

#[tokio::test]
async fn a_code_works_only_for_its_account_until_it_expires_or_is_replaced() {
    let app = TestApp::spawn().await;
    let alice = app.register_patient().await;
    let bob = app.register_patient().await;
    ask_ok(&app, &alice.email).await;
    let first = code_in(&mail_to(&app, &alice.email, 0).await);
    // Alice's code is not Bob's.
    confirm(&app, &bob.email, &first, NEW_PASSWORD, 400).await;
    // A new request replaces the earlier code.
    ask_ok(&app, &alice.email).await;
    let second = code_in(&mail_to(&app, &alice.email, 1).await);
    if first != second {
        confirm(&app, &alice.email, &first, NEW_PASSWORD, 400).await;
    }
    // Thirty minutes on, it has expired.
    app.clock.advance(Duration::from_secs(30 * 60 + 1));
    let expired = confirm(&app, &alice.email, &second, NEW_PASSWORD, 400).await;
    assert_problem(&expired, 400, "invalid_reset_code");
    assert_eq!(login_status(&app, &alice.email, PASSWORD).await, 200);
    assert_eq!(login_status(&app, &bob.email, PASSWORD).await, 200);
}

#[tokio::test]
async fn staff_reset_too_and_the_org_sees_it_in_its_audit_log() {
    let Clinic {
        app,
        org,
        therapist,
        ..
    } = Clinic::spawn().await;
    ask_ok(&app, &therapist.email).await;
    let code = code_in(&mail_to(&app, &therapist.email, 0).await);
    confirm(&app, &therapist.email, &code, NEW_PASSWORD, 204).await;
    app.get("/v1/alerts", Some(&therapist.token), 200).await;
    app.post(
        "/v1/auth/refresh",
        None,
        json!({"refresh_token": therapist.refresh}),
        401,
    )
    .await;
    let audit = app.get("/v1/audit", Some(&org.admin.token), 200).await;
    assert!(audit["items"].as_array().unwrap().iter().any(|e| {
        e["action"] == "staff.password_reset" && e["subject_id"] == json!(therapist.id)
    }));
}

#[tokio::test]
async fn bad_requests_get_a_clear_problem_and_store_nothing() {
    let app = TestApp::spawn().await;
    for body in [
        json!({}),
        json!({"email": 7}),
        json!({"email": "not an email"}),
        json!([]),
    ] {
        let answer = app
            .post("/v1/auth/password-reset", None, body.clone(), 422)
            .await;
        assert_eq!(answer["status"], 422, "{body}");
    }
    for body in [
        json!({}),
        json!({"email": "a@b.test", "code": 12345678, "new_password": NEW_PASSWORD}),
    ] {
        app.post("/v1/auth/password-reset/confirm", None, body, 422)
            .await;
    }
    let empty = app
        .client
        .post(app.url("/v1/auth/password-reset"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status().as_u16() / 100, 4);
    assert_eq!(app.count("password_resets").await, 0);
    assert_eq!(app.count("mail_outbox").await, 0);
}

/// A second API process on the app's database, as `dorsal api` would be:
/// its address and the handle that stops it.
async fn second_process(
    app: &TestApp,
    tweak: impl FnOnce(&mut Config),
) -> (std::net::SocketAddr, CancellationToken) {
    let mut config = app.database.config();
    tweak(&mut config);
    let core = Core::open(config, Arc::new(app.clock.clone()), false)
        .await
        .unwrap();
    serve(&core).await
}

async fn status_of(client: &reqwest::Client, url: String, body: Value) -> u16 {
    client
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn every_limit_is_shared_by_all_api_processes() {
    let limits = |c: &mut Config| {
        c.auth.reset_per_email_per_hour = 2;
        c.auth.reset_per_address_per_hour = 3;
        c.auth.register_per_address_per_hour = 2;
        c.auth.login_per_account_per_minute = 2;
    };
    let app = TestApp::spawn_with(limits).await;
    let (other, stop) = second_process(&app, limits).await;
    let here = |path: &str| app.url(path);
    let there = |path: &str| format!("http://{other}{path}");
    let client = &app.client;

    // Registration: one here, one there, and the third is refused on
    // either.
    let register = |n: u32| json!({"email": format!("new{n}@home.test"), "password": PASSWORD, "display_name": "Pat"});
    assert_eq!(
        status_of(client, here("/v1/auth/register"), register(0)).await,
        201
    );
    assert_eq!(
        status_of(client, there("/v1/auth/register"), register(1)).await,
        201
    );
    assert_eq!(
        status_of(client, here("/v1/auth/register"), register(2)).await,
        429
    );
    assert_eq!(
        status_of(client, there("/v1/auth/register"), register(3)).await,
        429
    );

    // Login attempts per account.
    let login = json!({"email": "new0@home.test", "password": "wrong password"});
    assert_eq!(
        status_of(client, here("/v1/auth/login"), login.clone()).await,
        401
    );
    assert_eq!(
        status_of(client, there("/v1/auth/login"), login.clone()).await,
        401
    );
    assert_eq!(status_of(client, here("/v1/auth/login"), login).await, 429);

    // Reset requests per email, then per address.
    let reset = |email: &str| json!({"email": email});
    assert_eq!(
        status_of(
            client,
            here("/v1/auth/password-reset"),
            reset("new1@home.test")
        )
        .await,
        202
    );
    assert_eq!(
        status_of(
            client,
            there("/v1/auth/password-reset"),
            reset("new1@home.test")
        )
        .await,
        202
    );
    let limited = client
        .post(here("/v1/auth/password-reset"))
        .json(&reset("new1@home.test"))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1800).contains(&retry_after), "{retry_after}");
    assert_problem(&limited.json().await.unwrap(), 429, "rate_limited");
    // That was the address's third; a fourth, for another email, is over
    // the address's limit.
    assert_eq!(
        status_of(
            client,
            there("/v1/auth/password-reset"),
            reset("new0@home.test")
        )
        .await,
        429
    );

    // The table holds digests, never an address or an email.
    let keys: Vec<String> = app.column("SELECT key FROM rate_limits").await;
    assert!(!keys.is_empty());
    for key in keys {
        assert!(
            !key.contains("127.0.0.1") && !key.contains("home.test"),
            "{key}"
        );
    }
    stop.cancel();
}
