//! Secrets at rest: webhook and push-gateway signing secrets are stored
//! encrypted under the data key and bound to their row. They still sign,
//! they survive a rotation of the key, a value copied into another row is
//! refused, and plain values from before are encrypted at startup.

use std::sync::Arc;

use dorsal_entity::{delivery, push_gateway, webhook};
use dorsal_service::Core;
use dorsal_service::clock::SystemClock;
use dorsal_service::config::Config;
use dorsal_tests::reminders::{fire, new_plan, next_fire};
use dorsal_tests::sync::profile;
use dorsal_tests::{Clinic, TEST_DATA_KEY, TestApp};
use dorsal_worker::JobCtx;
use dorsal_worker::delivery::HttpSender;
use dorsal_worker::device_push::{GatewayProvider, Providers};
use dorsal_worker::jobs::{deliver_device_push, deliver_webhooks};
use jiff::{SignedDuration, Timestamp};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::device_push::org_gateway;
use crate::webhooks::{emergency, hooked};

const NEW_DATA_KEY: &str = "the-next-data-key-the-next-data-key-0000";

fn id(made: &Value) -> Uuid {
    made["id"].as_str().unwrap().parse().unwrap()
}

async fn stored_webhook_secret(app: &TestApp, id: Uuid) -> String {
    webhook::Entity::find_by_id(id)
        .one(&app.core.db)
        .await
        .unwrap()
        .unwrap()
        .secret
}

async fn stored_gateway_secret(app: &TestApp, org_id: Uuid) -> String {
    push_gateway::Entity::find_by_id(org_id)
        .one(&app.core.db)
        .await
        .unwrap()
        .unwrap()
        .secret
}

async fn store_webhook_secret(app: &TestApp, id: Uuid, stored: &str) {
    webhook::Entity::update_many()
        .col_expr(webhook::Column::Secret, Expr::value(stored))
        .filter(webhook::Column::Id.eq(id))
        .exec(&app.core.db)
        .await
        .unwrap();
}

async fn store_gateway_secret(app: &TestApp, org_id: Uuid, stored: &str) {
    push_gateway::Entity::update_many()
        .col_expr(push_gateway::Column::Secret, Expr::value(stored))
        .filter(push_gateway::Column::OrgId.eq(org_id))
        .exec(&app.core.db)
        .await
        .unwrap();
}

/// `stored` is an encrypted value that shows nothing of `secret`.
fn assert_sealed(stored: &str, secret: &str) {
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(stored.starts_with("v1."), "not encrypted: {stored}");
    assert!(
        !stored.contains(secret) && !stored.contains(&secret["whsec_".len()..]),
        "the stored value holds the secret"
    );
}

/// One delivery round of `core`'s worker, `seconds` from now.
async fn deliver(core: &Core, seconds: i64) -> usize {
    let now = Timestamp::now()
        .checked_add(SignedDuration::from_secs(seconds))
        .unwrap();
    deliver_webhooks::run(&JobCtx::from(core), &HttpSender::new(true).unwrap(), now)
        .await
        .unwrap()
}

async fn open(config: Config, migrate: bool) -> Core {
    Core::open(config, Arc::new(SystemClock), migrate)
        .await
        .unwrap()
}

/// The test's database, with `NEW_DATA_KEY` as the data key and, when
/// `keep_previous`, the test's key as the previous one.
fn rotated(app: &TestApp, keep_previous: bool) -> Config {
    let mut config = app.database.config();
    config.data_key = Some(NEW_DATA_KEY.into());
    config.previous_data_key = keep_previous.then(|| TEST_DATA_KEY.into());
    config
}

async fn last_error_of(app: &TestApp, webhook_id: Uuid) -> String {
    delivery::Entity::find()
        .filter(delivery::Column::WebhookId.eq(webhook_id))
        .one(&app.core.db)
        .await
        .unwrap()
        .unwrap()
        .last_error
        .unwrap_or_default()
}

#[tokio::test]
async fn webhook_and_gateway_secrets_are_stored_encrypted_and_still_sign() {
    let Clinic {
        app, org, patient, ..
    } = Clinic::spawn().await;
    let (seen, hook) = hooked(&app, &org, vec![]).await;
    let secret = hook["secret"].as_str().unwrap();
    assert_sealed(&stored_webhook_secret(&app, id(&hook)).await, secret);

    emergency(&app, &patient, "s1").await;
    assert_eq!(deliver(&app.core, 0).await, 1);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].verified, "signed with the secret shown once");

    let rotated = app
        .post(
            &format!("/v1/webhooks/{}/rotate", id(&hook)),
            Some(&org.admin.token),
            json!({}),
            200,
        )
        .await;
    assert_sealed(
        &stored_webhook_secret(&app, id(&hook)).await,
        rotated["secret"].as_str().unwrap(),
    );

    let set = app
        .put(
            "/v1/push-gateway",
            &org.admin,
            json!({"url": "https://push.example.org/in"}),
            200,
        )
        .await;
    assert_sealed(
        &stored_gateway_secret(&app, org.id).await,
        set["secret"].as_str().unwrap(),
    );
}

#[tokio::test]
async fn a_secret_under_the_previous_key_still_signs_and_migrating_encrypts_it_again() {
    let Clinic {
        app,
        org,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let (seen, hook) = hooked(&app, &org, vec![]).await;
    let secret = hook["secret"].as_str().unwrap();
    let before = stored_webhook_secret(&app, id(&hook)).await;

    // The key rotates: the old one is kept as the previous key.
    let rotating = open(rotated(&app, true), false).await;
    assert_eq!(stored_webhook_secret(&app, id(&hook)).await, before);
    emergency(&app, &patient, "r1").await;
    assert_eq!(deliver(&rotating, 0).await, 1);
    assert!(
        seen.lock().unwrap()[0].verified,
        "the previous key decrypts"
    );

    // Migrating encrypts it again under the new key, once.
    let migrated = open(rotated(&app, true), true).await;
    let after = stored_webhook_secret(&app, id(&hook)).await;
    assert_ne!(after, before);
    assert_sealed(&after, secret);
    assert!(after.starts_with(&format!("v1.{}.", migrated.data_keys.kid())));
    open(rotated(&app, true), true).await;
    assert_eq!(stored_webhook_secret(&app, id(&hook)).await, after);

    // The previous key can go now.
    let rotated_only = open(rotated(&app, false), false).await;
    let alert = app.get("/v1/alerts", Some(&clinician.token), 200).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/v1/alerts/{alert}/acknowledge"),
        Some(&clinician.token),
        json!({}),
        200,
    )
    .await;
    assert_eq!(deliver(&rotated_only, 1).await, 1);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen[1].verified, "signed under the new key alone");
    }

    // Without either key nothing opens, and the attempt says why.
    let mut lost = app.database.config();
    lost.data_key = Some("a-key-that-sealed-nothing-here-000000000".into());
    let lost = open(lost, false).await;
    app.post(
        &format!("/v1/alerts/{alert}/resolve"),
        Some(&clinician.token),
        json!({"note": "seen in clinic"}),
        200,
    )
    .await;
    assert_eq!(deliver(&lost, 2).await, 1);
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "nothing sent unsigned or wrongly signed"
    );
}

#[tokio::test]
async fn a_secret_copied_from_another_row_is_refused_and_its_delivery_fails_clearly() {
    let Clinic {
        app, org, patient, ..
    } = Clinic::spawn().await;
    let (seen_a, hook_a) = hooked(&app, &org, vec![]).await;
    let (seen_b, hook_b) = hooked(&app, &org, vec![]).await;
    let stored_a = stored_webhook_secret(&app, id(&hook_a)).await;
    store_webhook_secret(&app, id(&hook_b), &stored_a).await;

    emergency(&app, &patient, "c1").await;
    assert_eq!(deliver(&app.core, 0).await, 2);
    assert!(seen_a.lock().unwrap()[0].verified);
    assert!(
        seen_b.lock().unwrap().is_empty(),
        "nothing is sent with another row's secret"
    );
    let error = last_error_of(&app, id(&hook_b)).await;
    assert!(error.contains("cannot decrypt"), "{error}");
    assert!(!error.contains("whsec_"), "{error}");
}

#[tokio::test]
async fn a_gateway_secret_copied_from_another_org_is_refused_and_the_push_fails_clearly() {
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let seen = org_gateway(&app, &org).await;
    let other = app.create_org("Other").await;
    org_gateway(&app, &other).await;
    let stored_other = stored_gateway_secret(&app, other.id).await;
    store_gateway_secret(&app, org.id, &stored_other).await;

    app.post(
        "/v1/devices",
        Some(&patient.token),
        json!({"provider": "gateway", "token": "t"}),
        201,
    )
    .await;
    profile(
        &app,
        &patient,
        json!({"timezone": "UTC", "reminders_enabled": true}),
    )
    .await;
    new_plan(&app, &therapist, &patient, Some("20:00")).await;
    let (_, at) = next_fire(&app, patient.id).await;
    let ctx = JobCtx::from(&app.core);
    assert_eq!(fire(&ctx, at).await.pushes, 1);
    let providers = Providers {
        gateway: GatewayProvider::new(HttpSender::new(true).unwrap()),
        fcm: None,
    };
    assert_eq!(
        deliver_device_push::run(&ctx, &providers, at)
            .await
            .unwrap(),
        1
    );
    assert!(seen.lock().unwrap().is_empty(), "nothing sent");
    assert_eq!(
        app.count(
            "push_deliveries WHERE status = 'pending' AND last_error LIKE '%cannot decrypt%'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn plain_secrets_from_before_are_encrypted_at_startup_once() {
    let Clinic {
        app, org, patient, ..
    } = Clinic::spawn().await;
    let (seen, hook) = hooked(&app, &org, vec![]).await;
    let secret = hook["secret"].as_str().unwrap();
    let set = app
        .put(
            "/v1/push-gateway",
            &org.admin,
            json!({"url": "https://push.example.org/in"}),
            200,
        )
        .await;
    let gateway_secret = set["secret"].as_str().unwrap();
    // As a dorsal from before encryption stored them.
    store_webhook_secret(&app, id(&hook), secret).await;
    store_gateway_secret(&app, org.id, gateway_secret).await;

    // A worker meeting one fails the attempt, says why, and retries.
    emergency(&app, &patient, "p1").await;
    assert_eq!(deliver(&app.core, 0).await, 1);
    assert!(seen.lock().unwrap().is_empty());
    let error = last_error_of(&app, id(&hook)).await;
    assert!(error.contains("plain text"), "{error}");

    // Starting with migrations encrypts both, once.
    open(app.database.config(), true).await;
    let webhook_stored = stored_webhook_secret(&app, id(&hook)).await;
    let gateway_stored = stored_gateway_secret(&app, org.id).await;
    assert_sealed(&webhook_stored, secret);
    assert_sealed(&gateway_stored, gateway_secret);
    open(app.database.config(), true).await;
    assert_eq!(stored_webhook_secret(&app, id(&hook)).await, webhook_stored);
    assert_eq!(stored_gateway_secret(&app, org.id).await, gateway_stored);

    // The retry is signed with the secret the admin was shown.
    assert_eq!(deliver(&app.core, 60).await, 1);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].verified);
}
