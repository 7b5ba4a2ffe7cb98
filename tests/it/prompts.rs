//! Prompts (mattress, sleep tips, PT referral, adherence) from the hourly
//! scan, in the patient's daytime and outside quiet hours, each at most
//! once per its period; and the therapist digest.

use dorsal_tests::diary::{date, noon, plan_given, woken_nights};
use dorsal_tests::reminders::new_plan;
use dorsal_tests::sync::{notifications, profile, push_rows};
use dorsal_tests::{Clinic, TestApp};
use dorsal_worker::JobCtx;
use dorsal_worker::jobs::send_prompts;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

const DAY: SignedDuration = SignedDuration::from_hours(24);

async fn scan(app: &TestApp, at: Timestamp) -> Option<usize> {
    send_prompts::run(&JobCtx::from(&app.core), at)
        .await
        .unwrap()
}

#[tokio::test]
async fn prompts_go_out_in_daytime_once_per_period() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let now = noon();
    // Woken by pain on 3 of the last 7 nights, on the stomach; an old
    // mattress; a plan given three days ago and never done.
    profile(&app, &patient, json!({"timezone": "UTC"})).await;
    woken_nights(
        &app,
        &patient,
        now,
        &[1, 3, 5],
        json!({"position": "stomach"}),
    )
    .await;
    push_rows(
        &app,
        &patient,
        "mattresses",
        vec![json!({"id": "bed-1", "purchased_on": "2015-03-01"})],
    )
    .await;
    new_plan(&app, &therapist, &patient, None).await;
    plan_given(&app, &patient, now.checked_sub(DAY * 3).unwrap()).await;
    // Woken on most of the last 14 nights: see a physical therapist.
    let waking = app.patient_of(&therapist).await;
    profile(&app, &waking, json!({"timezone": "UTC"})).await;
    woken_nights(&app, &waking, now, &[1, 2, 3, 4, 8, 9, 10, 11], json!({})).await;
    // An old mattress, but quiet hours at noon.
    let napping = app.patient_of(&therapist).await;
    profile(
        &app,
        &napping,
        json!({"timezone": "UTC", "quiet_start": "11:00", "quiet_end": "14:00"}),
    )
    .await;
    push_rows(
        &app,
        &napping,
        "mattresses",
        vec![json!({"id": "bed-2", "purchased_on": "2010-01-01"})],
    )
    .await;

    assert_eq!(scan(&app, now).await, Some(5));
    assert_eq!(scan(&app, now).await, None, "another worker has this hour");
    let hour = SignedDuration::from_hours(1);
    assert_eq!(
        scan(&app, now.checked_add(hour).unwrap()).await,
        Some(0),
        "nothing repeats"
    );

    let kinds = |list: Vec<Value>| {
        list.iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let today = date(now, 0);
    assert_eq!(
        kinds(notifications(&app, &patient, "mattress_prompt").await),
        [format!("mattress_prompt.{today}.bed-1")]
    );
    let tip = notifications(&app, &patient, "sleep_tip").await;
    assert_eq!(tip.len(), 1);
    assert!(tip[0]["body"].as_str().unwrap().contains("under your hips"));
    assert_eq!(
        notifications(&app, &patient, "adherence_nudge").await.len(),
        1
    );
    let mattress = &notifications(&app, &patient, "mattress_prompt").await[0];
    assert!(mattress["body"].as_str().unwrap().contains("medium-firm"));
    let referral = notifications(&app, &waking, "pt_referral").await;
    assert_eq!(referral.len(), 1);
    assert_eq!(referral[0]["severity"], "routine");
    assert_eq!(notifications(&app, &waking, "sleep_tip").await.len(), 1);
    assert!(
        notifications(&app, &napping, "mattress_prompt")
            .await
            .is_empty(),
        "quiet hours"
    );

    // After quiet hours the napping patient gets theirs.
    assert_eq!(
        scan(&app, now.checked_add(hour * 2).unwrap()).await,
        Some(1)
    );
    assert_eq!(
        notifications(&app, &napping, "mattress_prompt").await.len(),
        1
    );
    // At night nothing goes out, even what is due again (a day's nudge).
    let night = now.checked_add(hour * 34).unwrap(); // 22:00 tomorrow
    assert_eq!(scan(&app, night).await, Some(0));
    // The next day, only the adherence nudge is due again; a session stops it.
    let tomorrow = now.checked_add(DAY).unwrap();
    assert_eq!(scan(&app, tomorrow).await, Some(1));
    push_rows(
        &app,
        &patient,
        "exercise_sessions",
        vec![json!({"id": "s1", "performed_at": tomorrow.as_millisecond()})],
    )
    .await;
    let later = tomorrow.checked_add(DAY).unwrap();
    assert_eq!(scan(&app, later).await, Some(0));
    assert_eq!(
        notifications(&app, &patient, "adherence_nudge").await.len(),
        2
    );
}

#[tokio::test]
async fn the_digest_lists_the_orgs_patients_idle_for_two_weeks() {
    let Clinic {
        app,
        org: _,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let now = Timestamp::now();
    new_plan(&app, &therapist, &patient, None).await;
    plan_given(&app, &patient, now.checked_sub(DAY * 20).unwrap()).await;
    // Another patient exercised a week ago.
    let active = app.patient_of(&therapist).await;
    new_plan(&app, &therapist, &active, None).await;
    plan_given(&app, &active, now.checked_sub(DAY * 20).unwrap()).await;
    let week_ago = now.checked_sub(DAY * 7).unwrap().as_millisecond();
    push_rows(
        &app,
        &active,
        "exercise_sessions",
        vec![json!({"id": "s1", "performed_at": week_ago})],
    )
    .await;
    // A patient with an old session and a new plan is not idle yet.
    let fresh = app.patient_of(&therapist).await;
    new_plan(&app, &therapist, &fresh, None).await;

    let digest = app.get("/v1/digest", Some(&therapist.token), 200).await;
    let items = digest["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{digest}");
    assert_eq!(items[0]["patient_id"], patient.id.to_string());
    assert_eq!(items[0]["days_without_session"], 20);
    assert_eq!(items[0]["last_session_at"], Value::Null);
    assert_eq!(
        app.get("/v1/digest", Some(&clinician.token), 200).await["items"],
        digest["items"]
    );
    // Another org sees none of them; a patient has no digest.
    let other = app.create_org("Elsewhere").await;
    let stranger = app.add_staff(&other, "therapist").await;
    assert_eq!(
        app.get("/v1/digest", Some(&stranger.token), 200).await["items"],
        json!([])
    );
    // The patient joins the other org too, which gives them its own plan
    // (archiving the first): the first org's digest no longer lists them,
    // and never shows the other org's plan.
    let invite = app
        .post("/v1/invites", Some(&stranger.token), json!({}), 201)
        .await;
    app.post(
        "/v1/care-team/join",
        Some(&patient.token),
        json!({"code": invite["code"]}),
        200,
    )
    .await;
    let theirs = new_plan(&app, &stranger, &patient, None).await;
    plan_given(&app, &patient, now.checked_sub(DAY * 20).unwrap()).await;
    let ours = app.get("/v1/digest", Some(&therapist.token), 200).await;
    assert!(!ours.to_string().contains(&theirs), "{ours}");
    assert_eq!(ours["items"], json!([]), "{ours}");
    let elsewhere = app.get("/v1/digest", Some(&stranger.token), 200).await;
    assert_eq!(elsewhere["items"][0]["plan_id"], theirs, "{elsewhere}");
    app.get("/v1/digest", Some(&patient.token), 403).await;
    app.get("/v1/digest", None, 401).await;
}

#[tokio::test]
async fn no_adherence_nudge_for_a_plan_not_yet_begun_or_already_over() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let ended = app.patient_of(&therapist).await;
    let now = noon();
    for (who, starts, ends) in [
        (&patient, date(now, -3), None),
        (&ended, date(now, 30), Some(date(now, 1))),
    ] {
        profile(&app, who, json!({"timezone": "UTC"})).await;
        let mut body = json!({"title": "Stretches", "starts_on": starts,
            "items": [{"exercise_slug": "childs-pose"}]});
        if let Some(ends) = ends {
            body["ends_on"] = json!(ends);
        }
        let path = format!("/v1/patients/{}/plans", who.id);
        app.post(&path, Some(&therapist.token), body, 201).await;
        plan_given(&app, who, now.checked_sub(DAY * 3).unwrap()).await;
    }
    // Three idle days would earn a nudge, but neither plan is in force.
    assert_eq!(scan(&app, now).await, Some(0));
    // Once the first plan begins, its patient is nudged.
    let begun = now.checked_add(DAY * 3).unwrap();
    assert_eq!(scan(&app, begun).await, Some(1));
    assert_eq!(
        notifications(&app, &patient, "adherence_nudge").await.len(),
        1
    );
    assert!(
        notifications(&app, &ended, "adherence_nudge")
            .await
            .is_empty()
    );
}
