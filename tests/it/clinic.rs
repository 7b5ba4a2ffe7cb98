//! The clinic page over HTTP, as a browser without a cookie jar would use
//! it: sign-in and its cookie, CSRF on every form, the inbox and its
//! actions, other orgs' ids, sessions outliving their access token, and the
//! patient page's chart.

use dorsal_tests::browser::{Browser, csrf_of, form, is_html, section};
use dorsal_tests::{Clinic, Login, PASSWORD, TestApp};
use reqwest::StatusCode;
use reqwest::header;
use serde_json::{Value, json};
use uuid::Uuid;

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_for_the_clinic_and_pages_are_not_cached() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let mut browser = Browser::new(&app);
    let form_page = browser.get("/clinic").await;
    assert!(is_html(&form_page));
    assert!(form_page.body.contains(r#"action="/clinic/login""#));
    let csp = form_page.headers["content-security-policy"]
        .to_str()
        .unwrap();
    for directive in [
        "default-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "img-src 'self' data:",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(form_page.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(form_page.headers[header::REFERRER_POLICY], "same-origin");

    let answer = browser.sign_in(&clinician.email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), Some("/clinic/alerts"));
    let set = answer
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("dorsal_clinic="))
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/clinic"] {
        assert!(
            set.split("; ").any(|part| part == attribute),
            "{attribute} in {set}"
        );
    }
    // Plain HTTP with no proxy saying otherwise: not `Secure`, or a
    // browser on a LAN host would drop it.
    assert!(!set.split("; ").any(|part| part == "Secure"), "{set}");
    // The sign-in form's own cookie is dropped.
    assert!(
        answer
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("dorsal_clinic_login=;") && c.contains("Max-Age=0"))
    );
    browser.cookie = answer.cookie("dorsal_clinic");

    let inbox = browser.get("/clinic/alerts").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("Signed in as clinician (clinician)"));
    assert_eq!(inbox.headers[header::CACHE_CONTROL], "no-store");
    crate::operations::assert_same_origin_policy(
        inbox.headers["content-security-policy"].to_str().unwrap(),
    );
    // Signed in, the sign-in address leads to the inbox.
    let home = browser.get("/clinic").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), Some("/clinic/alerts"));
    // Without a session, pages lead to the sign-in form.
    let anonymous = Browser::new(&app).get("/clinic/alerts").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), Some("/clinic"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_account_re_render_the_form_alike_without_a_session() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let browser = Browser::new(&app);
    let wrong = browser.sign_in(&clinician.email, "not the password").await;
    let unknown = browser.sign_in("nobody@clinic.test", PASSWORD).await;
    for answer in [&wrong, &unknown] {
        assert_eq!(answer.status, StatusCode::OK);
        assert!(is_html(answer));
        assert!(answer.body.contains("Email or password is wrong."));
        assert!(answer.body.contains(r#"action="/clinic/login""#));
        assert_eq!(answer.cookie("dorsal_clinic"), None);
    }
}

#[tokio::test]
async fn cookies_are_secure_only_when_a_trusted_proxy_says_the_page_came_over_https() {
    for (trust, proto, secure) in [
        (false, None, false),
        (false, Some("https"), false),
        (true, None, false),
        (true, Some("http"), false),
        (true, Some("https"), true),
    ] {
        let case = format!("trusted proxy {trust}, X-Forwarded-Proto {proto:?}");
        let app = TestApp::spawn_with(|config| config.http.trust_forwarded_for = trust).await;
        let org = app.create_org("Clinic").await;
        let clinician = app.add_staff(&org, "clinician").await;
        let browser = Browser::new(&app);
        let extra: Vec<(&str, &str)> = proto
            .map(|proto| vec![("x-forwarded-proto", proto)])
            .unwrap_or_default();
        let is_secure = |set: &str| set.split("; ").any(|part| part == "Secure");

        let page = browser.get_with("/clinic", &extra).await;
        let set = page.set_cookies();
        let login = set
            .iter()
            .find(|c| c.starts_with("dorsal_clinic_login="))
            .unwrap();
        assert_eq!(is_secure(login), secure, "{case}: {login}");
        let login_cookie = page.cookie("dorsal_clinic_login").unwrap();
        let csrf = csrf_of(&page.body);

        // CSRF protection does not depend on it: a form without the token
        // is refused either way.
        let forged = form(&[("email", &clinician.email), ("password", PASSWORD)]);
        let refused = browser
            .send_form("/clinic/login", &forged, Some(&login_cookie), &extra)
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{case}");
        assert_eq!(refused.cookie("dorsal_clinic"), None, "{case}");

        let fields = form(&[
            ("csrf", &csrf),
            ("email", &clinician.email),
            ("password", PASSWORD),
        ]);
        let answer = browser
            .send_form("/clinic/login", &fields, Some(&login_cookie), &extra)
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{case}");
        let set = answer.set_cookies();
        assert!(!set.is_empty(), "{case}");
        for cookie in set {
            assert_eq!(is_secure(cookie), secure, "{case}: {cookie}");
        }
    }
}

#[tokio::test]
async fn a_patient_cannot_sign_in() {
    let Clinic { app, patient, .. } = Clinic::spawn().await;
    let answer = Browser::new(&app).sign_in(&patient.email, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(is_html(&answer));
    assert!(answer.body.contains("This page is for clinic staff"));
    assert_eq!(answer.cookie("dorsal_clinic"), None);
}

#[tokio::test]
async fn staff_with_totp_sign_in_with_a_code_and_staff_who_must_enrol_are_told_so() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        ..
    } = Clinic::spawn().await;
    let (secret, _) = crate::totp::enrol(&app, &clinician).await;
    let browser = Browser::new(&app);
    let without = browser.sign_in(&clinician.email, PASSWORD).await;
    assert_eq!(without.status, StatusCode::OK);
    assert!(
        without
            .body
            .contains("enter the code from your authenticator app")
    );
    assert_eq!(without.cookie("dorsal_clinic"), None);
    let wrong = browser
        .sign_in_with_code(&clinician.email, PASSWORD, "abc")
        .await;
    assert!(wrong.body.contains("Email or password is wrong."));
    assert_eq!(wrong.cookie("dorsal_clinic"), None);
    let code = crate::totp::code(&app, &secret, 0);
    let signed_in = browser
        .sign_in_with_code(&clinician.email, PASSWORD, &code)
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert!(signed_in.cookie("dorsal_clinic").is_some());

    // The org comes to require TOTP: a live session without it reaches
    // only the enrolment page from then on, as does signing in again.
    let admin = Browser::signed_in(&app, &org.admin.email).await;
    app.call(
        reqwest::Method::PATCH,
        "/v1/org",
        Some(&org.admin.token),
        Some(json!({"require_totp": true})),
        200,
    )
    .await;
    let ended = admin.get("/clinic/alerts").await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(ended.location(), Some("/clinic/account/two-factor"));
    let enrolling = Browser::new(&app).sign_in(&therapist.email, PASSWORD).await;
    assert_eq!(enrolling.status, StatusCode::SEE_OTHER);
    assert_eq!(enrolling.location(), Some("/clinic/account/two-factor"));
    assert!(
        enrolling
            .cookie("dorsal_clinic")
            .is_some_and(|cookie| cookie != "dorsal_clinic=")
    );
}

#[tokio::test]
async fn a_sign_in_without_the_forms_token_is_refused() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let browser = Browser::new(&app);
    let fields = form(&[("email", &clinician.email), ("password", PASSWORD)]);
    let answer = browser.send_form("/clinic/login", &fields, None, &[]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(is_html(&answer));
    assert_eq!(answer.cookie("dorsal_clinic"), None);
}

async fn open_alert(app: &TestApp, clinician: &Login, patient: &Login) -> String {
    let now = jiff::Timestamp::now().as_millisecond();
    let body = json!({"changes": {"pain_logs": {"created": [
        {"id": "x1", "recorded_at": now, "intensity": 8, "saddle_numbness": true}]}}});
    app.post("/v1/sync/push", Some(&patient.token), body, 200)
        .await;
    let open = app
        .get("/v1/alerts?status=open", Some(&clinician.token), 200)
        .await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    open["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn status_of(app: &TestApp, clinician: &Login, alert: &str) -> Value {
    app.get(&format!("/v1/alerts/{alert}"), Some(&clinician.token), 200)
        .await["status"]
        .clone()
}

#[tokio::test]
async fn a_post_without_or_with_a_wrong_csrf_token_or_from_another_site_is_refused_and_changes_nothing()
 {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let alert = open_alert(&app, &clinician, &patient).await;
    let browser = Browser::signed_in(&app, &clinician.email).await;
    let csrf = browser.csrf().await;
    let path = format!("/clinic/alerts/{alert}/acknowledge");
    let host = app.addr.to_string();
    let refused = [
        browser.post(&path, &[], &[]).await,
        browser.post(&path, &[("csrf", "forged")], &[]).await,
        browser.post(&path, &[("csrf", &csrf[..42])], &[]).await,
        browser
            .post(
                &path,
                &[("csrf", &csrf)],
                &[("sec-fetch-site", "cross-site")],
            )
            .await,
        browser
            .post(
                &path,
                &[("csrf", &csrf)],
                &[("origin", "https://evil.test")],
            )
            .await,
        browser
            .post(
                &format!("/clinic/alerts/{alert}/resolve"),
                &[("note", "done")],
                &[],
            )
            .await,
        browser.post("/clinic/logout", &[], &[]).await,
    ];
    for answer in &refused {
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
        assert!(is_html(answer));
        assert!(answer.body.contains("Form not accepted"));
    }
    assert_eq!(status_of(&app, &clinician, &alert).await, "open");
    // The session is still there after a refused sign-out.
    assert_eq!(browser.get("/clinic/alerts").await.status, StatusCode::OK);

    // The same request with the token, as a browser sends it, is accepted.
    let origin = format!("http://{host}");
    let accepted = browser
        .post(
            &path,
            &[("csrf", &csrf)],
            &[("origin", &origin), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    assert_eq!(status_of(&app, &clinician, &alert).await, "acknowledged");
}

#[tokio::test]
async fn the_inbox_shows_open_alerts_with_evidence_and_acknowledging_moves_one_down() {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let alert = open_alert(&app, &clinician, &patient).await;
    let browser = Browser::signed_in(&app, &clinician.email).await;

    let inbox = browser.get("/clinic/alerts").await;
    assert_eq!(inbox.status, StatusCode::OK);
    let open = section(&inbox.body, "open");
    assert!(open.contains(&format!(r#"data-alert-id="{alert}""#)));
    assert!(open.contains("Cauda equina"));
    assert!(open.contains("emergency"));
    assert!(open.contains(">Pat</a>"), "the patient's name");
    assert!(open.contains("Saddle numbness <strong>yes</strong>"));
    assert!(open.contains(">Acknowledge</button>"));
    assert!(!section(&inbox.body, "acknowledged").contains("data-alert-id"));

    let csrf = csrf_of(&inbox.body);
    let answer = browser
        .post(
            &format!("/clinic/alerts/{alert}/acknowledge"),
            &[("csrf", &csrf)],
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.location(),
        Some(format!("/clinic/alerts#alert-{alert}").as_str())
    );
    let acknowledged = app
        .get(
            "/v1/alerts?status=acknowledged",
            Some(&clinician.token),
            200,
        )
        .await;
    assert_eq!(acknowledged["items"][0]["id"], alert.as_str());
    assert_eq!(
        acknowledged["items"][0]["acknowledged_by"],
        clinician.id.to_string()
    );

    let inbox = browser.get("/clinic/alerts").await;
    assert!(!section(&inbox.body, "open").contains("data-alert-id"));
    let moved = section(&inbox.body, "acknowledged");
    assert!(moved.contains(&format!(r#"data-alert-id="{alert}""#)));
    assert!(!moved.contains(">Acknowledge</button>"));
    assert!(moved.contains(">Resolve</button>"));

    // Resolving needs a note; with one the alert leaves the inbox.
    let resolve = format!("/clinic/alerts/{alert}/resolve");
    let empty = browser
        .post(&resolve, &[("csrf", &csrf), ("note", "  ")], &[])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_html(&empty));
    let done = browser
        .post(
            &resolve,
            &[("csrf", &csrf), ("note", "Called; sent to A&E <now>")],
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &clinician, &alert).await, "resolved");
    let inbox = browser.get("/clinic/alerts").await;
    assert!(!section(&inbox.body, "open").contains("data-alert-id"));
    assert!(!section(&inbox.body, "acknowledged").contains("data-alert-id"));
    let resolved = section(&inbox.body, "resolved");
    assert!(
        resolved.contains("Called; sent to A&amp;E &lt;now&gt;"),
        "escaped"
    );
    // Acting on it again is a page saying so, not an error document.
    let again = browser
        .post(&resolve, &[("csrf", &csrf), ("note", "again")], &[])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(is_html(&again));
}

#[tokio::test]
async fn a_therapist_works_the_inbox_like_a_clinician() {
    let Clinic {
        app,
        clinician,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let alert = open_alert(&app, &clinician, &patient).await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let inbox = browser.get("/clinic/alerts").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains(&format!("alert-{alert}")));
    assert!(inbox.body.contains("Acknowledge"));
    let csrf = browser.csrf().await;
    let answer = browser
        .post(
            &format!("/clinic/alerts/{alert}/acknowledge"),
            &[("csrf", &csrf)],
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &clinician, &alert).await, "acknowledged");
}

#[tokio::test]
async fn a_patient_who_left_the_clinic_is_not_found_on_its_pages() {
    let Clinic {
        app,
        org,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let alert = open_alert(&app, &clinician, &patient).await;
    let browser = Browser::signed_in(&app, &clinician.email).await;
    let chart = format!("/clinic/patients/{}", patient.id);
    assert_eq!(browser.get(&chart).await.status, StatusCode::OK);
    app.call(
        reqwest::Method::DELETE,
        &format!("/v1/care-team/{}", org.id),
        Some(&patient.token),
        None,
        204,
    )
    .await;
    let gone = browser.get(&chart).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(is_html(&gone));
    let patients = browser.get("/clinic/patients").await;
    assert!(!patients.body.contains(&patient.id.to_string()));
    let inbox = browser.get("/clinic/alerts").await;
    assert!(!inbox.body.contains(&alert));
}

#[tokio::test]
async fn another_orgs_alert_and_patient_are_not_found() {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let alert = open_alert(&app, &clinician, &patient).await;
    let other_org = app.create_org("Other").await;
    let outsider = app.add_staff(&other_org, "clinician").await;
    let browser = Browser::signed_in(&app, &outsider.email).await;
    let csrf = browser.csrf().await;

    let inbox = browser.get("/clinic/alerts").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(!inbox.body.contains(&alert));
    let missing = [
        browser
            .get(&format!("/clinic/patients/{}", patient.id))
            .await,
        browser
            .get(&format!("/clinic/patients/{}", Uuid::new_v4()))
            .await,
        browser.get("/clinic/patients/not-an-id").await,
        browser
            .post(
                &format!("/clinic/alerts/{alert}/acknowledge"),
                &[("csrf", &csrf)],
                &[],
            )
            .await,
        browser
            .post(
                &format!("/clinic/alerts/{alert}/resolve"),
                &[("csrf", &csrf), ("note", "not mine")],
                &[],
            )
            .await,
    ];
    for answer in &missing {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
        assert!(is_html(answer));
        assert!(answer.body.contains("Not found"));
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
        crate::operations::assert_same_origin_policy(
            answer.headers["content-security-policy"].to_str().unwrap(),
        );
        assert!(!answer.body.contains(">Pat<"));
    }
    assert_eq!(status_of(&app, &clinician, &alert).await, "open");
}

#[tokio::test]
async fn the_patient_page_draws_the_pain_and_sleep_chart_and_shows_the_plan() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let now = jiff::Timestamp::now().as_millisecond();
    let date = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .unwrap()
            .strftime("%Y-%m-%d")
            .to_string()
    };
    // Five nights of night pain and sleep, the newest two days ago (every
    // one safely inside the last 30 nights whatever the hour).
    let pains: Vec<Value> = (2..7)
        .map(|d| {
            json!({"id": format!("p{d}"), "recorded_at": now - d * DAY, "intensity": d,
                "period": "night", "eased_by_rest": true})
        })
        .collect();
    let sleeps: Vec<Value> = (2..7)
        .map(|d| json!({"id": format!("s{d}"), "night_of": date(now - d * DAY), "quality": 3}))
        .collect();
    app.post(
        "/v1/sync/push",
        Some(&patient.token),
        json!({"changes": {"pain_logs": {"created": pains}, "sleep_logs": {"created": sleeps}}}),
        200,
    )
    .await;
    app.post(
        &format!("/v1/patients/{}/plans", patient.id),
        Some(&therapist.token),
        json!({"title": "Evening <stretches>", "starts_on": date(now - 10 * DAY),
            "items": [{"exercise_slug": "cat-cow"}]}),
        201,
    )
    .await;

    let browser = Browser::signed_in(&app, &clinician.email).await;
    let list = browser.get("/clinic/patients").await;
    assert_eq!(list.status, StatusCode::OK);
    let link = format!(r#"href="/clinic/patients/{}""#, patient.id);
    assert!(list.body.contains(&link));

    let page = browser
        .get(&format!("/clinic/patients/{}", patient.id))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"<svg id="pain-sleep-chart""#));
    assert!(page.body.contains("</svg>"));
    assert_eq!(page.body.matches(r#"<circle class="pain""#).count(), 5);
    assert_eq!(page.body.matches(r#"<rect class="sleep""#).count(), 5);
    assert!(page.body.contains("<polyline"));
    assert!(page.body.contains("Evening &lt;stretches&gt;"));
    assert!(page.body.contains(r#"id="adherence""#));

    // Each read is audited, as the API's are.
    let audit = app
        .get(
            &format!("/v1/audit?patient_id={}", patient.id),
            Some(&org.admin.token),
            200,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_id"] == clinician.id.to_string())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["patients.read", "patients.trends", "patients.adherence"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn a_link_from_another_site_reloads_itself_to_get_the_strict_cookie_sent() {
    let Clinic { app, .. } = Clinic::spawn().await;
    let browser = Browser::new(&app);
    let answer = browser
        .get_with("/clinic/alerts", &[("sec-fetch-site", "cross-site")])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains(r#"http-equiv="refresh" content="0""#));
    assert!(answer.set_cookies().is_empty());
}

#[tokio::test]
async fn a_session_outlives_its_access_token_and_signing_out_ends_it() {
    let app = TestApp::spawn_with(|config| config.auth.access_ttl_seconds = 2).await;
    let org = app.create_org("Clinic").await;
    let mut kept = Browser::signed_in(&app, &org.admin.email).await;
    let mut leaving = Browser::signed_in(&app, &org.admin.email).await;
    let kept_csrf = kept.csrf().await;
    let csrf = leaving.csrf().await;
    let out = leaving
        .post("/clinic/logout", &[("csrf", &csrf)], &[])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), Some("/clinic"));
    assert!(
        out.set_cookies()
            .iter()
            .any(|c| c.starts_with("dorsal_clinic=;") && c.contains("Max-Age=0"))
    );

    // Past the access token's two seconds, on the clock the app reads.
    app.clock.advance(std::time::Duration::from_millis(3_100));
    // The expired access token is renewed, and the new cookie comes with
    // whatever the page answers, even a not-found.
    let old = kept.cookie.clone();
    let renewed = kept
        .get(&format!("/clinic/patients/{}", Uuid::new_v4()))
        .await;
    assert_eq!(renewed.status, StatusCode::NOT_FOUND);
    let new = renewed.cookie("dorsal_clinic");
    assert!(new.is_some() && new != old);
    let kept_new = new.clone();
    kept.cookie = new;
    assert_eq!(kept.get("/clinic/alerts").await.status, StatusCode::OK);
    // Its CSRF token stays the same across renewals.
    assert_eq!(kept.csrf().await, kept_csrf);

    // A second tab still holding the spent cookie, seconds later, gets the
    // same successor rather than ending the session.
    let refresh_part = |cookie: &Option<String>| {
        cookie
            .as_deref()
            .and_then(|c| c.split('.').nth(1))
            .map(str::to_owned)
    };
    kept.cookie = old.clone();
    let other_tab = kept.get("/clinic/alerts").await;
    assert_eq!(other_tab.status, StatusCode::OK);
    assert_eq!(
        refresh_part(&other_tab.cookie("dorsal_clinic")),
        refresh_part(&kept_new),
    );
    // Past the grace window the spent cookie is refused (and ends that
    // login), as is the one that signed out.
    app.clock.advance(std::time::Duration::from_secs(11));
    kept.cookie = old;
    let replay = kept.get("/clinic/alerts").await;
    assert_eq!(replay.status, StatusCode::SEE_OTHER);
    assert_eq!(replay.location(), Some("/clinic"));
    let after_out = leaving.get("/clinic/alerts").await;
    assert_eq!(after_out.status, StatusCode::SEE_OTHER);
    leaving.cookie = None;
    assert_eq!(
        leaving.get("/clinic/alerts").await.location(),
        Some("/clinic")
    );
}
