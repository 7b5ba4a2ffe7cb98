//! Prometheus metrics at `GET /metrics`: requests and latencies by route
//! template (never the raw path), plus what the rest of the process records
//! through the `metrics` facade (sync rows, reminders, deliveries, alert
//! latency) and the outbox backlogs read from the database at scrape time,
//! so every replica reports the same backlog.

use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Response, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Latency buckets, seconds: from a fast read to a slow batch.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use. A process has one global
/// recorder; when one is already installed (tests start many apps in one
/// process) this handle still renders what it records.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::debug!("a metrics recorder was already installed");
        }
        handle
    })
}

/// Counts and times every request by method, route template and status.
pub async fn track(request: Request, next: Next) -> Response<Body> {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Messages waiting in each outbox, read at scrape time.
async fn backlogs(state: &AppState) {
    match dorsal_service::outbox::backlog(&state.db).await {
        Ok(counts) => {
            for (outbox, n) in counts {
                metrics::gauge!("dorsal_delivery_backlog", "outbox" => outbox).set(n as f64);
            }
        }
        Err(err) => tracing::warn!(error = %err, "delivery backlog unavailable"),
    }
}

/// `GET /metrics`, Prometheus text format.
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    backlogs(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
}
