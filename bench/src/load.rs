//! 200 devices syncing at once (SPEC §9). Each simulated device has its own
//! patient account on a clinic's care team and its own HTTP connection, and
//! once a second for 30 s it pulls since its cursor (every page) and then
//! pushes 1–5 new pain and sleep logs; one push in a hundred carries a red
//! flag (saddle numbness). The server is the real router on a loopback
//! port with the worker running beside it on the same core (pool), as
//! `dorsal serve` runs them, so red flags reach the clinic's loopback
//! webhook receiver. The devices run on a runtime (threads) of their own,
//! as a separate client process would, on the same machine. Any transport
//! error, non-2xx answer or rejected record counts as an error.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use dorsal_api::{App, AppState};
use dorsal_domain::Role;
use dorsal_service::Core;
use dorsal_service::access::Actor;
use dorsal_service::auth::Claims;
use dorsal_service::clock::SystemClock;
use dorsal_service::config::Config;
use dorsal_service::users::NewAccount;
use dorsal_worker::{JobCtx, Worker};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{DATA_KEY, JWT_SECRET, progress, quantile};

/// Simulated devices, one patient each.
pub const DEVICES: usize = 200;
/// How long they sync.
pub const SECONDS: u64 = 30;
/// Each device starts a sync this often (staggered across devices).
pub const PERIOD: Duration = Duration::from_secs(1);
/// One push in this many carries a red flag.
pub const RED_FLAG_EVERY: usize = 100;
/// How long the worker gets to deliver the last red flags after the run.
const DRAIN: Duration = Duration::from_secs(15);

/// The requests a device makes: the two endpoints, and the pushes that
/// carry a red flag, shown apart as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    /// `GET /v1/sync/pull`.
    Pull,
    /// `POST /v1/sync/push`, every push.
    Push,
    /// The pushes whose batch carries a red flag (also counted in `Push`).
    RedFlagPush,
}

impl Endpoint {
    /// As the report names it.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::Pull => "GET /v1/sync/pull",
            Endpoint::Push => "POST /v1/sync/push",
            Endpoint::RedFlagPush => "… of which with a red flag",
        }
    }

    /// Whether this is an endpoint of its own, rather than a part of one.
    pub fn is_endpoint(self) -> bool {
        self != Endpoint::RedFlagPush
    }
}

/// One endpoint's figures.
#[derive(Debug)]
pub struct EndpointFigures {
    /// Which.
    pub endpoint: Endpoint,
    /// Requests made.
    pub requests: usize,
    /// Of which failed.
    pub errors: usize,
    /// Median latency (send to last byte of the answer).
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
}

/// What one database measured.
#[derive(Debug)]
pub struct Figures {
    /// Per endpoint, then the red-flag pushes, in [`Endpoint`] order.
    pub endpoints: Vec<EndpointFigures>,
    /// Requests per second over the run.
    pub rate: f64,
    /// Errors by kind.
    pub errors: BTreeMap<String, usize>,
    /// Patients who pushed a red flag.
    pub red_flags: usize,
    /// Of which the webhook received an alert.
    pub delivered: usize,
    /// Median red-flag push → webhook received (first red flag of each patient).
    pub alert_p50: Duration,
    /// 95th percentile.
    pub alert_p95: Duration,
}

struct Device {
    index: usize,
    patient_id: Uuid,
    token: String,
}

struct Sample {
    endpoint: Endpoint,
    took: Duration,
    error: Option<String>,
}

/// What a device did: its samples, and when it sent its first red flag.
struct Run {
    patient_id: Uuid,
    samples: Vec<Sample>,
    red_flag_at: Option<Instant>,
}

/// An access token as login would issue it, without the password hash.
fn mint(core: &Core, actor: Actor) -> anyhow::Result<String> {
    let now = u64::try_from(core.clock.now_ms() / 1000)?;
    Ok(core.auth.sign(&Claims {
        sub: actor.user_id,
        role: actor.role,
        org: actor.org_id,
        iat: now,
        exp: now + 3_600,
        jti: Uuid::new_v4(),
    })?)
}

/// A patient on the clinic's care team, joined with an invite.
async fn enrol(core: Core, admin: Actor, index: usize) -> anyhow::Result<Device> {
    let account = dorsal_service::users::register_patient(
        &core.db,
        &core.auth,
        NewAccount {
            email: format!("device{index}@load.test"),
            password: "bench password 1".into(),
            display_name: format!("Device {index}"),
        },
        None,
    )
    .await?;
    let patient = Actor {
        user_id: account.id,
        role: Role::Patient,
        org_id: None,
        totp_enrolment_required: false,
    };
    let invite =
        dorsal_service::care_team::create_invite(&core.db, &*core.clock, admin, 24).await?;
    dorsal_service::care_team::join(&core.db, &*core.clock, patient, &invite.code).await?;
    Ok(Device {
        index,
        patient_id: account.id,
        token: mint(&core, patient)?,
    })
}

/// The batch a device pushes in one sync: 1–5 logs, alternately pain and
/// sleep; with a red flag, the first is a pain log with saddle numbness.
fn batch(device: usize, iteration: usize, red_flag: bool) -> Value {
    let now = jiff::Timestamp::now();
    let mut pain = Vec::new();
    let mut sleep = Vec::new();
    for k in 0..1 + (device + iteration) % 5 {
        let id = format!("d{device}-{iteration}-{k}");
        if k == 0 && red_flag {
            pain.push(
                json!({"id": id, "recorded_at": now.as_millisecond(), "intensity": 8,
                "period": "night", "saddle_numbness": true, "legs_affected": "both"}),
            );
        } else if k % 2 == 0 {
            let period = ["morning", "day", "evening", "night"][k % 4];
            pain.push(
                json!({"id": id, "recorded_at": now.as_millisecond() - k as i64 * 60_000,
                "intensity": (iteration + k) % 11, "location": "lower_back",
                "period": period, "eased_by_rest": true, "note": "stiff after sitting"}),
            );
        } else {
            let night = now
                .checked_sub(jiff::SignedDuration::from_hours(
                    24 * (iteration % 28) as i64,
                ))
                .unwrap_or(now)
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date();
            sleep.push(
                json!({"id": id, "night_of": night.to_string(), "quality": 1 + k % 5,
                "awakenings": k, "woke_from_pain": false, "position": "side",
                "pillow_between_knees": true}),
            );
        }
    }
    json!({"pain_logs": {"created": pain, "updated": [], "deleted": []},
        "sleep_logs": {"created": sleep, "updated": [], "deleted": []}})
}

/// Sends `request` and reads the whole answer; the time taken (to the
/// answer's last byte), and the answer as JSON or what went wrong.
async fn timed(request: reqwest::RequestBuilder) -> (Duration, Result<Value, String>) {
    let started = Instant::now();
    let answer = async {
        let response = request.send().await.map_err(|err| {
            if err.is_timeout() {
                "timeout".to_owned()
            } else if err.is_connect() {
                "connect error".to_owned()
            } else {
                "transport error".to_owned()
            }
        })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|_| "transport error reading the answer".to_owned())?;
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        Ok(body)
    }
    .await;
    let took = started.elapsed();
    let answer = answer
        .and_then(|body| serde_json::from_slice(&body).map_err(|_| "answer is not JSON".into()));
    (took, answer)
}

/// One device's 30 seconds.
async fn device(device: Device, base: Arc<str>, start: Instant, sent: Arc<AtomicUsize>) -> Run {
    // Its own client: its own connection, as a phone would have.
    let http = reqwest::Client::new();
    let offset = PERIOD.mul_f64(device.index as f64 / DEVICES as f64);
    let end = start + Duration::from_secs(SECONDS);
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::from_std(start + offset), PERIOD);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut run = Run {
        patient_id: device.patient_id,
        samples: Vec::with_capacity(4 * SECONDS as usize),
        red_flag_at: None,
    };
    let mut cursor: Option<i64> = None;
    for iteration in 0.. {
        if ticks.tick().await.into_std() >= end {
            break;
        }
        loop {
            let since = cursor.map_or("null".to_owned(), |c| c.to_string());
            let (took, answer) = timed(
                http.get(format!("{base}/v1/sync/pull?last_pulled_at={since}"))
                    .bearer_auth(&device.token),
            )
            .await;
            sent.fetch_add(1, Ordering::Relaxed);
            let more = match &answer {
                Ok(page) => {
                    cursor = page["timestamp"].as_i64().or(cursor);
                    page["has_more"] == true
                }
                Err(_) => false,
            };
            run.samples.push(Sample {
                endpoint: Endpoint::Pull,
                took,
                error: answer.err().map(|e| format!("pull: {e}")),
            });
            if !more {
                break;
            }
        }
        let red_flag = iteration % RED_FLAG_EVERY == device.index % RED_FLAG_EVERY;
        let body =
            json!({"changes": batch(device.index, iteration, red_flag), "lastPulledAt": cursor});
        let sending = Instant::now();
        let (took, answer) = timed(
            http.post(format!("{base}/v1/sync/push"))
                .bearer_auth(&device.token)
                .json(&body),
        )
        .await;
        sent.fetch_add(1, Ordering::Relaxed);
        let answer = answer.and_then(|answer| {
            if answer["experimentalRejectedIds"]
                .as_object()
                .is_some_and(|o| !o.is_empty())
            {
                Err("records rejected".to_owned())
            } else {
                Ok(answer)
            }
        });
        if red_flag && answer.is_ok() && run.red_flag_at.is_none() {
            run.red_flag_at = Some(sending);
        }
        run.samples.push(Sample {
            endpoint: if red_flag {
                Endpoint::RedFlagPush
            } else {
                Endpoint::Push
            },
            took,
            error: answer.err().map(|e| format!("push: {e}")),
        });
    }
    run
}

/// Runs every device on a runtime of its own; their runs.
async fn drive(
    devices: Vec<Device>,
    base: String,
    sent: Arc<AtomicUsize>,
) -> anyhow::Result<Vec<Run>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let base: Arc<str> = base.into();
    tokio::task::spawn_blocking(move || {
        runtime.block_on(async move {
            let start = Instant::now();
            let mut set = JoinSet::new();
            for d in devices {
                set.spawn(device(d, base.clone(), start, sent.clone()));
            }
            let mut runs = Vec::with_capacity(DEVICES);
            while let Some(run) = set.join_next().await {
                runs.push(run?);
            }
            anyhow::Ok(runs)
        })
    })
    .await?
}

/// The load run on the database at `url` (migrated here).
pub async fn measure(name: &str, url: &str) -> anyhow::Result<Figures> {
    let mut config = Config::defaults_with_database(url)?;
    config.jwt_secret = Some(JWT_SECRET.into());
    config.data_key = Some(DATA_KEY.into());
    config.webhook_allow_private = true;
    let core = Core::open(config, Arc::new(SystemClock), true).await?;
    let shutdown = CancellationToken::new();
    let app = App::bind(AppState::from(core.clone()), "127.0.0.1:0").await?;
    let base = format!("http://{}", app.local_addr()?);
    tokio::spawn(app.serve(shutdown.clone()));
    let worker = Worker::new(JobCtx::from(&core))?;
    let worker = tokio::spawn(worker.run(shutdown.clone()));

    let (hook, arrivals) = crate::latency::receiver().await?;
    let (org_id, admin) = dorsal_service::users::create_org_with_admin(
        &core.db,
        &core.auth,
        "Load clinic",
        NewAccount {
            email: "admin@load.test".into(),
            password: "bench password 1".into(),
            display_name: "Admin".into(),
        },
    )
    .await?;
    let admin = Actor {
        user_id: admin.id,
        role: Role::Admin,
        org_id: Some(org_id),
        totp_enrolment_required: false,
    };
    let answer = reqwest::Client::new()
        .post(format!("{base}/v1/webhooks"))
        .bearer_auth(mint(&core, admin)?)
        .json(&json!({"url": hook, "min_severity": "emergency"}))
        .send()
        .await?;
    if !answer.status().is_success() {
        bail!("registering the webhook: {}", answer.status());
    }

    // Accounts are made through the service (Argon2 included), all at once.
    let bar = progress(
        DEVICES as u64,
        &format!("{DEVICES} patient accounts, {name}"),
    )?;
    let mut enrolling = JoinSet::new();
    for index in 0..DEVICES {
        enrolling.spawn(enrol(core.clone(), admin, index));
    }
    let mut devices = Vec::with_capacity(DEVICES);
    while let Some(device) = enrolling.join_next().await {
        devices.push(device??);
        bar.inc(1);
    }
    bar.finish_and_clear();

    let bar = progress(SECONDS, &format!("{DEVICES} devices x {SECONDS} s, {name}"))?;
    let sent = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (bar, sent) = (bar.clone(), sent.clone());
        let started = Instant::now();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                bar.set_position(started.elapsed().as_secs().min(SECONDS));
                bar.set_message(format!("{} requests", sent.load(Ordering::Relaxed)));
            }
        })
    };
    let started = Instant::now();
    let runs = drive(devices, base, sent).await?;
    let took = started.elapsed();
    ticker.abort();
    bar.finish_and_clear();

    // The red flags' webhooks, the last ones given time to arrive.
    let expected: HashMap<String, Instant> = runs
        .iter()
        .filter_map(|run| Some((run.patient_id.to_string(), run.red_flag_at?)))
        .collect();
    let deadline = Instant::now() + DRAIN;
    let mut latencies = loop {
        let arrived: Vec<Duration> = {
            let arrivals = arrivals
                .lock()
                .map_err(|_| anyhow::anyhow!("receiver poisoned"))?;
            expected
                .iter()
                .filter_map(|(patient, sent)| Some(arrivals.get(patient)?.duration_since(*sent)))
                .collect()
        };
        if arrived.len() == expected.len() || Instant::now() > deadline {
            break arrived;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    latencies.sort_unstable();
    shutdown.cancel();
    worker.await??;
    core.db.clone().close().await.context("close")?;

    let mut by_endpoint: BTreeMap<Endpoint, (Vec<Duration>, usize)> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut requests = 0;
    for sample in runs.iter().flat_map(|run| &run.samples) {
        requests += 1;
        let failed = usize::from(sample.error.is_some());
        if let Some(error) = &sample.error {
            *errors.entry(error.clone()).or_default() += 1;
        }
        let mut count = |endpoint: Endpoint| {
            let entry = by_endpoint.entry(endpoint).or_default();
            entry.0.push(sample.took);
            entry.1 += failed;
        };
        count(sample.endpoint);
        if sample.endpoint == Endpoint::RedFlagPush {
            count(Endpoint::Push);
        }
    }
    let endpoints = by_endpoint
        .into_iter()
        .map(|(endpoint, (mut took, errors))| {
            took.sort_unstable();
            EndpointFigures {
                endpoint,
                requests: took.len(),
                errors,
                p50: quantile(&took, 0.5),
                p99: quantile(&took, 0.99),
                max: took.last().copied().unwrap_or_default(),
            }
        })
        .collect();
    let figures = Figures {
        endpoints,
        rate: requests as f64 / took.as_secs_f64(),
        errors,
        red_flags: expected.len(),
        delivered: latencies.len(),
        alert_p50: quantile(&latencies, 0.5),
        alert_p95: quantile(&latencies, 0.95),
    };
    eprintln!(
        "  {requests} requests in {took:.1?}, {} errors, {}/{} red flags delivered",
        figures.errors.values().sum::<usize>(),
        figures.delivered,
        figures.red_flags
    );
    Ok(figures)
}
