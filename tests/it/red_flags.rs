//! Red flags over HTTP: advice in the push answer and as a synced
//! notification, one alert per (patient, rule) with the evidence, and the
//! inbox for the patient's clinicians only.

use dorsal_tests::{Clinic, Login, TestApp};
use serde_json::{Value, json};

const T: i64 = 1_793_503_800_000;

async fn log(app: &TestApp, patient: &Login, record: Value) -> Value {
    let body =
        json!({"changes": {"pain_logs": {"created": [record], "updated": [], "deleted": []}}});
    app.post("/v1/sync/push", Some(&patient.token), body, 200)
        .await
}

fn pain(id: &str, at: i64) -> Value {
    json!({"id": id, "recorded_at": at, "intensity": 6, "period": "night", "eased_by_rest": true})
}

#[tokio::test]
async fn a_cauda_equina_symptom_advises_at_once_and_opens_one_alert_with_its_evidence() {
    let Clinic {
        app,
        org,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let mut record = pain("p1", T);
    record["bladder_control_loss"] = json!(true);
    let answer = log(&app, &patient, record).await;
    assert_eq!(answer["results"]["pain_logs"]["p1"], "applied");
    let advice = &answer["advisories"][0];
    assert_eq!(
        (advice["code"].as_str(), advice["severity"].as_str()),
        (Some("cauda_equina"), Some("emergency"))
    );
    assert!(
        advice["body"]
            .as_str()
            .unwrap()
            .contains("Don't wait for a reply here")
    );

    // The advice is also a notification on every device.
    let page = app.get("/v1/sync/pull", Some(&patient.token), 200).await;
    let note = &page["changes"]["notifications"]["created"][0];
    assert_eq!(
        (note["kind"].as_str(), note["severity"].as_str()),
        (Some("red_flag_advice"), Some("emergency"))
    );

    let inbox = app
        .get("/v1/alerts?status=open", Some(&clinician.token), 200)
        .await;
    let alert = &inbox["items"][0];
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (alert["rule"].as_str(), alert["severity"].as_str()),
        (Some("cauda_equina@1"), Some("emergency"))
    );
    assert_eq!(alert["patient_id"], patient.id.to_string());
    let id = alert["id"].as_str().unwrap();
    let detail = app
        .get(&format!("/v1/alerts/{id}"), Some(&org.admin.token), 200)
        .await;
    assert_eq!(detail["evidence"][0]["log_id"], "p1");
    assert_eq!(
        detail["evidence"][0]["matched"]["bladder_control_loss"],
        true
    );
    assert!(
        detail["clinician_action"]
            .as_str()
            .unwrap()
            .contains("emergency")
    );

    // A second matching log attaches; a retried push of it changes nothing.
    let mut second = pain("p2", T + 3_600_000);
    second["saddle_numbness"] = json!(true);
    log(&app, &patient, second.clone()).await;
    let again = log(&app, &patient, second).await;
    assert_eq!(
        again["advisories"][0]["code"], "cauda_equina",
        "the patient is advised again"
    );
    assert_eq!(app.count("alerts").await, 1);
    assert_eq!(app.count("alert_evidence").await, 2);
    assert_eq!(app.count("notifications").await, 2);
}

#[tokio::test]
async fn a_resolved_alert_is_raised_again_only_by_a_new_log() {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let mut record = pain("p1", T);
    record["trauma"] = json!("major");
    log(&app, &patient, record.clone()).await;
    let id = app.get("/v1/alerts", Some(&clinician.token), 200).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let acked = app
        .post(
            &format!("/v1/alerts/{id}/acknowledge"),
            Some(&clinician.token),
            json!({}),
            200,
        )
        .await;
    assert_eq!(
        (acked["status"].as_str(), acked["acknowledged_by"].as_str()),
        (
            Some("acknowledged"),
            Some(clinician.id.to_string().as_str())
        )
    );
    app.post(
        &format!("/v1/alerts/{id}/resolve"),
        Some(&clinician.token),
        json!({"note": " "}),
        422,
    )
    .await;
    let resolved = app
        .post(
            &format!("/v1/alerts/{id}/resolve"),
            Some(&clinician.token),
            json!({"note": "Seen in ED, no fracture"}),
            200,
        )
        .await;
    assert_eq!(resolved["status"], "resolved");
    app.post(
        &format!("/v1/alerts/{id}/resolve"),
        Some(&clinician.token),
        json!({"note": "again"}),
        409,
    )
    .await;
    app.post(
        &format!("/v1/alerts/{id}/acknowledge"),
        Some(&clinician.token),
        json!({}),
        409,
    )
    .await;

    // The same log edited on the device: no new alert.
    record["note"] = json!("fell off a ladder");
    let body =
        json!({"changes": {"pain_logs": {"created": [], "updated": [record], "deleted": []}}});
    app.post("/v1/sync/push", Some(&patient.token), body, 200)
        .await;
    assert_eq!(app.count("alerts").await, 1);
    // A new log: a new alert.
    let mut fresh = pain("p2", T + 86_400_000);
    fresh["trauma"] = json!("major");
    log(&app, &patient, fresh).await;
    let open = app
        .get("/v1/alerts?status=open", Some(&clinician.token), 200)
        .await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    assert_ne!(open["items"][0]["id"], json!(id));
}

#[tokio::test]
async fn the_patients_staff_see_and_act_on_alerts_and_patients_do_not() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    app.post(
        "/v1/webhooks",
        Some(&org.admin.token),
        json!({"url": "https://hooks.example.org/in", "min_severity": "urgent"}),
        201,
    )
    .await;
    let mut record = pain("p1", T);
    record["fever"] = json!(true);
    log(&app, &patient, record).await;
    let id = app.get("/v1/alerts", Some(&clinician.token), 200).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/v1/alerts", Some(&patient.token), 403).await;
    app.get(&format!("/v1/alerts/{id}"), Some(&patient.token), 403)
        .await;
    app.post(
        &format!("/v1/alerts/{id}/acknowledge"),
        Some(&patient.token),
        json!({}),
        403,
    )
    .await;
    // A physiotherapy-led clinic's therapists are its clinicians: they
    // read, acknowledge and resolve like them.
    let listed = app.get("/v1/alerts", Some(&therapist.token), 200).await;
    assert_eq!(listed["items"][0]["id"], json!(id));
    app.get(&format!("/v1/alerts/{id}"), Some(&therapist.token), 200)
        .await;
    let acknowledged = app
        .post(
            &format!("/v1/alerts/{id}/acknowledge"),
            Some(&therapist.token),
            json!({}),
            200,
        )
        .await;
    assert_eq!(acknowledged["status"], "acknowledged");
    assert_eq!(acknowledged["acknowledged_by"], json!(therapist.id));
    let resolved = app
        .post(
            &format!("/v1/alerts/{id}/resolve"),
            Some(&therapist.token),
            json!({"note": "Seen at the clinic today."}),
            200,
        )
        .await;
    assert_eq!(resolved["status"], "resolved");
    // The clinic's systems hear the same events whoever acted.
    let events: Vec<String> = app
        .column("SELECT event FROM deliveries ORDER BY event")
        .await;
    assert_eq!(
        events,
        ["alert.acknowledged", "alert.raised", "alert.resolved"]
    );

    let other = app.create_org("Other").await;
    let stranger = app.add_staff(&other, "clinician").await;
    assert_eq!(
        app.get("/v1/alerts", Some(&stranger.token), 200).await["items"],
        json!([])
    );
    app.get(&format!("/v1/alerts/{id}"), Some(&stranger.token), 404)
        .await;
    app.post(
        &format!("/v1/alerts/{id}/acknowledge"),
        Some(&stranger.token),
        json!({}),
        404,
    )
    .await;
    app.get(
        &format!("/v1/alerts/{}", uuid::Uuid::new_v4()),
        Some(&clinician.token),
        404,
    )
    .await;
    app.get("/v1/alerts?status=maybe", Some(&clinician.token), 422)
        .await;
    assert_eq!(
        app.get("/v1/alerts?severity=emergency", Some(&clinician.token), 200)
            .await["items"],
        json!([])
    );
    assert_eq!(
        app.get("/v1/alerts?severity=urgent", Some(&clinician.token), 200)
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

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
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["alerts.list", "alerts.read"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn rejected_logs_raise_nothing_and_ordinary_logs_nothing_either() {
    let Clinic { app, patient, .. } = Clinic::spawn().await;
    let mut bad = pain("p1", T);
    bad["bladder_control_loss"] = json!(true);
    bad["intensity"] = json!(12);
    let answer = log(&app, &patient, bad).await;
    assert_eq!(answer["results"]["pain_logs"]["p1"], "rejected");
    assert_eq!(answer["advisories"], json!([]));
    let answer = log(&app, &patient, pain("p2", T)).await;
    assert_eq!(answer["advisories"], json!([]));
    assert_eq!(
        app.count("alerts").await + app.count("notifications").await,
        0
    );
}

#[tokio::test]
async fn night_pain_unrelieved_by_rest_on_three_nights_is_flagged_on_the_third() {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let night = |id: &str, day: i64| json!({"id": id, "recorded_at": T + day * 86_400_000, "intensity": 5, "period": "night"});
    assert_eq!(
        log(&app, &patient, night("n1", 0)).await["advisories"],
        json!([])
    );
    assert_eq!(
        log(&app, &patient, night("n2", 2)).await["advisories"],
        json!([])
    );
    let third = log(&app, &patient, night("n3", 4)).await;
    assert_eq!(third["advisories"][0]["code"], "unrelenting_night_pain");
    assert_eq!(third["advisories"][0]["severity"], "routine");
    let inbox = app.get("/v1/alerts", Some(&clinician.token), 200).await;
    assert_eq!(inbox["items"][0]["rule"], "unrelenting_night_pain@1");
    // Eased by rest, or on an eighth night back, does not count.
    let other = app.patient_of(&clinician).await;
    let mut eased = night("e2", 2);
    eased["eased_by_rest"] = json!(true);
    log(&app, &other, night("e1", 0)).await;
    log(&app, &other, eased).await;
    assert_eq!(
        log(&app, &other, night("e3", 4)).await["advisories"],
        json!([])
    );
}

#[tokio::test]
async fn a_night_pain_streak_is_found_by_the_worker_once_per_hour_and_once_per_log() {
    use dorsal_worker::JobCtx;
    use dorsal_worker::jobs::evaluate_time_rules;
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let now = jiff::Timestamp::now().as_millisecond();
    for (id, days) in [("s1", 2.9), ("s2", 1.9), ("s3", 0.9)] {
        let at = now - (days * 86_400_000.0) as i64;
        let record = json!({"id": id, "recorded_at": at, "intensity": 8, "period": "night", "eased_by_rest": true});
        assert_eq!(
            log(&app, &patient, record).await["advisories"],
            json!([]),
            "no single-log flag"
        );
    }
    let (first, second) = (JobCtx::from(&app.core), JobCtx::from(&app.core));
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap();
    assert_eq!(
        evaluate_time_rules::run(&first, at(now)).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        evaluate_time_rules::run(&second, at(now)).await.unwrap(),
        None,
        "the hour is taken"
    );
    let inbox = app.get("/v1/alerts", Some(&clinician.token), 200).await;
    assert_eq!(inbox["items"][0]["rule"], "night_pain_streak@1");
    assert_eq!(inbox["items"][0]["severity"], "routine");
    // The next hour finds the same streak on the same logs: nothing new.
    assert_eq!(
        evaluate_time_rules::run(&second, at(now + 3_600_000))
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(app.count("alerts").await, 1);
    assert_eq!(app.count("alert_evidence").await, 1);
}

#[tokio::test]
async fn an_hour_whose_worker_died_half_way_is_done_by_another_once_its_lease_ends() {
    use dorsal_service::slots::{LEASE_MS, claim};
    use dorsal_worker::JobCtx;
    use dorsal_worker::jobs::evaluate_time_rules;
    let Clinic { app, patient, .. } = Clinic::spawn().await;
    let now = jiff::Timestamp::now().as_millisecond();
    for (id, days) in [("s1", 2.9), ("s2", 1.9), ("s3", 0.9)] {
        let at = now - (days * 86_400_000.0) as i64;
        let record = json!({"id": id, "recorded_at": at, "intensity": 8, "period": "night", "eased_by_rest": true});
        log(&app, &patient, record).await;
    }
    // A minute into the hour, so the lease ends within it.
    let hour = 3_600_000;
    let t = now / hour * hour - hour + 60_000;
    let (dead, taker, third) = (
        JobCtx::from(&app.core),
        JobCtx::from(&app.core),
        JobCtx::from(&app.core),
    );
    assert!(
        claim(&app.core.db, "time_rules", t / hour, dead.worker_id, t)
            .await
            .unwrap()
    );
    let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap();
    assert_eq!(
        evaluate_time_rules::run(&taker, at(t + 60_000))
            .await
            .unwrap(),
        None,
        "the dead worker's lease still holds"
    );
    assert_eq!(app.count("alerts").await, 0);
    app.run_out_leases().await;
    assert_eq!(
        evaluate_time_rules::run(&taker, at(t + LEASE_MS))
            .await
            .unwrap(),
        Some(1),
        "its lease ran out: another worker does the hour"
    );
    assert_eq!(
        evaluate_time_rules::run(&third, at(t + 2 * LEASE_MS))
            .await
            .unwrap(),
        None,
        "a finished hour is not done again"
    );
    // The dead worker, waking, cannot mark the hour as its own.
    dorsal_service::slots::finish(&app.core.db, "time_rules", t / hour, dead.worker_id, t)
        .await
        .unwrap();
    assert_eq!(
        app.count(&format!(
            "job_slots WHERE job = 'time_rules' AND done_at = {}",
            t + LEASE_MS
        ))
        .await,
        1
    );
    assert_eq!(app.count("alerts").await, 1);
}
