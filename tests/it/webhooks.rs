//! Webhooks: endpoints per org, and delivery of alert events by the worker
//! to a loopback receiver: signed, same `webhook-id` on every attempt, the
//! retry schedule under an injected clock, leases, fencing and 410.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use dorsal_domain::webhooks::{format_secret, secret_key, verify};
use dorsal_service::webhooks::Attempt;
use dorsal_tests::{Clinic, Login, Org, TestApp};
use dorsal_worker::JobCtx;
use dorsal_worker::delivery::{HttpSender, Refused};
use dorsal_worker::jobs::{deliver_webhooks, escalate_alerts};
use jiff::Timestamp;
use serde_json::{Value, json};

/// What the receiver saw of one request.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    msg_id: String,
    timestamp: i64,
    pub(crate) verified: bool,
    body: Value,
}

/// A loopback receiver answering the given statuses in turn (then 200).
async fn receiver(
    answers: Vec<u16>,
    secret: Arc<Mutex<String>>,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (log, answers, secret) = (log.clone(), answers.clone(), secret.clone());
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                let (msg_id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
                let key = secret_key(&secret.lock().unwrap()).unwrap();
                let ts: i64 = timestamp.parse().unwrap_or_default();
                let verified = verify(
                    &key,
                    &msg_id,
                    &timestamp,
                    &header("webhook-signature"),
                    &body,
                    ts,
                )
                .is_ok();
                log.lock().unwrap().push(Seen {
                    msg_id,
                    timestamp: ts,
                    verified,
                    body: serde_json::from_slice(&body).unwrap_or_default(),
                });
                let status = answers.lock().unwrap().next().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

pub(crate) async fn emergency(app: &TestApp, patient: &Login, id: &str) {
    let log = json!({"id": id, "recorded_at": 1_793_503_800_000_i64, "intensity": 8, "saddle_numbness": true});
    let body = json!({"changes": {"pain_logs": {"created": [log]}}});
    app.post("/v1/sync/push", Some(&patient.token), body, 200)
        .await;
}

/// A receiver answering `answers` in turn, registered as the org's webhook:
/// what it sees, and the endpoint as created.
pub(crate) async fn hooked(
    app: &TestApp,
    org: &Org,
    answers: Vec<u16>,
) -> (Arc<Mutex<Vec<Seen>>>, Value) {
    let secret = Arc::new(Mutex::new(String::new()));
    let (url, seen) = receiver(answers, secret.clone()).await;
    let hook = app
        .post(
            "/v1/webhooks",
            Some(&org.admin.token),
            json!({"url": url}),
            201,
        )
        .await;
    *secret.lock().unwrap() = hook["secret"].as_str().unwrap().to_owned();
    (seen, hook)
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

#[tokio::test]
async fn admins_manage_their_orgs_endpoints_and_private_targets_are_refused() {
    let Clinic {
        app,
        org,
        clinician,
        ..
    } = Clinic::spawn().await;
    let made = app
        .post(
            "/v1/webhooks",
            Some(&org.admin.token),
            json!({"url": "https://hooks.example.org/in"}),
            201,
        )
        .await;
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(made["min_severity"], "urgent");
    let id = made["id"].as_str().unwrap();
    let listed = app.get("/v1/webhooks", Some(&org.admin.token), 200).await;
    assert_eq!(listed["items"][0]["id"], id);
    assert!(
        listed["items"][0].get("secret").is_none(),
        "the secret is shown once"
    );
    let rotated = app
        .post(
            &format!("/v1/webhooks/{id}/rotate"),
            Some(&org.admin.token),
            json!({}),
            200,
        )
        .await;
    assert_ne!(rotated["secret"], made["secret"]);
    app.post(
        "/v1/webhooks",
        Some(&clinician.token),
        json!({"url": "https://hooks.example.org/in"}),
        403,
    )
    .await;
    let other = app.create_org("Other").await;
    app.call(
        reqwest::Method::DELETE,
        &format!("/v1/webhooks/{id}"),
        Some(&other.admin.token),
        None,
        404,
    )
    .await;
    app.call(
        reqwest::Method::DELETE,
        &format!("/v1/webhooks/{id}"),
        Some(&org.admin.token),
        None,
        204,
    )
    .await;
    assert_eq!(
        app.get("/v1/webhooks", Some(&org.admin.token), 200).await["items"],
        json!([])
    );
    app.post(
        "/v1/webhooks",
        Some(&org.admin.token),
        json!({"url": "https://x.example.org/", "min_severity": "routine"}),
        422,
    )
    .await;

    let guarded = TestApp::spawn_with(|c| c.webhook_allow_private = false).await;
    let admin = guarded.create_org("Guarded").await.admin;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "https://169.254.169.254/",
        "https://10.0.0.1/",
    ] {
        let problem = guarded
            .post("/v1/webhooks", Some(&admin.token), json!({"url": url}), 422)
            .await;
        assert_eq!(problem["errors"][0]["pointer"], "/url", "{url}");
    }
}

#[tokio::test]
async fn webhooks_and_push_gateways_at_non_public_literal_addresses_are_refused_and_not_stored() {
    let app = TestApp::spawn_with(|c| c.webhook_allow_private = false).await;
    let admin = app.create_org("Guarded").await.admin;
    let refused = [
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
        "[fec0::1]",
        "[::ffff:127.0.0.1]",
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
        "[fd00::1]",
        "[fe80::1]",
        "[100::1]",
        "[2001:db8::1]",
        "[::]",
        "[::1]",
        "198.18.0.1",
        "240.0.0.1",
        "192.0.0.1",
        "127.0.0.1",
        "10.0.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "192.0.2.1",
        "255.255.255.255",
        "224.0.0.1",
        "0.0.0.0",
    ];
    for (method, path) in [
        (reqwest::Method::POST, "/v1/webhooks"),
        (reqwest::Method::PUT, "/v1/push-gateway"),
    ] {
        for host in refused {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .bearer_auth(&admin.token)
                .json(&json!({"url": format!("https://{host}/hook")}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 422, "{path} {host}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{path} {host}"
            );
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["code"], "validation_failed", "{path} {host}");
            assert_eq!(problem["errors"][0]["pointer"], "/url", "{path} {host}");
        }
    }
    assert_eq!(app.count("webhooks").await, 0);
    assert_eq!(app.count("push_gateways").await, 0);
    // A public address is still welcome at both.
    app.post(
        "/v1/webhooks",
        Some(&admin.token),
        json!({"url": "https://[2606:4700::1111]/hook"}),
        201,
    )
    .await;
    app.put(
        "/v1/push-gateway",
        &admin,
        json!({"url": "https://1.1.1.1/push"}),
        200,
    )
    .await;
}

#[tokio::test]
async fn an_alert_is_delivered_signed_with_one_webhook_id_on_the_retry_schedule() {
    let Clinic {
        app,
        org,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let (seen, _) = hooked(&app, &org, vec![500, 503]).await;

    emergency(&app, &patient, "p1").await;
    emergency(&app, &patient, "p2").await; // attaches to the open alert: no second message
    assert_eq!(app.count("deliveries").await, 1);

    let ctx = JobCtx::from(&app.core);
    let sender = HttpSender::new(true).unwrap();
    let t0 = jiff::Timestamp::now().as_second() + 1;
    assert_eq!(
        deliver_webhooks::run(&ctx, &sender, at(t0)).await.unwrap(),
        1
    ); // 500
    assert_eq!(
        deliver_webhooks::run(&ctx, &sender, at(t0 + 4))
            .await
            .unwrap(),
        0,
        "not before 5 s less jitter"
    );
    assert_eq!(
        deliver_webhooks::run(&ctx, &sender, at(t0 + 6))
            .await
            .unwrap(),
        1
    ); // 503
    assert_eq!(
        deliver_webhooks::run(&ctx, &sender, at(t0 + 6 + 26))
            .await
            .unwrap(),
        0,
        "not before 30 s less jitter"
    );
    assert_eq!(
        deliver_webhooks::run(&ctx, &sender, at(t0 + 6 + 34))
            .await
            .unwrap(),
        1
    ); // 200
    assert_eq!(
        deliver_webhooks::run(&ctx, &sender, at(t0 + 100_000))
            .await
            .unwrap(),
        0,
        "delivered once"
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|s| s.verified),
        "every attempt is signed for its own timestamp"
    );
    assert!(
        seen.iter().all(|s| s.msg_id == seen[0].msg_id),
        "one webhook-id for every attempt"
    );
    assert_eq!(
        seen.iter().map(|s| s.timestamp).collect::<Vec<_>>(),
        [t0, t0 + 6, t0 + 40]
    );
    let body = &seen[0].body;
    assert_eq!(body["type"], "alert.raised");
    assert_eq!(body["data"]["rule"], "cauda_equina@1");
    assert_eq!(body["data"]["severity"], "emergency");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));

    // Acknowledging tells the org's systems too.
    let alert_id = body["data"]["id"].as_str().unwrap();
    app.post(
        &format!("/v1/alerts/{alert_id}/acknowledge"),
        Some(&clinician.token),
        json!({}),
        200,
    )
    .await;
    assert_eq!(
        deliver_webhooks::run(&ctx, &sender, at(t0 + 100_001))
            .await
            .unwrap(),
        1
    );
    let last = last_delivery(&app).await;
    assert_eq!(
        last,
        ("alert.acknowledged".to_owned(), "delivered".to_owned())
    );
}

/// The event and status of the newest delivery.
async fn last_delivery(app: &TestApp) -> (String, String) {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.core.db.get_database_backend();
    let row = app
        .core
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT event, status FROM deliveries ORDER BY created_at DESC, id DESC LIMIT 1"
                .to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "event").unwrap(),
        row.try_get("", "status").unwrap(),
    )
}

#[tokio::test]
async fn a_worker_that_dies_mid_send_is_taken_over_after_its_lease_with_the_same_webhook_id() {
    let Clinic {
        app, org, patient, ..
    } = Clinic::spawn().await;
    let (seen, _) = hooked(&app, &org, vec![]).await;
    emergency(&app, &patient, "p1").await;

    let t0 = jiff::Timestamp::now().as_millisecond();
    let dead = JobCtx::from(&app.core);
    // The first worker claims and dies before finishing.
    let claimed = dorsal_service::webhooks::claim(
        &app.core.db,
        dead.worker_id,
        t0,
        dorsal_worker::outbox::LEASE_MS,
        10,
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    let taker = JobCtx::from(&app.core);
    let sender = HttpSender::new(true).unwrap();
    assert_eq!(
        deliver_webhooks::run(
            &taker,
            &sender,
            Timestamp::from_millisecond(t0 + 10_000).unwrap()
        )
        .await
        .unwrap(),
        0,
        "lease held"
    );
    // A worker whose clock runs an hour ahead still sees the lease held:
    // on PostgreSQL, leases are timed by the database's clock. (SQLite has
    // one worker, whose clock is the lease clock.)
    if app.database.is_postgres() {
        let ahead = Timestamp::from_millisecond(t0 + 3_600_000).unwrap();
        assert_eq!(
            deliver_webhooks::run(&taker, &sender, ahead).await.unwrap(),
            0,
            "a skewed clock took over a live lease"
        );
    }
    app.run_out_leases().await;
    assert_eq!(
        deliver_webhooks::run(
            &taker,
            &sender,
            Timestamp::from_millisecond(t0 + 31_000).unwrap()
        )
        .await
        .unwrap(),
        1
    );
    // The first worker wakes up and tries to record its attempt: fenced off.
    let late = dorsal_service::webhooks::finish(
        &app.core.db,
        &claimed[0].delivery,
        dead.worker_id,
        dorsal_service::webhooks::Attempt::Failed {
            status: Some(500),
            error: "late".into(),
            retry_after: None,
        },
        t0 + 32_000,
        0.5,
    )
    .await
    .unwrap();
    assert!(!late);
    // Nor could it have renewed its claim to send: a worker renews before
    // every send, and a lost claim is skipped, not sent twice.
    let renewed = dorsal_service::outbox::renew::<dorsal_service::webhooks::Outbox>(
        &app.core.db,
        claimed[0].delivery.id,
        dead.worker_id,
        claimed[0].delivery.attempt,
        t0 + 32_000,
        dorsal_worker::outbox::LEASE_MS,
    )
    .await
    .unwrap();
    assert!(!renewed);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].msg_id, claimed[0].delivery.msg_id);
    assert_eq!(last_delivery(&app).await.1, "delivered");
}

#[tokio::test]
async fn a_410_disables_the_endpoint_and_a_routine_alert_sends_nothing() {
    let Clinic {
        app, org, patient, ..
    } = Clinic::spawn().await;
    let (seen, _) = hooked(&app, &org, vec![410]).await;
    // Routine (one-leg tingling): inbox only.
    let log = json!({"id": "r1", "recorded_at": 1_793_503_800_000_i64, "intensity": 3, "legs_affected": "one", "leg_tingling": true});
    app.post(
        "/v1/sync/push",
        Some(&patient.token),
        json!({"changes": {"pain_logs": {"created": [log]}}}),
        200,
    )
    .await;
    assert_eq!(app.count("deliveries").await, 0);
    emergency(&app, &patient, "p1").await;
    let ctx = JobCtx::from(&app.core);
    let sender = HttpSender::new(true).unwrap();
    deliver_webhooks::run(&ctx, &sender, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().len(), 1);
    let listed = app.get("/v1/webhooks", Some(&org.admin.token), 200).await;
    assert!(listed["items"][0]["disabled_at"].is_string());
    assert_eq!(last_delivery(&app).await.1, "dead");
}

#[tokio::test]
async fn unacknowledged_emergencies_escalate_and_acknowledging_cancels_it() {
    let Clinic {
        app,
        org,
        clinician,
        patient,
        ..
    } = Clinic::spawn().await;
    let (_seen, _) = hooked(&app, &org, vec![]).await;
    let t = Timestamp::now().as_millisecond();
    emergency(&app, &patient, "p1").await;
    let id = app.get("/v1/alerts", Some(&clinician.token), 200).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ctx = JobCtx::from(&app.core);
    let minutes = |m: i64| Timestamp::from_millisecond(t + m * 60_000 + 5_000).unwrap();
    assert_eq!(escalate_alerts::run(&ctx, minutes(14)).await.unwrap(), 0);
    assert_eq!(escalate_alerts::run(&ctx, minutes(15)).await.unwrap(), 1);
    assert_eq!(
        escalate_alerts::run(&ctx, minutes(16)).await.unwrap(),
        0,
        "the next deadline is 15 minutes on"
    );
    let alert = app
        .get(&format!("/v1/alerts/{id}"), Some(&clinician.token), 200)
        .await;
    assert_eq!(alert["level"], 1);
    assert_eq!(last_delivery(&app).await.0, "alert.escalated");
    assert_eq!(escalate_alerts::run(&ctx, minutes(31)).await.unwrap(), 1);
    app.post(
        &format!("/v1/alerts/{id}/acknowledge"),
        Some(&clinician.token),
        json!({}),
        200,
    )
    .await;
    assert_eq!(
        escalate_alerts::run(&ctx, minutes(120)).await.unwrap(),
        0,
        "acknowledged: no more escalation"
    );
    assert_eq!(
        app.get(&format!("/v1/alerts/{id}"), Some(&clinician.token), 200)
            .await["level"],
        2
    );
}

#[tokio::test]
async fn three_workers_deliver_a_thousand_messages_each_exactly_once() {
    use sea_orm::{ActiveModelTrait, Set};
    let Clinic {
        app, org, patient, ..
    } = Clinic::spawn().await;
    let (seen, hook) = hooked(&app, &org, vec![]).await;
    let webhook_id: uuid::Uuid = hook["id"].as_str().unwrap().parse().unwrap();
    let now = Timestamp::now().as_millisecond();
    for n in 0..1000 {
        dorsal_entity::delivery::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            webhook_id: Set(webhook_id),
            patient_id: Set(patient.id),
            alert_id: Set(uuid::Uuid::now_v7()),
            event: Set("alert.raised".into()),
            msg_id: Set(format!("msg_{n}")),
            payload: Set("{}".into()),
            status: Set(dorsal_entity::outbox::Status::Pending),
            attempt: Set(0),
            next_attempt_at: Set(now),
            claimed_by: Set(None),
            lease_until: Set(None),
            last_status: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            delivered_at: Set(None),
        }
        .insert(&app.core.db)
        .await
        .unwrap();
    }
    let mut workers = Vec::new();
    for _ in 0..3 {
        let ctx = JobCtx::from(&app.core);
        workers.push(tokio::spawn(async move {
            let sender = HttpSender::new(true).unwrap();
            let mut claimed = 0;
            loop {
                match deliver_webhooks::run(
                    &ctx,
                    &sender,
                    Timestamp::from_millisecond(now + 1).unwrap(),
                )
                .await
                .unwrap()
                {
                    0 => return claimed,
                    n => claimed += n,
                }
            }
        }));
    }
    let mut total = 0;
    for worker in workers {
        total += worker.await.unwrap();
    }
    assert_eq!(total, 1000);
    let seen = seen.lock().unwrap().clone();
    let mut ids: Vec<&str> = seen.iter().map(|s| s.msg_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (seen.len(), ids.len()),
        (1000, 1000),
        "each message sent once"
    );
    assert!(seen.iter().all(|s| s.verified));
}

/// A nameserver on 127.0.0.1 that answers each A query with the next of
/// `answers` (the last once they run out) and a TTL of 0, as a rebinding
/// attacker's does: its address, and how many queries it has answered.
async fn rebinding_nameserver(answers: Vec<Ipv4Addr>) -> (SocketAddr, Arc<AtomicUsize>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    tokio::spawn(async move {
        let mut query = [0u8; 512];
        while let Ok((len, from)) = socket.recv_from(&mut query).await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let ip = answers[n.min(answers.len() - 1)];
            // The question: labels up to the root's empty one, type, class.
            let mut end = 12;
            while query[end] != 0 {
                end += 1 + usize::from(query[end]);
            }
            end += 5;
            let mut reply = Vec::from(&query[..2]);
            reply.extend([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
            reply.extend(&query[12..end.min(len)]);
            // Name (a pointer to the question's), A, IN, TTL 0, 4 bytes.
            reply.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4]);
            reply.extend(ip.octets());
            let _ = socket.send_to(&reply, from).await;
        }
    });
    (addr, asked)
}

/// Looks names up by asking one nameserver for their A record.
struct AskNameserver(SocketAddr);

impl reqwest::dns::Resolve for AskNameserver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (server, name) = (self.0, name.as_str().to_owned());
        Box::pin(async move {
            let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            let mut query = vec![0x2b, 0x1d, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
            for label in name.split('.').filter(|label| !label.is_empty()) {
                query.push(u8::try_from(label.len())?);
                query.extend(label.as_bytes());
            }
            query.extend([0, 0, 1, 0, 1]);
            socket.send_to(&query, server).await?;
            let mut reply = [0u8; 512];
            let len = socket.recv(&mut reply).await?;
            // One A record after the question: its address is the last 4 bytes.
            let octets: [u8; 4] = reply[len - 4..len].try_into()?;
            let found = SocketAddr::from((octets, 0));
            Ok(Box::new(std::iter::once(found)) as reqwest::dns::Addrs)
        })
    }
}

#[tokio::test]
async fn a_name_that_rebinds_to_loopback_after_the_check_never_reaches_the_loopback_service() {
    let secret = format_secret(&[7; 24]);
    let (url, seen) = receiver(vec![], Arc::new(Mutex::new(secret.clone()))).await;
    let port = reqwest::Url::parse(&url).unwrap().port().unwrap();
    let hook = format!("http://hooks.rebind.test:{port}/hook");
    let send = |sender: HttpSender| {
        let (hook, secret) = (hook.clone(), secret.clone());
        async move {
            sender
                .send(&hook, &secret, "msg_1", "{}", 1_800_000_000)
                .await
        }
    };
    // Connections leave from 127.0.0.1, so the public answer cannot reach
    // another machine; only the loopback receiver could answer.
    let guarded = |nameserver| {
        HttpSender::with_resolver(
            false,
            Duration::from_secs(2),
            Arc::new(AskNameserver(nameserver)),
            Some(Ipv4Addr::LOCALHOST.into()),
        )
        .unwrap()
    };

    // First a public address, then loopback: the connection must go to
    // the address that was checked, not to a second answer.
    let (nameserver, asked) =
        rebinding_nameserver(vec![[1, 1, 1, 1].into(), Ipv4Addr::LOCALHOST]).await;
    let attempt = send(guarded(nameserver)).await;
    let Attempt::Failed { error, .. } = attempt else {
        panic!("the loopback service was reached: {attempt:?}");
    };
    assert_eq!(error, "connection failed", "to 1.1.1.1, from 127.0.0.1");
    assert!(
        seen.lock().unwrap().is_empty(),
        "the loopback service was reached"
    );
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "one lookup, the checked one"
    );

    // A name that resolves to loopback outright is refused, and says so.
    let (nameserver, _) = rebinding_nameserver(vec![Ipv4Addr::LOCALHOST]).await;
    let attempt = send(guarded(nameserver)).await;
    let Attempt::Failed { error, status, .. } = attempt else {
        panic!("{attempt:?}");
    };
    assert_eq!((error, status), (Refused::NotPublic.to_string(), None));
    assert!(seen.lock().unwrap().is_empty());

    // Literal addresses are never looked up; the guard checks them itself.
    let (nameserver, asked) = rebinding_nameserver(vec![Ipv4Addr::LOCALHOST]).await;
    for host in ["127.0.0.1", "[::ffff:127.0.0.1]", "[::127.0.0.1]"] {
        let attempt = guarded(nameserver)
            .send(
                &format!("http://{host}:{port}/hook"),
                &secret,
                "msg_1",
                "{}",
                1_800_000_000,
            )
            .await;
        let Attempt::Failed { error, .. } = attempt else {
            panic!("{host}: {attempt:?}");
        };
        assert_eq!(error, "the address is not public", "{host}");
    }
    assert_eq!(asked.load(Ordering::SeqCst), 0);
    assert!(seen.lock().unwrap().is_empty());

    // The same name with the guard off reaches the receiver: the test's
    // nameserver and receiver work.
    let (nameserver, _) = rebinding_nameserver(vec![Ipv4Addr::LOCALHOST]).await;
    let open = HttpSender::with_resolver(
        true,
        Duration::from_secs(2),
        Arc::new(AskNameserver(nameserver)),
        None,
    )
    .unwrap();
    let attempt = send(open).await;
    assert!(
        matches!(attempt, Attempt::Delivered { status: 200 }),
        "{attempt:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}
