//! The clinic's account pages over HTTP (SPEC §10, §11): resetting a
//! forgotten password with the emailed code, turning two-factor sign-in
//! on and off on the account page, and enrolling at sign-in when the
//! clinic requires it, with nothing else reachable before.

use std::time::Duration;

use dorsal_tests::browser::{Answer, Browser, assert_page, csrf_of, form};
use dorsal_tests::{Clinic, PASSWORD, SentMail, TestApp};
use reqwest::StatusCode;
use serde_json::json;

use crate::totp::{code, fresh_step};

const NEW_PASSWORD: &str = "a brand new password";
/// The enrolment page's address. A `static`, not a `const`: `.ci/check-phi-logs`
/// takes the tests' string constants as patient words to look for in the
/// logs, and a route is in every request's log line.
static ENROLMENT: &str = "/clinic/account/two-factor";

/// The text of the element with `id`.
fn text_of<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no {id} in {html}"));
    let rest = &html[at..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    &rest[..rest.find('<').unwrap()]
}

/// A page shown before signing in: its CSRF token and the cookie it set.
async fn pre_session_form(browser: &Browser, path: &str) -> (String, String) {
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "GET {path}: {}", page.body);
    assert_page(&page);
    (
        csrf_of(&page.body),
        page.cookie("dorsal_clinic_login").unwrap(),
    )
}

/// POSTs a form sent before signing in, with the sign-in CSRF cookie.
async fn send(browser: &Browser, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Answer {
    browser
        .send_form(path, &form(fields), Some(cookie), &[])
        .await
}

/// Asks for a reset code for `email` through the page.
async fn ask_for_code(browser: &Browser, email: &str) -> (Answer, String) {
    let (csrf, cookie) = pre_session_form(browser, "/clinic/password-reset").await;
    let answer = send(
        browser,
        "/clinic/password-reset",
        &cookie,
        &[("csrf", &csrf), ("email", email)],
    )
    .await;
    (answer, cookie)
}

/// The next email to `to`, once the worker has delivered it.
async fn mail_to(app: &TestApp, to: &str) -> SentMail {
    for _ in 0..200 {
        app.deliver_mail().await;
        if let Some(mail) = app.mailbox().into_iter().find(|m| m.to == to) {
            return mail;
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

/// A different eight-digit code from `code`.
fn another(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_on_the_pages_with_the_emailed_code() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let browser = Browser::new(&app);
    let sign_in = browser.get("/clinic").await;
    assert!(sign_in.body.contains(r#"href="/clinic/password-reset""#));

    let (sent, cookie) = ask_for_code(&browser, &clinician.email).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_page(&sent);
    assert!(sent.body.contains("has an account, we have emailed it"));
    assert!(
        sent.body
            .contains(r#"href="/clinic/password-reset/confirm""#)
    );
    // The form to finish it is right there, with the email filled in.
    assert!(
        sent.body
            .contains(&format!(r#"name="email" value="{}""#, clinician.email))
    );
    let reset_code = code_in(&mail_to(&app, &clinician.email).await);

    let changed = send(
        &browser,
        "/clinic/password-reset/confirm",
        &cookie,
        &[
            ("csrf", &csrf_of(&sent.body)),
            ("email", &clinician.email),
            ("code", &reset_code),
            ("new_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(
        changed
            .body
            .contains("Your password was changed. Sign in with the new one.")
    );
    assert!(changed.body.contains(r#"action="/clinic/login""#));
    assert!(!changed.body.contains(NEW_PASSWORD));

    let old = browser.sign_in(&clinician.email, PASSWORD).await;
    assert!(old.body.contains("Email or password is wrong."));
    let new = browser.sign_in(&clinician.email, NEW_PASSWORD).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);
    assert_eq!(new.location(), Some("/clinic/alerts"));
    // The code is spent.
    let again = send(
        &browser,
        "/clinic/password-reset/confirm",
        &cookie,
        &[
            ("csrf", &csrf_of(&sent.body)),
            ("email", &clinician.email),
            ("code", &reset_code),
            ("new_password", "yet another password"),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unknown_email_gets_the_same_page_as_one_with_an_account_and_no_mail() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let browser = Browser::new(&app);
    let unknown = "nobody-here@clinic.test";
    let (known_page, _) = ask_for_code(&browser, &clinician.email).await;
    let (unknown_page, _) = ask_for_code(&browser, unknown).await;
    assert_eq!(known_page.status, unknown_page.status);
    let without_email = |answer: &Answer, email: &str| {
        answer
            .body
            .replace(email, "EMAIL")
            .replace(&csrf_of(&answer.body), "CSRF")
    };
    assert_eq!(
        without_email(&known_page, &clinician.email),
        without_email(&unknown_page, unknown)
    );
    mail_to(&app, &clinician.email).await;
    assert!(app.mailbox().iter().all(|m| m.to != unknown));
}

#[tokio::test]
async fn a_wrong_code_and_a_weak_password_are_said_with_what_was_typed_kept() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    let browser = Browser::new(&app);
    let (sent, cookie) = ask_for_code(&browser, &therapist.email).await;
    let reset_code = code_in(&mail_to(&app, &therapist.email).await);
    let csrf = csrf_of(&sent.body);
    let confirm = async |code: &str, password: &str| {
        send(
            &browser,
            "/clinic/password-reset/confirm",
            &cookie,
            &[
                ("csrf", &csrf),
                ("email", &therapist.email),
                ("code", code),
                ("new_password", password),
            ],
        )
        .await
    };

    let wrong = confirm(&another(&reset_code), NEW_PASSWORD).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_page(&wrong);
    assert!(wrong.body.contains("That code is wrong, used or expired."));
    assert!(
        wrong
            .body
            .contains(&format!(r#"value="{}""#, another(&reset_code)))
    );
    assert!(wrong.body.contains(&therapist.email));
    assert!(!wrong.body.contains(NEW_PASSWORD));

    let weak = confirm(&reset_code, "short").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.body
            .contains("The new password must be at least 10 characters.")
    );
    assert!(weak.body.contains(&format!(r#"value="{reset_code}""#)));
    assert!(!weak.body.contains(r#"value="short""#));

    // Neither spent the code.
    let done = confirm(&reset_code, NEW_PASSWORD).await;
    assert!(done.body.contains("Your password was changed."));
}

#[tokio::test]
async fn reset_forms_without_the_sign_in_token_or_from_another_site_are_refused() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let browser = Browser::new(&app);
    let (csrf, cookie) = pre_session_form(&browser, "/clinic/password-reset").await;
    let fields = [("csrf", "stale-token"), ("email", clinician.email.as_str())];
    let stale = send(&browser, "/clinic/password-reset", &cookie, &fields).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert!(
        stale
            .body
            .contains("The form had expired. Please send it again.")
    );
    assert!(stale.body.contains(&clinician.email));
    // The page hands out a token that works.
    assert_eq!(csrf_of(&stale.body), csrf);

    let no_cookie = browser
        .send_form(
            "/clinic/password-reset/confirm",
            &form(&[
                ("csrf", &csrf),
                ("email", &clinician.email),
                ("code", "12345678"),
                ("new_password", NEW_PASSWORD),
            ]),
            None,
            &[],
        )
        .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    assert!(no_cookie.body.contains("12345678"));
    assert!(!no_cookie.body.contains(NEW_PASSWORD));

    let cross_site = browser
        .send_form(
            "/clinic/password-reset",
            &form(&[("csrf", &csrf), ("email", &clinician.email)]),
            Some(&cookie),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    app.deliver_mail().await;
    assert!(app.mailbox().is_empty());
}

#[tokio::test]
async fn asking_for_codes_too_often_is_refused_with_retry_after() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let browser = Browser::new(&app);
    let mut last = None;
    for _ in 0..6 {
        last = Some(ask_for_code(&browser, &clinician.email).await.0);
    }
    let refused = last.unwrap();
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers.contains_key("retry-after"));
    assert!(refused.body.contains("Try again in"));
    assert!(refused.body.contains(&clinician.email));
}

/// Starts enrolment from a page of `browser`'s session; the secret.
async fn start_enrolment(browser: &Browser, from: &str) -> String {
    let page = browser.get(from).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let started = browser
        .post(ENROLMENT, &[("csrf", &csrf_of(&page.body))], &[])
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_page(&started);
    assert!(started.body.contains(r#"<svg id="totp-qr""#));
    assert!(started.body.contains(r#"<label for="code""#));
    text_of(&started.body, "totp-secret").to_owned()
}

async fn confirm_enrolment(browser: &Browser, code: &str) -> Answer {
    let csrf = csrf_of(&browser.get(ENROLMENT).await.body);
    browser
        .post(
            "/clinic/account/two-factor/confirm",
            &[("csrf", &csrf), ("code", code)],
            &[],
        )
        .await
}

#[tokio::test]
async fn two_factor_is_turned_on_on_the_account_page_and_then_sign_in_needs_a_code() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let account = browser.get("/clinic/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert_page(&account);
    assert!(account.body.contains(r#"href="/clinic/account""#));
    assert!(account.body.contains(&therapist.email));
    assert_eq!(text_of(&account.body, "two-factor"), "Off");

    let secret = start_enrolment(&browser, "/clinic/account").await;
    fresh_step(&app);
    let right = code(&app, &secret, 0);
    let wrong: String = right
        .chars()
        .map(|c| {
            if c == '9' {
                '0'
            } else {
                char::from(c as u8 + 1)
            }
        })
        .collect();
    let refused = confirm_enrolment(&browser, &wrong).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("two-factor sign-in is still off"));
    let account = browser.get("/clinic/account").await;
    assert_eq!(text_of(&account.body, "two-factor"), "Off");

    let on = confirm_enrolment(&browser, &right).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_page(&on);
    assert_eq!(on.body.matches("<li><code>").count(), 10);
    assert!(on.body.contains(r#"href="/clinic/account""#));
    // This session was a full one, and stays.
    let account = browser.get("/clinic/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert_eq!(text_of(&account.body, "two-factor"), "On");

    let without = Browser::new(&app).sign_in(&therapist.email, PASSWORD).await;
    assert!(
        without
            .body
            .contains("enter the code from your authenticator app")
    );
    fresh_step(&app);
    let with = Browser::new(&app)
        .sign_in_with_code(&therapist.email, PASSWORD, &code(&app, &secret, 0))
        .await;
    assert_eq!(with.status, StatusCode::SEE_OTHER, "{}", with.body);
    assert_eq!(with.location(), Some("/clinic/alerts"));
}

#[tokio::test]
async fn turning_two_factor_off_asks_for_a_current_code_first() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let (secret, _) = crate::totp::enrol(&app, &clinician).await;
    let mut browser = Browser::new(&app);
    let signed_in = browser
        .sign_in_with_code(&clinician.email, PASSWORD, &code(&app, &secret, 0))
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    browser.cookie = signed_in.cookie("dorsal_clinic");
    let account = browser.get("/clinic/account").await;
    assert_eq!(text_of(&account.body, "two-factor"), "On");
    assert!(
        account
            .body
            .contains(r#"href="/clinic/account/two-factor/off""#)
    );

    let asked = browser.get("/clinic/account/two-factor/off").await;
    assert_eq!(asked.status, StatusCode::OK);
    assert_page(&asked);
    assert!(asked.body.contains("Turn off two-factor sign-in?"));
    let csrf = csrf_of(&asked.body);
    let wrong = browser
        .post(
            "/clinic/account/two-factor/off",
            &[("csrf", &csrf), ("code", "000000")],
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("two-factor sign-in is still on"));
    fresh_step(&app);
    let off = browser
        .post(
            "/clinic/account/two-factor/off",
            &[("csrf", &csrf), ("code", &code(&app, &secret, 0))],
            &[],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
    assert_eq!(off.location(), Some("/clinic/account"));
    let account = browser.get("/clinic/account").await;
    assert_eq!(text_of(&account.body, "two-factor"), "Off");
    Browser::signed_in(&app, &clinician.email).await;
}

#[tokio::test]
async fn staff_whose_clinic_requires_two_factor_enrol_at_sign_in_and_reach_nothing_else_first() {
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    app.call(
        reqwest::Method::PATCH,
        "/v1/org",
        Some(&org.admin.token),
        Some(json!({"require_totp": true})),
        200,
    )
    .await;
    let mut browser = Browser::new(&app);
    let signed_in = browser.sign_in(&therapist.email, PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location(), Some(ENROLMENT));
    browser.cookie = signed_in.cookie("dorsal_clinic");

    // Every other page answers with the way to the enrolment.
    for path in [
        "/clinic",
        "/clinic/alerts",
        "/clinic/patients",
        &format!("/clinic/patients/{}", patient.id),
        "/clinic/invites",
        "/clinic/account",
        "/clinic/account/two-factor/off",
    ] {
        let answer = browser.get(path).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(answer.location(), Some(ENROLMENT), "{path}");
    }
    let page = browser.get(ENROLMENT).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page(&page);
    assert!(page.body.contains("Your clinic requires a code"));
    assert!(!page.body.contains(r#"href="/clinic/patients""#));
    assert!(page.body.contains(r#"action="/clinic/logout""#));
    let refused = browser
        .post("/clinic/invites", &[("csrf", &csrf_of(&page.body))], &[])
        .await;
    assert_eq!(refused.location(), Some(ENROLMENT));
    assert_eq!(app.count("invites").await, 1);

    let secret = start_enrolment(&browser, ENROLMENT).await;
    fresh_step(&app);
    let on = confirm_enrolment(&browser, &code(&app, &secret, 0)).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(on.body.matches("<li><code>").count(), 10);
    assert!(on.body.contains("sign in again"));
    // The session, granted on the password alone, ends with it.
    assert_eq!(
        on.cookie("dorsal_clinic").as_deref(),
        Some("dorsal_clinic=")
    );
    // Its refresh family is over: a copy of the cookie renews nothing.
    let refresh = browser
        .cookie
        .as_deref()
        .and_then(|c| c.split('.').nth(1))
        .unwrap()
        .to_owned();
    let renewal = app
        .post(
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh}),
            401,
        )
        .await;
    assert_eq!(renewal["status"], 401);

    let without = Browser::new(&app).sign_in(&therapist.email, PASSWORD).await;
    assert!(
        without
            .body
            .contains("enter the code from your authenticator app")
    );
    fresh_step(&app);
    let with = Browser::new(&app)
        .sign_in_with_code(&therapist.email, PASSWORD, &code(&app, &secret, 0))
        .await;
    assert_eq!(with.status, StatusCode::SEE_OTHER, "{}", with.body);
    assert_eq!(with.location(), Some("/clinic/alerts"));
}
