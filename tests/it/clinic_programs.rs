//! The therapist's program pages over HTTP, as a browser without scripts
//! would use them: building and assigning a program through one plain form,
//! revising it, archiving it after a confirmation, reading earlier versions,
//! adding an exercise to the catalog, and every bad input coming back on
//! the form with nothing stored.

use dorsal_tests::browser::{Answer, Browser, assert_well_formed, csrf_of, is_html};
use dorsal_tests::{Clinic, Login, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The fields of a plan form.
struct PlanForm<'a> {
    title: &'a str,
    notes: &'a str,
    starts_on: &'a str,
    ends_on: &'a str,
    reminder_time: &'a str,
    /// (slug, order, sets, reps, hold, times)
    items: Vec<(&'a str, &'a str, &'a str, &'a str, &'a str, &'a str)>,
}

impl PlanForm<'_> {
    fn fields(&self, csrf: &str) -> Vec<(String, String)> {
        let mut fields = vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("title".to_owned(), self.title.to_owned()),
            ("notes".to_owned(), self.notes.to_owned()),
            ("starts_on".to_owned(), self.starts_on.to_owned()),
            ("ends_on".to_owned(), self.ends_on.to_owned()),
            ("reminder_time".to_owned(), self.reminder_time.to_owned()),
        ];
        for (slug, order, sets, reps, hold, times) in &self.items {
            fields.push(("include".to_owned(), (*slug).to_owned()));
            for (kind, value) in [
                ("order", order),
                ("sets", sets),
                ("reps", reps),
                ("hold", hold),
                ("times", times),
            ] {
                fields.push((format!("{kind}-{slug}"), (*value).to_owned()));
            }
        }
        // A row left unticked is sent too (as a browser does) and ignored.
        for (kind, value) in [("order", "9"), ("sets", "1"), ("reps", "1")] {
            fields.push((format!("{kind}-knees-to-chest"), value.to_owned()));
        }
        fields
    }
}

fn evening<'a>() -> PlanForm<'a> {
    PlanForm {
        title: "Evening <routine>",
        notes: "Slowly, before bed",
        starts_on: "2026-12-01",
        ends_on: "2027-01-31",
        reminder_time: "21:30",
        items: vec![
            ("cat-cow", "2", "3", "8", "5", "2"),
            ("childs-pose", "1", "2", "4", "30", "1"),
        ],
    }
}

async fn post(browser: &Browser, path: &str, fields: &[(String, String)]) -> Answer {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser.post(path, &borrowed, &[]).await
}

async fn plans_of(app: &TestApp, who: &Login, patient: &Login) -> Vec<Value> {
    app.get(
        &format!("/v1/patients/{}/plans", patient.id),
        Some(&who.token),
        200,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn assign_by_api(app: &TestApp, therapist: &Login, patient: &Login) -> String {
    let plan = app
        .post(
            &format!("/v1/patients/{}/plans", patient.id),
            Some(&therapist.token),
            json!({"title": "First", "starts_on": "2026-11-01",
                "items": [{"exercise_slug": "pelvic-tilt", "sets": 2}]}),
            201,
        )
        .await;
    plan["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_therapist_assigns_a_program_through_the_form_exactly_as_typed() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let page = browser
        .get(&format!("/clinic/patients/{}", patient.id))
        .await;
    let new = format!("/clinic/patients/{}/plans/new", patient.id);
    assert!(page.body.contains(&format!(r#"href="{new}""#)));
    assert!(page.body.contains("Assign a new program"));
    assert!(!page.body.contains("Revise this program"), "no plan yet");

    let builder = browser.get(&new).await;
    assert_eq!(builder.status, StatusCode::OK, "{}", builder.body);
    assert!(is_html(&builder));
    assert_well_formed(&builder.body);
    for slug in ["cat-cow", "childs-pose", "pelvic-tilt", "knees-to-chest"] {
        assert!(
            builder
                .body
                .contains(&format!(r#"name="include" value="{slug}""#)),
            "{slug}"
        );
    }
    // The catalog's defaults are prefilled (cat-cow: 10 reps).
    assert!(
        builder
            .body
            .contains(r#"id="reps-cat-cow" type="number" name="reps-cat-cow" value="10""#)
    );
    let csrf = csrf_of(&builder.body);
    let before = app.count("plans").await;
    let answer = post(
        &browser,
        &format!("/clinic/patients/{}/plans", patient.id),
        &evening().fields(&csrf),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(
        answer.location(),
        Some(format!("/clinic/patients/{}", patient.id).as_str())
    );
    assert_eq!(app.count("plans").await, before + 1);

    let plans = plans_of(&app, &therapist, &patient).await;
    assert_eq!(plans.len(), 1);
    let plan = &plans[0];
    assert_eq!(plan["title"], "Evening <routine>");
    assert_eq!(plan["notes"], "Slowly, before bed");
    assert_eq!(plan["starts_on"], "2026-12-01");
    assert_eq!(plan["ends_on"], "2027-01-31");
    assert_eq!(plan["reminder_time"], "21:30");
    assert_eq!(plan["version"], 1);
    let items: Vec<(String, i64, i64, i64, i64, i64)> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["exercise_slug"].as_str().unwrap().to_owned(),
                i["position"].as_i64().unwrap(),
                i["sets"].as_i64().unwrap(),
                i["reps"].as_i64().unwrap(),
                i["hold_seconds"].as_i64().unwrap(),
                i["times_per_day"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            ("childs-pose".to_owned(), 1, 2, 4, 30, 1),
            ("cat-cow".to_owned(), 2, 3, 8, 5, 2),
        ]
    );

    // The patient's device gets the same.
    let pulled = app
        .get(
            "/v1/sync/pull?last_pulled_at=null",
            Some(&patient.token),
            200,
        )
        .await;
    // A first pull lists rows as created (WatermelonDB's protocol).
    let synced = &pulled["changes"]["exercise_plans"]["created"][0];
    assert_eq!(synced["id"], plan["id"]);
    assert_eq!(synced["reminder_time"], "21:30");
    assert_eq!(synced["ends_on"], "2027-01-31");
    let mut rows: Vec<(String, i64, i64, i64, i64, i64)> =
        pulled["changes"]["plan_items"]["created"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["exercise_slug"].as_str().unwrap().to_owned(),
                    i["position"].as_i64().unwrap(),
                    i["sets"].as_i64().unwrap(),
                    i["reps"].as_i64().unwrap(),
                    i["hold_seconds"].as_i64().unwrap(),
                    i["times_per_day"].as_i64().unwrap(),
                )
            })
            .collect();
    rows.sort_by_key(|r| r.1);
    assert_eq!(rows, items);

    // The patient page now offers revising, archiving and the versions.
    let page = browser
        .get(&format!("/clinic/patients/{}", patient.id))
        .await;
    let id = plan["id"].as_str().unwrap();
    for link in [
        format!("/clinic/plans/{id}/revise"),
        format!("/clinic/plans/{id}/archive"),
        format!("/clinic/plans/{id}/versions"),
    ] {
        assert!(page.body.contains(&format!(r#"href="{link}""#)), "{link}");
    }
    assert!(page.body.contains("Evening &lt;routine&gt;"));
}

#[tokio::test]
async fn revising_makes_version_two_and_version_one_stays_readable_on_the_page() {
    let Clinic {
        app,
        therapist,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let plan_id = assign_by_api(&app, &therapist, &patient).await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let form = browser
        .get(&format!("/clinic/plans/{plan_id}/revise"))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert_well_formed(&form.body);
    // Prefilled from the plan as it stands.
    assert!(form.body.contains(r#"name="title" value="First""#));
    assert!(form.body.contains(r#"value="2026-11-01""#));
    assert!(
        form.body
            .contains(r#"name="include" value="pelvic-tilt" checked"#)
    );
    assert!(
        !form
            .body
            .contains(r#"name="include" value="cat-cow" checked"#)
    );
    assert!(form.body.contains(r#"name="sets-pelvic-tilt" value="2""#));

    let csrf = csrf_of(&form.body);
    let revised = PlanForm {
        title: "Second",
        notes: "",
        starts_on: "2026-11-02",
        ends_on: "",
        reminder_time: "",
        items: vec![("cat-cow", "1", "1", "6", "0", "3")],
    };
    let answer = post(
        &browser,
        &format!("/clinic/plans/{plan_id}/revise"),
        &revised.fields(&csrf),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let latest = app
        .get(&format!("/v1/plans/{plan_id}"), Some(&therapist.token), 200)
        .await;
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["title"], "Second");
    assert_eq!(latest["reminder_time"], Value::Null);
    assert_eq!(latest["items"].as_array().unwrap().len(), 1);
    assert_eq!(latest["items"][0]["exercise_slug"], "cat-cow");
    assert_eq!(latest["items"][0]["times_per_day"], 3);
    assert_eq!(app.count("plans").await, 1, "the same plan, revised");

    // Both versions are on the versions page, read-only, for all staff.
    let reader = Browser::signed_in(&app, &clinician.email).await;
    let page = reader
        .get(&format!("/clinic/plans/{plan_id}/versions"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"id="version-2""#));
    assert!(page.body.contains(r#"id="version-1""#));
    assert!(
        page.body
            .contains(r##"<a href="#version-1">Version 1</a>"##)
    );
    assert!(
        page.body
            .contains(r##"<a href="#version-2">Version 2</a>"##)
    );
    assert!(page.body.contains("Version 1: First"));
    assert!(page.body.contains("Version 2: Second"));
    assert!(
        !page
            .body
            .contains("<form method=\"post\" action=\"/clinic/plans")
    );
    assert!(page.body.contains(r#"<div class="table-wrap">"#));
}

#[tokio::test]
async fn archiving_asks_first_and_then_archives() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let plan_id = assign_by_api(&app, &therapist, &patient).await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let path = format!("/clinic/plans/{plan_id}/archive");
    let confirm = browser.get(&path).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains(&format!(r#"<form method="post" action="{path}">"#))
    );
    // Showing the confirmation changes nothing.
    let status = || {
        let path = format!("/v1/plans/{plan_id}");
        let (app, token) = (&app, &therapist.token);
        async move { app.get(&path, Some(token), 200).await["status"].clone() }
    };
    assert_eq!(status().await, "active");
    // Without the token, nothing either.
    let refused = browser.post(&path, &[], &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(status().await, "active");

    let csrf = csrf_of(&confirm.body);
    let answer = browser.post(&path, &[("csrf", &csrf)], &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(
        answer.location(),
        Some(format!("/clinic/patients/{}", patient.id).as_str())
    );
    assert_eq!(status().await, "archived");
    let page = browser
        .get(&format!("/clinic/patients/{}", patient.id))
        .await;
    assert!(page.body.contains("No active plan."));
    assert!(!page.body.contains("Revise this program"));
}

#[tokio::test]
async fn bad_input_comes_back_on_the_form_with_what_was_typed_and_stores_nothing() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let other_org = app.create_org("Elsewhere").await;
    let other_therapist = app.add_staff(&other_org, "therapist").await;
    let stranger = app.patient_of(&other_therapist).await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let builder = browser
        .get(&format!("/clinic/patients/{}/plans/new", patient.id))
        .await;
    let csrf = csrf_of(&builder.body);
    let create = format!("/clinic/patients/{}/plans", patient.id);
    let before = (app.count("plans").await, app.count("plan_versions").await);

    let cases: Vec<(&str, PlanForm<'_>, &str)> = vec![
        (
            "empty title",
            PlanForm {
                title: "  ",
                ..evening()
            },
            "Title: must be 1-200 characters",
        ),
        (
            "end before start",
            PlanForm {
                ends_on: "2026-11-30",
                ..evening()
            },
            "End date: must not be before starts_on",
        ),
        (
            "unknown exercise",
            PlanForm {
                items: vec![("no-such-stretch", "1", "1", "1", "0", "1")],
                ..evening()
            },
            "Exercise “no-such-stretch” (exercise): is not in the catalog",
        ),
        (
            "no exercise",
            PlanForm {
                items: vec![],
                ..evening()
            },
            "Exercises (choose at least one): must hold",
        ),
        (
            "sets out of range",
            PlanForm {
                items: vec![("cat-cow", "1", "99", "8", "5", "2")],
                ..evening()
            },
            "Cat-cow (sets): must be",
        ),
        (
            "sets not a number",
            PlanForm {
                items: vec![("cat-cow", "1", "three", "8", "5", "2")],
                ..evening()
            },
            "Cat-cow (sets): must be a whole number",
        ),
    ];
    for (case, plan, message) in cases {
        let answer = post(&browser, &create, &plan.fields(&csrf)).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}: {}",
            answer.body
        );
        assert!(answer.body.contains(r#"id="plan-form""#), "{case}");
        assert!(answer.body.contains(r#"id="form-errors""#), "{case}");
        assert!(
            answer.body.contains(message),
            "{case}: {message} in {}",
            answer.body
        );
        // What was typed is still there.
        assert!(
            answer.body.contains(">Slowly, before bed</textarea>"),
            "{case}"
        );
        assert!(answer.body.contains(r#"value="21:30""#), "{case}");
        assert_well_formed(&answer.body);
        assert_eq!(
            (app.count("plans").await, app.count("plan_versions").await),
            before,
            "{case}"
        );
    }

    // A missing or stale token, and another org's patient, store nothing.
    let missing = post(&browser, &create, &evening().fields("")[1..]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("Form not accepted"));
    let stale = post(&browser, &create, &evening().fields("not-the-token")).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert!(stale.body.contains("Form not accepted"));
    let elsewhere = post(
        &browser,
        &format!("/clinic/patients/{}/plans", stranger.id),
        &evening().fields(&csrf),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let builder = browser
        .get(&format!("/clinic/patients/{}/plans/new", stranger.id))
        .await;
    assert_eq!(builder.status, StatusCode::NOT_FOUND);
    let nonsense = post(
        &browser,
        "/clinic/patients/x/plans",
        &evening().fields(&csrf),
    )
    .await;
    assert_eq!(nonsense.status, StatusCode::NOT_FOUND);
    assert_eq!(
        (app.count("plans").await, app.count("plan_versions").await),
        before
    );

    // A revision with bad input keeps version 1.
    let plan_id = assign_by_api(&app, &therapist, &patient).await;
    let versions = app.count("plan_versions").await;
    let answer = post(
        &browser,
        &format!("/clinic/plans/{plan_id}/revise"),
        &PlanForm {
            title: "",
            ..evening()
        }
        .fields(&csrf),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("Title: must be 1-200 characters"));
    assert!(answer.body.contains(r#"id="plan-form""#));
    assert_eq!(app.count("plan_versions").await, versions);
    // Another org's therapist cannot reach the plan at all.
    let outsider = Browser::signed_in(&app, &other_therapist.email).await;
    let other_csrf = outsider.csrf().await;
    for path in ["revise", "archive", "versions"] {
        let answer = outsider
            .get(&format!("/clinic/plans/{plan_id}/{path}"))
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    let answer = post(
        &outsider,
        &format!("/clinic/plans/{plan_id}/revise"),
        &evening().fields(&other_csrf),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("plan_versions").await, versions);
}

#[tokio::test]
async fn clinicians_and_admins_get_not_for_your_role_and_no_builder_links() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let plan_id = assign_by_api(&app, &therapist, &patient).await;
    for email in [clinician.email.clone(), org.admin.email.clone()] {
        let browser = Browser::signed_in(&app, &email).await;
        let page = browser
            .get(&format!("/clinic/patients/{}", patient.id))
            .await;
        if page.status == StatusCode::OK {
            assert!(!page.body.contains("Assign a new program"), "{email}");
            assert!(!page.body.contains("/plans/new"), "{email}");
            assert!(!page.body.contains("Revise this program"), "{email}");
            assert!(!page.body.contains("/archive\""), "{email}");
        }
        for path in [
            format!("/clinic/patients/{}/plans/new", patient.id),
            format!("/clinic/plans/{plan_id}/revise"),
            format!("/clinic/plans/{plan_id}/archive"),
            "/clinic/exercises".to_owned(),
        ] {
            let answer = browser.get(&path).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{email} {path}");
            assert!(answer.body.contains("Not for your role"), "{email} {path}");
        }
        let csrf = browser.csrf().await;
        let before = (app.count("plans").await, app.count("plan_versions").await);
        let answer = post(
            &browser,
            &format!("/clinic/patients/{}/plans", patient.id),
            &evening().fields(&csrf),
        )
        .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{email}");
        let answer = browser
            .post(
                &format!("/clinic/plans/{plan_id}/archive"),
                &[("csrf", &csrf)],
                &[],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{email}");
        assert_eq!(
            (app.count("plans").await, app.count("plan_versions").await),
            before
        );
    }
    let plan = app
        .get(&format!("/v1/plans/{plan_id}"), Some(&therapist.token), 200)
        .await;
    assert_eq!(plan["status"], "active");
}

#[tokio::test]
async fn adding_an_exercise_on_the_page_puts_it_in_the_catalog() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let page = browser.get("/clinic/exercises").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_well_formed(&page.body);
    assert!(page.body.contains(r#"data-slug="cat-cow""#));
    assert!(page.body.contains(r#"<div class="table-wrap">"#));
    let csrf = csrf_of(&page.body);
    let fields = |name: &'static str, slug: &'static str, sets: &'static str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("name".to_owned(), name.to_owned()),
            ("slug".to_owned(), slug.to_owned()),
            ("instructions".to_owned(), "Lie on your side.".to_owned()),
            ("safety_note".to_owned(), String::new()),
            ("default_sets".to_owned(), sets.to_owned()),
            ("default_reps".to_owned(), "6".to_owned()),
            ("default_hold_seconds".to_owned(), "15".to_owned()),
        ]
    };
    let before = app.count("exercises").await;
    for (fields, status, message) in [
        (
            fields("", "side-lying", "2"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Name: must be 1-100 characters",
        ),
        (
            fields("Side-lying twist", "Side Lying", "2"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Short code: must be 2-60 of a-z, 0-9 and -",
        ),
        (
            fields("Side-lying twist", "side-lying", "two"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Default sets: must be a whole number",
        ),
        (
            fields("Side-lying twist", "cat-cow", "2"),
            StatusCode::CONFLICT,
            "Short code: an exercise with this slug exists",
        ),
    ] {
        let answer = post(&browser, "/clinic/exercises", &fields).await;
        assert_eq!(answer.status, status, "{message}: {}", answer.body);
        assert!(answer.body.contains(message), "{message}");
        assert!(answer.body.contains(">Lie on your side.</textarea>"));
        assert_eq!(app.count("exercises").await, before, "{message}");
    }
    let missing = post(
        &browser,
        "/clinic/exercises",
        &fields("Twist", "twist", "2")[1..],
    )
    .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("exercises").await, before);

    let answer = post(
        &browser,
        "/clinic/exercises",
        &fields("Side-lying twist", "side-lying", "2"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let catalog = app.get("/v1/exercises", Some(&therapist.token), 200).await;
    let made = catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["slug"] == "side-lying")
        .expect("the new exercise")
        .clone();
    assert_eq!(made["name"], "Side-lying twist");
    assert_eq!(made["instructions"], "Lie on your side.");
    assert_eq!(
        (
            made["default_sets"].as_i64(),
            made["default_reps"].as_i64(),
            made["default_hold_seconds"].as_i64()
        ),
        (Some(2), Some(6), Some(15))
    );
    assert!(made["org_id"].is_string());
    // And the builder offers it.
    let page = browser.get("/clinic/exercises").await;
    assert!(page.body.contains(r#"data-slug="side-lying""#));
}

const IMAGE: &str = "https://media.example.org/stretches/side-lying.png";
const VIDEO: &str = "https://video.example.org/watch/side-lying";

#[tokio::test]
async fn exercise_media_fields_are_labelled_checked_kept_as_typed_and_shown_as_links() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let page = browser.get("/clinic/exercises").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_well_formed(&page.body);
    for id in ["image_url", "image_alt", "video_url"] {
        assert!(
            page.body.contains(&format!(r#"<label for="{id}">"#)),
            "{id}"
        );
        assert!(page.body.contains(&format!(r#"name="{id}""#)), "{id}");
    }
    let csrf = csrf_of(&page.body);
    let fields = |image: &str, alt: &str, video: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("name".to_owned(), "Side-lying twist".to_owned()),
            ("slug".to_owned(), "side-lying".to_owned()),
            ("instructions".to_owned(), "Lie on your side.".to_owned()),
            ("safety_note".to_owned(), String::new()),
            ("default_sets".to_owned(), "2".to_owned()),
            ("default_reps".to_owned(), "6".to_owned()),
            ("default_hold_seconds".to_owned(), "15".to_owned()),
            ("image_url".to_owned(), image.to_owned()),
            ("image_alt".to_owned(), alt.to_owned()),
            ("video_url".to_owned(), video.to_owned()),
        ]
    };
    let before = app.count("exercises").await;
    for (image, alt, video, messages) in [
        (
            "http://media.example.org/a.png",
            "",
            "",
            vec![
                "Image URL: must be an absolute https:// URL",
                "Image description: is required with an image",
            ],
        ),
        (
            "",
            "A twist",
            "javascript:alert(1)",
            vec![
                "Video URL: must be an absolute https:// URL",
                "Image description: must not be given without an image",
            ],
        ),
    ] {
        let answer = post(&browser, "/clinic/exercises", &fields(image, alt, video)).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.body
        );
        for message in messages {
            assert!(answer.body.contains(message), "{message}: {}", answer.body);
        }
        for (id, typed) in [
            ("image_url", image),
            ("image_alt", alt),
            ("video_url", video),
        ] {
            assert!(
                answer
                    .body
                    .contains(&format!(r#"name="{id}" value="{typed}""#)),
                "{id} kept as typed: {}",
                answer.body
            );
        }
        assert_well_formed(&answer.body);
        assert_eq!(app.count("exercises").await, before);
    }

    let answer = post(
        &browser,
        "/clinic/exercises",
        &fields(IMAGE, "A person lying on their side, knees bent", VIDEO),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let made = app.get("/v1/exercises", Some(&therapist.token), 200).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["slug"] == "side-lying")
        .expect("the new exercise")
        .clone();
    assert_eq!(
        (&made["image_url"], &made["image_alt"], &made["video_url"]),
        (
            &json!(IMAGE),
            &json!("A person lying on their side, knees bent"),
            &json!(VIDEO)
        )
    );

    // The catalog and the builder link to the media; nothing is loaded
    // from another origin, and the links send no referrer.
    let image_link = format!(
        r#"<a href="{IMAGE}" rel="noopener noreferrer">Image: A person lying on their side, knees bent (opens media.example.org)</a>"#
    );
    let video_link = format!(
        r#"<a href="{VIDEO}" rel="noopener noreferrer">Video (opens video.example.org)</a>"#
    );
    for path in [
        "/clinic/exercises".to_owned(),
        format!("/clinic/patients/{}/plans/new", patient.id),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(&image_link), "{path}: {}", page.body);
        assert!(page.body.contains(&video_link), "{path}");
        assert!(!page.body.contains("<img"), "{path}");
        assert!(!page.body.contains(r#"src="https:"#), "{path}");
        assert_well_formed(&page.body);
    }
}

#[tokio::test]
async fn revising_an_archived_plan_says_when_it_was_archived_and_offers_a_new_plan() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let plan_id = assign_by_api(&app, &therapist, &patient).await;
    let browser = Browser::signed_in(&app, &therapist.email).await;
    let path = format!("/clinic/plans/{plan_id}/revise");
    let form = browser.get(&path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = csrf_of(&form.body);
    // Archived elsewhere (another tab, a colleague) while the form is open.
    app.post(
        &format!("/v1/plans/{plan_id}/archive"),
        Some(&therapist.token),
        json!({}),
        200,
    )
    .await;
    let mut typed = evening();
    typed.title = "Too late";
    let answer = post(&browser, &path, &typed.fields(&csrf)).await;
    let new_plan = format!(
        r#"<a href="/clinic/patients/{}/plans/new">Assign a new program</a>"#,
        patient.id
    );
    for answer in [answer, browser.get(&path).await] {
        assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
        assert!(is_html(&answer), "{}", answer.body);
        assert!(
            answer.body.contains("This plan was archived on "),
            "{}",
            answer.body
        );
        assert!(answer.body.contains("Assign a new plan instead."));
        assert!(answer.body.contains(&new_plan), "{}", answer.body);
        assert_well_formed(&answer.body);
    }
    let plans = plans_of(&app, &therapist, &patient).await;
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0]["latest_version"], 1, "nothing was revised");
}
