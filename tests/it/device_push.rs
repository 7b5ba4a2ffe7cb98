//! Device pushes: devices registered by patients, the org's push gateway (signed
//! webhooks) and FCM HTTP v1 against a fake on loopback — the RS256
//! service-account token exchange, sends, and `UNREGISTERED` turning a
//! device off.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use dorsal_domain::webhooks::{secret_key, verify};
use dorsal_service::config::DevicePushConfig;
use dorsal_tests::reminders::{fire, new_plan, next_fire};
use dorsal_tests::sync::{notifications, profile};
use dorsal_tests::{Clinic, Org, TestApp};
use dorsal_worker::JobCtx;
use dorsal_worker::delivery::HttpSender;
use dorsal_worker::device_push::{FCM_SCOPE, FcmProvider, GatewayProvider, Providers};
use dorsal_worker::jobs::deliver_device_push;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

/// What the fake FCM saw.
#[derive(Debug, Default)]
struct FcmLog {
    /// Verified assertions exchanged for a token.
    exchanges: usize,
    /// Assertions that failed verification.
    bad_assertions: usize,
    /// (bearer, message) of each send.
    sends: Vec<(String, Value)>,
}

const ACCESS_TOKEN: &str = "fake-access-token";

/// A fake FCM: `/token` checks the RS256 assertion with the account's
/// public key, `/v1/projects/demo/messages:send` answers `UNREGISTERED`
/// for the token `gone-token`.
async fn fake_fcm(
    listener: tokio::net::TcpListener,
    public_pem: String,
) -> (String, Arc<Mutex<FcmLog>>) {
    let log: Arc<Mutex<FcmLog>> = Arc::default();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let token_uri = format!("{base}/token");
    let (token_log, send_log) = (log.clone(), log.clone());
    let app = axum::Router::new()
        .route(
            "/token",
            axum::routing::post(move |body: String| {
                let (log, public_pem, token_uri) = (token_log.clone(), public_pem.clone(), token_uri.clone());
                async move {
                    let form: Vec<(String, String)> = body
                        .split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.to_owned(), v.replace("%3A", ":")))
                        .collect();
                    let field = |name: &str| {
                        form.iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let mut validation = Validation::new(Algorithm::RS256);
                    validation.set_audience(&[token_uri]);
                    validation.set_issuer(&["dorsal@demo.iam.gserviceaccount.com"]);
                    let key = DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap();
                    let verified = jsonwebtoken::decode::<Value>(&field("assertion"), &key, &validation);
                    let ok = field("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer"
                        && verified.as_ref().is_ok_and(|t| {
                            t.claims["scope"] == FCM_SCOPE && t.header.kid.as_deref() == Some("key-1")
                        });
                    let mut log = log.lock().unwrap();
                    if !ok {
                        log.bad_assertions += 1;
                        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_grant"})))
                            .into_response();
                    }
                    log.exchanges += 1;
                    axum::Json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}))
                        .into_response()
                }
            }),
        )
        .route(
            "/v1/projects/demo/messages:send",
            axum::routing::post(move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                let log = send_log.clone();
                async move {
                    let bearer = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    let token = body["message"]["token"].as_str().unwrap_or("").to_owned();
                    log.lock().unwrap().sends.push((bearer.clone(), body));
                    if bearer != format!("Bearer {ACCESS_TOKEN}") {
                        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}})))
                            .into_response();
                    }
                    if token == "gone-token" {
                        let error = json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
                            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
                        return (StatusCode::NOT_FOUND, axum::Json(error)).into_response();
                    }
                    axum::Json(json!({"name": "projects/demo/messages/0:1"})).into_response()
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, log)
}

/// A push gateway on loopback recording (verified, body) of each request.
async fn gateway(secret: Arc<Mutex<String>>) -> (String, Arc<Mutex<Vec<(bool, Value)>>>) {
    let seen: Arc<Mutex<Vec<(bool, Value)>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/push",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (log, secret) = (log.clone(), secret.clone());
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                let key = secret_key(&secret.lock().unwrap()).unwrap();
                let timestamp = header("webhook-timestamp");
                let verified = verify(
                    &key,
                    &header("webhook-id"),
                    &timestamp,
                    &header("webhook-signature"),
                    &body,
                    timestamp.parse().unwrap_or_default(),
                )
                .is_ok();
                log.lock()
                    .unwrap()
                    .push((verified, serde_json::from_slice(&body).unwrap_or_default()));
                StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/push", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// The org's push gateway, set by its admin to a loopback receiver that
/// checks signatures with the secret the API answered.
pub(crate) async fn org_gateway(app: &TestApp, org: &Org) -> Arc<Mutex<Vec<(bool, Value)>>> {
    let secret = Arc::new(Mutex::new(String::new()));
    let (url, seen) = gateway(secret.clone()).await;
    let set = app
        .put("/v1/push-gateway", &org.admin, json!({"url": url}), 200)
        .await;
    *secret.lock().unwrap() = set["secret"].as_str().unwrap().to_owned();
    seen
}

/// A service-account key file for a fresh RSA key; returns the file's
/// folder (kept alive by the caller) and the public key.
fn service_account(token_uri: &str) -> (tempfile::TempDir, String, String) {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let private_pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service-account.json");
    let file = json!({"type": "service_account", "project_id": "demo", "private_key_id": "key-1",
        "private_key": private_pem, "client_email": "dorsal@demo.iam.gserviceaccount.com", "token_uri": token_uri});
    std::fs::write(&path, file.to_string()).unwrap();
    let path = path.display().to_string();
    (dir, path, public_pem)
}

async fn push_status(app: &TestApp, status: &str) -> i64 {
    app.count(&format!("push_deliveries WHERE status = '{status}'"))
        .await
}

#[tokio::test]
async fn a_reminder_is_pushed_through_fcm_and_the_gateway_and_an_unregistered_token_is_turned_off()
{
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let token_uri = format!("http://{}/token", listener.local_addr().unwrap());
    let (dir, credentials, public_pem) = service_account(&token_uri);
    let (fcm_base, fcm) = fake_fcm(listener, public_pem).await;
    let gateway_seen = org_gateway(&app, &org).await;

    for (provider, token, status) in [
        ("fcm", "good-token", 201),
        ("fcm", "gone-token", 201),
        ("gateway", "gw-token", 201),
        ("fcm", "good-token", 200),
    ] {
        app.post(
            "/v1/devices",
            Some(&patient.token),
            json!({"provider": provider, "token": token, "platform": "android"}),
            status,
        )
        .await;
    }
    profile(
        &app,
        &patient,
        json!({"timezone": "Europe/Berlin", "reminders_enabled": true, "language": "es"}),
    )
    .await;
    new_plan(&app, &therapist, &patient, Some("21:15")).await;
    let (_, at) = next_fire(&app, patient.id).await;
    let ctx = JobCtx::from(&app.core);
    assert_eq!(fire(&ctx, at).await.pushes, 3);
    // Queued in the patient's language, Spanish; a change of language
    // after that leaves the queued pushes' words as they were.
    let words = dorsal_domain::locale::device_push("es").unwrap();
    assert_ne!(words, dorsal_domain::locale::device_push("en").unwrap());
    profile(
        &app,
        &patient,
        json!({"timezone": "Europe/Berlin", "reminders_enabled": true, "language": "en"}),
    )
    .await;

    let providers = Providers {
        gateway: GatewayProvider::new(HttpSender::new(true).unwrap()),
        fcm: FcmProvider::from_config(&DevicePushConfig {
            fcm_project_id: "demo".into(),
            fcm_credentials_file: credentials,
            fcm_base_url: fcm_base.clone(),
        })
        .unwrap(),
    };
    assert_eq!(
        deliver_device_push::run(&ctx, &providers, at)
            .await
            .unwrap(),
        3
    );
    {
        let fcm = fcm.lock().unwrap();
        assert_eq!(
            (fcm.exchanges, fcm.bad_assertions),
            (1, 0),
            "one token, cached"
        );
        assert_eq!(fcm.sends.len(), 2);
        for (bearer, body) in &fcm.sends {
            assert_eq!(bearer, &format!("Bearer {ACCESS_TOKEN}"));
            let message = &body["message"];
            assert_eq!(
                message["notification"],
                json!({"title": words.title, "body": words.body})
            );
            assert!(message["android"]["collapse_key"].is_string());
            let text = body.to_string();
            assert!(
                !text.contains("stretch") && !text.contains("pain"),
                "no health details: {text}"
            );
        }
    }
    {
        let seen = gateway_seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (verified, body) = &seen[0];
        assert!(verified, "signed with the gateway's secret");
        assert_eq!(body["type"], "push.send");
        assert_eq!(body["data"]["device_token"], "gw-token");
        assert_eq!(body["data"]["title"], words.title);
        assert_eq!(body["data"]["body"], words.body);
        assert!(!body.to_string().contains("stretch"));
    }
    assert_eq!(push_status(&app, "delivered").await, 2);
    assert_eq!(push_status(&app, "dead").await, 1);
    let devices = app.get("/v1/devices", Some(&patient.token), 200).await;
    let devices = devices["items"].as_array().unwrap();
    assert_eq!(devices.len(), 3);
    let inactive: Vec<&Value> = devices.iter().filter(|d| d["active"] == false).collect();
    assert_eq!(inactive.len(), 1);
    assert!(inactive[0]["deactivated_at"].is_string());
    assert!(
        devices.iter().all(|d| d.get("token").is_none()),
        "tokens are not echoed"
    );

    // The next evening goes to the two devices still registered.
    let tomorrow = next_fire(&app, patient.id).await.1;
    assert_eq!(fire(&ctx, tomorrow).await.pushes, 2);
    assert_eq!(
        deliver_device_push::run(&ctx, &providers, tomorrow)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        fcm.lock().unwrap().exchanges,
        2,
        "a day later the hour-long token has expired"
    );
    drop(dir);
}

#[tokio::test]
async fn an_org_without_a_gateway_or_fcm_sends_nothing_and_says_so() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    for (provider, token) in [("fcm", "t1"), ("gateway", "t2")] {
        app.post(
            "/v1/devices",
            Some(&patient.token),
            json!({"provider": provider, "token": token}),
            201,
        )
        .await;
    }
    profile(
        &app,
        &patient,
        json!({"timezone": "UTC", "reminders_enabled": true}),
    )
    .await;
    new_plan(&app, &therapist, &patient, Some("19:00")).await;
    let (_, at) = next_fire(&app, patient.id).await;
    let ctx = JobCtx::from(&app.core);
    assert_eq!(fire(&ctx, at).await.pushes, 2);
    let providers = Providers {
        gateway: GatewayProvider::new(HttpSender::new(true).unwrap()),
        fcm: None,
    };
    assert_eq!(
        deliver_device_push::run(&ctx, &providers, at)
            .await
            .unwrap(),
        2
    );
    assert_eq!(push_status(&app, "dead").await, 2);
    // The notification itself is there to pull.
    assert_eq!(
        notifications(&app, &patient, "stretch_reminder")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn devices_belong_to_the_patient_who_registered_them_last() {
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let device = json!({"provider": "fcm", "token": "shared-phone"});
    app.post("/v1/devices", None, device.clone(), 401).await;
    app.post("/v1/devices", Some(&therapist.token), device.clone(), 403)
        .await;
    for (bad, pointer) in [
        (json!({"provider": "sms", "token": "x"}), "/provider"),
        (json!({"provider": "fcm", "token": "  "}), "/token"),
        (
            json!({"provider": "fcm", "token": "x".repeat(5000)}),
            "/token",
        ),
        (
            json!({"provider": "fcm", "token": "x", "platform": "fax"}),
            "/platform",
        ),
    ] {
        let problem = app
            .post("/v1/devices", Some(&patient.token), bad, 422)
            .await;
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
    app.post(
        "/v1/devices",
        Some(&patient.token),
        json!({"provider": "fcm"}),
        422,
    )
    .await;
    let mine = app
        .post("/v1/devices", Some(&patient.token), device.clone(), 201)
        .await;
    // The phone changes hands: the token moves to its new owner.
    let other = app.register_patient().await;
    let theirs = app
        .post("/v1/devices", Some(&other.token), device.clone(), 200)
        .await;
    assert_eq!(mine["id"], theirs["id"]);
    let listed = app.get("/v1/devices", Some(&patient.token), 200).await;
    assert_eq!(listed["items"], json!([]));
    let path = format!("/v1/devices/{}", theirs["id"].as_str().unwrap());
    app.call(
        reqwest::Method::DELETE,
        &path,
        Some(&patient.token),
        None,
        404,
    )
    .await;
    app.call(
        reqwest::Method::DELETE,
        &path,
        Some(&other.token),
        None,
        204,
    )
    .await;
    assert_eq!(app.count("devices").await, 0);

    // Only admins set the org's gateway; its secret is shown only when set.
    app.get("/v1/push-gateway", Some(&org.admin.token), 404)
        .await;
    app.put(
        "/v1/push-gateway",
        &therapist,
        json!({"url": "https://push.example.org/in"}),
        403,
    )
    .await;
    let bad = app
        .put(
            "/v1/push-gateway",
            &org.admin,
            json!({"url": "ftp://push.example.org"}),
            422,
        )
        .await;
    assert_eq!(bad["errors"][0]["pointer"], "/url");
    let set = app
        .put(
            "/v1/push-gateway",
            &org.admin,
            json!({"url": "https://push.example.org/in"}),
            200,
        )
        .await;
    assert!(set["secret"].as_str().unwrap().starts_with("whsec_"));
    let got = app
        .get("/v1/push-gateway", Some(&org.admin.token), 200)
        .await;
    assert_eq!(got["url"], "https://push.example.org/in");
    assert!(got.get("secret").is_none());
    app.call(
        reqwest::Method::DELETE,
        "/v1/push-gateway",
        Some(&org.admin.token),
        None,
        204,
    )
    .await;
    app.get("/v1/push-gateway", Some(&org.admin.token), 404)
        .await;
}

#[tokio::test]
async fn a_reminder_push_not_sent_before_its_occurrence_expires_is_dropped() {
    let Clinic {
        app,
        org,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let seen = org_gateway(&app, &org).await;
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
    // The gateway was unreachable until after grace (two hours): too late.
    let late = at.checked_add(jiff::SignedDuration::from_hours(3)).unwrap();
    assert_eq!(
        deliver_device_push::run(&ctx, &providers, late)
            .await
            .unwrap(),
        1
    );
    assert!(seen.lock().unwrap().is_empty(), "nothing sent");
    assert_eq!(
        app.count("push_deliveries WHERE status = 'dead' AND last_error LIKE 'expired%'")
            .await,
        1
    );
    // Within its window it would have gone.
    assert_eq!(
        notifications(&app, &patient, "stretch_reminder")
            .await
            .len(),
        1,
        "the notification itself stays to be pulled"
    );
}
