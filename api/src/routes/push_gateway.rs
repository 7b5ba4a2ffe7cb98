//! An org's push gateway (admins only): where signed push requests for its
//! patients' `gateway` devices go.

use axum::extract::State;
use axum::http::StatusCode;
use dorsal_service::device_push::{self, Gateway};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::rfc3339;
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The push gateway routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_gateway, get_gateway, delete_gateway))
}

/// `PUT /v1/push-gateway`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GatewayIn {
    /// Where push requests are POSTed (Standard Webhooks signed); not a
    /// loopback or private address.
    pub url: String,
}

/// The org's push gateway.
#[derive(Debug, Serialize, ToSchema)]
pub struct GatewayOut {
    /// Target.
    pub url: String,
    /// RFC 3339 instant it was last set.
    pub updated_at: String,
    /// The signing secret (`whsec_…`); only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The gateway, with `secret` in plain text when it was just set.
fn out(g: Gateway, secret: Option<SecretString>) -> GatewayOut {
    GatewayOut {
        url: g.url,
        updated_at: rfc3339(g.updated_at),
        secret: secret.map(|s| s.expose_secret().to_owned()),
    }
}

/// Sets or replaces the gateway; a new secret every time, shown once.
#[utoipa::path(put, path = "/v1/push-gateway", tag = "devices", security(("bearer" = [])), request_body = GatewayIn,
    responses((status = 200, body = GatewayOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn set_gateway(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<GatewayIn>,
) -> ApiResult<Json<GatewayOut>> {
    let (set, secret) = device_push::set_gateway(
        &state.db,
        &state.data_keys,
        actor,
        &input.url,
        state.config.webhook_allow_private,
        state.clock.now_ms(),
    )
    .await?;
    Ok(Json(out(set, Some(secret))))
}

/// The gateway (without its secret).
#[utoipa::path(get, path = "/v1/push-gateway", tag = "devices", security(("bearer" = [])),
    responses((status = 200, body = GatewayOut),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_gateway(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<GatewayOut>> {
    Ok(Json(out(
        device_push::get_gateway(&state.db, actor).await?,
        None,
    )))
}

/// Removes the gateway; pushes to `gateway` devices stop.
#[utoipa::path(delete, path = "/v1/push-gateway", tag = "devices", security(("bearer" = [])),
    responses((status = 204, description = "removed"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn delete_gateway(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<StatusCode> {
    device_push::delete_gateway(&state.db, actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
