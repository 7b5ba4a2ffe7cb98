//! Accounts people control (SPEC §10): admins managing their staff, and
//! patients choosing which clinics see them.

use dorsal_tests::diary::plan_given;
use dorsal_tests::reminders::new_plan;
use dorsal_tests::sync::push;
use dorsal_tests::{Clinic, Login, PASSWORD, TestApp, assert_problem};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn patch(
    app: &TestApp,
    who: &Login,
    id: impl std::fmt::Display,
    body: Value,
    expect: u16,
) -> Value {
    app.call(
        Method::PATCH,
        &format!("/v1/staff/{id}"),
        Some(&who.token),
        Some(body),
        expect,
    )
    .await
}

fn staff_item(list: &Value, id: Uuid) -> &Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == json!(id))
        .unwrap_or_else(|| panic!("{id} not listed in {list}"))
}

/// Audit actions of the org about `subject`, oldest first.
async fn staff_audit(app: &TestApp, admin: &Login, subject: Uuid) -> Vec<String> {
    let audit = app
        .get("/v1/audit?limit=500", Some(&admin.token), 200)
        .await;
    let mut actions: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject_id"] == json!(subject))
        .map(|e| {
            assert_eq!(e["actor_id"], json!(admin.id));
            assert_eq!(e["patient_id"], Value::Null);
            e["action"].as_str().unwrap().to_owned()
        })
        .collect();
    actions.reverse();
    actions
}

#[tokio::test]
async fn an_admin_lists_and_changes_their_staff_and_every_change_is_audited() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let listed = app.get("/v1/staff", Some(&org.admin.token), 200).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);
    assert_eq!(listed["next"], Value::Null);
    let item = staff_item(&listed, therapist.id);
    assert_eq!(
        item,
        &json!({"id": therapist.id, "email": therapist.email, "display_name": "therapist",
            "role": "therapist", "active": true, "mfa": false})
    );
    assert!(!listed.to_string().contains(&patient.id.to_string()));
    // `mfa` says whether two-factor sign-in is on.
    crate::totp::enrol(&app, &clinician).await;
    let listed = app.get("/v1/staff", Some(&org.admin.token), 200).await;
    assert_eq!(staff_item(&listed, clinician.id)["mfa"], true);
    assert_eq!(staff_item(&listed, therapist.id)["mfa"], false);

    let changed = patch(
        &app,
        &org.admin,
        therapist.id,
        json!({"role": "clinician", "display_name": "  Sam Reyes  "}),
        200,
    )
    .await;
    assert_eq!(changed["role"], "clinician");
    assert_eq!(changed["display_name"], "Sam Reyes");
    // The new role holds from the next request, with the same token.
    assert_eq!(
        app.get("/v1/me", Some(&therapist.token), 200).await["role"],
        "clinician"
    );
    // Nothing to change changes nothing, and is not audited.
    let same = patch(&app, &org.admin, therapist.id, json!({}), 200).await;
    assert_eq!(same, changed);
    assert_eq!(
        staff_audit(&app, &org.admin, therapist.id).await,
        ["staff.added", "staff.role_changed", "staff.renamed"]
    );

    // Paging walks the list in order.
    let first = app
        .get("/v1/staff?limit=2", Some(&org.admin.token), 200)
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/v1/staff?limit=2&cursor={next}"),
            Some(&org.admin.token),
            200,
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);

    // Only admins manage staff.
    for who in [&clinician, &therapist, &patient] {
        app.get("/v1/staff", Some(&who.token), 403).await;
        patch(&app, who, clinician.id, json!({"active": false}), 403).await;
    }
}

#[tokio::test]
async fn deactivation_ends_every_session_at_once_and_sign_in_gets_the_wrong_password_answer() {
    let Clinic {
        app,
        org,
        clinician,
        ..
    } = Clinic::spawn().await;
    // A second session (another device) of the same account.
    let second = app.login(&clinician.email).await;
    let off = patch(
        &app,
        &org.admin,
        clinician.id,
        json!({"active": false}),
        200,
    )
    .await;
    assert_eq!(off["active"], false);
    for session in [&clinician, &second] {
        let refused = app.get("/v1/alerts", Some(&session.token), 401).await;
        assert_problem(&refused, 401, "account_inactive");
        let refreshed = app
            .post(
                "/v1/auth/refresh",
                None,
                json!({"refresh_token": session.refresh}),
                401,
            )
            .await;
        assert_eq!(refreshed["status"], 401);
    }
    let wrong_password = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": clinician.email, "password": "not the password"}),
            401,
        )
        .await;
    let deactivated = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": clinician.email, "password": PASSWORD}),
            401,
        )
        .await;
    assert_eq!(deactivated, wrong_password);
    let listed = app.get("/v1/staff", Some(&org.admin.token), 200).await;
    assert_eq!(staff_item(&listed, clinician.id)["active"], false);

    // Switched on again, the account signs in afresh; old sessions stay
    // ended.
    patch(&app, &org.admin, clinician.id, json!({"active": true}), 200).await;
    let back = app.login(&clinician.email).await;
    app.get("/v1/alerts", Some(&back.token), 200).await;
    app.post(
        "/v1/auth/refresh",
        None,
        json!({"refresh_token": second.refresh}),
        401,
    )
    .await;
    assert_eq!(
        staff_audit(&app, &org.admin, clinician.id).await,
        ["staff.added", "staff.deactivated", "staff.reactivated"]
    );
}

#[tokio::test]
async fn the_orgs_last_active_admin_can_be_neither_demoted_nor_switched_off() {
    let Clinic {
        app,
        org,
        therapist,
        ..
    } = Clinic::spawn().await;
    let admin = &org.admin;
    for body in [json!({"role": "clinician"}), json!({"active": false})] {
        let refused = patch(&app, admin, admin.id, body, 409).await;
        assert_problem(&refused, 409, "last_admin");
    }
    // A deactivated admin does not count.
    let second = app.add_staff(&org, "admin").await;
    patch(&app, admin, second.id, json!({"active": false}), 200).await;
    patch(&app, admin, admin.id, json!({"role": "therapist"}), 409).await;
    patch(&app, admin, second.id, json!({"active": true}), 200).await;
    // With another active admin, the first may step down; then the second
    // is the last one.
    let stepped_down = patch(&app, admin, admin.id, json!({"role": "therapist"}), 200).await;
    assert_eq!(stepped_down["role"], "therapist");
    patch(&app, &second, second.id, json!({"active": false}), 409).await;
    patch(&app, &second, therapist.id, json!({"role": "admin"}), 200).await;
    patch(&app, &second, second.id, json!({"active": false}), 200).await;
    let me = app.get("/v1/me", Some(&second.token), 401).await;
    assert_problem(&me, 401, "account_inactive");
}

#[tokio::test]
async fn another_orgs_staff_a_patient_and_bad_input_are_refused_and_change_nothing() {
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let other = app.create_org("Other").await;
    let outsider = app.add_staff(&other, "clinician").await;
    for id in [outsider.id, other.admin.id, patient.id, Uuid::new_v4()] {
        let missing = patch(&app, &org.admin, id, json!({"active": false}), 404).await;
        assert_problem(&missing, 404, "not_found");
    }
    app.get("/v1/me", Some(&outsider.token), 200).await;
    app.call(
        Method::PATCH,
        "/v1/staff/not-a-uuid",
        Some(&org.admin.token),
        Some(json!({})),
        404,
    )
    .await;
    for body in [
        json!({"role": "patient"}),
        json!({"role": "root"}),
        json!({"display_name": ""}),
        json!({"display_name": 7}),
        json!({"active": "no"}),
        json!({"email": "taken@clinic.test"}),
        json!([]),
    ] {
        let refused = patch(&app, &org.admin, therapist.id, body.clone(), 422).await;
        assert_eq!(refused["status"], 422, "{body}");
    }
    let listed = app.get("/v1/staff", Some(&org.admin.token), 200).await;
    let item = staff_item(&listed, therapist.id);
    assert_eq!(
        (
            item["role"].as_str(),
            item["display_name"].as_str(),
            item["active"].as_bool()
        ),
        (Some("therapist"), Some("therapist"), Some(true))
    );
    assert_eq!(
        staff_audit(&app, &org.admin, therapist.id).await,
        ["staff.added"]
    );
}

async fn push_red_flag(app: &TestApp, patient: &Login, id: &str) {
    let record = json!({"id": id, "recorded_at": 1_793_503_800_000_i64, "intensity": 6,
        "period": "night", "eased_by_rest": true, "bladder_control_loss": true});
    push(
        app,
        patient,
        json!({"pain_logs": {"created": [record], "updated": [], "deleted": []}}),
    )
    .await;
}

#[tokio::test]
async fn a_patient_leaves_a_clinic_and_from_then_on_it_reaches_nothing_of_theirs() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    // A second clinic the patient stays with.
    let other = app.create_org("Second opinion").await;
    let other_clinician = app.add_staff(&other, "clinician").await;
    app.join_care_team(&patient, &other_clinician).await;
    let teams = app.get("/v1/care-team", Some(&patient.token), 200).await;
    let orgs: Vec<&Value> = teams["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["org_id"])
        .collect();
    assert_eq!(orgs, [&json!(org.id), &json!(other.id)]);
    assert_eq!(teams["items"][0]["org_name"], "Clinic");

    // The clinic has an endpoint, and a message about the patient waiting.
    app.post(
        "/v1/webhooks",
        Some(&org.admin.token),
        json!({"url": "https://hooks.example.org/in"}),
        201,
    )
    .await;
    push_red_flag(&app, &patient, "before").await;
    assert_eq!(app.count("deliveries").await, 1);
    // And a plan the patient has not exercised for three weeks: the
    // digest lists them.
    new_plan(&app, &therapist, &patient, None).await;
    let three_weeks_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(21 * 24);
    plan_given(&app, &patient, three_weeks_ago).await;
    let digest = app.get("/v1/digest", Some(&therapist.token), 200).await;
    assert!(digest.to_string().contains(&patient.id.to_string()));
    let joined_with = app
        .post("/v1/invites", Some(&therapist.token), json!({}), 201)
        .await;

    app.call(
        Method::DELETE,
        &format!("/v1/care-team/{}", org.id),
        Some(&patient.token),
        None,
        204,
    )
    .await;
    // The waiting message is dropped; a new red flag reaches only the
    // clinic the patient stayed with.
    assert_eq!(app.count("deliveries").await, 0);
    push_red_flag(&app, &patient, "after").await;
    assert_eq!(app.count("deliveries").await, 0);
    let theirs = app
        .get("/v1/alerts", Some(&other_clinician.token), 200)
        .await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 1);
    for who in [&clinician, &therapist, &org.admin] {
        assert_eq!(
            app.get("/v1/alerts", Some(&who.token), 200).await["items"],
            json!([])
        );
        assert_eq!(
            app.get("/v1/digest", Some(&who.token), 200).await["items"],
            json!([])
        );
        let listed = app.get("/v1/patients", Some(&who.token), 200).await;
        assert_eq!(listed["items"], json!([]));
        for path in [
            "",
            "/fhir",
            "/plans",
            "/trends?from=2026-10-31&to=2026-11-01",
            "/adherence?from=2026-10-31&to=2026-11-01",
        ] {
            let refused = app
                .get(
                    &format!("/v1/patients/{}{path}", patient.id),
                    Some(&who.token),
                    404,
                )
                .await;
            assert_eq!(refused["status"], 404, "{path}");
        }
    }
    let teams = app.get("/v1/care-team", Some(&patient.token), 200).await;
    assert_eq!(teams["items"].as_array().unwrap().len(), 1);
    assert_eq!(teams["items"][0]["org_id"], json!(other.id));

    // The leaving is in the clinic's audit log, and not in the other's.
    let audit = app
        .get(
            &format!("/v1/audit?patient_id={}", patient.id),
            Some(&org.admin.token),
            200,
        )
        .await;
    let left: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "care_team.left")
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["actor_id"], json!(patient.id));
    let theirs = app
        .get(
            &format!("/v1/audit?patient_id={}", patient.id),
            Some(&other.admin.token),
            200,
        )
        .await;
    assert!(!theirs.to_string().contains("care_team.left"));

    // Leaving twice, or a clinic never joined, is not found; staff have no
    // care teams of their own.
    for org_id in [org.id, Uuid::new_v4()] {
        let missing = app
            .call(
                Method::DELETE,
                &format!("/v1/care-team/{org_id}"),
                Some(&patient.token),
                None,
                404,
            )
            .await;
        assert_problem(&missing, 404, "not_found");
    }
    app.call(
        Method::DELETE,
        &format!("/v1/care-team/{}", other.id),
        Some(&other_clinician.token),
        None,
        403,
    )
    .await;
    app.get("/v1/care-team", Some(&clinician.token), 403).await;

    // Joining again takes a new invite (see below for the old one).
    let rejoin = app
        .post(
            "/v1/care-team/join",
            Some(&patient.token),
            json!({"code": joined_with["code"]}),
            200,
        )
        .await;
    assert_eq!(rejoin["org_id"], json!(org.id));
    app.get(
        &format!("/v1/patients/{}", patient.id),
        Some(&clinician.token),
        200,
    )
    .await;
}

#[tokio::test]
async fn the_invite_a_patient_joined_with_cannot_bring_them_back_after_they_leave() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Clinic").await;
    let therapist = app.add_staff(&org, "therapist").await;
    let patient = app.register_patient().await;
    let invite = app
        .post("/v1/invites", Some(&therapist.token), json!({}), 201)
        .await;
    let join = json!({"code": invite["code"]});
    app.post(
        "/v1/care-team/join",
        Some(&patient.token),
        join.clone(),
        200,
    )
    .await;
    // A retry of the same join (a lost response) answers the same.
    app.post(
        "/v1/care-team/join",
        Some(&patient.token),
        join.clone(),
        200,
    )
    .await;
    app.call(
        Method::DELETE,
        &format!("/v1/care-team/{}", org.id),
        Some(&patient.token),
        None,
        204,
    )
    .await;
    let gone = app
        .post("/v1/care-team/join", Some(&patient.token), join, 410)
        .await;
    assert_problem(&gone, 410, "invite_expired");
    app.get(
        &format!("/v1/patients/{}", patient.id),
        Some(&therapist.token),
        404,
    )
    .await;
    assert_eq!(app.count("care_teams").await, 0);
    assert_eq!(app.count("care_team_members").await, 0);
}
