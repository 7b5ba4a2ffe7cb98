//! An org's webhook endpoints for alert events (admins only).

use axum::extract::State;
use axum::http::StatusCode;
use dorsal_service::webhooks;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::{List, rfc3339};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json, Path};
use crate::state::AppState;

/// The webhook routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_deliveries))
}

/// `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookIn {
    /// Where alert events are POSTed; not a loopback or private address.
    pub url: String,
    /// `urgent` (default) or `emergency`.
    pub min_severity: Option<String>,
}

/// An endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    /// Id.
    pub id: Uuid,
    /// Target.
    pub url: String,
    /// Lowest severity sent.
    pub min_severity: String,
    /// RFC 3339 instant it was disabled (after a 410), if it was.
    pub disabled_at: Option<String>,
    /// The signing secret (`whsec_…`); only when made or rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The endpoint, with `secret` in plain text when it was just made.
fn out(w: webhooks::Endpoint, secret: Option<SecretString>) -> WebhookOut {
    WebhookOut {
        id: w.id,
        url: w.url,
        min_severity: w.min_severity.to_string(),
        disabled_at: w.disabled_at.map(rfc3339),
        secret: secret.map(|s| s.expose_secret().to_owned()),
    }
}

/// Registers an endpoint; the answer carries its secret, shown once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "alerts", security(("bearer" = [])), request_body = WebhookIn,
    responses((status = 201, body = WebhookOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_webhook(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<WebhookIn>,
) -> ApiResult<(StatusCode, Json<WebhookOut>)> {
    let (made, secret) = webhooks::create(
        &state.db,
        &state.data_keys,
        actor,
        &input.url,
        input.min_severity.as_deref(),
        state.config.webhook_allow_private,
        state.clock.now_ms(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(out(made, Some(secret)))))
}

/// The org's endpoints (without secrets).
#[utoipa::path(get, path = "/v1/webhooks", tag = "alerts", security(("bearer" = [])),
    responses((status = 200, body = List<WebhookOut>),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_webhooks(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<List<WebhookOut>>> {
    let all = webhooks::list(&state.db, actor).await?;
    let items = all.into_iter().map(|w| out(w, None)).collect();
    Ok(Json(List { items, next: None }))
}

/// Removes an endpoint.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "alerts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 204, description = "removed"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn delete_webhook(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&state.db, actor, id, state.clock.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret (the old one stops working at once); re-enables an
/// endpoint disabled by a 410.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate", tag = "alerts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 200, body = WebhookOut),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn rotate_secret(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<WebhookOut>> {
    let (rotated, secret) = webhooks::rotate(&state.db, &state.data_keys, actor, id).await?;
    Ok(Json(out(rotated, Some(secret))))
}

/// One delivery of an endpoint: its outcome, never its payload.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    /// Delivery id.
    pub id: Uuid,
    /// The alert it is about.
    pub alert_id: Uuid,
    /// `alert.created`, `alert.acknowledged`, `alert.resolved`, ...
    pub event: String,
    /// `pending` (still being tried), `delivered` or `dead` (given up).
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    /// Why the last attempt failed (a short reason, no payload), if it did.
    pub last_error: Option<String>,
    /// RFC 3339 instant it was written.
    pub created_at: String,
    /// RFC 3339 instant it was delivered, if it was.
    pub delivered_at: Option<String>,
}

impl From<webhooks::DeliverySummary> for DeliveryOut {
    fn from(d: webhooks::DeliverySummary) -> Self {
        DeliveryOut {
            id: d.id,
            alert_id: d.alert_id,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: rfc3339(d.created_at),
            delivered_at: d.delivered_at.map(rfc3339),
        }
    }
}

/// The endpoint's latest 20 deliveries, newest first: what the clinic's
/// webhook page shows (status, attempts, last error, times; no payloads).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "alerts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "webhook id")),
    responses((status = 200, body = List<DeliveryOut>),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "no such endpoint of the admin's org", body = Problem, content_type = "application/problem+json")))]
async fn list_deliveries(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<List<DeliveryOut>>> {
    let items = webhooks::recent_deliveries(&state.db, actor, id)
        .await?
        .into_iter()
        .map(DeliveryOut::from)
        .collect();
    Ok(Json(List { items, next: None }))
}
