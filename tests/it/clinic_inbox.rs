//! The inbox's filters and escalation level, and finding a patient, on the
//! clinic's pages over HTTP.

use dorsal_tests::browser::{Answer, Browser, assert_well_formed, form, is_html, section};
use dorsal_tests::{Clinic, Login, TestApp};
use dorsal_worker::JobCtx;
use dorsal_worker::jobs::escalate_alerts;
use jiff::Timestamp;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

/// The patient logs pain with `symptoms`; answers the id of the one alert
/// of `severity` it opened.
async fn raise(
    app: &TestApp,
    clinician: &Login,
    patient: &Login,
    symptoms: Value,
    severity: &str,
) -> String {
    let mut log = json!({"id": Uuid::new_v4().to_string(),
        "recorded_at": Timestamp::now().as_millisecond(), "intensity": 6});
    for (field, value) in symptoms.as_object().unwrap() {
        log[field] = value.clone();
    }
    let body = json!({"changes": {"pain_logs": {"created": [log]}}});
    app.post("/v1/sync/push", Some(&patient.token), body, 200)
        .await;
    let listed = app
        .get(
            &format!("/v1/alerts?severity={severity}"),
            Some(&clinician.token),
            200,
        )
        .await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    items[0]["id"].as_str().unwrap().to_owned()
}

async fn emergency(app: &TestApp, clinician: &Login, patient: &Login) -> String {
    let symptoms = json!({"saddle_numbness": true});
    raise(app, clinician, patient, symptoms, "emergency").await
}

async fn urgent(app: &TestApp, clinician: &Login, patient: &Login) -> String {
    raise(app, clinician, patient, json!({"fever": true}), "urgent").await
}

async fn routine(app: &TestApp, clinician: &Login, patient: &Login) -> String {
    let symptoms = json!({"legs_affected": "one", "leg_numbness": true});
    raise(app, clinician, patient, symptoms, "routine").await
}

/// The card of alert `id` on an inbox page.
fn card<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"data-alert-id="{id}""#))
        .unwrap_or_else(|| panic!("no card of {id} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</article>").unwrap()]
}

fn selected(html: &str, value: &str) -> bool {
    html.contains(&format!(r#"<option value="{value}" selected>"#))
}

async fn inbox(browser: &Browser, query: &str) -> Answer {
    let page = browser.get(&format!("/clinic/alerts{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_well_formed(&page.body);
    page
}

#[tokio::test]
async fn the_inbox_filters_by_status_and_severity_and_keeps_the_choice_in_the_form() {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let emergency = emergency(&app, &clinician, &patient).await;
    let urgent = urgent(&app, &clinician, &patient).await;
    let routine = routine(&app, &clinician, &patient).await;
    app.post(
        &format!("/v1/alerts/{urgent}/acknowledge"),
        Some(&clinician.token),
        json!({}),
        200,
    )
    .await;
    app.post(
        &format!("/v1/alerts/{routine}/resolve"),
        Some(&clinician.token),
        json!({"note": "Advice given by phone"}),
        200,
    )
    .await;
    let browser = Browser::signed_in(&app, &clinician.email).await;

    let all = inbox(&browser, "").await.body;
    for (id, label) in [("status", "Status"), ("severity", "Severity")] {
        assert!(all.contains(&format!(r#"<label for="{id}">{label}</label>"#)));
        assert!(all.contains(&format!(r#"<select id="{id}" name="{id}">"#)));
    }
    assert!(all.contains(r#"<form class="card filters" method="get" action="/clinic/alerts">"#));
    assert!(all.contains(">Filter</button>"));
    assert_eq!(all.matches(r#"<option value="all" selected>"#).count(), 2);
    assert!(section(&all, "open").contains(&emergency));
    assert!(section(&all, "acknowledged").contains(&urgent));
    assert!(section(&all, "resolved").contains(&routine));
    assert_eq!(inbox(&browser, "?status=all&severity=all").await.body, all);

    let open = inbox(&browser, "?status=open&severity=all").await.body;
    assert!(selected(&open, "open") && selected(&open, "all"));
    assert!(section(&open, "open").contains(&emergency));
    assert!(!open.contains(r#"id="acknowledged""#));
    assert!(!open.contains(r#"id="resolved""#));
    assert!(!open.contains(&urgent) && !open.contains(&routine));

    let urgent_only = inbox(&browser, "?status=all&severity=urgent").await.body;
    assert!(selected(&urgent_only, "urgent") && selected(&urgent_only, "all"));
    assert!(section(&urgent_only, "open").contains("No open urgent alerts."));
    assert!(section(&urgent_only, "acknowledged").contains(&urgent));
    assert!(!section(&urgent_only, "resolved").contains("data-alert-id"));
    assert!(!urgent_only.contains(&emergency));

    // Asked for, the resolved are a section of their own, not folded away.
    let resolved = inbox(&browser, "?status=resolved&severity=routine")
        .await
        .body;
    assert!(selected(&resolved, "resolved") && selected(&resolved, "routine"));
    assert!(resolved.contains(r#"<section id="resolved">"#));
    assert!(section(&resolved, "resolved").contains(&routine));
    assert!(!resolved.contains(r#"id="open""#));
    assert!(!resolved.contains(r#"id="acknowledged""#));
}

#[tokio::test]
async fn acting_on_an_alert_returns_to_the_same_filtered_inbox() {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let urgent = urgent(&app, &clinician, &patient).await;
    let browser = Browser::signed_in(&app, &clinician.email).await;
    let page = inbox(&browser, "?severity=urgent").await.body;
    let card = card(&page, &urgent);
    assert!(card.contains(r#"<input type="hidden" name="severity" value="urgent">"#));
    assert!(!card.contains(r#"name="status""#));
    let csrf = browser.csrf().await;
    let fields = [("csrf", csrf.as_str()), ("severity", "urgent")];
    let acknowledged = browser
        .post(
            &format!("/clinic/alerts/{urgent}/acknowledge"),
            &fields,
            &[],
        )
        .await;
    assert_eq!(acknowledged.status, StatusCode::SEE_OTHER);
    assert_eq!(
        acknowledged.location(),
        Some(format!("/clinic/alerts?severity=urgent#alert-{urgent}").as_str())
    );
    let fields = [
        ("csrf", csrf.as_str()),
        ("note", "Seen in clinic"),
        ("status", "acknowledged"),
        ("severity", "urgent"),
    ];
    let resolved = browser
        .post(&format!("/clinic/alerts/{urgent}/resolve"), &fields, &[])
        .await;
    assert_eq!(
        resolved.location(),
        Some("/clinic/alerts?status=acknowledged&severity=urgent")
    );
    // A filter the form never offers is refused before anything is done.
    let other = emergency(&app, &clinician, &patient).await;
    let fields = [("csrf", csrf.as_str()), ("status", "https://evil.test")];
    let refused = browser
        .post(&format!("/clinic/alerts/{other}/acknowledge"), &fields, &[])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let stored = app
        .get(&format!("/v1/alerts/{other}"), Some(&clinician.token), 200)
        .await;
    assert_eq!(stored["status"], "open");
}

#[tokio::test]
async fn a_filter_value_the_form_does_not_offer_is_a_bad_request_page() {
    let Clinic { app, clinician, .. } = Clinic::spawn().await;
    let browser = Browser::signed_in(&app, &clinician.email).await;
    for (query, says) in [
        ("?status=closed", "status filter must be"),
        ("?status=OPEN", "status filter must be"),
        ("?severity=high", "severity filter must be"),
        ("?status=open&severity=", ""),
        ("?status=open&status=resolved", "not valid"),
    ] {
        let answer = browser.get(&format!("/clinic/alerts{query}")).await;
        if says.is_empty() {
            assert_eq!(answer.status, StatusCode::OK, "{query}");
            continue;
        }
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(is_html(&answer), "{query}");
        assert!(answer.body.contains(says), "{query}: {}", answer.body);
    }
}

#[tokio::test]
async fn every_open_or_acknowledged_alert_shows_its_escalation_level() {
    let Clinic {
        app,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let t = Timestamp::now().as_millisecond();
    let emergency = emergency(&app, &clinician, &patient).await;
    let routine = routine(&app, &clinician, &patient).await;
    let browser = Browser::signed_in(&app, &clinician.email).await;

    let page = inbox(&browser, "").await.body;
    let fresh = card(&page, &emergency);
    assert!(
        fresh.contains("Escalation level 0</strong> (not escalated)"),
        "{fresh}"
    );
    assert!(fresh.contains("escalates at"), "{fresh}");
    let note = format!(r#"<label for="note-{emergency}">Resolution note</label>"#);
    assert!(fresh.contains(&note), "{fresh}");
    let calm = card(&page, &routine);
    assert!(
        calm.contains("Escalation level 0</strong> (not escalated)"),
        "{calm}"
    );
    assert!(calm.contains("routine alerts are not escalated"), "{calm}");

    let ctx = JobCtx::from(&app.core);
    let minutes = |m: i64| Timestamp::from_millisecond(t + m * 60_000 + 5_000).unwrap();
    assert_eq!(escalate_alerts::run(&ctx, minutes(15)).await.unwrap(), 1);
    assert_eq!(escalate_alerts::run(&ctx, minutes(30)).await.unwrap(), 1);
    let page = inbox(&browser, "").await.body;
    let escalated = card(&page, &emergency);
    assert!(escalated.contains(r#"data-level="2""#), "{escalated}");
    assert!(
        escalated.contains("Escalation level 2</strong> (escalated 2 times while unacknowledged)"),
        "{escalated}"
    );
    assert!(escalated.contains("next escalation at"), "{escalated}");

    app.post(
        &format!("/v1/alerts/{emergency}/acknowledge"),
        Some(&clinician.token),
        json!({}),
        200,
    )
    .await;
    let page = inbox(&browser, "").await.body;
    let acknowledged = section(&page, "acknowledged");
    let stopped = card(acknowledged, &emergency);
    assert!(stopped.contains("Escalation level 2</strong>"), "{stopped}");
    assert!(
        stopped.contains("no further escalation: acknowledged"),
        "{stopped}"
    );
}

#[tokio::test]
async fn staff_search_patients_on_the_page_and_the_search_stays_in_the_field() {
    let Clinic { app, therapist, .. } = Clinic::spawn().await;
    app.named_patient_of(&therapist, "Ana 100% Fit", "ana")
        .await;
    app.named_patient_of(&therapist, "Ana 1000 Fit", "ana.two")
        .await;
    let browser = Browser::signed_in(&app, &therapist.email).await;

    let all = browser.get("/clinic/patients").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_well_formed(&all.body);
    assert!(all.body.contains(r#"<label for="q">Name or email</label>"#));
    assert!(
        all.body
            .contains(r#"id="q" type="search" name="q" value="""#)
    );
    assert!(
        all.body
            .contains(r#"method="get" action="/clinic/patients""#)
    );
    assert!(all.body.contains(">Search</button>"));
    assert!(all.body.contains("Ana 100% Fit") && all.body.contains("Ana 1000 Fit"));

    let found = browser
        .get(&format!("/clinic/patients?{}", form(&[("q", "100%")])))
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_well_formed(&found.body);
    assert!(found.body.contains(r#"name="q" value="100%""#));
    assert!(found.body.contains("Ana 100% Fit"));
    assert!(!found.body.contains("Ana 1000 Fit"));

    let typed = r#"<Nobody & "co">"#;
    let none = browser
        .get(&format!("/clinic/patients?{}", form(&[("q", typed)])))
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(
        none.body
            .contains("No patient matches “&lt;Nobody &amp; &quot;co&quot;&gt;”."),
        "{}",
        none.body
    );
    assert!(
        none.body
            .contains(r#"value="&lt;Nobody &amp; &quot;co&quot;&gt;""#)
    );

    let long = browser
        .get(&format!("/clinic/patients?q={}", "a".repeat(201)))
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert!(is_html(&long));
    assert!(long.body.contains("at most 200 characters"));
}

#[tokio::test]
async fn the_patients_pages_next_link_keeps_the_search() {
    let Clinic { app, org, .. } = Clinic::spawn().await;
    // More matches than one page holds (500), written straight into the
    // database: registering each would take minutes.
    let now = Timestamp::now().as_millisecond();
    let ids: Vec<Uuid> = (0..501).map(|_| Uuid::now_v7()).collect();
    let users = ids
        .iter()
        .enumerate()
        .map(|(i, id)| dorsal_entity::user::ActiveModel {
            id: Set(*id),
            email: Set(format!("kim{i}-{}@home.test", id.simple())),
            password_hash: Set("not a hash".to_owned()),
            display_name: Set(format!("Kim & Co {i}")),
            role: Set("patient".to_owned()),
            org_id: Set(None),
            created_at: Set(now),
            active: Set(true),
            totp_secret: Set(None),
            totp_enabled: Set(false),
            totp_last_step: Set(None),
        });
    dorsal_entity::user::Entity::insert_many(users)
        .exec_without_returning(&app.core.db)
        .await
        .unwrap();
    let teams = ids.iter().map(|id| dorsal_entity::care_team::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org.id),
        patient_id: Set(*id),
        created_at: Set(now),
    });
    dorsal_entity::care_team::Entity::insert_many(teams)
        .exec_without_returning(&app.core.db)
        .await
        .unwrap();
    let browser = Browser::signed_in(&app, &org.admin.email).await;

    let first = browser.get("/clinic/patients?q=+Kim+%26+co+").await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains(r#"value="Kim &amp; co""#));
    assert_eq!(first.body.matches("<tr><td><a href=").count(), 500);
    let marker = r#"<a href="/clinic/patients?q=Kim%20%26%20co&amp;cursor="#;
    let start = first.body.find(marker).unwrap() + r#"<a href=""#.len();
    let next = first.body[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let second = browser.get(&next).await;
    assert_eq!(second.status, StatusCode::OK, "{next}");
    assert!(second.body.contains(r#"value="Kim &amp; co""#));
    assert_eq!(second.body.matches("<tr><td><a href=").count(), 1);
    assert!(second.body.contains("Kim &amp; Co "));
    assert!(!second.body.contains("More patients"));
}
