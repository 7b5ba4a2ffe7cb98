//! Starting up: secrets, migrations and readiness, the worker role, and the
//! OpenAPI document.

use std::sync::Arc;

use dorsal_api::{App, AppState};
use dorsal_service::Core;
use dorsal_service::auth::resolve_jwt_secret;
use dorsal_service::clock::Clock as _;
use dorsal_service::clock::SystemClock;
use dorsal_service::config::Config;
use dorsal_service::sealed::resolve_data_key;
use dorsal_tests::reminders::{new_plan, next_fire, schedule};
use dorsal_tests::sync::profile;
use dorsal_tests::{Clinic, TEST_JWT_SECRET, TestApp, TestDatabase};
use dorsal_worker::{JobCtx, Worker, WorkerError};
use secrecy::ExposeSecret;
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[test]
fn postgres_without_a_long_secret_refuses_to_start_and_says_what_to_set() {
    let mut config = Config::defaults_with_database("postgres://postgres@127.0.0.1/none").unwrap();
    let missing = resolve_jwt_secret(&config).unwrap_err().to_string();
    assert!(
        missing.contains("DORSAL_JWT_SECRET") && missing.contains("32"),
        "{missing}"
    );
    config.jwt_secret = Some("too-short".into());
    let short = resolve_jwt_secret(&config).unwrap_err().to_string();
    assert!(short.contains("DORSAL_JWT_SECRET"), "{short}");
    config.jwt_secret = Some("x".repeat(32).into());
    assert!(resolve_jwt_secret(&config).is_ok());
}

#[tokio::test]
async fn a_short_previous_secret_refuses_to_start_and_says_what_to_set() {
    let database = TestDatabase::create().await;
    let mut config = database.config();
    config.auth.previous_jwt_secret = Some("short".into());
    let refused = Core::open(config, Arc::new(SystemClock), true)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("DORSAL_AUTH__PREVIOUS_JWT_SECRET") && refused.contains("32"),
        "{refused}"
    );
}

#[test]
fn the_embedded_default_generates_its_secret_once_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/dorsal.db?mode=rwc", dir.path().display());
    let config = Config::defaults_with_database(&url).unwrap();
    let first = resolve_jwt_secret(&config).unwrap();
    let second = resolve_jwt_secret(&config).unwrap();
    assert_eq!(first.expose_secret(), second.expose_secret());
    assert!(first.expose_secret().len() >= 32);
    let file = dir.path().join("dorsal-jwt.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    std::fs::write(&file, "short").unwrap();
    assert!(
        resolve_jwt_secret(&config).is_err(),
        "a damaged secret file is not silently replaced"
    );
}

#[tokio::test]
async fn postgres_without_a_long_data_key_refuses_to_start_and_says_what_to_set() {
    let mut config = Config::defaults_with_database("postgres://postgres@127.0.0.1/none").unwrap();
    config.jwt_secret = Some(TEST_JWT_SECRET.into());
    let refused = |config: Config| async {
        Core::open(config, Arc::new(SystemClock), true)
            .await
            .unwrap_err()
            .to_string()
    };
    let missing = refused(config.clone()).await;
    assert!(
        missing.contains("DORSAL_DATA_KEY") && missing.contains("32"),
        "{missing}"
    );
    config.data_key = Some("too-short".into());
    let short = refused(config.clone()).await;
    assert!(short.contains("DORSAL_DATA_KEY"), "{short}");
    config.data_key = Some("x".repeat(32).into());
    assert!(resolve_data_key(&config).is_ok());
}

#[tokio::test]
async fn a_short_data_key_refuses_to_start_on_either_database() {
    let database = TestDatabase::create().await;
    let refused = |config: Config| async {
        Core::open(config, Arc::new(SystemClock), true)
            .await
            .unwrap_err()
            .to_string()
    };
    let mut config = database.config();
    config.data_key = Some("short".into());
    let short = refused(config).await;
    assert!(
        short.contains("DORSAL_DATA_KEY") && short.contains("32"),
        "{short}"
    );
    let mut config = database.config();
    config.previous_data_key = Some("short".into());
    let short = refused(config).await;
    assert!(
        short.contains("DORSAL_PREVIOUS_DATA_KEY") && short.contains("32"),
        "{short}"
    );
}

#[test]
fn the_embedded_default_generates_its_data_key_once_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/dorsal.db?mode=rwc", dir.path().display());
    let config = Config::defaults_with_database(&url).unwrap();
    let first = resolve_data_key(&config).unwrap();
    let second = resolve_data_key(&config).unwrap();
    assert_eq!(first.expose_secret(), second.expose_secret());
    assert!(first.expose_secret().len() >= 32);
    let file = dir.path().join("dorsal-data.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    std::fs::write(&file, "short").unwrap();
    assert!(
        resolve_data_key(&config).is_err(),
        "a damaged key file is not silently replaced"
    );
}

#[tokio::test]
async fn readiness_needs_the_migrations_applied() {
    let database = TestDatabase::create().await;
    let core = Core::open(database.config(), Arc::new(SystemClock), false)
        .await
        .unwrap();
    let app = App::bind(AppState::from(core.clone()), "127.0.0.1:0")
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let serving = tokio::spawn(app.serve(shutdown.clone()));
    dorsal_worker::delivery::install_crypto_provider();
    let client = reqwest::Client::new();
    let ready = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        client
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    dorsal_service::db::migrate(&core.db).await.unwrap();
    let ready = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    shutdown.cancel();
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn on_sqlite_a_second_worker_fails_fast_until_the_first_is_gone() {
    let app = TestApp::spawn().await;
    if app.database.is_postgres() {
        // Several workers on PostgreSQL are the point of scale-out.
        let a = Worker::new(JobCtx::from(&app.core)).unwrap();
        let b = Worker::new(JobCtx::from(&app.core)).unwrap();
        drop((a, b));
        return;
    }
    let first = Worker::new(JobCtx::from(&app.core)).unwrap();
    let second = Worker::new(JobCtx::from(&app.core)).unwrap_err();
    assert!(matches!(second, WorkerError::AlreadyRunning { .. }));
    assert!(second.to_string().contains("dorsal api"), "{second}");
    drop(first);
    Worker::new(JobCtx::from(&app.core)).unwrap();
}

#[tokio::test]
async fn the_worker_ticks_and_stops_when_told() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    profile(
        &app,
        &patient,
        json!({"timezone": "UTC", "reminders_enabled": true}),
    )
    .await;
    new_plan(&app, &therapist, &patient, Some("20:30")).await;
    let (date, at) = next_fire(&app, patient.id).await;
    // The app's clock moves to the reminder's time; only a tick can send it.
    let ahead = std::time::Duration::try_from(at.duration_since(app.clock.now())).unwrap();
    app.clock.advance(ahead);

    let worker = Worker::new(JobCtx::from(&app.core)).unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let fired = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            let fired_on = schedule(&app, patient.id).await.unwrap().last_local_date;
            if fired_on == Some(date.to_string()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    shutdown.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(10), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(fired.is_ok(), "a tick fired the due reminder");
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json", None, 200).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/healthz",
        "/readyz",
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/me",
        "/v1/staff",
        "/v1/invites",
        "/v1/care-team/join",
        "/v1/patients",
        "/v1/patients/{id}",
        "/v1/audit",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}
