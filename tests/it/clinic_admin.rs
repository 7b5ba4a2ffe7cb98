//! The clinic's admin pages over HTTP (SPEC §11): invites with their QR
//! code, staff, webhooks and their deliveries, the push gateway, the
//! audit log and settings, each proved through the page and then through
//! the API or the database; roles, other orgs and CSRF.

use dorsal_tests::browser::{Browser, assert_page, between, is_html};
use dorsal_tests::{Clinic, PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// A page, asserting its status and form.
async fn page(browser: &Browser, path: &str, status: StatusCode) -> String {
    let answer = browser.get(path).await;
    assert_eq!(answer.status, status, "GET {path}: {}", answer.body);
    assert_page(&answer);
    answer.body
}

/// The admin's view of one member of staff through the API.
async fn staff_member(app: &TestApp, admin: &str, id: Uuid) -> Value {
    let all = app.get("/v1/staff?limit=500", Some(admin), 200).await;
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id.to_string())
        .cloned()
        .unwrap_or(Value::Null)
}

async fn login_status(app: &TestApp, email: &str) -> u16 {
    app.client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_invite_made_on_the_page_shows_its_code_and_a_qr_code_and_the_code_joins_a_patient() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    // Every member of staff may invite; a therapist here.
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let form_page = page(&browser, "/clinic/invites", StatusCode::OK).await;
    assert!(form_page.contains("type the code in"));
    assert!(!form_page.contains("<svg"));
    let before = app.count("invites").await;
    let csrf = browser.csrf().await;

    let made = browser
        .post("/clinic/invites", &[("csrf", &csrf)], &[])
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_page(&made);
    assert_eq!(app.count("invites").await, before + 1);
    let code = between(&made.body, r#"id="invite-code">"#, "<").to_owned();
    assert_eq!(code.len(), 14, "{code}");
    assert!(made.body.contains("Works once, until 20"));
    // The QR code is inline SVG drawn on the server, scaling to its box.
    let svg = between(&made.body, "<svg", "</svg>");
    for part in [
        r#"role="img""#,
        r#"width="100%""#,
        r#"viewBox="0 0 "#,
        "<title>QR code of the invite code",
        "<path",
    ] {
        assert!(svg.contains(part), "{part} in {svg}");
    }
    assert!(svg.contains(&code));
    assert!(!made.body.contains("data:image"));

    // The code works in the app.
    let patient = app.register_patient().await;
    let joined = app
        .post(
            "/v1/care-team/join",
            Some(&patient.token),
            json!({"code": code}),
            200,
        )
        .await;
    assert_eq!(joined["org_name"], "Clinic");
    // And is not shown again.
    let again = page(&browser, "/clinic/invites", StatusCode::OK).await;
    assert!(!again.contains(&code));
}

#[tokio::test]
async fn an_admin_adds_a_member_of_staff_who_can_sign_in_and_changes_their_role_and_name() {
    let Clinic { app, org, .. } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    let listed = page(&browser, "/clinic/staff", StatusCode::OK).await;
    assert!(listed.contains(&org.admin.email));
    let csrf = browser.csrf().await;
    let users = app.count("users").await;

    // Bad input re-renders the form with what was typed, and adds no one.
    for (fields, status, said) in [
        (
            [
                ("email", ""),
                ("display_name", "Dr Who"),
                ("role", "therapist"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Email ",
        ),
        (
            [
                ("email", "new@clinic.test"),
                ("display_name", "Dr Who"),
                ("role", "root"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Role must be one of therapist, clinician, admin.",
        ),
        (
            [
                ("email", org.admin.email.as_str()),
                ("display_name", "Dr Who"),
                ("role", "therapist"),
            ],
            StatusCode::CONFLICT,
            "",
        ),
    ] {
        let mut sent = vec![("csrf", csrf.as_str()), ("password", PASSWORD)];
        sent.extend(fields);
        let refused = browser.post("/clinic/staff", &sent, &[]).await;
        assert_eq!(refused.status, status, "{}", refused.body);
        assert_page(&refused);
        assert!(refused.body.contains(r#"role="alert""#), "{}", refused.body);
        assert!(refused.body.contains(said), "{said} in {}", refused.body);
        assert!(refused.body.contains(r#"value="Dr Who""#));
        // The password is never sent back.
        assert!(!refused.body.contains(PASSWORD));
    }
    assert_eq!(app.count("users").await, users);

    let added = browser
        .post(
            "/clinic/staff",
            &[
                ("csrf", &csrf),
                ("email", "new.therapist@clinic.test"),
                ("display_name", "Tess"),
                ("role", "therapist"),
                ("password", PASSWORD),
            ],
            &[],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let location = added.location().unwrap().to_owned();
    let id: Uuid = between(&location, "/clinic/staff/", "?").parse().unwrap();
    let member_page = page(&browser, &location, StatusCode::OK).await;
    assert!(member_page.contains("Added."));
    let tess = app.login("new.therapist@clinic.test").await;
    assert_eq!(tess.id, id);
    let seen = staff_member(&app, &org.admin.token, id).await;
    assert_eq!(seen["role"], "therapist");
    assert_eq!(seen["display_name"], "Tess");

    // Role and name change through the member's page.
    let refused = browser
        .post(
            &format!("/clinic/staff/{id}"),
            &[("csrf", &csrf), ("display_name", "Tessa"), ("role", "root")],
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(r#"value="Tessa""#));
    assert_eq!(
        staff_member(&app, &org.admin.token, id).await["display_name"],
        "Tess"
    );
    let changed = browser
        .post(
            &format!("/clinic/staff/{id}"),
            &[
                ("csrf", &csrf),
                ("display_name", "Tessa"),
                ("role", "clinician"),
            ],
            &[],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let seen = staff_member(&app, &org.admin.token, id).await;
    assert_eq!(seen["role"], "clinician");
    assert_eq!(seen["display_name"], "Tessa");
    let audit = app.get("/v1/audit", Some(&org.admin.token), 200).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject_id"] == id.to_string())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["staff.added", "staff.role_changed", "staff.renamed"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn deactivating_goes_through_a_confirmation_page_and_then_sign_in_fails() {
    let Clinic {
        app,
        org,
        clinician,
        ..
    } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    let csrf = browser.csrf().await;
    let path = format!("/clinic/staff/{}/deactivate", clinician.id);

    let member = page(
        &browser,
        &format!("/clinic/staff/{}", clinician.id),
        StatusCode::OK,
    )
    .await;
    assert!(member.contains(&format!(r#"href="{path}""#)));
    let confirm = page(&browser, &path, StatusCode::OK).await;
    assert!(confirm.contains("Every session they have ends at once"));
    assert!(confirm.contains(&format!(r#"action="{path}""#)));
    // Showing the confirmation changes nothing.
    assert_eq!(login_status(&app, &clinician.email).await, 200);

    let done = browser.post(&path, &[("csrf", &csrf)], &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(login_status(&app, &clinician.email).await, 401);
    app.get("/v1/me", Some(&clinician.token), 401).await;
    assert_eq!(
        staff_member(&app, &org.admin.token, clinician.id).await["active"],
        false
    );
    let member = page(
        &browser,
        &format!("/clinic/staff/{}", clinician.id),
        StatusCode::OK,
    )
    .await;
    assert!(member.contains("switched off"));

    // And on again.
    let back = browser
        .post(
            &format!("/clinic/staff/{}/reactivate", clinician.id),
            &[("csrf", &csrf)],
            &[],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(login_status(&app, &clinician.email).await, 200);
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_switched_off_and_the_page_says_why() {
    let Clinic { app, org, .. } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    let csrf = browser.csrf().await;
    let me = org.admin.id;
    let audit_before = app.count("audit_log").await;

    let demoted = browser
        .post(
            &format!("/clinic/staff/{me}"),
            &[
                ("csrf", &csrf),
                ("display_name", "Boss"),
                ("role", "clinician"),
            ],
            &[],
        )
        .await;
    let switched_off = browser
        .post(
            &format!("/clinic/staff/{me}/deactivate"),
            &[("csrf", &csrf)],
            &[],
        )
        .await;
    for refused in [&demoted, &switched_off] {
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert_page(refused);
        assert!(
            refused
                .body
                .contains("The clinic's last active admin can't be demoted or switched off")
        );
    }
    let seen = staff_member(&app, &org.admin.token, me).await;
    assert_eq!(seen["role"], "admin");
    assert_eq!(seen["display_name"], "Admin");
    assert_eq!(seen["active"], true);
    assert_eq!(app.count("audit_log").await, audit_before);
}

#[tokio::test]
async fn a_webhook_is_added_with_its_secret_shown_once_shows_its_deliveries_and_is_removed() {
    let Clinic {
        app, org, patient, ..
    } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    let empty = page(&browser, "/clinic/webhooks", StatusCode::OK).await;
    assert!(empty.contains("No endpoints yet."));
    let csrf = browser.csrf().await;

    let added = browser
        .post(
            "/clinic/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "https://hooks.example.org/in"),
                ("min_severity", "urgent"),
            ],
            &[],
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_page(&added);
    let secret = between(
        &added.body,
        r#"id="webhook-secret" type="text" readonly value=""#,
        "\"",
    )
    .to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let listed = app.get("/v1/webhooks", Some(&org.admin.token), 200).await;
    assert_eq!(listed["items"][0]["url"], "https://hooks.example.org/in");
    let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    // Never again.
    let shown = page(&browser, "/clinic/webhooks", StatusCode::OK).await;
    assert!(!shown.contains(&secret));
    assert!(!shown.contains("whsec_"));
    assert!(shown.contains("hooks.example.org/<wbr>in"));
    assert!(shown.contains("No deliveries yet."));

    // An emergency alert writes a delivery; the page shows its outcome.
    crate::webhooks::emergency(&app, &patient, "e1").await;
    let shown = page(&browser, "/clinic/webhooks", StatusCode::OK).await;
    let table = between(&shown, r#"<table class="deliveries stack">"#, "</table>");
    assert_eq!(table.matches("data-delivery-id=").count(), 1, "{table}");
    assert!(table.contains("alert.raised"));
    assert!(table.contains("pending"));
    // Nothing of the payload (the patient's id is in it) is on the page.
    assert!(!shown.contains(&patient.id.to_string()));
    let deliveries = app
        .get(
            &format!("/v1/webhooks/{id}/deliveries"),
            Some(&org.admin.token),
            200,
        )
        .await;
    let items = deliveries["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["event"], "alert.raised");
    assert_eq!(items[0]["status"], "pending");
    assert!(items[0].get("payload").is_none());
    assert!(table.contains(items[0]["id"].as_str().unwrap()));
    let doc = app.get("/openapi.json", None, 200).await;
    let responses = &doc["paths"]["/v1/webhooks/{id}/deliveries"]["get"]["responses"];
    for status in ["200", "401", "403", "404"] {
        assert!(responses.get(status).is_some(), "{status} in {responses}");
    }

    // Removing goes through a confirmation page.
    let remove = format!("/clinic/webhooks/{id}/remove");
    assert!(shown.contains(&format!(r#"href="{remove}""#)));
    let confirm = page(&browser, &remove, StatusCode::OK).await;
    assert!(confirm.contains("Remove this endpoint?"));
    assert_eq!(
        app.get("/v1/webhooks", Some(&org.admin.token), 200).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let removed = browser.post(&remove, &[("csrf", &csrf)], &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(removed.location(), Some("/clinic/webhooks"));
    let listed = app.get("/v1/webhooks", Some(&org.admin.token), 200).await;
    assert!(listed["items"].as_array().unwrap().is_empty());
    app.get(
        &format!("/v1/webhooks/{id}/deliveries"),
        Some(&org.admin.token),
        404,
    )
    .await;
}

#[tokio::test]
async fn a_private_or_malformed_webhook_url_is_refused_on_the_form_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|c| c.webhook_allow_private = false).await;
    let org = app.create_org("Clinic").await;
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    let csrf = browser.csrf().await;
    for (url, said) in [
        (
            "https://127.0.0.1/hook",
            "URL must not point at a loopback, private",
        ),
        ("https://10.1.2.3/hook", "loopback, private"),
        ("not a url", "absolute URL"),
        ("ftp://hooks.example.org/in", "http or https"),
    ] {
        let refused = browser
            .post("/clinic/webhooks", &[("csrf", &csrf), ("url", url)], &[])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_page(&refused);
        assert!(refused.body.contains(said), "{said} in {}", refused.body);
        assert!(refused.body.contains(&format!(r#"value="{url}""#)));
        assert!(!refused.body.contains("whsec_"));
    }
    assert_eq!(app.count("webhooks").await, 0);
}

#[tokio::test]
async fn the_audit_log_lists_the_orgs_entries_pages_back_and_filters_by_member_of_staff() {
    let Clinic {
        app,
        org,
        clinician,
        therapist,
        patient,
    } = Clinic::spawn().await;
    // 55 reads by the clinician: more than one page.
    for _ in 0..55 {
        app.get(
            &format!("/v1/patients/{}", patient.id),
            Some(&clinician.token),
            200,
        )
        .await;
    }
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    let first = page(&browser, "/clinic/audit", StatusCode::OK).await;
    let rows = |html: &str| -> Vec<String> {
        html.split(r#"<tr data-audit-id=""#)
            .skip(1)
            .map(|row| row[..row.find("</tr>").unwrap()].to_owned())
            .collect()
    };
    let first_rows = rows(&first);
    assert_eq!(first_rows.len(), 50);
    assert!(first_rows[0].contains("patients.read"));
    assert!(first_rows[0].contains(&clinician.id.to_string()));
    assert!(first_rows[0].contains(&patient.id.to_string()));
    let older = format!(
        "/clinic/audit?{}",
        between(&first, r#"<a href="/clinic/audit?"#, r#"" rel="next""#).replace("&amp;", "&")
    );
    assert!(first.contains("Older entries →"));
    let second = page(&browser, &older, StatusCode::OK).await;
    let second_rows = rows(&second);
    assert!(!second_rows.is_empty());
    assert!(second_rows.iter().any(|r| r.contains("staff.added")));
    let ids =
        |rows: &[String]| -> Vec<String> { rows.iter().map(|r| r[..36].to_owned()).collect() };
    let (a, b) = (ids(&first_rows), ids(&second_rows));
    assert!(a.iter().all(|id| !b.contains(id)));
    // The last page has no link further back.
    assert!(!second.contains("Older entries"));

    // By (or about) the therapist: only their entries.
    let filtered = page(
        &browser,
        &format!("/clinic/audit?staff_id={}", therapist.id),
        StatusCode::OK,
    )
    .await;
    let filtered_rows = rows(&filtered);
    assert!(!filtered_rows.is_empty());
    assert!(
        filtered_rows
            .iter()
            .all(|r| r.contains(&therapist.id.to_string())),
        "{filtered_rows:?}"
    );
    assert!(!filtered.contains("patients.read"));
    assert!(filtered.contains(&format!(r#"<option value="{}" selected>"#, therapist.id)));
    // By the patient: the clinician's reads.
    let by_patient = page(
        &browser,
        &format!("/clinic/audit?patient_id={}", patient.id),
        StatusCode::OK,
    )
    .await;
    assert!(
        rows(&by_patient)
            .iter()
            .all(|r| r.contains(&patient.id.to_string()))
    );
    // A filter that is not an id is said so.
    let refused = page(
        &browser,
        "/clinic/audit?patient_id=nope",
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused.contains("Patient id must be an id"));
    assert!(refused.contains(r#"value="nope""#));
}

#[tokio::test]
async fn settings_show_and_change_require_totp_and_the_push_gateway_without_its_secret() {
    let Clinic { app, org, .. } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    // The admin has TOTP on, so requiring it keeps them signed in.
    crate::totp::enrol(&app, &org.admin).await;
    let shown = page(&browser, "/clinic/settings", StatusCode::OK).await;
    assert!(between(&shown, r#"id="require-totp-state">"#, "</p>").contains("not required"));
    assert!(shown.contains("No push gateway is set."));
    let csrf = browser.csrf().await;

    let on = browser
        .post(
            "/clinic/settings/totp",
            &[("csrf", &csrf), ("require_totp", "on")],
            &[],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);
    assert_eq!(on.location(), Some("/clinic/settings"));
    assert_eq!(
        app.get("/v1/org", Some(&org.admin.token), 200).await["require_totp"],
        true
    );
    let shown = page(&browser, "/clinic/settings", StatusCode::OK).await;
    assert!(between(&shown, r#"id="require-totp-state">"#, "</p>").contains("required"));
    assert!(!between(&shown, r#"id="require-totp-state">"#, "</p>").contains("not required"));
    assert!(shown.contains(r#"name="require_totp" value="on" checked"#));
    let off = browser
        .post("/clinic/settings/totp", &[("csrf", &csrf)], &[])
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/v1/org", Some(&org.admin.token), 200).await["require_totp"],
        false
    );

    // The push gateway: its secret on the answer only.
    let set = browser
        .post(
            "/clinic/settings/push-gateway",
            &[("csrf", &csrf), ("url", "https://push.example.org/in")],
            &[],
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_page(&set);
    let secret = between(
        &set.body,
        r#"id="gateway-secret" type="text" readonly value=""#,
        "\"",
    )
    .to_owned();
    assert!(secret.starts_with("whsec_"));
    let gateway = app
        .get("/v1/push-gateway", Some(&org.admin.token), 200)
        .await;
    assert_eq!(gateway["url"], "https://push.example.org/in");
    let shown = page(&browser, "/clinic/settings", StatusCode::OK).await;
    assert!(shown.contains("push.example.org/<wbr>in"));
    assert!(!shown.contains(&secret));
    assert!(!shown.contains("whsec_"));

    let confirm = page(
        &browser,
        "/clinic/settings/push-gateway/remove",
        StatusCode::OK,
    )
    .await;
    assert!(confirm.contains("Remove the push gateway?"));
    app.get("/v1/push-gateway", Some(&org.admin.token), 200)
        .await;
    let removed = browser
        .post(
            "/clinic/settings/push-gateway/remove",
            &[("csrf", &csrf)],
            &[],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    app.get("/v1/push-gateway", Some(&org.admin.token), 404)
        .await;
}

#[tokio::test]
async fn the_admin_sets_and_removes_the_patients_contact_line_on_the_settings_page() {
    let Clinic {
        app,
        org,
        clinician,
        ..
    } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    let shown = page(&browser, "/clinic/settings", StatusCode::OK).await;
    assert!(shown.contains("No contact line is set."));
    let csrf = browser.csrf().await;
    let contact =
        || async { app.get("/v1/org", Some(&org.admin.token), 200).await["contact"].clone() };

    // A number written for local dialling is refused on the page, with
    // what was typed kept and nothing stored.
    let refused = browser
        .post(
            "/clinic/settings/contact",
            &[
                ("csrf", &csrf),
                ("phone", "030 123456"),
                ("hours", "Mon-Fri 8-18"),
            ],
            &[],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_page(&refused);
    let said = between(&refused.body, r#"role="alert">"#, "</p>");
    assert!(said.starts_with("Phone must be an international"), "{said}");
    assert!(refused.body.contains(r#"value="030 123456""#));
    assert!(refused.body.contains(r#"value="Mon-Fri 8-18""#));
    assert_eq!(contact().await, Value::Null);
    // A forged form changes nothing either.
    let forged = browser
        .post(
            "/clinic/settings/contact",
            &[
                ("csrf", "forged"),
                ("phone", "+4930123456"),
                ("hours", "Mon-Fri 8-18"),
            ],
            &[],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(contact().await, Value::Null);

    let set = browser
        .post(
            "/clinic/settings/contact",
            &[
                ("csrf", &csrf),
                ("phone", " +4930123456 "),
                ("hours", " Mon-Fri 8-18 "),
            ],
            &[],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    assert_eq!(
        contact().await,
        json!({"phone": "+4930123456", "hours": "Mon-Fri 8-18"})
    );
    let shown = page(&browser, "/clinic/settings", StatusCode::OK).await;
    let state = between(&shown, r#"id="contact-state">"#, "</p>");
    assert!(
        state.contains("+4930123456") && state.contains("Mon-Fri 8-18"),
        "{state}"
    );

    // Not for a clinician.
    let other = Browser::signed_in(&app, &clinician.email).await;
    let their_csrf = other.csrf().await;
    for path in [
        "/clinic/settings/contact",
        "/clinic/settings/contact/remove",
    ] {
        let refused = other
            .post(
                path,
                &[
                    ("csrf", &their_csrf),
                    ("phone", "+4930999999"),
                    ("hours", "never"),
                ],
                &[],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(contact().await["phone"], "+4930123456");

    let removed = browser
        .post("/clinic/settings/contact/remove", &[("csrf", &csrf)], &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(contact().await, Value::Null);
    let audit = app.get("/v1/audit", Some(&org.admin.token), 200).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["action"].as_str())
        .filter(|action| action.starts_with("org.contact"))
        .collect();
    assert_eq!(actions, ["org.contact_removed", "org.contact_set"]);
}

#[tokio::test]
async fn a_clinician_gets_not_for_your_role_on_the_admin_pages_and_changes_nothing() {
    let Clinic {
        app,
        org,
        clinician,
        therapist,
        ..
    } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &clinician.email).await;
    let csrf = browser.csrf().await;
    let gets = [
        "/clinic/staff".to_owned(),
        format!("/clinic/staff/{}", therapist.id),
        format!("/clinic/staff/{}/deactivate", therapist.id),
        "/clinic/webhooks".to_owned(),
        format!("/clinic/webhooks/{}/remove", Uuid::new_v4()),
        "/clinic/audit".to_owned(),
        "/clinic/settings".to_owned(),
        "/clinic/settings/push-gateway/remove".to_owned(),
    ];
    for path in &gets {
        let refused = browser.get(path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(refused.body.contains("Not for your role"), "{path}");
    }
    let posts: [(String, Vec<(&str, &str)>); 5] = [
        (
            "/clinic/staff".to_owned(),
            vec![
                ("email", "sneaky@clinic.test"),
                ("display_name", "Sneaky"),
                ("role", "admin"),
                ("password", PASSWORD),
            ],
        ),
        (
            format!("/clinic/staff/{}", clinician.id),
            vec![("display_name", "Boss"), ("role", "admin")],
        ),
        (format!("/clinic/staff/{}/deactivate", therapist.id), vec![]),
        (
            "/clinic/webhooks".to_owned(),
            vec![("url", "https://hooks.example.org/in")],
        ),
        (
            "/clinic/settings/totp".to_owned(),
            vec![("require_totp", "on")],
        ),
    ];
    let users = app.count("users").await;
    for (path, fields) in &posts {
        let mut sent = vec![("csrf", csrf.as_str())];
        sent.extend(fields.iter().copied());
        let refused = browser.post(path, &sent, &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(refused.body.contains("Not for your role"), "{path}");
    }
    assert_eq!(app.count("users").await, users);
    assert_eq!(app.count("webhooks").await, 0);
    assert_eq!(login_status(&app, &therapist.email).await, 200);
    let me = staff_member(&app, &org.admin.token, clinician.id).await;
    assert_eq!(me["role"], "clinician");
    assert_eq!(
        app.get("/v1/org", Some(&org.admin.token), 200).await["require_totp"],
        false
    );
    // Invites are for every member of staff.
    page(&browser, "/clinic/invites", StatusCode::OK).await;
}

#[tokio::test]
async fn another_orgs_staff_and_webhooks_are_not_found_and_left_alone() {
    let Clinic {
        app,
        org,
        clinician,
        ..
    } = Clinic::spawn().await;
    let webhook = app
        .post(
            "/v1/webhooks",
            Some(&org.admin.token),
            json!({"url": "https://hooks.example.org/in"}),
            201,
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.create_org("Other").await;
    let browser = Browser::signed_in(&app, &other.admin.email).await;
    let csrf = browser.csrf().await;
    let missing = [
        browser
            .get(&format!("/clinic/staff/{}", clinician.id))
            .await,
        browser
            .get(&format!("/clinic/staff/{}/deactivate", clinician.id))
            .await,
        browser.get("/clinic/staff/not-an-id").await,
        browser
            .post(
                &format!("/clinic/staff/{}", clinician.id),
                &[("csrf", &csrf), ("display_name", "Mine"), ("role", "admin")],
                &[],
            )
            .await,
        browser
            .post(
                &format!("/clinic/staff/{}/deactivate", clinician.id),
                &[("csrf", &csrf)],
                &[],
            )
            .await,
        browser
            .get(&format!("/clinic/webhooks/{webhook}/remove"))
            .await,
        browser
            .post(
                &format!("/clinic/webhooks/{webhook}/remove"),
                &[("csrf", &csrf)],
                &[],
            )
            .await,
    ];
    for answer in &missing {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
        assert!(is_html(answer));
    }
    let staff = page(&browser, "/clinic/staff", StatusCode::OK).await;
    assert!(!staff.contains(&clinician.email));
    let seen = staff_member(&app, &org.admin.token, clinician.id).await;
    assert_eq!(seen["role"], "clinician");
    assert_eq!(seen["active"], true);
    assert_eq!(seen["display_name"], "clinician");
    let hooks = app.get("/v1/webhooks", Some(&org.admin.token), 200).await;
    assert_eq!(hooks["items"].as_array().unwrap().len(), 1);
    app.get(
        &format!("/v1/webhooks/{webhook}/deliveries"),
        Some(&other.admin.token),
        404,
    )
    .await;
}

#[tokio::test]
async fn admin_posts_without_the_sessions_csrf_token_or_from_another_site_change_nothing() {
    let Clinic {
        app,
        org,
        clinician,
        ..
    } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &org.admin.email).await;
    let csrf = browser.csrf().await;
    let counts = async || {
        let mut counts = Vec::new();
        for table in ["invites", "users", "webhooks", "push_gateways", "audit_log"] {
            counts.push(app.count(table).await);
        }
        counts
    };
    let before = counts().await;
    let posts: [(String, Vec<(&str, &str)>); 8] = [
        ("/clinic/invites".to_owned(), vec![]),
        (
            "/clinic/staff".to_owned(),
            vec![
                ("email", "forged@clinic.test"),
                ("display_name", "Forged"),
                ("role", "admin"),
                ("password", PASSWORD),
            ],
        ),
        (
            format!("/clinic/staff/{}", clinician.id),
            vec![("display_name", "Forged"), ("role", "admin")],
        ),
        (format!("/clinic/staff/{}/deactivate", clinician.id), vec![]),
        (
            "/clinic/webhooks".to_owned(),
            vec![("url", "https://evil.example.org/in")],
        ),
        (
            "/clinic/settings/totp".to_owned(),
            vec![("require_totp", "on")],
        ),
        (
            "/clinic/settings/push-gateway".to_owned(),
            vec![("url", "https://evil.example.org/push")],
        ),
        ("/clinic/settings/push-gateway/remove".to_owned(), vec![]),
    ];
    for (path, fields) in &posts {
        let with = |token: &'static str| {
            let mut sent: Vec<(&str, &str)> = Vec::new();
            if !token.is_empty() {
                sent.push(("csrf", token));
            }
            sent.extend(fields.iter().copied());
            sent
        };
        let mut good = vec![("csrf", csrf.as_str())];
        good.extend(fields.iter().copied());
        let refused = [
            browser.post(path, &with(""), &[]).await,
            browser.post(path, &with("forged"), &[]).await,
            browser
                .post(path, &good, &[("sec-fetch-site", "cross-site")])
                .await,
            browser
                .post(path, &good, &[("origin", "https://evil.test")])
                .await,
        ];
        for answer in &refused {
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                answer.body
            );
            assert!(answer.body.contains("Form not accepted"), "{path}");
        }
    }
    assert_eq!(counts().await, before);
    assert_eq!(login_status(&app, &clinician.email).await, 200);
    let seen = staff_member(&app, &org.admin.token, clinician.id).await;
    assert_eq!(seen["role"], "clinician");
    assert_eq!(
        app.get("/v1/org", Some(&org.admin.token), 200).await["require_totp"],
        false
    );
}
