//! Every patient's language and country over HTTP (SPEC §12): the profile
//! columns, red-flag advice naming the patient's own emergency number and
//! urgent route in their language (the push answer and the pulled
//! notification), reminders, prompts and tips in their language, texts
//! already stored keeping their words, and the clinic's contact line.

use dorsal_domain::locale::{self, ClinicLine, Locale};
use dorsal_domain::messages::FluentValue;
use dorsal_domain::red_flags::{Severity, rule};
use dorsal_tests::diary::{noon, plan_given, woken_nights};
use dorsal_tests::reminders::{fire, new_plan, next_fire};
use dorsal_tests::sync::{notifications, profile, push, push_rows};
use dorsal_tests::{Clinic, Login, TestApp, assert_problem};
use dorsal_worker::JobCtx;
use dorsal_worker::jobs::send_prompts;
use jiff::SignedDuration;
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;
const T: i64 = 1_793_503_800_000;

fn locale_of(language: &str, country: Option<&str>) -> Locale {
    Locale {
        language: language.to_owned(),
        country: country.map(str::to_owned),
    }
}

/// The patient's profile as a first pull shows it.
async fn pulled_profile(app: &TestApp, who: &Login) -> Value {
    let page = app
        .get("/v1/sync/pull?last_pulled_at=null", Some(&who.token), 200)
        .await;
    page["changes"]["profiles"]["created"][0].clone()
}

#[tokio::test]
async fn language_and_country_are_checked_synced_and_english_by_default() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    profile(&app, &patient, json!({"timezone": "Europe/Madrid"})).await;
    let stored = pulled_profile(&app, &patient).await;
    assert_eq!(
        (&stored["language"], &stored["country"]),
        (&json!("en"), &Value::Null)
    );

    // A code that is not ISO's, or not written as ISO writes it, refuses
    // the record and changes nothing.
    for (column, value) in [
        ("language", json!("EN")),
        ("language", json!("es-MX")),
        ("language", json!("spanish")),
        ("language", json!("qq")),
        ("language", json!(7)),
        ("country", json!("UK")),
        ("country", json!("us")),
        ("country", json!("XK")),
        ("country", json!("USA")),
        ("country", json!(true)),
    ] {
        let row = json!({"id": patient.id.to_string(), "timezone": "UTC", column: value});
        let answer = push(&app, &patient, json!({"profiles": {"updated": [row]}})).await;
        assert_eq!(
            answer["results"]["profiles"][patient.id.to_string()],
            "rejected",
            "{column} {value}: {answer}"
        );
        assert_eq!(
            answer["rejections"][0]["pointer"],
            format!("/{column}"),
            "{answer}"
        );
        let reason = answer["rejections"][0]["reason"].as_str().unwrap();
        assert!(reason.contains("ISO"), "{reason}");
    }
    let stored = pulled_profile(&app, &patient).await;
    assert_eq!(
        (&stored["timezone"], &stored["language"]),
        (&json!("Europe/Madrid"), &json!("en"))
    );

    profile(
        &app,
        &patient,
        json!({"timezone": "America/Chicago", "language": "es", "country": "US"}),
    )
    .await;
    let stored = pulled_profile(&app, &patient).await;
    assert_eq!(
        (&stored["language"], &stored["country"]),
        (&json!("es"), &json!("US"))
    );
    // A language without a catalog is taken (it reads in English); null is
    // English again, and the country can be unset.
    profile(&app, &patient, json!({"timezone": "UTC", "language": "de"})).await;
    assert_eq!(pulled_profile(&app, &patient).await["language"], "de");
    profile(
        &app,
        &patient,
        json!({"timezone": "UTC", "language": null, "country": null}),
    )
    .await;
    let stored = pulled_profile(&app, &patient).await;
    assert_eq!(
        (&stored["language"], &stored["country"]),
        (&json!("en"), &Value::Null)
    );

    // The API document knows both columns and their codes.
    let document = app.get("/openapi.json", None, 200).await;
    let columns = document.to_string();
    assert!(columns.contains("ISO 639-1") && columns.contains("ISO 3166-1"));
}

/// Three nights of night pain not eased by rest (the last also with every
/// single-log red flag), for a patient with a cancer history and
/// osteoporosis: every single-log rule matches once.
fn every_single_log_flag(prefix: &str) -> Vec<Value> {
    let night = |n: i64| {
        json!({"id": format!("{prefix}-{n}"), "recorded_at": T - n * DAY_MS, "intensity": 6,
            "period": "night", "eased_by_rest": false})
    };
    let mut last = night(0);
    for (field, value) in [
        ("bladder_control_loss", json!(true)),
        ("trauma", json!("major")),
        ("leg_weakness", json!(true)),
        ("fever", json!(true)),
        ("night_sweats", json!(true)),
        ("unexplained_weight_loss", json!(true)),
        ("legs_affected", json!("one")),
        ("leg_tingling", json!(true)),
    ] {
        last[field] = value;
    }
    vec![night(2), night(1), last]
}

/// A patient's language and country, what their advice must say and what
/// it must not.
type Case = (
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
    &'static [&'static str],
);

/// A daytime pain log with a fever (the infection rule, urgent).
fn fever(id: &str, at: i64) -> Value {
    json!({"id": id, "recorded_at": at, "intensity": 5, "period": "day", "fever": true})
}

/// The advice `answer` carries for rule `code`.
fn advisory<'a>(answer: &'a Value, code: &str) -> &'a Value {
    answer["advisories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap_or_else(|| panic!("no {code} advice: {answer}"))
}

#[tokio::test]
async fn red_flag_advice_is_in_the_patients_language_and_names_their_own_numbers() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    let cases: [Case; 7] = [
        // language, country, what the advice must say, what it must not
        ("es", Some("US"), &["911"], &["999", "112", "NHS", "GP"]),
        (
            "en",
            Some("US"),
            &["call 911"],
            &["999", "112", "NHS", "GP"],
        ),
        (
            "en",
            Some("DE"),
            &["call 112"],
            &["911", "999", "NHS", "GP"],
        ),
        ("es", Some("ES"), &["112"], &["911", "999", "NHS"]),
        (
            "en",
            Some("GB"),
            &["call 999", "your GP or NHS 111"],
            &["911", "112"],
        ),
        (
            "en",
            Some("NZ"),
            &["call 111"],
            &["911", "999", "NHS", "GP"],
        ),
        ("es", None, &[], &["911", "999", "112", "111", "NHS", "GP"]),
    ];
    let mut bodies_by_language: Vec<(&str, String)> = Vec::new();
    for (n, (language, country, says, never)) in cases.into_iter().enumerate() {
        let patient = app.patient_of(&therapist).await;
        profile(
            &app,
            &patient,
            json!({"timezone": "UTC", "language": language, "country": country,
                "cancer_history": true, "osteoporosis": true}),
        )
        .await;
        let logs = every_single_log_flag(&format!("c{n}"));
        let answer = push(&app, &patient, json!({"pain_logs": {"created": logs}})).await;
        let mut codes: Vec<&str> = answer["advisories"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["code"].as_str())
            .collect();
        codes.sort_unstable();
        assert_eq!(
            codes,
            [
                "cancer_history",
                "cauda_equina",
                "fragility_fracture",
                "infection",
                "major_trauma",
                "motor_deficit",
                "night_sweats",
                "radicular_symptoms",
                "unrelenting_night_pain",
                "weight_loss",
            ],
            "{answer}"
        );
        let locale = locale_of(language, country);
        let pulled = notifications(&app, &patient, "red_flag_advice").await;
        for code in codes {
            let given = advisory(&answer, code);
            let severity = Severity::parse(given["severity"].as_str().unwrap()).unwrap();
            let expected = locale::red_flag(rule(code).unwrap(), severity, &locale, None).unwrap();
            assert_eq!(
                (given["title"].as_str(), given["body"].as_str()),
                (Some(expected.title.as_str()), Some(expected.body.as_str())),
                "{language} {country:?} {code}"
            );
            // The notification the patient's other devices pull says the same.
            let note = pulled
                .iter()
                .find(|p| {
                    p["id"]
                        .as_str()
                        .is_some_and(|id| id.starts_with(&format!("rf.{code}.")))
                })
                .unwrap_or_else(|| panic!("no {code} notification"));
            assert_eq!(
                (&note["title"], &note["body"]),
                (&given["title"], &given["body"])
            );
            let text = format!("{} {}", expected.title, expected.body);
            for word in never {
                assert!(!text.contains(word), "{language} {country:?}: {text}");
            }
        }
        let emergency = advisory(&answer, "cauda_equina")["body"]
            .as_str()
            .unwrap()
            .to_owned();
        let urgent = advisory(&answer, "infection")["body"].as_str().unwrap();
        let both = format!("{emergency} {urgent}");
        for word in says {
            assert!(both.contains(word), "{language} {country:?}: {both}");
        }
        if country.is_none() {
            assert!(
                !emergency.chars().any(|c| c.is_ascii_digit()),
                "no number without a country: {emergency}"
            );
        }
        bodies_by_language.push((language, emergency));
    }
    // Spanish is not English with numbers changed.
    let english = &bodies_by_language[1].1;
    let spanish = &bodies_by_language[0].1;
    assert_ne!(english.replace("911", ""), spanish.replace("911", ""));
    assert!(spanish.contains("911") && english.contains("911"));
}

#[tokio::test]
async fn a_new_language_applies_to_the_next_text_and_stored_texts_keep_their_words() {
    let Clinic { app, patient, .. } = Clinic::spawn().await;
    profile(
        &app,
        &patient,
        json!({"timezone": "UTC", "language": "en", "country": "GB"}),
    )
    .await;
    let first = push(
        &app,
        &patient,
        json!({"pain_logs": {"created": [fever("f1", T)]}}),
    )
    .await;
    let english = advisory(&first, "infection")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(english.contains("NHS 111"), "{english}");

    profile(
        &app,
        &patient,
        json!({"timezone": "UTC", "language": "es", "country": "ES"}),
    )
    .await;
    let second = push(
        &app,
        &patient,
        json!({"pain_logs": {"created": [fever("f2", T + DAY_MS)]}}),
    )
    .await;
    let spanish = advisory(&second, "infection")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = locale::red_flag(
        rule("infection").unwrap(),
        Severity::Urgent,
        &locale_of("es", Some("ES")),
        None,
    )
    .unwrap();
    assert_eq!(spanish, expected.body);
    assert!(spanish.contains("112") && !spanish.contains("NHS"));

    let pulled = notifications(&app, &patient, "red_flag_advice").await;
    let body_of = |id: &str| {
        pulled
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| n["body"].as_str().unwrap().to_owned())
    };
    assert_eq!(body_of("rf.infection.f1"), Some(english), "kept its words");
    assert_eq!(body_of("rf.infection.f2"), Some(spanish));
}

/// The notification of `kind` the patient pulls, as (title, body).
async fn pulled_text(app: &TestApp, who: &Login, kind: &str) -> (String, String) {
    let found = notifications(app, who, kind).await;
    assert_eq!(found.len(), 1, "{kind}: {found:?}");
    let text = |field: &str| found[0][field].as_str().unwrap().to_owned();
    (text("title"), text("body"))
}

fn rendered(message: &str, language: &str, args: &[(&str, i64)]) -> (String, String) {
    let args: Vec<(&str, FluentValue<'_>)> = args
        .iter()
        .map(|(name, value)| (*name, FluentValue::from(*value)))
        .collect();
    let text = locale::text(message, &locale_of(language, Some("MX")), &args).unwrap();
    (text.title, text.body)
}

#[tokio::test]
async fn reminders_prompts_and_tips_are_written_in_each_patients_language() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    let now = noon();
    let mut stomach_sleepers = Vec::new();
    let mut woken = Vec::new();
    let mut by_position = Vec::new();
    for (language, country) in [("en", "AU"), ("es", "MX")] {
        // Woken by pain on 3 of the last 7 nights, on the stomach; an old
        // mattress; a plan given three days ago and never done.
        let patient = app.patient_of(&therapist).await;
        profile(
            &app,
            &patient,
            json!({"timezone": "UTC", "language": language, "country": country}),
        )
        .await;
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
            vec![json!({"id": format!("bed-{language}"), "purchased_on": "2015-03-01"})],
        )
        .await;
        new_plan(&app, &therapist, &patient, None).await;
        plan_given(
            &app,
            &patient,
            now.checked_sub(SignedDuration::from_hours(72)).unwrap(),
        )
        .await;
        stomach_sleepers.push((language, patient));
        // Woken on most of the last 14 nights, position not said: a PT
        // referral and the warmth tip.
        let waking = app.patient_of(&therapist).await;
        profile(
            &app,
            &waking,
            json!({"timezone": "UTC", "language": language, "country": country}),
        )
        .await;
        woken_nights(&app, &waking, now, &[1, 2, 3, 4, 8, 9, 10, 11], json!({})).await;
        woken.push((language, waking));
        // Side and back sleepers without the pillow that helps: their tips.
        for position in ["side", "back"] {
            let sleeper = app.patient_of(&therapist).await;
            profile(
                &app,
                &sleeper,
                json!({"timezone": "UTC", "language": language, "country": country}),
            )
            .await;
            woken_nights(
                &app,
                &sleeper,
                now,
                &[1, 3, 5],
                json!({"position": position}),
            )
            .await;
            by_position.push((language, position, sleeper));
        }
    }
    let sent = send_prompts::run(&JobCtx::from(&app.core), now)
        .await
        .unwrap();
    assert_eq!(sent, Some(14));
    for (language, position, sleeper) in &by_position {
        let message = format!("tip-{position}-knees");
        assert_eq!(
            pulled_text(&app, sleeper, "sleep_tip").await,
            rendered(&message, language, &[]),
            "{language} {position}"
        );
    }

    for (language, patient) in &stomach_sleepers {
        for (kind, message, args) in [
            ("mattress_prompt", "mattress-prompt", &[][..]),
            ("sleep_tip", "tip-stomach", &[][..]),
            ("adherence_nudge", "adherence-nudge", &[("days", 3)][..]),
        ] {
            assert_eq!(
                pulled_text(&app, patient, kind).await,
                rendered(message, language, args),
                "{language} {kind}"
            );
        }
    }
    for (language, patient) in &woken {
        for (kind, message, args) in [
            ("pt_referral", "pt-referral", &[][..]),
            (
                "sleep_tip",
                "tip-warmth",
                &[("minutes_from", 15), ("minutes_to", 20)][..],
            ),
        ] {
            assert_eq!(
                pulled_text(&app, patient, kind).await,
                rendered(message, language, args),
                "{language} {kind}"
            );
        }
    }
    // Spanish reads as Spanish, with its plural.
    let (_, nudge) = pulled_text(&app, &stomach_sleepers[1].1, "adherence_nudge").await;
    assert!(nudge.contains("3 días"), "{nudge}");
    let (_, english) = pulled_text(&app, &stomach_sleepers[0].1, "adherence_nudge").await;
    assert!(english.contains("3 days"), "{english}");

    // The evening stretch reminder, in each language.
    let ctx = JobCtx::from(&app.core);
    for (language, country) in [("en", "IE"), ("es", "AR")] {
        let patient = app.patient_of(&therapist).await;
        profile(
            &app,
            &patient,
            json!({"timezone": "Europe/Dublin", "reminders_enabled": true,
                "language": language, "country": country}),
        )
        .await;
        new_plan(&app, &therapist, &patient, Some("21:15")).await;
        let (_, at) = next_fire(&app, patient.id).await;
        assert_eq!(fire(&ctx, at).await.sent, 1);
        assert_eq!(
            pulled_text(&app, &patient, "stretch_reminder").await,
            rendered("stretch-reminder", language, &[]),
            "{language}"
        );
    }
}

#[tokio::test]
async fn the_clinics_contact_line_is_set_by_its_admin_and_added_to_urgent_and_routine_advice() {
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let line = json!({"phone": "+442071234567", "hours": "Mon-Fri 8:00-18:00"});

    // Admins only, and only a number that can be dialled from anywhere.
    let refused = app
        .put("/v1/org/contact", &therapist, line.clone(), 403)
        .await;
    assert_problem(&refused, 403, "forbidden");
    app.put("/v1/org/contact", &patient, line.clone(), 403)
        .await;
    app.call(
        reqwest::Method::PUT,
        "/v1/org/contact",
        None,
        Some(line.clone()),
        401,
    )
    .await;
    for (bad, pointer) in [
        (json!({"phone": "020 7123 4567", "hours": "9-5"}), "/phone"),
        (
            json!({"phone": "+44 20 7123 4567", "hours": "9-5"}),
            "/phone",
        ),
        (json!({"phone": "+442071234567", "hours": "  "}), "/hours"),
        (
            json!({"phone": "+442071234567", "hours": "x".repeat(101)}),
            "/hours",
        ),
        (
            json!({"phone": "+442071234567", "hours": "9-5\nnot Sunday"}),
            "/hours",
        ),
    ] {
        let problem = app.put("/v1/org/contact", &org.admin, bad, 422).await;
        assert_problem(&problem, 422, "validation_failed");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
    let bad_type = app
        .put(
            "/v1/org/contact",
            &org.admin,
            json!({"phone": 442071234567_i64}),
            422,
        )
        .await;
    assert_problem(&bad_type, 422, "invalid_body");
    let settings = app.get("/v1/org", Some(&therapist.token), 200).await;
    assert_eq!(settings["contact"], Value::Null, "nothing stored");

    let set = app
        .put("/v1/org/contact", &org.admin, line.clone(), 200)
        .await;
    assert_eq!(set["contact"], line);
    let settings = app.get("/v1/org", Some(&therapist.token), 200).await;
    assert_eq!(settings["contact"], line);
    let audit = app.get("/v1/audit", Some(&org.admin.token), 200).await;
    assert_eq!(audit["items"][0]["action"], "org.contact_set");

    // Urgent and routine advice adds it, in the patient's language;
    // emergency advice does not.
    profile(
        &app,
        &patient,
        json!({"timezone": "UTC", "language": "es", "country": "GB"}),
    )
    .await;
    let logs = every_single_log_flag("cl");
    let answer = push(&app, &patient, json!({"pain_logs": {"created": logs}})).await;
    let clinic = ClinicLine {
        phone: "+442071234567".to_owned(),
        hours: "Mon-Fri 8:00-18:00".to_owned(),
    };
    let spanish = locale_of("es", Some("GB"));
    for (code, shows) in [
        ("infection", true),
        ("radicular_symptoms", true),
        ("cauda_equina", false),
        ("major_trauma", false),
    ] {
        let given = advisory(&answer, code);
        let body = given["body"].as_str().unwrap();
        assert_eq!(body.contains("+442071234567"), shows, "{code}: {body}");
        let severity = Severity::parse(given["severity"].as_str().unwrap()).unwrap();
        let expected =
            locale::red_flag(rule(code).unwrap(), severity, &spanish, Some(&clinic)).unwrap();
        assert_eq!(body, expected.body);
    }

    // On a second org's care team as well (joined later, with its own line):
    // the advice names one line, the first org's.
    let other = app.create_org("Second clinic").await;
    let other_therapist = app.add_staff(&other, "therapist").await;
    app.put(
        "/v1/org/contact",
        &other.admin,
        json!({"phone": "+34911234567", "hours": "24 h"}),
        200,
    )
    .await;
    app.join_care_team(&patient, &other_therapist).await;
    let answer = push(
        &app,
        &patient,
        json!({"pain_logs": {"created": [fever("later", T + 30 * DAY_MS)]}}),
    )
    .await;
    let body = advisory(&answer, "infection")["body"].as_str().unwrap();
    assert!(
        body.contains("+442071234567") && !body.contains("+34911234567"),
        "{body}"
    );

    // Removed: the next advice names the other org's line; what was written
    // keeps its words.
    let removed = app
        .call(
            reqwest::Method::DELETE,
            "/v1/org/contact",
            Some(&org.admin.token),
            None,
            200,
        )
        .await;
    assert_eq!(removed["contact"], Value::Null);
    let audit = app.get("/v1/audit", Some(&org.admin.token), 200).await;
    assert_eq!(audit["items"][0]["action"], "org.contact_removed");
    let answer = push(
        &app,
        &patient,
        json!({"pain_logs": {"created": [fever("latest", T + 31 * DAY_MS)]}}),
    )
    .await;
    let body = advisory(&answer, "infection")["body"].as_str().unwrap();
    assert!(
        body.contains("+34911234567") && !body.contains("+442071234567"),
        "{body}"
    );
    let pulled = notifications(&app, &patient, "red_flag_advice").await;
    let kept = pulled
        .iter()
        .find(|n| n["id"] == "rf.infection.later")
        .unwrap();
    assert!(kept["body"].as_str().unwrap().contains("+442071234567"));
}
