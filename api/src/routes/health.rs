//! Liveness and readiness probes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Json;
use crate::state::AppState;

/// Probe answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// The health routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database answers and every migration is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
async fn readyz(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    match dorsal_service::db::is_ready(&state.db).await {
        Ok(true) => Ok(Json(Health { status: "ready" })),
        Ok(false) => {
            tracing::warn!("not ready: migrations pending");
            Err(ApiError::Status(StatusCode::SERVICE_UNAVAILABLE))
        }
        Err(err) => {
            tracing::warn!(error = %err, "not ready: database unreachable");
            Err(ApiError::Status(StatusCode::SERVICE_UNAVAILABLE))
        }
    }
}
