//! The authorization matrix: every role, in the patient's org and in
//! another, against every endpoint so far. Another org's patient is 404;
//! a wrong role is 403.

use dorsal_tests::{Login, PASSWORD, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// Who calls: a role, in the target patient's org ("own") or another.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Patient,
    Therapist,
    Clinician,
    Admin,
}

const CALLERS: [Caller; 4] = [
    Caller::Patient,
    Caller::Therapist,
    Caller::Clinician,
    Caller::Admin,
];

struct World {
    app: TestApp,
    /// The target patient, on org A's care team.
    patient: Login,
    own: Vec<(Caller, Login)>,
    other: Vec<(Caller, Login)>,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let mut sides = Vec::new();
    for name in ["Alpha", "Beta"] {
        let org = app.create_org(name).await;
        let therapist = app.add_staff(&org, "therapist").await;
        let clinician = app.add_staff(&org, "clinician").await;
        let patient = app.patient_of(&therapist).await;
        sides.push(vec![
            (Caller::Patient, patient),
            (Caller::Therapist, therapist),
            (Caller::Clinician, clinician),
            (Caller::Admin, org.admin),
        ]);
    }
    let other = sides.pop().unwrap_or_default();
    let own = sides.pop().unwrap_or_default();
    let patient = own[0].1.clone();
    World {
        app,
        patient,
        own,
        other,
    }
}

/// One endpoint and what each caller gets, own org first, then other.
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    own: [u16; 4],
    other: [u16; 4],
}

#[tokio::test]
async fn every_role_gets_exactly_its_rights_in_its_own_org_and_nothing_in_another() {
    let World {
        app,
        patient,
        own,
        other,
    } = world().await;
    let target = patient.id;
    let staff_body = || {
        json!({"email": format!("new-{}@clinic.test", Uuid::new_v4().simple()), "password": PASSWORD,
            "role": "clinician", "display_name": "New"})
    };
    let cases = vec![
        Case {
            method: Method::GET,
            path: "/v1/me".into(),
            body: None,
            own: [200, 200, 200, 200],
            other: [200, 200, 200, 200],
        },
        Case {
            method: Method::GET,
            path: "/v1/patients".into(),
            body: None,
            own: [403, 200, 200, 200],
            other: [403, 200, 200, 200],
        },
        Case {
            method: Method::GET,
            path: format!("/v1/patients/{target}"),
            body: None,
            own: [200, 200, 200, 200],
            other: [404, 404, 404, 404],
        },
        Case {
            method: Method::GET,
            path: format!("/v1/patients/{}", Uuid::new_v4()),
            body: None,
            own: [404, 404, 404, 404],
            other: [404, 404, 404, 404],
        },
        Case {
            method: Method::POST,
            path: "/v1/invites".into(),
            body: Some(json!({})),
            own: [403, 201, 201, 201],
            other: [403, 201, 201, 201],
        },
        Case {
            method: Method::GET,
            path: "/v1/audit".into(),
            body: None,
            own: [403, 403, 403, 200],
            other: [403, 403, 403, 200],
        },
        Case {
            method: Method::GET,
            path: "/v1/alerts".into(),
            body: None,
            own: [403, 200, 200, 200],
            other: [403, 200, 200, 200],
        },
        Case {
            method: Method::GET,
            path: "/v1/staff".into(),
            body: None,
            own: [403, 403, 403, 200],
            other: [403, 403, 403, 200],
        },
        Case {
            method: Method::PATCH,
            path: format!("/v1/staff/{}", own[1].1.id),
            body: Some(json!({"display_name": "Renamed"})),
            own: [403, 403, 403, 200],
            other: [403, 403, 403, 404],
        },
        Case {
            method: Method::GET,
            path: "/v1/care-team".into(),
            body: None,
            own: [200, 403, 403, 403],
            other: [200, 403, 403, 403],
        },
        Case {
            method: Method::DELETE,
            path: format!("/v1/care-team/{}", Uuid::new_v4()),
            body: None,
            own: [404, 403, 403, 403],
            other: [404, 403, 403, 403],
        },
        Case {
            method: Method::POST,
            path: "/v1/care-team/join".into(),
            body: Some(json!({"code": "0000-0000-0000"})),
            own: [404, 403, 403, 403],
            other: [404, 403, 403, 403],
        },
    ];
    for case in &cases {
        for (side, expected) in [(&own, case.own), (&other, case.other)] {
            for ((caller, login), status) in side.iter().zip(expected) {
                let body = case.body.clone();
                let answer = app
                    .call(
                        case.method.clone(),
                        &case.path,
                        Some(&login.token),
                        body,
                        status,
                    )
                    .await;
                if status >= 400 {
                    assert_eq!(
                        answer["status"], status,
                        "{caller:?} {} {}",
                        case.method, case.path
                    );
                }
            }
        }
    }

    // Staff creation: admins only, each into their own org; others write nothing.
    let users_before = app.count("users").await;
    for side in [&own, &other] {
        for (caller, login) in side {
            let expected = if *caller == Caller::Admin { 201 } else { 403 };
            let created = app
                .post("/v1/staff", Some(&login.token), staff_body(), expected)
                .await;
            if expected == 201 {
                let admin_org = app.get("/v1/me", Some(&login.token), 200).await["org_id"].clone();
                assert_eq!(created["org_id"], admin_org);
            }
        }
    }
    assert_eq!(app.count("users").await, users_before + 2);
    assert_eq!(CALLERS.len(), own.len());
}

#[tokio::test]
async fn staff_list_only_their_own_orgs_patients_and_each_read_is_audited() {
    let World {
        app,
        patient,
        own,
        other,
    } = world().await;
    let (_, own_clinician) = &own[2];
    let (_, other_clinician) = &other[2];
    let listed = app
        .get("/v1/patients", Some(&own_clinician.token), 200)
        .await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [patient.id.to_string()]);
    assert_eq!(listed["next"], Value::Null);
    let other_list = app
        .get("/v1/patients", Some(&other_clinician.token), 200)
        .await;
    assert!(!other_list.to_string().contains(&patient.id.to_string()));

    app.get(
        &format!("/v1/patients/{}", patient.id),
        Some(&own_clinician.token),
        200,
    )
    .await;
    // Refused reads are not recorded as reads.
    app.get(
        &format!("/v1/patients/{}", patient.id),
        Some(&other_clinician.token),
        404,
    )
    .await;

    let (_, own_admin) = &own[3];
    let audit = app
        .get(
            &format!("/v1/audit?patient_id={}", patient.id),
            Some(&own_admin.token),
            200,
        )
        .await;
    let entries: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor_id"].as_str().unwrap(),
            )
        })
        .collect();
    let clinician_id = own_clinician.id.to_string();
    assert_eq!(
        entries,
        [
            ("patients.read", clinician_id.as_str()),
            ("patients.list", clinician_id.as_str())
        ]
    );
    // The other org's admin sees none of it.
    let (_, other_admin) = &other[3];
    let foreign = app
        .get(
            &format!("/v1/audit?patient_id={}", patient.id),
            Some(&other_admin.token),
            200,
        )
        .await;
    assert_eq!(foreign["items"], json!([]));
    // A patient reading themselves is not an audited staff read.
    app.get(
        &format!("/v1/patients/{}", patient.id),
        Some(&patient.token),
        200,
    )
    .await;
    let again = app
        .get(
            &format!("/v1/audit?patient_id={}", patient.id),
            Some(&own_admin.token),
            200,
        )
        .await;
    assert_eq!(again["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_patient_list_pages_with_a_cursor() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Paged").await;
    let therapist = app.add_staff(&org, "therapist").await;
    let mut joined = Vec::new();
    for _ in 0..5 {
        joined.push(app.patient_of(&therapist).await.id.to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/patients?limit=2&cursor={c}"),
            None => "/v1/patients?limit=2".to_owned(),
        };
        let page = app.get(&path, Some(&therapist.token), 200).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, joined);
}
