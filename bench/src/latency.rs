//! Red-flag push → webhook request received: the time from sending a push
//! that raises an emergency alert to the loopback receiver getting the
//! signed `alert.raised` request, over many alerts. On PostgreSQL the API
//! and the worker are separate cores (pools), so the wake-up crosses
//! `LISTEN/NOTIFY` as it would between processes; on SQLite they share the
//! process, as `dorsal serve` does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dorsal_api::{App, AppState};
use dorsal_service::Core;
use dorsal_service::clock::SystemClock;
use dorsal_service::config::Config;
use dorsal_worker::{JobCtx, Worker};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::{DATA_KEY, JWT_SECRET, progress, quantile};

/// Alerts measured per database.
pub const ALERTS: usize = 100;

/// What one database measured.
#[derive(Debug)]
pub struct Figures {
    /// Median push → webhook.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
}

/// When the first webhook request about each patient (by id) arrived.
pub type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// A loopback webhook receiver: its URL and what it has received.
pub async fn receiver() -> anyhow::Result<(String, Arrivals)> {
    let arrivals: Arrivals = Arc::default();
    let seen = arrivals.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let at = Instant::now();
                if let Ok(event) = serde_json::from_slice::<Value>(&body)
                    && let Some(patient) = event["data"]["patient_id"].as_str()
                    && let Ok(mut seen) = seen.lock()
                {
                    seen.entry(patient.to_owned()).or_insert(at);
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, arrivals))
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = http.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    if !response.status().is_success() {
        bail!("{}", response.status());
    }
    let text = response.text().await?;
    Ok(if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)?
    })
}

/// p50 and p95 of push → webhook for [`ALERTS`] alerts on `database_url`.
pub async fn measure(name: &str, database_url: &str) -> anyhow::Result<Figures> {
    let bar = progress(ALERTS as u64, &format!("red flag -> webhook, {name}"))?;
    let mut config = Config::defaults_with_database(database_url)?;
    config.jwt_secret = Some(JWT_SECRET.into());
    config.data_key = Some(DATA_KEY.into());
    config.webhook_allow_private = true;
    // One client registers and logs in a hundred patients from one address.
    config.auth.login_per_address_per_minute = 100_000;
    config.auth.register_per_address_per_hour = 100_000;
    let api_core = Core::open(config.clone(), Arc::new(SystemClock), true).await?;
    let postgres = database_url.starts_with("postgres");
    let worker_core = if postgres {
        Core::open(config, Arc::new(SystemClock), false).await?
    } else {
        api_core.clone()
    };
    let shutdown = CancellationToken::new();
    let app = App::bind(AppState::from(api_core.clone()), "127.0.0.1:0").await?;
    let base = format!("http://{}", app.local_addr()?);
    tokio::spawn(app.serve(shutdown.clone()));
    let worker = Worker::new(JobCtx::from(&worker_core))?;
    let worker = tokio::spawn(worker.run(shutdown.clone()));

    let (hook, arrivals) = receiver().await?;
    let (_, admin) = dorsal_service::users::create_org_with_admin(
        &api_core.db,
        &api_core.auth,
        "Bench clinic",
        dorsal_service::users::NewAccount {
            email: "admin@bench.test".into(),
            password: "bench password 1".into(),
            display_name: "Admin".into(),
        },
    )
    .await?;
    let http = reqwest::Client::new();
    let login = |email: String| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let tokens = post(
                &http,
                format!("{base}/v1/auth/login"),
                None,
                json!({"email": email, "password": "bench password 1"}),
            )
            .await?;
            tokens["access_token"]
                .as_str()
                .map(str::to_owned)
                .context("no token")
        }
    };
    let admin_token = login(admin.email.clone()).await?;
    post(
        &http,
        format!("{base}/v1/webhooks"),
        Some(&admin_token),
        json!({"url": hook, "min_severity": "emergency"}),
    )
    .await?;

    let mut latencies = Vec::with_capacity(ALERTS);
    for n in 0..ALERTS {
        let email = format!("patient{n}@bench.test");
        post(
            &http,
            format!("{base}/v1/auth/register"),
            None,
            json!({"email": email, "password": "bench password 1", "display_name": "P"}),
        )
        .await?;
        let token = login(email).await?;
        let invite = post(
            &http,
            format!("{base}/v1/invites"),
            Some(&admin_token),
            json!({}),
        )
        .await?;
        post(
            &http,
            format!("{base}/v1/care-team/join"),
            Some(&token),
            json!({"code": invite["code"]}),
        )
        .await?;
        let me: Value = http
            .get(format!("{base}/v1/me"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let patient_id = me["id"].as_str().context("no id")?.to_owned();
        let log = json!({"id": format!("p{n}"), "recorded_at": 1_793_503_800_000_i64, "intensity": 8, "bladder_control_loss": true});
        let started = Instant::now();
        post(
            &http,
            format!("{base}/v1/sync/push"),
            Some(&token),
            json!({"changes": {"pain_logs": {"created": [log]}}}),
        )
        .await?;
        let deadline = started + Duration::from_secs(10);
        loop {
            let arrived = arrivals
                .lock()
                .ok()
                .and_then(|a| a.get(&patient_id).copied());
            if let Some(at) = arrived {
                latencies.push(at.duration_since(started));
                bar.inc(1);
                break;
            }
            if Instant::now() > deadline {
                bail!("alert {n} never reached the webhook");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    bar.finish_and_clear();
    shutdown.cancel();
    worker.await??;
    latencies.sort_unstable();
    Ok(Figures {
        p50: quantile(&latencies, 0.5),
        p95: quantile(&latencies, 0.95),
    })
}
