//! The FHIR R4 export over HTTP: a Bundle whose every reference resolves
//! inside it, holding only live diary rows, and reachable exactly as the
//! patient's data is.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use dorsal_domain::calendar::local_date;
use dorsal_tests::sync::push;
use dorsal_tests::{Clinic, Login, TestApp};
use jiff::tz::TimeZone;
use serde_json::{Value, json};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

fn date(ms: i64) -> String {
    local_date(ms, &TimeZone::get("Europe/Berlin").unwrap())
        .unwrap()
        .to_string()
}

/// GET the export, asserting the status; the body and its content type.
async fn export(
    app: &TestApp,
    patient: &Login,
    token: Option<&str>,
    expect: u16,
) -> (String, Value) {
    let mut request = app
        .client
        .get(app.url(&format!("/v1/patients/{}/fhir", patient.id)));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), expect);
    assert_eq!(response.headers().get_all("content-type").iter().count(), 1);
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (content_type, response.json().await.unwrap())
}

/// Every `reference` value anywhere in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                if let ("reference", Value::String(target)) = (key.as_str(), member) {
                    found.push(target.clone());
                } else {
                    references(member, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

/// Checks what every Bundle must hold and returns its resources.
fn check_bundle(bundle: &Value) -> Vec<Value> {
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let entries = bundle["entry"].as_array().unwrap();
    let mut urls = HashSet::new();
    for entry in entries {
        let url = entry["fullUrl"].as_str().unwrap();
        assert!(url.starts_with("urn:uuid:"), "{url}");
        assert!(urls.insert(url.to_owned()), "{url} twice");
        let resource = &entry["resource"];
        let kind = resource["resourceType"].as_str().unwrap();
        let required: &[&str] = match kind {
            "Patient" => &["id"],
            "Observation" => &["status", "code", "subject"],
            "CarePlan" => &["status", "intent", "subject"],
            "Flag" => &["status", "code", "subject"],
            "DetectedIssue" => &["status", "patient"],
            "OperationOutcome" => &["issue"],
            other => panic!("unexpected {other}"),
        };
        for field in required {
            assert!(
                !resource[*field].is_null(),
                "{kind} without {field}: {resource}"
            );
        }
    }
    let mut found = Vec::new();
    references(bundle, &mut found);
    assert!(!found.is_empty());
    for target in found {
        assert!(urls.contains(&target), "{target} resolves to no entry");
    }
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Patient")
            .count(),
        1
    );
    entries.iter().map(|e| e["resource"].clone()).collect()
}

fn of_kind<'a>(resources: &'a [Value], kind: &str) -> Vec<&'a Value> {
    resources
        .iter()
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

/// Observations by the diary row id they carry, split pain / sleep.
fn observations(resources: &[Value]) -> (HashMap<String, Value>, HashMap<String, Value>) {
    let mut pains = HashMap::new();
    let mut sleeps = HashMap::new();
    for observation in of_kind(resources, "Observation") {
        let identifier = &observation["identifier"][0];
        let id = identifier["value"].as_str().unwrap().to_owned();
        if identifier["system"]
            .as_str()
            .unwrap()
            .ends_with("/pain-log")
        {
            pains.insert(id, observation.clone());
        } else {
            sleeps.insert(id, observation.clone());
        }
    }
    (pains, sleeps)
}

fn full_url(resource: &Value) -> String {
    format!("urn:uuid:{}", resource["id"].as_str().unwrap())
}

fn sorted(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut keys: Vec<String> = keys.collect();
    keys.sort();
    keys
}

async fn alert_id(app: &TestApp, clinician: &Login, rule: &str) -> String {
    let inbox = app.get("/v1/alerts", Some(&clinician.token), 200).await;
    inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["rule"].as_str().unwrap().starts_with(rule))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_clinician_exports_the_patient_as_a_bundle_whose_references_all_resolve() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let now = now_ms();
    let pain = |id: &str, at: i64, location: &str| {
        json!({"id": id, "recorded_at": at, "intensity": 4, "location": location,
            "note": "told my neighbour Bob about it"})
    };
    let mut saddle = pain("p-saddle", now - HOUR, "lower_back");
    saddle["saddle_numbness"] = json!(true);
    saddle["intensity"] = json!(8);
    let mut trauma = pain("p-trauma", now - 2 * HOUR, "upper_back");
    trauma["trauma"] = json!("major");
    let mut fever = pain("p-fever-old", now - 120 * DAY, "lower_back");
    fever["fever"] = json!(true);
    let night = |id: &str, at: i64| {
        json!({"id": id, "night_of": date(at - 12 * HOUR), "bedtime": at - 8 * HOUR, "wake_time": at,
            "quality": 3, "awakenings": 2, "woke_from_pain": true, "note": "private"})
    };
    push(
        &app,
        &patient,
        json!({
            "profiles": {"created": [{"id": patient.id.to_string(), "timezone": "Europe/Berlin",
                "birth_date": "1961-03-04", "sex": "female"}]},
            "pain_logs": {"created": [
                pain("p-recent", now - 3 * HOUR, "lower_back"), pain("p-neck", now - DAY, "neck"),
                pain("p-deleted", now - 4 * HOUR, "hip"), pain("p-old", now - 100 * DAY, "leg"),
                saddle, trauma, fever]},
            "sleep_logs": {"created": [night("n-recent", now - 2 * DAY), night("n-deleted", now - 3 * DAY),
                night("n-old", now - 120 * DAY)]},
        }),
    )
    .await;
    push(
        &app,
        &patient,
        json!({"pain_logs": {"deleted": ["p-deleted"]}, "sleep_logs": {"deleted": ["n-deleted"]}}),
    )
    .await;
    // Open, acknowledged and resolved alerts.
    let infection = alert_id(&app, &clinician, "infection").await;
    app.post(
        &format!("/v1/alerts/{infection}/acknowledge"),
        Some(&clinician.token),
        json!({}),
        200,
    )
    .await;
    let major = alert_id(&app, &clinician, "major_trauma").await;
    app.post(
        &format!("/v1/alerts/{major}/resolve"),
        Some(&clinician.token),
        json!({"note": "Seen in ED"}),
        200,
    )
    .await;
    let plan = json!({"title": "Evening stretches", "starts_on": date(now - 7 * DAY), "reminder_time": "21:30",
        "items": [{"exercise_slug": "childs-pose"}, {"exercise_slug": "cat-cow", "times_per_day": 2}]});
    app.post(
        &format!("/v1/patients/{}/plans", patient.id),
        Some(&therapist.token),
        plan,
        201,
    )
    .await;

    let (content_type, bundle) = export(&app, &patient, Some(&clinician.token), 200).await;
    assert!(
        content_type.starts_with("application/fhir+json"),
        "{content_type}"
    );
    let resources = check_bundle(&bundle);

    let person = of_kind(&resources, "Patient")[0];
    assert_eq!(person["id"], patient.id.to_string());
    assert_eq!(person["gender"], "female");
    assert_eq!(person["birthDate"], "1961-03-04");
    assert_eq!(person["name"][0]["text"], "Pat");
    let text = bundle.to_string();
    assert!(!text.contains(&patient.email), "no email");
    assert!(
        !text.contains("neighbour") && !text.contains("private"),
        "no diary notes"
    );

    let (pains, sleeps) = observations(&resources);
    assert_eq!(
        sorted(pains.keys().cloned()),
        ["p-fever-old", "p-neck", "p-recent", "p-saddle", "p-trauma"],
        "live logs of 90 days, and an unresolved alert's evidence whatever its age"
    );
    for observation in pains.values() {
        assert_eq!(observation["status"], "final");
        assert_eq!(
            observation["code"]["coding"][0],
            json!({"system": "http://loinc.org", "code": "72514-3",
                "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"})
        );
        assert_eq!(observation["subject"]["reference"], full_url(person));
        assert!(observation["valueInteger"].is_i64());
        assert!(observation["effectiveDateTime"].is_string());
    }
    assert_eq!(pains["p-saddle"]["valueInteger"], 8);
    assert_eq!(pains["p-neck"]["bodySite"]["coding"][0]["code"], "45048000");
    assert_eq!(sorted(sleeps.keys().cloned()), ["n-recent"]);
    let components = sleeps["n-recent"]["component"].as_array().unwrap();
    assert_eq!(components.len(), 4);
    assert_eq!(components[0]["valueQuantity"]["value"], 480);

    let care_plans = of_kind(&resources, "CarePlan");
    assert_eq!(care_plans.len(), 1);
    let care_plan = care_plans[0];
    assert_eq!(
        (care_plan["status"].as_str(), care_plan["intent"].as_str()),
        (Some("active"), Some("plan"))
    );
    assert_eq!(care_plan["title"], "Evening stretches");
    let activities = care_plan["activity"].as_array().unwrap();
    assert_eq!(activities.len(), 2);
    assert_eq!(activities[1]["detail"]["code"]["text"], "Cat-cow");
    assert_eq!(
        activities[1]["detail"]["scheduledTiming"]["repeat"],
        json!({"frequency": 2, "period": 1, "periodUnit": "d", "timeOfDay": ["21:30:00"]})
    );

    let flags = of_kind(&resources, "Flag");
    let mut codes: Vec<&str> = flags
        .iter()
        .map(|f| f["code"]["text"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        ["cauda_equina", "infection"],
        "resolved alerts are not flagged"
    );
    assert!(flags.iter().all(|f| f["status"] == "active"));
    let issues: HashMap<&str, &Value> = of_kind(&resources, "DetectedIssue")
        .into_iter()
        .map(|i| (i["code"]["text"].as_str().unwrap(), i))
        .collect();
    assert_eq!(issues.len(), 2);
    let cauda = issues["cauda_equina@1"];
    assert_eq!(
        (cauda["status"].as_str(), cauda["severity"].as_str()),
        (Some("preliminary"), Some("high"))
    );
    assert_eq!(cauda["patient"]["reference"], full_url(person));
    assert_eq!(
        cauda["evidence"][0]["detail"],
        json!([{"reference": full_url(&pains["p-saddle"])}])
    );
    let infection = issues["infection@1"];
    assert_eq!(
        (infection["status"].as_str(), infection["severity"].as_str()),
        (Some("final"), Some("moderate"))
    );
    assert_eq!(
        infection["evidence"][0]["detail"],
        json!([{"reference": full_url(&pains["p-fever-old"])}])
    );

    // The same data exports the same entries.
    let (_, again) = export(&app, &patient, Some(&clinician.token), 200).await;
    assert_eq!(again["entry"], bundle["entry"]);

    let audit = app
        .get(
            &format!("/v1/audit?patient_id={}", patient.id),
            Some(&org.admin.token),
            200,
        )
        .await;
    let exports = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "patients.fhir" && e["actor_id"] == clinician.id.to_string())
        .count();
    assert_eq!(exports, 2, "each export is audited");
}

#[tokio::test]
async fn the_export_is_reachable_exactly_as_the_patients_data_is() {
    let Clinic {
        app,
        org,
        therapist,
        clinician,
        patient,
    } = Clinic::spawn().await;
    let now = now_ms();
    push(
        &app,
        &patient,
        json!({"pain_logs": {"created": [
            {"id": "p1", "recorded_at": now - HOUR, "intensity": 9, "saddle_numbness": true}]}}),
    )
    .await;
    app.post(
        &format!("/v1/patients/{}/plans", patient.id),
        Some(&therapist.token),
        json!({"title": "Daily", "starts_on": date(now), "items": [{"exercise_slug": "cat-cow"}]}),
        201,
    )
    .await;

    // No token, another org's staff, another patient: nothing.
    export(&app, &patient, None, 401).await;
    let other = app.create_org("Other").await;
    let other_clinician = app.add_staff(&other, "clinician").await;
    export(&app, &patient, Some(&other.admin.token), 404).await;
    export(&app, &patient, Some(&other_clinician.token), 404).await;
    let stranger = app.register_patient().await;
    export(&app, &patient, Some(&stranger.token), 404).await;
    export(&app, &stranger, Some(&clinician.token), 404).await;
    app.get("/v1/patients/not-a-uuid/fhir", Some(&clinician.token), 404)
        .await;

    // Staff see the alert (therapists act on alerts too); the patient
    // gets the same bundle without it, as they get no alerts elsewhere.
    for (who, flags) in [
        (&clinician, 1),
        (&org.admin, 1),
        (&therapist, 1),
        (&patient, 0),
    ] {
        let (_, bundle) = export(&app, &patient, Some(&who.token), 200).await;
        let resources = check_bundle(&bundle);
        assert_eq!(of_kind(&resources, "Flag").len(), flags);
        assert_eq!(of_kind(&resources, "DetectedIssue").len(), flags);
        assert_eq!(of_kind(&resources, "Observation").len(), 1);
        assert_eq!(of_kind(&resources, "CarePlan").len(), 1);
    }

    // Another org caring for the same patient sees no plan of the first
    // org's, as with the plan list.
    let other_therapist = app.add_staff(&other, "therapist").await;
    app.join_care_team(&patient, &other_therapist).await;
    let (_, bundle) = export(&app, &patient, Some(&other_clinician.token), 200).await;
    let resources = check_bundle(&bundle);
    assert!(of_kind(&resources, "CarePlan").is_empty());
    assert_eq!(of_kind(&resources, "Flag").len(), 1);

    // Staff reads are audited; the patient's own are not.
    let audit = app
        .get(
            &format!("/v1/audit?patient_id={}", patient.id),
            Some(&org.admin.token),
            200,
        )
        .await;
    let mut readers: Vec<String> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "patients.fhir")
        .map(|e| e["actor_id"].as_str().unwrap().to_owned())
        .collect();
    readers.sort();
    let mut expected = vec![
        clinician.id.to_string(),
        org.admin.id.to_string(),
        therapist.id.to_string(),
    ];
    expected.sort();
    assert_eq!(readers, expected);
}

#[tokio::test]
async fn the_export_is_documented_as_fhir_json() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", None, 200).await;
    let get = &doc["paths"]["/v1/patients/{id}/fhir"]["get"];
    assert!(get["responses"]["200"]["content"]["application/fhir+json"]["schema"].is_object());
    assert!(get["responses"]["404"]["content"]["application/problem+json"].is_object());
}

#[tokio::test]
async fn a_diary_of_any_size_exports_its_newest_entries_and_says_what_was_left_out() {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let start = now_ms() - 10 * DAY;
    let logs: Vec<Value> = (0..2_100)
        .map(|n| {
            json!({"id": format!("bulk{n:04}"), "recorded_at": start + n * 60_000,
            "intensity": 3, "period": "day"})
        })
        .collect();
    push(&app, &patient, json!({"pain_logs": {"created": logs}})).await;
    push(
        &app,
        &patient,
        json!({"sleep_logs": {"created": [{"id": "night1", "night_of": date(start)}]}}),
    )
    .await;
    let (_, bundle) = export(&app, &patient, Some(&clinician.token), 200).await;
    let resources = check_bundle(&bundle);
    let (pains, sleeps) = observations(&resources);
    assert_eq!(pains.len(), 2_000);
    assert!(pains.contains_key("bulk2099") && pains.contains_key("bulk0100"));
    assert!(!pains.contains_key("bulk0099"), "the oldest are left out");
    assert_eq!(sleeps.len(), 1);
    let outcome = of_kind(&resources, "OperationOutcome");
    assert_eq!(outcome.len(), 1);
    let issues = outcome[0]["issue"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0]["code"], "too-costly");
    assert!(issues[0]["diagnostics"].as_str().unwrap().contains("pain"));
    // A diary within the bound says nothing of the kind.
    let small_diary = one_log_patient(&app).await;
    let (_, small) = export(&app, &small_diary, Some(&small_diary.token), 200).await;
    assert!(of_kind(&check_bundle(&small), "OperationOutcome").is_empty());
}

/// A patient with one pain log.
async fn one_log_patient(app: &TestApp) -> Login {
    let patient = app.register_patient().await;
    push(
        app,
        &patient,
        json!({"pain_logs": {"created": [{"id": "one", "recorded_at": now_ms(), "intensity": 2}]}}),
    )
    .await;
    patient
}
