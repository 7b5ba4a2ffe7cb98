//! Home exercise programs over HTTP: catalog, versioned plans reaching the
//! patient's device, isolation, adherence and trends.

use dorsal_tests::{Clinic, Login, TestApp};

use serde_json::{Value, json};

fn plan_body(title: &str, slugs: &[&str]) -> Value {
    let items: Vec<Value> = slugs.iter().map(|s| json!({"exercise_slug": s})).collect();
    json!({"title": title, "starts_on": "2026-10-30", "reminder_time": "21:00", "items": items})
}

async fn pull(app: &TestApp, who: &Login, since: Option<i64>) -> Value {
    let since = since.map_or("null".to_owned(), |s| s.to_string());
    app.get(
        &format!("/v1/sync/pull?last_pulled_at={since}"),
        Some(&who.token),
        200,
    )
    .await
}

#[tokio::test]
async fn the_catalog_has_the_evening_stretches_and_an_orgs_own() {
    let Clinic {
        app,
        org: _,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let catalog = app.get("/v1/exercises", Some(&therapist.token), 200).await;
    let slugs: Vec<&str> = catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["slug"].as_str().unwrap())
        .collect();
    for slug in [
        "childs-pose",
        "knees-to-chest",
        "cat-cow",
        "pelvic-tilt",
        "supine-twist",
        "hamstring-stretch",
    ] {
        assert!(slugs.contains(&slug), "{slug}");
    }
    let first = &catalog["items"][0];
    assert!(
        first["safety_note"]
            .as_str()
            .unwrap()
            .contains("pain-free range")
    );
    assert!(first["default_hold_seconds"].as_i64().unwrap() > 0);

    let own = json!({"slug": "bridge", "name": "Bridge", "instructions": "Lift your hips.", "default_sets": 2,
        "default_reps": 8, "default_hold_seconds": 5});
    let made = app
        .post("/v1/exercises", Some(&therapist.token), own.clone(), 201)
        .await;
    assert_eq!(made["org_id"], therapist_org(&app, &therapist).await);
    app.post("/v1/exercises", Some(&therapist.token), own.clone(), 409)
        .await;
    let clash = json!({"slug": "cat-cow", "name": "Mine", "instructions": "x", "default_sets": 1, "default_reps": 1, "default_hold_seconds": 0});
    app.post("/v1/exercises", Some(&therapist.token), clash, 409)
        .await;
    app.post("/v1/exercises", Some(&clinician.token), own.clone(), 403)
        .await;
    app.post("/v1/exercises", Some(&patient.token), own, 403)
        .await;
    let other = app.create_org("Other").await;
    let theirs = app.add_staff(&other, "therapist").await;
    let catalog = app.get("/v1/exercises", Some(&theirs.token), 200).await;
    assert!(
        !catalog.to_string().contains("bridge"),
        "another org's exercise is not listed"
    );
}

async fn therapist_org(app: &TestApp, who: &Login) -> Value {
    app.get("/v1/me", Some(&who.token), 200).await["org_id"].clone()
}

#[tokio::test]
async fn a_therapists_plan_reaches_the_patients_device_and_revisions_keep_old_versions() {
    let Clinic {
        app,
        therapist,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let start = pull(&app, &patient, None).await;
    let cursor = start["timestamp"].as_i64().unwrap();
    let mut events = app
        .client
        .get(app.url("/v1/sync/events"))
        .bearer_auth(&patient.token)
        .send()
        .await
        .unwrap();

    let path = format!("/v1/patients/{}/plans", patient.id);
    let body = json!({"title": "Evening stretches", "starts_on": "2026-11-01", "reminder_time": "21:00",
        "items": [{"exercise_slug": "childs-pose", "hold_seconds": 45}, {"exercise_slug": "cat-cow", "times_per_day": 2}]});
    let plan = app.post(&path, Some(&therapist.token), body, 201).await;
    assert_eq!(
        (plan["version"].as_i64(), plan["status"].as_str()),
        (Some(1), Some("active"))
    );
    assert_eq!(plan["items"][0]["name"], "Child's pose");
    assert_eq!(plan["items"][0]["hold_seconds"], 45);
    assert_eq!(plan["items"][1]["reps"], 10, "the catalog default");
    let plan_id = plan["id"].as_str().unwrap().to_owned();

    // The device hears about it at once and pulls it.
    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), events.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("event: sync"));
    let page = pull(&app, &patient, Some(cursor)).await;
    let synced = &page["changes"]["exercise_plans"]["updated"][0];
    assert_eq!(
        (
            synced["id"].as_str(),
            synced["status"].as_str(),
            synced["version"].as_i64()
        ),
        (Some(plan_id.as_str()), Some("active"), Some(1))
    );
    assert_eq!(synced["therapist_name"], "therapist");
    let items = page["changes"]["plan_items"]["updated"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["plan_id"] == plan_id.as_str()));
    let cursor = page["timestamp"].as_i64().unwrap();

    // A revision: version 2 on the device, version 1 still readable.
    let revised = app
        .put(
            &format!("/v1/plans/{plan_id}"),
            &therapist,
            plan_body("Gentler stretches", &["pelvic-tilt"]),
            200,
        )
        .await;
    assert_eq!(revised["version"], 2);
    let old = app
        .get(
            &format!("/v1/plans/{plan_id}/versions/1"),
            Some(&clinician.token),
            200,
        )
        .await;
    assert_eq!(
        (old["title"].as_str(), old["latest_version"].as_i64()),
        (Some("Evening stretches"), Some(2))
    );
    app.get(
        &format!("/v1/plans/{plan_id}/versions/3"),
        Some(&clinician.token),
        404,
    )
    .await;
    let page = pull(&app, &patient, Some(cursor)).await;
    assert_eq!(
        page["changes"]["exercise_plans"]["updated"][0]["version"],
        2
    );
    assert_eq!(
        page["changes"]["plan_items"]["deleted"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        page["changes"]["plan_items"]["updated"][0]["exercise_slug"],
        "pelvic-tilt"
    );

    // The patient cannot write their plan from the device.
    let mut tampered = page["changes"]["exercise_plans"]["updated"][0].clone();
    tampered["title"] = json!("No exercises");
    tampered["_changed"] = json!("title");
    let answer = app
        .post("/v1/sync/push", Some(&patient.token),
            json!({"changes": {"exercise_plans": {"created": [], "updated": [tampered], "deleted": [plan_id]}}}), 200)
        .await;
    assert_eq!(answer["results"]["exercise_plans"][&plan_id], "rejected");
    let current = app
        .get(&format!("/v1/plans/{plan_id}"), Some(&patient.token), 200)
        .await;
    assert_eq!(current["title"], "Gentler stretches");
}

#[tokio::test]
async fn a_new_plan_archives_the_active_one_in_the_same_change() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let path = format!("/v1/patients/{}/plans", patient.id);
    let first = app
        .post(
            &path,
            Some(&therapist.token),
            plan_body("First", &["cat-cow"]),
            201,
        )
        .await;
    let cursor = pull(&app, &patient, None).await["timestamp"]
        .as_i64()
        .unwrap();
    let second = app
        .post(
            &path,
            Some(&therapist.token),
            plan_body("Second", &["childs-pose"]),
            201,
        )
        .await;
    let plans = app.get(&path, Some(&therapist.token), 200).await;
    let statuses: Vec<(&str, &str)> = plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["title"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("Second", "active"), ("First", "archived")]);
    let page = pull(&app, &patient, Some(cursor)).await;
    assert_eq!(
        page["timestamp"].as_i64().unwrap(),
        cursor + 1,
        "one change number for both"
    );
    let rows = page["changes"]["exercise_plans"]["updated"]
        .as_array()
        .unwrap();
    let by_id = |id: &Value| rows.iter().find(|r| r["id"] == *id).unwrap()["status"].clone();
    assert_eq!(
        (by_id(&first["id"]), by_id(&second["id"])),
        (json!("archived"), json!("active"))
    );
    let archived = app
        .post(
            &format!("/v1/plans/{}/archive", second["id"].as_str().unwrap()),
            Some(&therapist.token),
            json!({}),
            200,
        )
        .await;
    assert_eq!(archived["status"], "archived");
    app.put(
        &format!("/v1/plans/{}", second["id"].as_str().unwrap()),
        &therapist,
        plan_body("Again", &["cat-cow"]),
        409,
    )
    .await;
}

#[tokio::test]
async fn only_the_patients_own_therapists_write_plans_and_other_orgs_see_nothing() {
    let Clinic {
        app,
        org: _,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let path = format!("/v1/patients/{}/plans", patient.id);
    let plan = app
        .post(
            &path,
            Some(&therapist.token),
            plan_body("Mine", &["cat-cow"]),
            201,
        )
        .await;
    let plan_id = plan["id"].as_str().unwrap();
    app.post(
        &path,
        Some(&clinician.token),
        plan_body("No", &["cat-cow"]),
        403,
    )
    .await;
    app.post(
        &path,
        Some(&patient.token),
        plan_body("No", &["cat-cow"]),
        403,
    )
    .await;
    app.get(&path, Some(&clinician.token), 200).await;
    app.get(&path, Some(&patient.token), 200).await;
    app.get(&format!("/v1/plans/{plan_id}"), Some(&patient.token), 200)
        .await;
    app.put(
        &format!("/v1/plans/{plan_id}"),
        &clinician,
        plan_body("No", &["cat-cow"]),
        403,
    )
    .await;

    let other = app.create_org("Other").await;
    let stranger = app.add_staff(&other, "therapist").await;
    let stranger_patient = app.register_patient().await;
    app.post(
        &path,
        Some(&stranger.token),
        plan_body("No", &["cat-cow"]),
        404,
    )
    .await;
    app.get(&path, Some(&stranger.token), 404).await;
    app.get(&format!("/v1/plans/{plan_id}"), Some(&stranger.token), 404)
        .await;
    app.put(
        &format!("/v1/plans/{plan_id}"),
        &stranger,
        plan_body("No", &["cat-cow"]),
        404,
    )
    .await;
    app.post(
        &format!("/v1/plans/{plan_id}/archive"),
        Some(&stranger.token),
        json!({}),
        404,
    )
    .await;
    app.get(
        &format!("/v1/plans/{plan_id}"),
        Some(&stranger_patient.token),
        404,
    )
    .await;
    app.get(
        &format!(
            "/v1/patients/{}/adherence?from=2026-11-01&to=2026-11-02",
            patient.id
        ),
        Some(&stranger.token),
        404,
    )
    .await;
    assert_eq!(app.count("plans").await, 1);

    let problem = app
        .post(
            &path,
            Some(&therapist.token),
            plan_body("Bad", &["no-such-exercise"]),
            422,
        )
        .await;
    assert_eq!(problem["errors"][0]["pointer"], "/items/0/exercise_slug");
    let problem = app
        .post(
            &path,
            Some(&therapist.token),
            json!({"title": "", "starts_on": "2026-13-01", "items": []}),
            422,
        )
        .await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 3);
    assert_eq!(app.count("plans").await, 1);
}

const NY_EVENING_OCT_31: i64 = 1_793_503_800_000; // 2026-10-31T23:30-04:00
const NY_0130_EDT_NOV_1: i64 = 1_793_511_000_000; // 2026-11-01T01:30-04:00
const NY_0130_EST_NOV_1: i64 = 1_793_514_600_000; // 2026-11-01T01:30-05:00
const NY_EVENING_NOV_1: i64 = 1_793_593_800_000; // 2026-11-01T23:30-05:00

#[tokio::test]
async fn adherence_and_trends_use_the_patients_local_dates_across_a_dst_change() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let profile = json!({"id": patient.id.to_string(), "timezone": "America/New_York"});
    let session = |id: &str, at: i64, before: i64, after: i64| json!({"id": id, "performed_at": at, "pain_before": before, "pain_after": after});
    let pain = |id: &str, at: i64, intensity: i64| json!({"id": id, "recorded_at": at, "intensity": intensity, "period": "night"});
    let changes = json!({
        "profiles": {"created": [profile]},
        "exercise_sessions": {"created": [
            session("s1", NY_EVENING_OCT_31, 6, 4), session("s2", NY_0130_EDT_NOV_1, 5, 3),
            session("s3", NY_0130_EST_NOV_1, 3, 1), session("s4", NY_EVENING_NOV_1, 2, 2)]},
        "pain_logs": {"created": [pain("p1", NY_EVENING_OCT_31, 4), pain("p2", NY_0130_EST_NOV_1, 8), pain("p3", NY_EVENING_NOV_1, 5)]},
        "sleep_logs": {"created": [{"id": "n1", "night_of": "2026-10-31", "quality": 2, "awakenings": 3, "woke_from_pain": true}]},
    });
    app.post(
        "/v1/sync/push",
        Some(&patient.token),
        json!({"changes": changes}),
        200,
    )
    .await;
    let path = format!("/v1/patients/{}/plans", patient.id);
    let mut body = plan_body("Daily", &["cat-cow"]);
    body["starts_on"] = json!("2026-10-31");
    app.post(&path, Some(&therapist.token), body, 201).await;

    let adherence = app
        .get(
            &format!(
                "/v1/patients/{}/adherence?from=2026-10-30&to=2026-11-02",
                patient.id
            ),
            Some(&clinician.token),
            200,
        )
        .await;
    let days: Vec<(String, i64, i64, Value, Value)> = adherence["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_owned(),
                d["prescribed"].as_i64().unwrap(),
                d["done"].as_i64().unwrap(),
                d["pain_before"].clone(),
                d["pain_after"].clone(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2026-10-30".to_owned(), 0, 0, Value::Null, Value::Null),
            ("2026-10-31".to_owned(), 1, 1, json!(6.0), json!(4.0)),
            ("2026-11-01".to_owned(), 1, 3, json!(10.0 / 3.0), json!(2.0)),
            ("2026-11-02".to_owned(), 1, 0, Value::Null, Value::Null),
        ]
    );

    let trends = app
        .get(
            &format!(
                "/v1/patients/{}/trends?from=2026-10-31&to=2026-11-01",
                patient.id
            ),
            Some(&therapist.token),
            200,
        )
        .await;
    let nights = trends["nights"].as_array().unwrap();
    assert_eq!(
        (
            nights[0]["pain_max"].as_i64(),
            nights[0]["pain_mean"].as_f64(),
            nights[0]["pain_logs"].as_i64()
        ),
        (Some(8), Some(6.0), Some(2))
    );
    assert_eq!(
        (
            nights[0]["sleep_quality"].as_f64(),
            nights[0]["woke_from_pain"].as_bool()
        ),
        (Some(2.0), Some(true))
    );
    assert_eq!(
        (
            nights[1]["pain_max"].as_i64(),
            nights[1]["sleep_quality"].clone()
        ),
        (Some(5), Value::Null)
    );

    app.get(
        &format!(
            "/v1/patients/{}/trends?from=2026-11-02&to=2026-11-01",
            patient.id
        ),
        Some(&therapist.token),
        422,
    )
    .await;
    app.get(
        &format!(
            "/v1/patients/{}/trends?from=yesterday&to=2026-11-01",
            patient.id
        ),
        Some(&therapist.token),
        422,
    )
    .await;
    app.get(
        &format!("/v1/patients/{}/trends", patient.id),
        Some(&therapist.token),
        400,
    )
    .await;

    // Every staff read and write of the patient's program was audited.
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
    for action in ["plans.create", "patients.adherence", "patients.trends"] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
}

const IMAGE: &str = "https://media.example.org/stretches/bridge.webp?size=large";
const VIDEO: &str = "https://video.example.org/watch/bridge";

#[tokio::test]
async fn exercise_media_is_stored_returned_and_snapshotted_into_the_patients_plan() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let own = json!({"slug": "bridge", "name": "Bridge", "instructions": "Lift your hips.",
        "default_sets": 2, "default_reps": 8, "default_hold_seconds": 5,
        "image_url": IMAGE, "image_alt": "  A person lying on their back, hips lifted  ",
        "video_url": VIDEO});
    let made = app
        .post("/v1/exercises", Some(&therapist.token), own, 201)
        .await;
    assert_eq!(
        (&made["image_url"], &made["image_alt"], &made["video_url"]),
        (
            &json!(IMAGE),
            &json!("A person lying on their back, hips lifted"),
            &json!(VIDEO)
        )
    );
    let catalog = app.get("/v1/exercises", Some(&therapist.token), 200).await;
    let items = catalog["items"].as_array().unwrap();
    let bridge = items.iter().find(|e| e["slug"] == "bridge").unwrap();
    assert_eq!(
        (&bridge["image_url"], &bridge["video_url"]),
        (&json!(IMAGE), &json!(VIDEO))
    );
    let builtin = items.iter().find(|e| e["slug"] == "cat-cow").unwrap();
    assert_eq!(
        (
            &builtin["image_url"],
            &builtin["image_alt"],
            &builtin["video_url"]
        ),
        (&Value::Null, &Value::Null, &Value::Null),
        "built-in exercises have no media yet"
    );

    let start = pull(&app, &patient, None).await;
    let cursor = start["timestamp"].as_i64().unwrap();
    let path = format!("/v1/patients/{}/plans", patient.id);
    let plan = app
        .post(
            &path,
            Some(&therapist.token),
            plan_body("Hips", &["bridge", "cat-cow"]),
            201,
        )
        .await;
    assert_eq!(plan["items"][0]["image_url"], IMAGE);
    assert_eq!(plan["items"][0]["video_url"], VIDEO);
    assert_eq!(plan["items"][1]["image_url"], Value::Null);
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let page = pull(&app, &patient, Some(cursor)).await;
    let pulled = page["changes"]["plan_items"]["updated"].as_array().unwrap();
    let item = pulled
        .iter()
        .find(|i| i["exercise_slug"] == "bridge")
        .unwrap();
    assert_eq!(
        (&item["image_url"], &item["image_alt"], &item["video_url"]),
        (
            &json!(IMAGE),
            &json!("A person lying on their back, hips lifted"),
            &json!(VIDEO)
        )
    );
    let other = pulled
        .iter()
        .find(|i| i["exercise_slug"] == "cat-cow")
        .unwrap();
    assert_eq!(other["image_url"], Value::Null);
    let cursor = page["timestamp"].as_i64().unwrap();

    // The catalog changes (there is no edit route yet, so in the database):
    // the prescribed plan keeps what was prescribed.
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.core.db,
        "UPDATE exercises SET image_url = 'https://media.example.org/other.png', \
         image_alt = 'Something else', video_url = NULL WHERE slug = 'bridge'",
    )
    .await
    .unwrap();
    let current = app
        .get(&format!("/v1/plans/{plan_id}"), Some(&therapist.token), 200)
        .await;
    assert_eq!(
        (
            &current["items"][0]["image_url"],
            &current["items"][0]["video_url"]
        ),
        (&json!(IMAGE), &json!(VIDEO))
    );
    let page = pull(&app, &patient, Some(cursor)).await;
    assert!(
        page["changes"]["plan_items"]["updated"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{page}"
    );
    let full = pull(&app, &patient, None).await;
    let item = full["changes"]["plan_items"]["created"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["exercise_slug"] == "bridge")
        .unwrap()
        .clone();
    assert_eq!(item["image_url"], IMAGE);

    // A revision snapshots the catalog as it is then.
    let revised = app
        .put(
            &format!("/v1/plans/{plan_id}"),
            &therapist,
            plan_body("Hips again", &["bridge"]),
            200,
        )
        .await;
    assert_eq!(
        (
            &revised["items"][0]["image_url"],
            &revised["items"][0]["image_alt"],
            &revised["items"][0]["video_url"]
        ),
        (
            &json!("https://media.example.org/other.png"),
            &json!("Something else"),
            &Value::Null
        )
    );
    let page = pull(&app, &patient, Some(cursor)).await;
    assert_eq!(
        page["changes"]["plan_items"]["updated"][0]["image_url"],
        "https://media.example.org/other.png"
    );
    let old = app
        .get(
            &format!("/v1/plans/{plan_id}/versions/1"),
            Some(&therapist.token),
            200,
        )
        .await;
    assert_eq!(old["items"][0]["image_url"], IMAGE);
}

#[tokio::test]
async fn exercise_media_that_is_not_https_or_lacks_alt_text_is_refused_and_nothing_stored() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    let before = app.count("exercises").await;
    let with = |media: Value| {
        let mut body = json!({"slug": "bridge", "name": "Bridge", "instructions": "Lift your hips.",
            "default_sets": 2, "default_reps": 8, "default_hold_seconds": 5});
        for (key, value) in media.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let long = format!("https://media.example.org/{}", "a".repeat(2000));
    let cases = [
        (
            json!({"image_url": "http://media.example.org/a.png", "image_alt": "A"}),
            "/image_url",
        ),
        (
            json!({"image_url": "javascript:alert(1)", "image_alt": "A"}),
            "/image_url",
        ),
        (json!({"video_url": "javascript:alert(1)"}), "/video_url"),
        (json!({"video_url": "//video.example.org/a"}), "/video_url"),
        (
            json!({"video_url": "https://video.example.org/a b"}),
            "/video_url",
        ),
        (
            json!({"video_url": "https://video.example.org/a\n"}),
            "/video_url",
        ),
        (
            json!({"video_url": "https://user:pw@video.example.org/a"}),
            "/video_url",
        ),
        (json!({"image_url": long, "image_alt": "A"}), "/image_url"),
        (json!({"image_url": IMAGE}), "/image_alt"),
        (
            json!({"image_url": IMAGE, "image_alt": "   "}),
            "/image_alt",
        ),
        (
            json!({"image_url": IMAGE, "image_alt": "x".repeat(301)}),
            "/image_alt",
        ),
        (json!({"image_alt": "A picture of nothing"}), "/image_alt"),
    ];
    for (media, pointer) in cases {
        let problem = app
            .post(
                "/v1/exercises",
                Some(&therapist.token),
                with(media.clone()),
                422,
            )
            .await;
        dorsal_tests::assert_problem(&problem, 422, "validation_failed");
        let errors = problem["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{media}: {problem}");
        assert_eq!(errors[0]["pointer"], pointer, "{media}: {problem}");
    }
    // Every field at once: each reported.
    let problem = app
        .post(
            "/v1/exercises",
            Some(&therapist.token),
            with(json!({"image_url": "ftp://x.example/a.png", "video_url": "http://x.example/v"})),
            422,
        )
        .await;
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/image_url", "/video_url", "/image_alt"]);
    assert_eq!(app.count("exercises").await, before, "nothing stored");
    // At the limits, accepted.
    let longest = format!("https://media.example.org/{}", "a".repeat(2000 - 26));
    assert_eq!(longest.len(), 2000);
    app.post(
        "/v1/exercises",
        Some(&therapist.token),
        with(json!({"image_url": longest, "image_alt": "x".repeat(300), "video_url": VIDEO})),
        201,
    )
    .await;
}
