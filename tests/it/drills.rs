//! Failure drills: the database going away under sync load, a webhook
//! receiver that hangs, a worker killed in the middle of a batch, and a
//! SQLite file that is full or read-only. Each drill ends by checking that
//! nothing acknowledged was lost and nothing was stored twice.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dorsal_service::Core;
use dorsal_tests::{Clinic, Login, TestApp};
use dorsal_worker::JobCtx;
use dorsal_worker::Worker;
use dorsal_worker::device_push::{GatewayProvider, Providers};
use dorsal_worker::jobs::deliver_device_push;
use jiff::Timestamp;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Polls `done` every 20 ms until it holds; fails the test after 30 s so a
/// broken build cannot hang CI.
async fn eventually<F: Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A night-pain entry with no red flag in it.
fn pain(id: &str) -> Value {
    let now = Timestamp::now().as_millisecond();
    json!({"id": id, "recorded_at": now - 3_600_000, "intensity": 4, "period": "night",
        "note": "stiff after turning over", "_status": "created", "_changed": ""})
}

fn push_body(entries: &[String]) -> Value {
    let created: Vec<Value> = entries.iter().map(|id| pain(id)).collect();
    json!({"changes": {"pain_logs": {"created": created, "updated": [], "deleted": []}}})
}

/// The status and body of a request that may fail, for drills that expect
/// failures; a 503 must be a problem with a `Retry-After`.
async fn attempt(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let Ok(response) = request.send().await else {
        return (StatusCode::BAD_GATEWAY, Value::Null);
    };
    let status = response.status();
    let problem = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "application/problem+json");
    let retry_after = response.headers().contains_key("retry-after");
    let body: Value = response.json().await.unwrap_or_default();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        assert!(problem && retry_after, "a 503 says so as a problem: {body}");
    }
    (status, body)
}

/// The number `query` selects as `n` (written by the test), on a
/// connection of the test's choosing.
async fn count(db: &impl ConnectionTrait, query: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            query.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

// ---------------------------------------------------------------------------
// PostgreSQL restarted during sync load

/// A TCP proxy in front of the database that can be cut: every open
/// connection dropped and new ones closed on arrival, as a restart or crash
/// of the server looks to the app. The app's connection URL names the proxy.
struct Proxy {
    up: Arc<AtomicBool>,
    cut: Arc<Mutex<CancellationToken>>,
}

impl Proxy {
    /// Forwards what `listener` accepts to `upstream` (`host:port`).
    fn start(listener: TcpListener, upstream: String) -> Proxy {
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(Mutex::new(CancellationToken::new()));
        let (accepting, cuts) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let stop = cuts.lock().unwrap().clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    // Pass small writes on at once, as the driver sends
                    // them (and as driver.rs checks of every socket to
                    // the server in this process).
                    if client.set_nodelay(true).is_err() || server.set_nodelay(true).is_err() {
                        return;
                    }
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = stop.cancelled() => {}
                    }
                });
            }
        });
        Proxy { up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.lock().unwrap().cancel();
    }

    fn restore(&self) {
        *self.cut.lock().unwrap() = CancellationToken::new();
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Where `url` points (`host:port`), and `url` pointed at `addr` instead.
fn redirect(url: &str, addr: SocketAddr) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    (host, format!("{scheme}://{user}{addr}/{path}"))
}

/// What one simulated device saw.
#[derive(Debug, Default)]
struct DeviceLog {
    /// Entries the server acknowledged with a 200.
    acknowledged: BTreeSet<String>,
    /// Every entry the device made.
    made: BTreeSet<String>,
    statuses: BTreeMap<u16, usize>,
}

/// A phone syncing in a loop: each round it makes two entries, pushes all
/// it has not had acknowledged (as an offline-first client does after a
/// failure), then pulls. Stops making entries when `stop` is cancelled and
/// returns once everything it made is acknowledged.
async fn device(app: Arc<TestApp>, who: Login, n: usize, stop: CancellationToken) -> DeviceLog {
    let mut log = DeviceLog::default();
    let mut pending: Vec<String> = Vec::new();
    for round in 0.. {
        if !stop.is_cancelled() {
            for k in 0..2 {
                let id = format!("d{n}-r{round}-{k}");
                log.made.insert(id.clone());
                pending.push(id);
            }
        } else if pending.is_empty() {
            return log;
        }
        let push = app
            .client
            .post(app.url("/v1/sync/push"))
            .bearer_auth(&who.token)
            .json(&push_body(&pending));
        let (status, body) = attempt(push).await;
        *log.statuses.entry(status.as_u16()).or_default() += 1;
        if status == StatusCode::OK {
            log.acknowledged.extend(pending.drain(..));
        } else {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
            assert_eq!(body["code"], "unavailable", "{body}");
        }
        let pull = app
            .client
            .get(app.url("/v1/sync/pull?last_pulled_at=null&schema_version=1&limit=50"))
            .bearer_auth(&who.token);
        let (status, body) = attempt(pull).await;
        *log.statuses.entry(status.as_u16()).or_default() += 1;
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    unreachable!("the loop returns")
}

async fn ready(app: &TestApp) -> StatusCode {
    attempt(app.client.get(app.url("/readyz"))).await.0
}

/// The server `DATABASE_URL` names, when it is PostgreSQL.
fn postgres_server() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
}

/// Six devices sync against `app` while `outage` runs (the database goes
/// away and comes back). Every request is answered 200 or 503 problem+json,
/// the same process serves again afterwards, every entry a device made is
/// acknowledged in the end, and each is stored exactly once, as read on a
/// connection of its own at `direct`.
async fn sync_through(app: TestApp, direct: &str, outage: impl Future<Output = ()>) {
    let app = Arc::new(app);
    let mut patients = Vec::new();
    for _ in 0..6 {
        patients.push(app.register_patient().await);
    }
    let stop = CancellationToken::new();
    let devices: Vec<_> = patients
        .iter()
        .enumerate()
        .map(|(n, who)| tokio::spawn(device(app.clone(), who.clone(), n, stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    outage.await;
    // The same process serves again, without a restart.
    eventually("ready after the database returns", || async {
        ready(&app).await == StatusCode::OK
    })
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.cancel();

    let mut made = BTreeSet::new();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for device in devices {
        let log = device.await.unwrap();
        assert_eq!(
            log.acknowledged, log.made,
            "every entry was acknowledged in the end"
        );
        made.extend(log.made);
        for (status, n) in log.statuses {
            *statuses.entry(status).or_default() += n;
        }
    }
    assert!(statuses.get(&503).is_some_and(|n| *n > 0), "{statuses:?}");
    assert!(statuses.get(&200).is_some_and(|n| *n > 0), "{statuses:?}");
    assert_eq!(statuses.keys().copied().collect::<Vec<_>>(), vec![200, 503]);

    // A push whose commit landed but whose answer was lost is sent again
    // and stored once.
    let db = Database::connect(direct).await.unwrap();
    let made = i64::try_from(made.len()).unwrap();
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM pain_logs").await,
        made
    );
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT id) AS n FROM pain_logs").await,
        made
    );
    db.close().await.ok();
}

/// The test's database server may be shared with other tests running at
/// the same time, so the outage is staged between the app and the server:
/// a proxy drops every connection and refuses new ones while the server
/// also ends the test database's sessions with the error a shutdown sends
/// (57P01).
#[tokio::test]
async fn postgres_going_away_under_sync_load_answers_503_loses_nothing_and_recovers() {
    let Some(server) = postgres_server() else {
        return; // a PostgreSQL drill; SQLite has no server to lose
    };
    let database = dorsal_tests::TestDatabase::create().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (upstream, proxied) = redirect(&database.url, listener.local_addr().unwrap());
    let proxy = Proxy::start(listener, upstream);
    let direct = database.url.clone();
    let name = direct.rsplit('/').next().unwrap_or_default().to_owned();
    let app = TestApp::spawn_on(database, move |config| {
        config.database_url = proxied.into();
        config.database.acquire_timeout_seconds = 1;
    })
    .await;
    let (addr, client) = (app.url("/readyz"), app.client.clone());
    let outage = async {
        proxy.down();
        let admin = Database::connect(&server).await.unwrap();
        admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ))
            .await
            .unwrap();
        admin.close().await.ok();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let readiness = attempt(client.get(&addr)).await.0;
        assert_eq!(readiness, StatusCode::SERVICE_UNAVAILABLE);
        proxy.restore();
    };
    sync_through(app, &direct, outage).await;
}

/// The real thing: the server itself restarted with the command in
/// `DORSAL_DRILL_PG_RESTART`. It would break every other test using the
/// server, so `.ci/run` runs it alone, after the PostgreSQL pass.
#[tokio::test]
#[ignore = "restarts the PostgreSQL server; .ci/run runs it alone"]
async fn postgres_restarted_under_sync_load_answers_503_loses_nothing_and_recovers() {
    assert!(
        postgres_server().is_some(),
        "DATABASE_URL must name PostgreSQL"
    );
    let command = std::env::var("DORSAL_DRILL_PG_RESTART")
        .expect("DORSAL_DRILL_PG_RESTART: the command that restarts the server");
    let database = dorsal_tests::TestDatabase::create().await;
    let direct = database.url.clone();
    let app = TestApp::spawn_on(database, |config| {
        config.database.acquire_timeout_seconds = 1;
    })
    .await;
    let outage = async {
        let restarted = tokio::task::spawn_blocking(move || {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .status()
        })
        .await
        .unwrap()
        .unwrap();
        assert!(restarted.success(), "the restart command failed");
    };
    sync_through(app, &direct, outage).await;
}

// ---------------------------------------------------------------------------
// A webhook receiver that hangs

/// A receiver that accepts connections and never answers; counts them.
async fn hanging_receiver() -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let accepted = Arc::new(Mutex::new(0));
    let seen = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            *seen.lock().unwrap() += 1;
            held.push(socket);
        }
    });
    (url, accepted)
}

/// The attempts made on the deliveries of `org`'s webhooks, and the last
/// error recorded.
async fn org_attempts(app: &TestApp, org: uuid::Uuid) -> (i64, Option<String>) {
    let row = app
        .core
        .db
        .query_one_raw(Statement::from_sql_and_values(
            app.core.db.get_database_backend(),
            "SELECT d.attempt, d.last_error FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE w.org_id = $1",
            [org.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "attempt").unwrap(),
        row.try_get("", "last_error").unwrap(),
    )
}

#[tokio::test]
async fn a_hanging_webhook_receiver_times_out_and_holds_back_no_other_orgs_alert() {
    let app = TestApp::spawn_with(|config| config.worker.send_timeout_seconds = 4).await;
    let (first, second) = (app.create_org("Stuck").await, app.create_org("Fine").await);
    let (hanging, accepted) = hanging_receiver().await;
    app.post(
        "/v1/webhooks",
        Some(&first.admin.token),
        json!({"url": hanging}),
        201,
    )
    .await;
    let seen = crate::webhooks::hooked(&app, &second, vec![]).await.0;
    let stuck_patient = app
        .patient_of(&app.add_staff(&first, "therapist").await)
        .await;
    let fine_patient = app
        .patient_of(&app.add_staff(&second, "therapist").await)
        .await;

    let stop = CancellationToken::new();
    let worker = Worker::new(JobCtx::from(&app.core)).unwrap();
    let running = tokio::spawn(worker.run(stop.clone()));

    crate::webhooks::emergency(&app, &stuck_patient, "stuck-1").await;
    eventually("the hanging receiver is called", || async {
        *accepted.lock().unwrap() > 0
    })
    .await;
    // While that request hangs, another org's emergency goes out.
    crate::webhooks::emergency(&app, &fine_patient, "fine-1").await;
    eventually("the other org's alert is delivered", || async {
        !seen.lock().unwrap().is_empty()
    })
    .await;
    // Its one attempt is still in flight: no outcome recorded yet.
    assert_eq!(
        org_attempts(&app, first.id).await,
        (1, None),
        "delivered while the hanging request was still waiting"
    );

    // The hanging request times out and is scheduled again, not lost.
    eventually("the hanging attempt is recorded", || async {
        org_attempts(&app, first.id).await.1.is_some()
    })
    .await;
    assert_eq!(
        org_attempts(&app, first.id).await,
        (1, Some("timed out".to_owned()))
    );
    let pending = app
        .count("deliveries WHERE status = 'pending' AND attempt = 1")
        .await;
    assert_eq!(pending, 1, "the timed-out message waits for its retry");

    // Shutdown does not wait on the receiver either.
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(15), running)
        .await
        .expect("the worker stops")
        .unwrap()
        .unwrap();
}

// ---------------------------------------------------------------------------
// A worker killed in the middle of a batch of pushes

/// A push gateway that answers the first `answered` requests at once and
/// holds every later one until `release` is cancelled; records the
/// `webhook-id` of each request as it arrives.
async fn half_stuck_gateway(
    answered: usize,
    release: CancellationToken,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/push",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let (log, release) = (log.clone(), release.clone());
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let arrived = {
                    let mut log = log.lock().unwrap();
                    log.push(id);
                    log.len()
                };
                if arrived > answered {
                    release.cancelled().await;
                }
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/push", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn a_worker_killed_mid_batch_of_pushes_loses_none_and_repeats_only_those_in_flight() {
    use sea_orm::{ActiveModelTrait, Set};
    let Clinic {
        app, org, patient, ..
    } = Clinic::spawn().await;
    let release = CancellationToken::new();
    let (url, seen) = half_stuck_gateway(8, release.clone()).await;
    app.put("/v1/push-gateway", &org.admin, json!({"url": url}), 200)
        .await;
    let device = app
        .post(
            "/v1/devices",
            Some(&patient.token),
            json!({"provider": "gateway", "token": "phone-1"}),
            201,
        )
        .await;
    let device_id: uuid::Uuid = device["id"].as_str().unwrap().parse().unwrap();
    let t0 = Timestamp::now().as_millisecond();
    for n in 0..20 {
        dorsal_entity::push_delivery::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            patient_id: Set(patient.id),
            notification_id: Set(format!("rem_{n}")),
            device_id: Set(device_id),
            status: Set(dorsal_entity::outbox::Status::Pending),
            attempt: Set(0),
            next_attempt_at: Set(t0),
            claimed_by: Set(None),
            lease_until: Set(None),
            last_status: Set(None),
            last_error: Set(None),
            created_at: Set(t0),
            delivered_at: Set(None),
            expires_at: Set(None),
            language: Set("en".to_owned()),
        }
        .insert(&app.core.db)
        .await
        .unwrap();
    }
    let providers = || {
        Arc::new(Providers {
            gateway: GatewayProvider::new(dorsal_worker::delivery::HttpSender::new(true).unwrap()),
            fcm: None,
        })
    };

    // The first worker sends the whole batch; eight are answered, twelve
    // hang. It is killed with those twelve in flight.
    let doomed = {
        let ctx = JobCtx::from(&app.core);
        let providers = providers();
        tokio::spawn(async move {
            deliver_device_push::run(&ctx, &providers, Timestamp::from_millisecond(t0).unwrap())
                .await
        })
    };
    let delivered = "push_deliveries WHERE status = 'delivered'";
    eventually("eight answered, twelve in flight", || async {
        seen.lock().unwrap().len() == 20 && app.count(delivered).await == 8
    })
    .await;
    doomed.abort();
    assert!(doomed.await.unwrap_err().is_cancelled());
    let in_flight: BTreeSet<String> = seen.lock().unwrap()[8..].iter().cloned().collect();
    release.cancel();

    // Its claims hold until the lease runs out; then another worker sends
    // exactly what was left.
    let taker = JobCtx::from(&app.core);
    let providers = providers();
    let at = |ms: i64| Timestamp::from_millisecond(t0 + ms).unwrap();
    assert_eq!(
        deliver_device_push::run(&taker, &providers, at(1_000))
            .await
            .unwrap(),
        0
    );
    let lease = dorsal_worker::outbox::LEASE_MS;
    app.run_out_leases().await;
    assert_eq!(
        deliver_device_push::run(&taker, &providers, at(lease + 5_000))
            .await
            .unwrap(),
        12
    );
    assert_eq!(app.count(delivered).await, 20);
    let seen = seen.lock().unwrap().clone();
    let mut sent: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &seen {
        *sent.entry(id).or_default() += 1;
    }
    assert_eq!(sent.len(), 20, "every push reached the gateway");
    let repeated: BTreeSet<String> = sent
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| (*id).to_owned())
        .collect();
    assert_eq!(repeated, in_flight, "only the pushes in flight went twice");
    assert!(sent.values().all(|n| *n <= 2));
}

// ---------------------------------------------------------------------------
// A full or read-only SQLite file

/// A second API on the test's database, reached through the pool `db`;
/// its writers queue with the app's, as one process's do.
async fn second_app(app: &TestApp, db: sea_orm::DatabaseConnection) -> (String, CancellationToken) {
    let core = Core {
        db: app.core.db.beside(db),
        ..app.core.clone()
    };
    let (addr, stop) = dorsal_tests::serve(&core).await;
    (format!("http://{addr}"), stop)
}

/// Pushes 400 entries with long notes as `who` at `base`.
async fn big_push(
    app: &TestApp,
    base: &str,
    who: &Login,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let entries: Vec<Value> = (0..400)
        .map(|n| {
            let mut entry = pain(&format!("big-{n}"));
            entry["note"] = json!("woke at three, could not settle again ".repeat(20));
            entry
        })
        .collect();
    let body =
        json!({"changes": {"pain_logs": {"created": entries, "updated": [], "deleted": []}}});
    let response = app
        .client
        .post(format!("{base}/v1/sync/push"))
        .bearer_auth(&who.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, response.json().await.unwrap(), headers)
}

/// The patient's entries as the API pulls them from `base`.
async fn pulled(app: &TestApp, base: &str, who: &Login) -> usize {
    let page: Value = app
        .client
        .get(format!(
            "{base}/v1/sync/pull?last_pulled_at=null&schema_version=1&limit=1000"
        ))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["changes"]["pain_logs"]["created"]
        .as_array()
        .map_or(0, Vec::len)
}

/// A patient with ten entries stored.
async fn patient_with_entries(app: &TestApp) -> Login {
    let patient = app.register_patient().await;
    let ids: Vec<String> = (0..10).map(|n| format!("kept-{n}")).collect();
    app.post("/v1/sync/push", Some(&patient.token), push_body(&ids), 200)
        .await;
    patient
}

#[tokio::test]
async fn a_full_sqlite_disk_refuses_the_write_clearly_and_keeps_what_was_stored() {
    let app = TestApp::spawn().await;
    if app.database.is_postgres() {
        return; // the disk-full answer of PostgreSQL is mapped, not drilled
    }
    let patient = patient_with_entries(&app).await;
    // A pool whose database may not grow past its current size: the disk
    // is full as far as SQLite can tell.
    let pages = count(
        &app.core.db,
        "SELECT page_count AS n FROM pragma_page_count()",
    )
    .await;
    // Statement logging off, as the app's own pool has it.
    let options = sea_orm::ConnectOptions::new(app.database.url.clone())
        .max_connections(2)
        .sqlx_logging(false)
        .to_owned()
        .map_sqlx_sqlite_opts(move |opts| opts.pragma("max_page_count", pages.to_string()))
        .to_owned();
    let full = Database::connect(options).await.unwrap();
    let (base, stop) = second_app(&app, full).await;

    let (status, problem, headers) = big_push(&app, &base, &patient).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(problem["code"], "storage_full");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(headers["retry-after"], "60");
    // Reading still works, and nothing of the failed push was kept.
    assert_eq!(pulled(&app, &base, &patient).await, 10);
    assert_eq!(app.count("pain_logs").await, 10);
    stop.cancel();

    // Space is freed: the device sends the same push again and it lands.
    let here = app.url("");
    let (status, _, _) = big_push(&app, here.trim_end_matches('/'), &patient).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("pain_logs").await, 410);
}

#[tokio::test]
async fn a_read_only_sqlite_file_refuses_writes_clearly_and_still_serves_reads() {
    let app = TestApp::spawn().await;
    if app.database.is_postgres() {
        return;
    }
    let patient = patient_with_entries(&app).await;
    let url = app.database.url.replace("mode=rwc", "mode=ro");
    let options = sea_orm::ConnectOptions::new(url)
        .max_connections(2)
        .sqlx_logging(false)
        .to_owned();
    let read_only = Database::connect(options).await.unwrap();
    let (base, stop) = second_app(&app, read_only).await;

    let (status, problem, headers) = big_push(&app, &base, &patient).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(problem["code"], "storage_read_only");
    assert_eq!(headers["retry-after"], "60");
    assert_eq!(pulled(&app, &base, &patient).await, 10);
    assert_eq!(app.count("pain_logs").await, 10);
    stop.cancel();
}

#[tokio::test]
async fn sqlite_writers_of_one_process_take_turns_instead_of_failing_busy() {
    // SQLite gives up on a locked database after 20 ms here, far less than
    // 32 pushes queueing for its one writer take: only the in-process queue
    // stands between them and 503s.
    let app = TestApp::spawn_with(|config| config.database.sqlite_busy_timeout_ms = 20).await;
    if app.database.is_postgres() {
        return; // PostgreSQL has row locks, not one writer
    }
    let mut patients = Vec::new();
    for _ in 0..8 {
        patients.push(app.register_patient().await);
    }
    let app = Arc::new(app);
    let pushes: Vec<_> = patients
        .iter()
        .flat_map(|who| (0..4).map(move |round| (who.clone(), round)))
        .map(|(who, round)| {
            let app = app.clone();
            tokio::spawn(async move {
                let ids: Vec<String> = (0..50)
                    .map(|n| format!("{}-{round}-{n}", who.id.simple()))
                    .collect();
                let push = app
                    .client
                    .post(app.url("/v1/sync/push"))
                    .bearer_auth(&who.token)
                    .json(&push_body(&ids));
                attempt(push).await
            })
        })
        .collect();
    for push in pushes {
        let (status, body) = push.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(app.count("pain_logs").await, 8 * 4 * 50);
}
