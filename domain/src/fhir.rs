//! FHIR R4 export of one patient (SPEC §8): a `collection` Bundle of the
//! Patient, their pain and sleep diary as Observations, the active exercise
//! plan as a CarePlan and each unresolved alert as a Flag and a
//! DetectedIssue. Pure mapping from loaded rows to JSON; no I/O.
//!
//! Every entry's `fullUrl` is `urn:uuid:<uuid>`, made deterministically
//! from the row's natural key (UUIDv5), and resources refer to each other
//! only through those fullUrls, so every reference resolves inside the
//! Bundle and the same data always exports the same entries.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::programs::{PlanBody, PlanItem};
use crate::red_flags::{Severity, rule};

/// Diary entries older than this many days are left out (evidence of an
/// unresolved alert excepted).
pub const WINDOW_DAYS: i64 = 90;
/// At most this many pain and this many sleep entries, the newest of the
/// window, so a diary of any size exports in bounded time and size.
pub const MAX_ENTRIES: u64 = 2_000;

/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// SNOMED CT.
pub const SNOMED: &str = "http://snomed.info/sct";
/// UCUM units.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// LOINC "Pain severity - 0-10 verbal numeric rating [Score] - Reported".
pub const PAIN_SEVERITY: &str = "72514-3";
const PAIN_SEVERITY_DISPLAY: &str = "Pain severity - 0-10 verbal numeric rating [Score] - Reported";
/// SNOMED CT "Sleep, function (observable entity)".
pub const SLEEP_FUNCTION: &str = "258158006";

/// Where dorsal's own code systems and identifier systems live. A
/// placeholder under the reserved `.example` domain: deployments that
/// exchange data with other systems should publish their own.
pub const BASE: &str = "https://dorsal.example/fhir";
/// Local codes of the sleep diary.
pub const SLEEP_CODES: &str = "https://dorsal.example/fhir/CodeSystem/sleep";
/// Local codes of the red-flag rules (`domain::red_flags` codes).
pub const RED_FLAG_CODES: &str = "https://dorsal.example/fhir/CodeSystem/red-flag";
/// Local codes of the exercise catalog (slugs).
pub const EXERCISE_CODES: &str = "https://dorsal.example/fhir/CodeSystem/exercise";

const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const FLAG_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/flag-category";
const FLAG_PRIORITY: &str = "http://hl7.org/fhir/StructureDefinition/flag-priority";
const FLAG_PRIORITY_CODES: &str = "http://hl7.org/fhir/flag-priority-code";
const FLAG_DETAIL: &str = "http://hl7.org/fhir/StructureDefinition/flag-detail";

/// Namespace of the entries' UUIDv5s: itself the UUIDv5 of [`BASE`] in the
/// URL namespace.
const NAMESPACE: Uuid = Uuid::from_u128(0xec0e_4aa7_a27d_5b5c_b72a_fb2b_6285_1ad9);

/// The patient's account and profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientData {
    /// User id; also the Patient's id.
    pub id: Uuid,
    /// Name as the patient gave it.
    pub display_name: String,
    /// Profile `birth_date` (`YYYY-MM-DD`).
    pub birth_date: Option<String>,
    /// Profile `sex` (`female`/`male`/`other`/`unspecified`).
    pub sex: Option<String>,
}

/// One live pain log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PainEntry {
    /// Row id.
    pub id: String,
    /// When, ms since the epoch.
    pub recorded_at: i64,
    /// 0–10 NRS.
    pub intensity: i64,
    /// `lower_back`, `upper_back`, `neck`, `hip`, `leg` or `other`.
    pub location: Option<String>,
}

/// One live sleep log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepEntry {
    /// Row id.
    pub id: String,
    /// Local date of the night (`YYYY-MM-DD`).
    pub night_of: String,
    /// Into bed, ms.
    pub bedtime: Option<i64>,
    /// Woke up, ms.
    pub wake_time: Option<i64>,
    /// 1–5.
    pub quality: Option<i64>,
    /// Times woken.
    pub awakenings: Option<i64>,
    /// Woken by pain.
    pub woke_from_pain: bool,
}

/// The active exercise plan at its latest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarePlanData {
    /// Plan id.
    pub id: String,
    /// Latest version number.
    pub version: i64,
    /// That version's content.
    pub body: PlanBody,
}

/// An alert with the pain logs it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertData {
    /// Alert id.
    pub id: Uuid,
    /// Rule code.
    pub rule: String,
    /// Rule version.
    pub rule_version: i64,
    /// `routine`, `urgent` or `emergency`.
    pub severity: String,
    /// `open`, `acknowledged` or `resolved` (resolved ones are left out).
    pub status: String,
    /// Raised, ms.
    pub created_at: i64,
    /// Acknowledged, ms.
    pub acknowledged_at: Option<i64>,
    /// Ids of the matching pain logs.
    pub evidence: Vec<String>,
}

/// Everything one export holds.
#[derive(Debug, Clone)]
pub struct Export {
    /// The patient.
    pub patient: PatientData,
    /// The patient's zone: instants are written with its offset.
    pub zone: TimeZone,
    /// When the Bundle is assembled, ms.
    pub now: i64,
    /// Pain logs, in the order to list them.
    pub pains: Vec<PainEntry>,
    /// Sleep logs, in the order to list them.
    pub sleeps: Vec<SleepEntry>,
    /// The active plan, if any.
    pub plan: Option<CarePlanData>,
    /// Alerts; resolved ones are skipped.
    pub alerts: Vec<AlertData>,
    /// What was left out to keep the Bundle bounded, a sentence each; said
    /// in an OperationOutcome entry.
    pub omitted: Vec<String>,
}

/// FHIR administrative gender of a profile's `sex`.
pub fn gender(sex: &str) -> Option<&'static str> {
    match sex {
        "female" => Some("female"),
        "male" => Some("male"),
        "other" => Some("other"),
        "unspecified" => Some("unknown"),
        _ => None,
    }
}

/// The deterministic id of the entry for row `key` of `kind`.
pub fn entry_id(kind: &str, patient: Uuid, key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}/{patient}/{key}").as_bytes())
}

fn full_url(id: Uuid) -> String {
    format!("urn:uuid:{id}")
}

fn reference(id: Uuid) -> Value {
    json!({ "reference": full_url(id) })
}

/// An instant as a FHIR `dateTime` with the patient's UTC offset at the
/// time, so a reader sees the local hour (a 03:00 pain is a night pain).
pub fn date_time(ms: i64, zone: &TimeZone) -> Option<String> {
    let at = Timestamp::from_millisecond(ms).ok()?;
    Some(at.display_with_offset(zone.to_offset(at)).to_string())
}

/// A local `HH:MM` as a FHIR `time` (`HH:MM:SS`).
fn fhir_time(local: &str) -> String {
    if local.len() == 5 {
        format!("{local}:00")
    } else {
        local.to_owned()
    }
}

fn coding(system: &str, code: &str, display: Option<&str>) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

fn identifier(kind: &str, value: &str) -> Value {
    json!([{ "system": format!("{BASE}/sid/{kind}"), "value": value }])
}

/// Drops nulls, empty arrays and empty objects, which FHIR JSON forbids.
fn prune(value: Value) -> Value {
    fn empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        }
    }
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !empty(v))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(prune).filter(|v| !empty(v)).collect())
        }
        other => other,
    }
}

/// SNOMED CT body structure of a pain location, where one is certain;
/// other locations go as text only.
fn body_site(location: &str) -> Value {
    let (code, display, text) = match location {
        "lower_back" => (Some("37822005"), "Lower back structure", "Lower back"),
        "neck" => (Some("45048000"), "Neck structure", "Neck"),
        "hip" => (Some("29836001"), "Hip region structure", "Hip"),
        "leg" => (Some("61685007"), "Lower limb structure", "Leg"),
        "upper_back" => (None, "", "Upper back"),
        _ => (None, "", "Other"),
    };
    json!({
        "coding": code.map(|c| vec![coding(SNOMED, c, Some(display))]),
        "text": text,
    })
}

fn survey() -> Value {
    json!([{ "coding": [coding(OBSERVATION_CATEGORY, "survey", Some("Survey"))] }])
}

fn pain_observation(id: Uuid, patient: Uuid, pain: &PainEntry, zone: &TimeZone) -> Value {
    json!({
        "resourceType": "Observation",
        "id": id.to_string(),
        "identifier": identifier("pain-log", &pain.id),
        "status": "final",
        "category": survey(),
        "code": {
            "coding": [coding(LOINC, PAIN_SEVERITY, Some(PAIN_SEVERITY_DISPLAY))],
            "text": "Pain severity (0-10)",
        },
        "subject": reference(patient),
        "performer": [reference(patient)],
        "effectiveDateTime": date_time(pain.recorded_at, zone),
        "valueInteger": pain.intensity,
        "bodySite": pain.location.as_deref().map(body_site),
    })
}

fn sleep_component(code: &str, display: &str, value: (&str, Value)) -> Value {
    let mut component = Map::new();
    component.insert(
        "code".into(),
        json!({ "coding": [coding(SLEEP_CODES, code, Some(display))], "text": display }),
    );
    component.insert(value.0.into(), value.1);
    Value::Object(component)
}

fn sleep_observation(id: Uuid, patient: Uuid, sleep: &SleepEntry, zone: &TimeZone) -> Value {
    let mut components = Vec::new();
    if let (Some(bed), Some(wake)) = (sleep.bedtime, sleep.wake_time)
        && wake > bed
    {
        let minutes = (wake - bed + 30_000) / 60_000;
        components.push(sleep_component(
            "time-in-bed",
            "Time from bedtime to waking",
            (
                "valueQuantity",
                json!({ "value": minutes, "unit": "min", "system": UCUM, "code": "min" }),
            ),
        ));
    }
    if let Some(quality) = sleep.quality {
        components.push(sleep_component(
            "quality",
            "Sleep quality (1 very poor - 5 very good)",
            ("valueInteger", json!(quality)),
        ));
    }
    if let Some(awakenings) = sleep.awakenings {
        components.push(sleep_component(
            "awakenings",
            "Number of awakenings",
            ("valueInteger", json!(awakenings)),
        ));
    }
    components.push(sleep_component(
        "woke-from-pain",
        "Woken by pain",
        ("valueBoolean", json!(sleep.woke_from_pain)),
    ));
    let timed = sleep.bedtime.is_some() || sleep.wake_time.is_some();
    json!({
        "resourceType": "Observation",
        "id": id.to_string(),
        "identifier": identifier("sleep-log", &sleep.id),
        "status": "final",
        "category": survey(),
        "code": {
            "coding": [
                coding(SLEEP_CODES, "night", Some("Sleep diary night")),
                coding(SNOMED, SLEEP_FUNCTION, Some("Sleep, function (observable entity)")),
            ],
            "text": "Sleep diary (one night)",
        },
        "subject": reference(patient),
        "performer": [reference(patient)],
        "effectivePeriod": timed.then(|| json!({
            "start": sleep.bedtime.and_then(|ms| date_time(ms, zone)),
            "end": sleep.wake_time.and_then(|ms| date_time(ms, zone)),
        })),
        "effectiveDateTime": (!timed).then(|| sleep.night_of.clone()),
        "component": components,
    })
}

fn dosage(item: &PlanItem) -> String {
    let mut parts = Vec::new();
    let sets = match item.sets {
        1 => "1 set".to_owned(),
        n => format!("{n} sets"),
    };
    match (item.sets, item.reps) {
        (s, r) if s > 0 && r > 0 => parts.push(format!("{sets} of {r} repetitions")),
        (s, _) if s > 0 => parts.push(sets),
        _ => {}
    }
    if item.hold_seconds > 0 {
        parts.push(format!("hold {} s", item.hold_seconds));
    }
    parts.push(format!("{} a day", times(item.times_per_day)));
    parts.join(", ")
}

fn times(n: i64) -> String {
    match n {
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

fn care_plan(id: Uuid, patient: Uuid, plan: &CarePlanData, today: Option<Date>) -> Value {
    let body = &plan.body;
    let started = match (today, crate::calendar::parse_date(&body.starts_on)) {
        (Some(today), Some(start)) => start <= today,
        _ => true,
    };
    let activities: Vec<Value> = body
        .items
        .iter()
        .map(|item| {
            json!({
                "detail": {
                    "code": {
                        "coding": [coding(EXERCISE_CODES, &item.exercise_slug, Some(&item.name))],
                        "text": item.name,
                    },
                    "status": if started { "in-progress" } else { "not-started" },
                    "scheduledTiming": {
                        "repeat": {
                            "frequency": item.times_per_day.max(1),
                            "period": 1,
                            "periodUnit": "d",
                            "timeOfDay": body.reminder_time.as_deref().map(|t| vec![fhir_time(t)]),
                        },
                    },
                    "description": format!(
                        "{}. {}\n\n{}",
                        dosage(item),
                        item.instructions,
                        item.safety_note
                    ),
                },
            })
        })
        .collect();
    json!({
        "resourceType": "CarePlan",
        "id": id.to_string(),
        "meta": { "versionId": plan.version.to_string() },
        "identifier": identifier("plan", &plan.id),
        "status": "active",
        "intent": "plan",
        "title": body.title,
        "subject": reference(patient),
        "period": { "start": body.starts_on, "end": body.ends_on },
        "author": { "display": body.therapist_name },
        "activity": activities,
        "note": body.notes.as_ref().map(|text| vec![json!({ "text": text })]),
    })
}

/// The Flag priority code, its display and the DetectedIssue severity of
/// an alert's severity.
fn priority(severity: Option<Severity>) -> Option<(&'static str, &'static str, &'static str)> {
    severity.map(|s| match s {
        Severity::Emergency => ("PH", "High priority", "high"),
        Severity::Urgent => ("PM", "Medium priority", "moderate"),
        Severity::Routine => ("PL", "Low priority", "low"),
    })
}

fn rule_code(alert: &AlertData, text: String) -> Value {
    json!({ "coding": [coding(RED_FLAG_CODES, &alert.rule, None)], "text": text })
}

fn flag(id: Uuid, issue: Uuid, patient: Uuid, alert: &AlertData, zone: &TimeZone) -> Value {
    let priority = priority(Severity::parse(&alert.severity));
    let mut extension = Vec::new();
    if let Some((code, display, _)) = priority {
        extension.push(json!({
            "url": FLAG_PRIORITY,
            "valueCodeableConcept": { "coding": [coding(FLAG_PRIORITY_CODES, code, Some(display))] },
        }));
    }
    extension.push(json!({ "url": FLAG_DETAIL, "valueReference": reference(issue) }));
    json!({
        "resourceType": "Flag",
        "id": id.to_string(),
        "extension": extension,
        "identifier": identifier("alert", &alert.id.to_string()),
        "status": "active",
        "category": [{ "coding": [coding(FLAG_CATEGORY, "clinical", Some("Clinical"))] }],
        "code": rule_code(alert, alert.rule.clone()),
        "subject": reference(patient),
        "period": { "start": date_time(alert.created_at, zone) },
    })
}

fn detected_issue(
    id: Uuid,
    patient: Uuid,
    alert: &AlertData,
    evidence: Vec<Value>,
    zone: &TimeZone,
) -> Value {
    let severity = priority(Severity::parse(&alert.severity)).map(|(_, _, s)| s);
    let acknowledged = alert.status == "acknowledged";
    let mitigation = alert.acknowledged_at.filter(|_| acknowledged).map(|at| {
        vec![json!({
            "action": { "text": "Acknowledged by the care team" },
            "date": date_time(at, zone),
        })]
    });
    json!({
        "resourceType": "DetectedIssue",
        "id": id.to_string(),
        "identifier": identifier("alert", &alert.id.to_string()),
        "status": if acknowledged { "final" } else { "preliminary" },
        "code": rule_code(alert, format!("{}@{}", alert.rule, alert.rule_version)),
        "severity": severity,
        "patient": reference(patient),
        "identifiedDateTime": date_time(alert.created_at, zone),
        "author": { "display": "dorsal red-flag rules" },
        "evidence": (!evidence.is_empty()).then(|| vec![json!({ "detail": evidence })]),
        "detail": rule(&alert.rule).map(|r| r.clinician_action),
        "mitigation": mitigation,
    })
}

fn entry(id: Uuid, resource: Value) -> Value {
    json!({ "fullUrl": full_url(id), "resource": prune(resource) })
}

/// The Bundle (type `collection`) of an export: Patient, CarePlan, pain
/// Observations, sleep Observations, then a Flag and a DetectedIssue per
/// unresolved alert, each list in the order given.
pub fn bundle(export: &Export) -> Value {
    let patient = export.patient.id;
    let zone = &export.zone;
    let mut entries = Vec::new();
    entries.push(entry(
        patient,
        json!({
            "resourceType": "Patient",
            "id": patient.to_string(),
            "name": [{ "text": export.patient.display_name }],
            "gender": export.patient.sex.as_deref().and_then(gender),
            "birthDate": export.patient.birth_date,
        }),
    ));
    if let Some(plan) = &export.plan {
        let id = entry_id("CarePlan", patient, &plan.id);
        let today = crate::calendar::local_date(export.now, zone);
        entries.push(entry(id, care_plan(id, patient, plan, today)));
    }
    let mut pain_ids = HashMap::new();
    for pain in &export.pains {
        let id = entry_id("Observation/pain_logs", patient, &pain.id);
        pain_ids.insert(pain.id.as_str(), id);
        entries.push(entry(id, pain_observation(id, patient, pain, zone)));
    }
    for sleep in &export.sleeps {
        let id = entry_id("Observation/sleep_logs", patient, &sleep.id);
        entries.push(entry(id, sleep_observation(id, patient, sleep, zone)));
    }
    let open: Vec<&AlertData> = export
        .alerts
        .iter()
        .filter(|a| a.status != "resolved")
        .collect();
    for alert in open {
        let key = alert.id.to_string();
        let flag_id = entry_id("Flag", patient, &key);
        let issue_id = entry_id("DetectedIssue", patient, &key);
        entries.push(entry(
            flag_id,
            flag(flag_id, issue_id, patient, alert, zone),
        ));
        let mut evidence: Vec<Uuid> = Vec::new();
        for log in &alert.evidence {
            if let Some(id) = pain_ids.get(log.as_str())
                && !evidence.contains(id)
            {
                evidence.push(*id);
            }
        }
        let evidence = evidence.into_iter().map(reference).collect();
        entries.push(entry(
            issue_id,
            detected_issue(issue_id, patient, alert, evidence, zone),
        ));
    }
    if !export.omitted.is_empty() {
        let id = entry_id("OperationOutcome", patient, "omitted");
        let issues: Vec<Value> = export
            .omitted
            .iter()
            .map(|what| json!({"severity": "information", "code": "too-costly", "diagnostics": what}))
            .collect();
        entries.push(entry(
            id,
            json!({"resourceType": "OperationOutcome", "id": id.to_string(), "issue": issues}),
        ));
    }
    prune(json!({
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": Timestamp::from_millisecond(export.now).ok().map(|t| t.to_string()),
        "entry": entries,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programs::Media;

    const PATIENT: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    const ALERT: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00a1);
    // 2026-11-20T03:00:00Z
    const T: i64 = 1_795_143_600_000;

    fn pain(id: &str, at: i64, location: Option<&str>) -> PainEntry {
        PainEntry {
            id: id.into(),
            recorded_at: at,
            intensity: 7,
            location: location.map(Into::into),
        }
    }

    fn alert(status: &str, severity: &str, evidence: &[&str]) -> AlertData {
        AlertData {
            id: ALERT,
            rule: "cauda_equina".into(),
            rule_version: 1,
            severity: severity.into(),
            status: status.into(),
            created_at: T,
            acknowledged_at: (status == "acknowledged").then_some(T + 60_000),
            evidence: evidence.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn export() -> Export {
        Export {
            patient: PatientData {
                id: PATIENT,
                display_name: "Pat Doe".into(),
                birth_date: Some("1970-05-01".into()),
                sex: Some("unspecified".into()),
            },
            zone: TimeZone::get("Europe/Berlin").unwrap(),
            now: T + 86_400_000,
            pains: vec![
                pain("p1", T, Some("lower_back")),
                pain("p2", T + 1000, Some("upper_back")),
                pain("p3", T + 2000, None),
            ],
            sleeps: vec![
                SleepEntry {
                    id: "s1".into(),
                    night_of: "2026-11-19".into(),
                    bedtime: Some(T - 5 * 3_600_000),
                    wake_time: Some(T + 3 * 3_600_000),
                    quality: Some(2),
                    awakenings: Some(3),
                    woke_from_pain: true,
                },
                SleepEntry {
                    id: "s2".into(),
                    night_of: "2026-11-20".into(),
                    bedtime: None,
                    wake_time: None,
                    quality: None,
                    awakenings: None,
                    woke_from_pain: false,
                },
            ],
            plan: Some(CarePlanData {
                id: "plan-1".into(),
                version: 2,
                body: PlanBody {
                    title: "Evening stretches".into(),
                    starts_on: "2026-11-01".into(),
                    ends_on: None,
                    reminder_time: Some("21:00".into()),
                    notes: None,
                    therapist_name: "Terry".into(),
                    items: vec![PlanItem {
                        position: 1,
                        exercise_slug: "cat-cow".into(),
                        name: "Cat-cow".into(),
                        instructions: "Slowly.".into(),
                        safety_note: "Stop if it hurts.".into(),
                        sets: 2,
                        reps: 10,
                        hold_seconds: 0,
                        times_per_day: 1,
                        media: Media::default(),
                    }],
                },
            }),
            alerts: vec![alert("open", "emergency", &["p1", "gone", "p1"])],
            omitted: Vec::new(),
        }
    }

    fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == kind)
            .collect()
    }

    fn references(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("reference", Value::String(s)) => out.push(s.clone()),
                        _ => references(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| references(v, out)),
            _ => {}
        }
    }

    #[test]
    fn gender_maps_unspecified_to_unknown() {
        assert_eq!(gender("female"), Some("female"));
        assert_eq!(gender("male"), Some("male"));
        assert_eq!(gender("other"), Some("other"));
        assert_eq!(gender("unspecified"), Some("unknown"));
        assert_eq!(gender("robot"), None);
    }

    #[test]
    fn the_namespace_is_the_uuid_of_the_base_url() {
        assert_eq!(
            NAMESPACE,
            Uuid::new_v5(&Uuid::NAMESPACE_URL, BASE.as_bytes())
        );
    }

    #[test]
    fn every_entry_has_a_unique_uuid_full_url_and_every_reference_resolves() {
        let bundle = bundle(&export());
        assert_eq!(
            (bundle["resourceType"].as_str(), bundle["type"].as_str()),
            (Some("Bundle"), Some("collection"))
        );
        let urls: Vec<&str> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap())
            .collect();
        assert_eq!(urls.len(), 1 + 1 + 3 + 2 + 2);
        let mut unique = urls.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), urls.len());
        for entry in bundle["entry"].as_array().unwrap() {
            let url = entry["fullUrl"].as_str().unwrap();
            let id = url.strip_prefix("urn:uuid:").unwrap();
            assert_eq!(
                entry["resource"]["id"], id,
                "resource id matches its fullUrl"
            );
        }
        let mut found = Vec::new();
        references(&bundle, &mut found);
        assert!(found.len() > 10);
        for reference in found {
            assert!(urls.contains(&reference.as_str()), "{reference} dangles");
        }
    }

    #[test]
    fn the_same_data_exports_the_same_bundle() {
        assert_eq!(bundle(&export()), bundle(&export()));
        let other = Export {
            patient: PatientData {
                id: Uuid::from_u128(2),
                ..export().patient
            },
            ..export()
        };
        assert_ne!(
            bundle(&export())["entry"][2]["fullUrl"],
            bundle(&other)["entry"][2]["fullUrl"],
            "the natural key includes the patient"
        );
    }

    #[test]
    fn the_patient_has_name_gender_and_birth_date_and_nothing_else_personal() {
        let bundle = bundle(&export());
        let patient = resources(&bundle, "Patient")[0];
        assert_eq!(patient["id"], PATIENT.to_string());
        assert_eq!(patient["name"][0]["text"], "Pat Doe");
        assert_eq!(patient["gender"], "unknown");
        assert_eq!(patient["birthDate"], "1970-05-01");
        let mut bare = export();
        bare.patient.sex = None;
        bare.patient.birth_date = None;
        let bare = super::bundle(&bare);
        let patient = resources(&bare, "Patient")[0];
        assert!(patient.get("gender").is_none() && patient.get("birthDate").is_none());
    }

    #[test]
    fn pain_is_a_final_survey_observation_coded_loinc_72514_3() {
        let bundle = bundle(&export());
        let pains: Vec<&Value> = resources(&bundle, "Observation")
            .into_iter()
            .filter(|o| o["code"]["coding"][0]["code"] == PAIN_SEVERITY)
            .collect();
        assert_eq!(pains.len(), 3);
        let first = pains[0];
        assert_eq!(first["status"], "final");
        assert_eq!(first["category"][0]["coding"][0]["code"], "survey");
        assert_eq!(first["code"]["coding"][0]["system"], LOINC);
        assert_eq!(first["code"]["coding"][0]["display"], PAIN_SEVERITY_DISPLAY);
        assert_eq!(first["valueInteger"], 7);
        assert_eq!(first["subject"]["reference"], format!("urn:uuid:{PATIENT}"));
        // 03:00 UTC is 04:00 in Berlin in November.
        assert_eq!(first["effectiveDateTime"], "2026-11-20T04:00:00+01:00");
        assert_eq!(first["identifier"][0]["value"], "p1");
        assert_eq!(first["bodySite"]["coding"][0]["system"], SNOMED);
        assert_eq!(first["bodySite"]["coding"][0]["code"], "37822005");
        assert_eq!(
            pains[1]["bodySite"],
            json!({"text": "Upper back"}),
            "no SNOMED code we are not sure of"
        );
        assert!(pains[2].get("bodySite").is_none());
        assert!(first.get("note").is_none());
    }

    #[test]
    fn a_night_of_sleep_is_one_observation_with_components() {
        let bundle = bundle(&export());
        let sleeps: Vec<&Value> = resources(&bundle, "Observation")
            .into_iter()
            .filter(|o| o["code"]["coding"][0]["system"] == SLEEP_CODES)
            .collect();
        assert_eq!(sleeps.len(), 2);
        let night = sleeps[0];
        assert_eq!(night["status"], "final");
        assert_eq!(night["code"]["coding"][1]["code"], SLEEP_FUNCTION);
        assert_eq!(
            night["effectivePeriod"]["start"],
            "2026-11-19T23:00:00+01:00"
        );
        assert_eq!(night["effectivePeriod"]["end"], "2026-11-20T07:00:00+01:00");
        let components: HashMap<&str, &Value> = night["component"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["code"]["coding"][0]["code"].as_str().unwrap(), c))
            .collect();
        assert_eq!(
            components["time-in-bed"]["valueQuantity"],
            json!({"value": 480, "unit": "min", "system": UCUM, "code": "min"})
        );
        assert_eq!(components["quality"]["valueInteger"], 2);
        assert_eq!(components["awakenings"]["valueInteger"], 3);
        assert_eq!(components["woke-from-pain"]["valueBoolean"], true);
        let bare = sleeps[1];
        assert_eq!(bare["effectiveDateTime"], "2026-11-20");
        assert!(bare.get("effectivePeriod").is_none());
        assert_eq!(bare["component"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn the_active_plan_is_a_care_plan_with_timed_activities() {
        let bundle = bundle(&export());
        let plan = resources(&bundle, "CarePlan")[0];
        assert_eq!(
            (plan["status"].as_str(), plan["intent"].as_str()),
            (Some("active"), Some("plan"))
        );
        assert_eq!(plan["title"], "Evening stretches");
        assert_eq!(plan["period"], json!({"start": "2026-11-01"}));
        assert_eq!(plan["meta"]["versionId"], "2");
        assert_eq!(plan["subject"]["reference"], format!("urn:uuid:{PATIENT}"));
        let detail = &plan["activity"][0]["detail"];
        assert_eq!(detail["status"], "in-progress");
        assert_eq!(detail["code"]["text"], "Cat-cow");
        assert_eq!(detail["code"]["coding"][0]["code"], "cat-cow");
        assert_eq!(
            detail["scheduledTiming"]["repeat"],
            json!({"frequency": 1, "period": 1, "periodUnit": "d", "timeOfDay": ["21:00:00"]})
        );
        assert_eq!(
            detail["description"],
            "2 sets of 10 repetitions, once a day. Slowly.\n\nStop if it hurts."
        );

        let mut later = export();
        if let Some(plan) = later.plan.as_mut() {
            plan.body.starts_on = "2027-01-01".into();
            plan.body.reminder_time = None;
        }
        let later = super::bundle(&later);
        let detail = &resources(&later, "CarePlan")[0]["activity"][0]["detail"];
        assert_eq!(detail["status"], "not-started");
        assert!(
            detail["scheduledTiming"]["repeat"]
                .get("timeOfDay")
                .is_none()
        );
    }

    #[test]
    fn an_open_alert_is_an_active_flag_and_a_preliminary_detected_issue() {
        let bundle = bundle(&export());
        let flag = resources(&bundle, "Flag")[0];
        assert_eq!(flag["status"], "active");
        assert_eq!(flag["category"][0]["coding"][0]["code"], "clinical");
        assert_eq!(flag["code"]["text"], "cauda_equina");
        assert_eq!(flag["period"]["start"], "2026-11-20T04:00:00+01:00");
        assert_eq!(
            flag["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
            "PH"
        );
        let issue = resources(&bundle, "DetectedIssue")[0];
        assert_eq!(issue["status"], "preliminary");
        assert_eq!(issue["severity"], "high");
        assert_eq!(issue["code"]["text"], "cauda_equina@1");
        assert_eq!(issue["patient"]["reference"], format!("urn:uuid:{PATIENT}"));
        let p1 = format!(
            "urn:uuid:{}",
            entry_id("Observation/pain_logs", PATIENT, "p1")
        );
        assert_eq!(
            issue["evidence"][0]["detail"],
            json!([{"reference": p1}]),
            "evidence outside the bundle is left out, and each log once"
        );
        let issue_url = format!("urn:uuid:{}", issue["id"].as_str().unwrap());
        assert_eq!(
            flag["extension"][1]["valueReference"]["reference"],
            issue_url
        );
        assert!(issue.get("mitigation").is_none());
    }

    #[test]
    fn severities_and_acknowledgement_map_and_resolved_alerts_are_left_out() {
        for (severity, priority, level) in [
            ("emergency", "PH", "high"),
            ("urgent", "PM", "moderate"),
            ("routine", "PL", "low"),
        ] {
            let mut data = export();
            data.alerts = vec![alert("acknowledged", severity, &[])];
            let bundle = bundle(&data);
            let flag = resources(&bundle, "Flag")[0];
            assert_eq!(
                flag["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
                priority
            );
            let issue = resources(&bundle, "DetectedIssue")[0];
            assert_eq!(issue["severity"], level);
            assert_eq!(issue["status"], "final");
            assert_eq!(issue["mitigation"][0]["date"], "2026-11-20T04:01:00+01:00");
            assert!(issue.get("evidence").is_none());
        }
        let mut data = export();
        data.alerts = vec![alert("resolved", "emergency", &["p1"])];
        let bundle = bundle(&data);
        assert!(resources(&bundle, "Flag").is_empty());
        assert!(resources(&bundle, "DetectedIssue").is_empty());
    }

    #[test]
    fn no_member_is_null_or_empty() {
        let mut data = export();
        data.plan = None;
        data.alerts.clear();
        data.pains.clear();
        fn check(value: &Value) {
            match value {
                Value::Null => panic!("null in bundle"),
                Value::Array(a) => {
                    assert!(!a.is_empty());
                    a.iter().for_each(check);
                }
                Value::Object(o) => {
                    assert!(!o.is_empty());
                    o.values().for_each(check);
                }
                _ => {}
            }
        }
        check(&bundle(&data));
        check(&bundle(&export()));
    }

    #[test]
    fn instants_carry_the_zones_offset_and_utc_without_one() {
        assert_eq!(
            date_time(T, &TimeZone::UTC).as_deref(),
            Some("2026-11-20T03:00:00+00:00")
        );
        assert_eq!(
            date_time(T + 5, &TimeZone::UTC).as_deref(),
            Some("2026-11-20T03:00:00.005+00:00")
        );
    }
}
