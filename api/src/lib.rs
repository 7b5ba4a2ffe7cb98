//! The HTTP API of dorsal: the axum router, its extractors and handlers.
//! `App::bind` is split from `App::serve` so tests can bind port 0.

mod clinic;
mod docs;
pub mod dto;
pub mod error;
pub mod extract;
pub mod metrics;
mod openapi;
pub mod routes;
pub mod state;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Response, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use dorsal_service::ServiceError;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::error::{ApiError, PROBLEM_JSON};
pub use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The complete router with every route, `/openapi.json` and the layers.
pub fn router(state: AppState) -> Router {
    metrics::handle();
    let config = state.config.clone();
    let (api, mut openapi) = openapi::api_router().split_for_parts();
    openapi::document_common_errors(&mut openapi);
    let openapi_json = serde_json::to_vec(&openapi).unwrap_or_default();
    api.route(
        "/openapi.json",
        axum::routing::get(move || {
            let body = openapi_json.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    )
    .merge(clinic::router(&state))
    .merge(docs::router())
    .route("/metrics", axum::routing::get(metrics::render))
    .layer(middleware::from_fn(metrics::track))
    .fallback(|| async { ApiError::RouteNotFound })
    .method_not_allowed_fallback(|| async { ApiError::Status(StatusCode::METHOD_NOT_ALLOWED) })
    .layer(DefaultBodyLimit::max(config.http.body_limit_bytes))
    // The limit applies to the decompressed body, so a small gzip bomb is
    // still refused.
    .layer(RequestDecompressionLayer::new())
    .layer(CompressionLayer::new())
    .layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(config.http.request_timeout_seconds),
    ))
    .layer(middleware::from_fn(problem_for_bare_errors))
    .layer(CatchPanicLayer::custom(
        |_: Box<dyn std::any::Any + Send>| {
            ApiError::Service(ServiceError::internal("a handler panicked")).into_response()
        },
    ))
    // Inside the request's span, outside everything that can answer 5xx.
    .layer(middleware::from_fn(error::log_server_errors))
    .layer(
        TraceLayer::new_for_http()
            .make_span_with(|request: &Request| {
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", |path| path.as_str())
                    .to_owned();
                let request_id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                // The route template, never the raw URI: query strings and ids of
                // other kinds can carry patient data.
                tracing::info_span!("request", method = %request.method(), route, request_id,
            user_id = tracing::field::Empty)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
            // A 5xx is logged once, with its cause, by `log_server_errors`.
            .on_failure(()),
    )
    .layer(PropagateRequestIdLayer::new(REQUEST_ID))
    .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
    .layer(middleware::from_fn(drop_unplain_request_id))
    .with_state(state)
}

/// Longest client request id taken as it is.
const REQUEST_ID_MAX: usize = 64;

/// A client's `x-request-id` goes into every log line of the request, so
/// only a short, plain one is kept (letters, digits, `-`, `_`, `.`, `:`);
/// any other is dropped and one is made instead.
async fn drop_unplain_request_id(mut request: Request, next: Next) -> Response<Body> {
    let plain = |value: &[u8]| {
        (1..=REQUEST_ID_MAX).contains(&value.len())
            && value
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    };
    let sent = request.headers().get_all(REQUEST_ID).iter().count();
    let keep = sent == 1
        && request
            .headers()
            .get(REQUEST_ID)
            .is_some_and(|v| plain(v.as_bytes()));
    if sent > 0 && !keep {
        request.headers_mut().remove(REQUEST_ID);
    }
    next.run(request).await
}

/// Errors made outside our handlers (405 from routing, 408 from the
/// timeout) come without a body; give them the same problem+json as ours.
async fn problem_for_bare_errors(request: Request, next: Next) -> Response<Body> {
    let clinic_page = clinic::owns(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE);
    let is_problem =
        content_type.is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // The clinic's own error pages are HTML for people, not bare errors.
    let is_clinic_html =
        clinic_page && content_type.is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !status.is_client_error() && !status.is_server_error() || is_problem || is_clinic_html {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut replaced = ApiError::Status(status).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    replaced
}

/// A bound, not yet serving, API.
#[derive(Debug)]
pub struct App {
    listener: TcpListener,
    state: AppState,
}

impl App {
    /// Binds `addr` (use port 0 for any free port).
    pub async fn bind(state: AppState, addr: &str) -> std::io::Result<App> {
        let listener = TcpListener::bind(addr).await?;
        Ok(App { listener, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is cancelled, then finishes in-flight requests.
    pub async fn serve(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    }
}
