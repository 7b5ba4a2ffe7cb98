//! Invites and joining a care team.

use dorsal_tests::TestApp;
use serde_json::json;

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
