//! A patient's rights: export everything, erase the account. Erasure
//! leaves nothing that names the patient, keeps the clinic's alerts
//! de-identified, and a token still in hand cannot bring the data back.

use dorsal_entity::alert;
use dorsal_service::privacy::tables_with_column;
use dorsal_tests::reminders::new_plan;
use dorsal_tests::sync::{profile, push_rows};
use dorsal_tests::{Clinic, TestApp};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

/// Rows of `table` whose `column` is `id` (bound, so it works whatever
/// the backend stores a UUID as).
async fn rows_where(app: &TestApp, table: &str, column: &str, id: Uuid) -> i64 {
    let select = Query::select()
        .expr_as(Expr::col(Asterisk).count(), Alias::new("n"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new(column)).eq(id))
        .take();
    let row = app.core.db.query_one(&select).await.unwrap().unwrap();
    row.try_get("", "n").unwrap()
}

async fn rows_of(app: &TestApp, table: &str, patient: Uuid) -> i64 {
    rows_where(app, table, "patient_id", patient).await
}

#[tokio::test]
async fn a_patient_exports_everything_and_then_erases_it() {
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    profile(
        &app,
        &patient,
        json!({"timezone": "Europe/Berlin", "reminders_enabled": true}),
    )
    .await;
    push_rows(
        &app,
        &patient,
        "pain_logs",
        vec![json!({"id": "p1", "recorded_at": 1_795_000_000_000_i64,
        "intensity": 8, "saddle_numbness": true, "note": "numb when sitting"})],
    )
    .await;
    push_rows(
        &app,
        &patient,
        "sleep_logs",
        vec![json!({"id": "n1", "night_of": "2026-11-17", "quality": 2})],
    )
    .await;
    new_plan(&app, &therapist, &patient, Some("21:00")).await;
    app.post(
        "/v1/devices",
        Some(&patient.token),
        json!({"provider": "fcm", "token": "phone-1"}),
        201,
    )
    .await;
    // Someone else's diary must not appear.
    let other = app.register_patient().await;
    push_rows(
        &app,
        &other,
        "pain_logs",
        vec![json!({"id": "o1", "recorded_at": 1_795_000_000_000_i64, "intensity": 2})],
    )
    .await;

    let export = app.get("/v1/me/export", Some(&patient.token), 200).await;
    assert_eq!(export["account"]["email"], patient.email);
    assert_eq!(export["diary"]["pain_logs"][0]["note"], "numb when sitting");
    assert_eq!(export["diary"]["pain_logs"].as_array().unwrap().len(), 1);
    assert_eq!(export["diary"]["sleep_logs"][0]["quality"], 2);
    assert_eq!(
        export["diary"]["exercise_plans"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        export["diary"]["notifications"][0]["kind"],
        "red_flag_advice"
    );
    assert_eq!(export["care_teams"].as_array().unwrap().len(), 1);
    assert_eq!(export["alerts"][0]["rule"], "cauda_equina@1");
    assert_eq!(export["alerts"][0]["evidence"][0]["log_id"], "p1");
    assert_eq!(export["devices"][0]["provider"], "fcm");
    assert!(export["devices"][0].get("token").is_none());
    assert_eq!(export["reminders"][0]["local_time"], "21:00");
    app.get("/v1/me/export", Some(&therapist.token), 403).await;
    app.get("/v1/me/export", None, 401).await;

    // Erasure needs the password, and a wrong one changes nothing.
    let erase = |password: &str| json!({"password": password});
    app.call(
        reqwest::Method::DELETE,
        "/v1/me",
        Some(&patient.token),
        Some(erase("wrong")),
        401,
    )
    .await;
    app.call(
        reqwest::Method::DELETE,
        "/v1/me",
        Some(&therapist.token),
        Some(erase(dorsal_tests::PASSWORD)),
        403,
    )
    .await;
    assert_eq!(rows_of(&app, "pain_logs", patient.id).await, 1);
    let alerts_before = app.count("alerts").await;
    app.call(
        reqwest::Method::DELETE,
        "/v1/me",
        Some(&patient.token),
        Some(erase(dorsal_tests::PASSWORD)),
        204,
    )
    .await;

    // Every table that names a patient, read from the schema so a new one
    // is checked without editing this test. Only the audit log keeps the
    // patient id; alerts and their evidence now carry a pseudonym.
    let named = tables_with_column(&app.core.db, "patient_id")
        .await
        .unwrap();
    for table in [
        "pain_logs",
        "prompts",
        "reminder_occurrences",
        "sync_push_receipts",
    ] {
        assert!(named.iter().any(|t| t == table), "{table} in {named:?}");
    }
    for table in named.iter().filter(|t| *t != "audit_log") {
        assert_eq!(rows_of(&app, table, patient.id).await, 0, "{table}");
    }
    let owned = tables_with_column(&app.core.db, "user_id").await.unwrap();
    assert!(owned.iter().any(|t| t == "refresh_tokens"), "{owned:?}");
    for table in &owned {
        assert_eq!(
            rows_where(&app, table, "user_id", patient.id).await,
            0,
            "{table}"
        );
    }
    assert_eq!(rows_where(&app, "users", "id", patient.id).await, 0);
    // The clinic's alert stays, linked to no one.
    assert_eq!(app.count("alerts").await, alerts_before);
    let kept = alert::Entity::find()
        .filter(alert::Column::Rule.eq("cauda_equina"))
        .one(&app.core.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(kept.patient_id, patient.id);
    assert_eq!(rows_where(&app, "users", "id", kept.patient_id).await, 0);
    // The other patient's diary is untouched.
    assert_eq!(rows_of(&app, "pain_logs", other.id).await, 1);

    // The old login no longer works; the token still in hand cannot write.
    app.post(
        "/v1/auth/login",
        None,
        json!({"email": patient.email, "password": dorsal_tests::PASSWORD}),
        401,
    )
    .await;
    let gone = app
        .post(
            "/v1/sync/push",
            Some(&patient.token),
            json!({"changes": {"pain_logs": {"created": [{"id": "late", "recorded_at": 1, "intensity": 1}]}}}),
            401,
        )
        .await;
    assert_eq!(gone["code"], "account_gone", "{gone}");
    assert_eq!(rows_of(&app, "pain_logs", patient.id).await, 0);
    assert_eq!(rows_of(&app, "sync_clocks", patient.id).await, 0);
    app.post(
        "/v1/auth/refresh",
        None,
        json!({"refresh_token": patient.refresh}),
        401,
    )
    .await;
    // The erasure is in the audit log, without any content.
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
    assert!(actions.contains(&"account.erased"), "{audit}");
}
