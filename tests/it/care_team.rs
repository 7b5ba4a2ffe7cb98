//! Invites and joining a care team, and staff finding their patients.

use dorsal_tests::browser::form;
use dorsal_tests::{Login, Org, TestApp};
use reqwest::header;
use serde_json::{Value, json};

#[tokio::test]
async fn a_patient_joins_with_a_code_typed_loosely_and_a_retry_answers_the_same() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Spine Clinic").await;
    let therapist = app.add_staff(&org, "therapist").await;
    let patient = app.register_patient().await;
    let invite = app
        .post("/v1/invites", Some(&therapist.token), json!({}), 201)
        .await;
    let code = invite["code"].as_str().unwrap();
    assert_eq!(code.len(), 14, "{code}");
    assert!(invite["expires_at"].as_str().unwrap().ends_with('Z'));

    let typed = code.to_lowercase().replace('-', " ");
    let joined = app
        .post(
            "/v1/care-team/join",
            Some(&patient.token),
            json!({"code": typed}),
            200,
        )
        .await;
    assert_eq!(joined["org_id"], org.id.to_string());
    assert_eq!(joined["org_name"], "Spine Clinic");
    let again = app
        .post(
            "/v1/care-team/join",
            Some(&patient.token),
            json!({"code": code}),
            200,
        )
        .await;
    assert_eq!(again, joined);
    assert_eq!(app.count("care_teams").await, 1);
    assert_eq!(app.count("care_team_members").await, 1);

    // A second staff member's invite adds them to the same team.
    let clinician = app.add_staff(&org, "clinician").await;
    let second = app
        .post("/v1/invites", Some(&clinician.token), json!({}), 201)
        .await;
    app.post(
        "/v1/care-team/join",
        Some(&patient.token),
        json!({"code": second["code"]}),
        200,
    )
    .await;
    assert_eq!(app.count("care_teams").await, 1);
    assert_eq!(app.count("care_team_members").await, 2);
}

#[tokio::test]
async fn a_used_code_is_gone_for_anyone_else() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Clinic").await;
    let first = app.register_patient().await;
    let second = app.register_patient().await;
    let invite = app
        .post("/v1/invites", Some(&org.admin.token), json!({}), 201)
        .await;
    app.post(
        "/v1/care-team/join",
        Some(&first.token),
        json!({"code": invite["code"]}),
        200,
    )
    .await;
    let problem = app
        .post(
            "/v1/care-team/join",
            Some(&second.token),
            json!({"code": invite["code"]}),
            410,
        )
        .await;
    assert_eq!(problem["code"], "invite_expired");
    assert_eq!(app.count("care_teams").await, 1);
}

#[tokio::test]
async fn an_expired_code_is_gone_and_an_unknown_one_not_found() {
    let app = TestApp::spawn_with(|c| c.auth.invite_ttl_hours = 0).await;
    let org = app.create_org("Clinic").await;
    let patient = app.register_patient().await;
    let invite = app
        .post("/v1/invites", Some(&org.admin.token), json!({}), 201)
        .await;
    let problem = app
        .post(
            "/v1/care-team/join",
            Some(&patient.token),
            json!({"code": invite["code"]}),
            410,
        )
        .await;
    assert_eq!(problem["code"], "invite_expired");
    for code in ["ZZZZ-ZZZZ-ZZZZ", "too short", ""] {
        let problem = app
            .post(
                "/v1/care-team/join",
                Some(&patient.token),
                json!({"code": code}),
                404,
            )
            .await;
        assert_eq!(problem["code"], "not_found");
    }
    assert_eq!(app.count("care_teams").await, 0);
}

/// The display names `GET /v1/patients?q=` lists for `staff`.
async fn found(app: &TestApp, staff: &Login, q: &str) -> Vec<String> {
    let page = app
        .get(
            &format!("/v1/patients?{}", form(&[("q", q)])),
            Some(&staff.token),
            200,
        )
        .await;
    let mut names: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["display_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn staff_search_patients_by_name_or_email_ignoring_case_with_wildcards_taken_literally() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Spine Clinic").await;
    let staff = app.add_staff(&org, "clinician").await;
    for (name, local) in [
        ("Ana 100% Fit", "ana"),
        ("Ana 1000 Fit", "ana.two"),
        ("snake_case Sam", "sam"),
        ("snakeXcase Dan", "dan"),
        ("Back\\slash Bo", "bo"),
        ("Backslash Cy", "cy"),
        ("Zoë Ärztin", "z1"),
        ("Zoe Arztin", "zoe.plain"),
        ("Mel", "Mel_Mail"),
        ("Max", "melxmail"),
    ] {
        app.named_patient_of(&staff, name, local).await;
    }
    assert_eq!(found(&app, &staff, "100%").await, ["Ana 100% Fit"]);
    assert_eq!(
        found(&app, &staff, "ANA 10").await,
        ["Ana 100% Fit", "Ana 1000 Fit"]
    );
    assert_eq!(found(&app, &staff, "E_C").await, ["snake_case Sam"]);
    assert_eq!(found(&app, &staff, "k\\s").await, ["Back\\slash Bo"]);
    assert_eq!(found(&app, &staff, "%").await, ["Ana 100% Fit"]);
    assert_eq!(found(&app, &staff, "_").await, ["Mel", "snake_case Sam"]);
    // By email, whatever the case typed.
    assert_eq!(found(&app, &staff, "MEL_MAIL-").await, ["Mel"]);
    assert_eq!(found(&app, &staff, "@HOME.test").await.len(), 10);
    // Letters beyond ASCII fold too, alike on SQLite and PostgreSQL.
    assert_eq!(found(&app, &staff, "ÄRZTIN").await, ["Zoë Ärztin"]);
    assert_eq!(found(&app, &staff, "zoë ä").await, ["Zoë Ärztin"]);
    assert_eq!(found(&app, &staff, "zoe").await, ["Zoe Arztin"]);
    assert!(found(&app, &staff, "nobody like this").await.is_empty());
    // A blank search is no search.
    assert_eq!(found(&app, &staff, "  ").await.len(), 10);
}

#[tokio::test]
async fn a_search_pages_through_its_matches_only() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Clinic").await;
    let staff = app.add_staff(&org, "therapist").await;
    for (name, local) in [
        ("Kim One", "a"),
        ("Lee", "b"),
        ("Kim Two", "c"),
        ("Kim Three", "d"),
    ] {
        app.named_patient_of(&staff, name, local).await;
    }
    let mut names = Vec::new();
    let mut next = Value::Null;
    let mut pages = 0;
    loop {
        let cursor = next
            .as_str()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = app
            .get(
                &format!("/v1/patients?q=kim&limit=2{cursor}"),
                Some(&staff.token),
                200,
            )
            .await;
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            names.push(item["display_name"].as_str().unwrap().to_owned());
        }
        next = page["next"].clone();
        if next.is_null() {
            break;
        }
    }
    assert_eq!(names, ["Kim One", "Kim Two", "Kim Three"]);
    assert_eq!(pages, 2);
}

#[tokio::test]
async fn a_search_never_finds_another_orgs_patient() {
    let app = TestApp::spawn().await;
    let ours: Org = app.create_org("Ours").await;
    let theirs: Org = app.create_org("Theirs").await;
    let our_staff = app.add_staff(&ours, "clinician").await;
    let their_staff = app.add_staff(&theirs, "clinician").await;
    app.named_patient_of(&their_staff, "Quinn Elsewhere", "quinn")
        .await;
    assert!(found(&app, &our_staff, "quinn").await.is_empty());
    assert!(found(&app, &ours.admin, "Elsewhere").await.is_empty());
    assert_eq!(
        found(&app, &their_staff, "quinn").await,
        ["Quinn Elsewhere"]
    );
}

#[tokio::test]
async fn a_search_over_200_characters_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Clinic").await;
    let staff = app.add_staff(&org, "clinician").await;
    assert!(found(&app, &staff, &"é".repeat(200)).await.is_empty());
    let response = app
        .client
        .get(app.url(&format!(
            "/v1/patients?{}",
            form(&[("q", &"a".repeat(201))])
        )))
        .bearer_auth(&staff.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_query");
    assert!(problem["detail"].as_str().unwrap().contains("200"));
}

#[tokio::test]
async fn the_api_document_describes_the_patient_search() {
    let app = TestApp::spawn().await;
    let document = app.get("/openapi.json", None, 200).await;
    let operation = &document["paths"]["/v1/patients"]["get"];
    let q = operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "q")
        .unwrap();
    assert_eq!(q["in"], "query");
    assert_eq!(q["schema"]["maxLength"], 200);
    assert!(operation["responses"]["400"].is_object());
}
