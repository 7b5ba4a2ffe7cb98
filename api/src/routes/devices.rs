//! Patients' devices registered for push.

use axum::extract::State;
use axum::http::StatusCode;
use dorsal_service::device_push::{self, Device, NewDevice};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::{List, rfc3339};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json, Path};
use crate::state::AppState;

/// The device routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_device, list_devices))
        .routes(routes!(remove_device))
}

/// `POST /v1/devices`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeviceIn {
    /// `fcm` (sent through Firebase Cloud Messaging) or `gateway` (sent to
    /// the push gateway of the patient's clinic).
    pub provider: String,
    /// The provider's registration token for this device.
    pub token: String,
    /// `android`, `ios` or `web`.
    pub platform: Option<String>,
}

/// A registered device (its token is not echoed back).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceOut {
    /// Id.
    pub id: Uuid,
    /// `fcm` or `gateway`.
    pub provider: String,
    /// `android`, `ios` or `web`.
    pub platform: Option<String>,
    /// Whether pushes go to it; a provider saying the token is gone turns
    /// this off until the device registers again.
    pub active: bool,
    /// RFC 3339 instant it was registered.
    pub created_at: String,
    /// RFC 3339 instant it was deactivated, if it was.
    pub deactivated_at: Option<String>,
}

fn out(d: Device) -> DeviceOut {
    DeviceOut {
        id: d.id,
        provider: d.provider,
        platform: d.platform,
        active: d.active,
        created_at: rfc3339(d.created_at),
        deactivated_at: d.deactivated_at.map(rfc3339),
    }
}

/// Registers this device for push (201), or re-registers a known token
/// (200, active again).
#[utoipa::path(post, path = "/v1/devices", tag = "devices", security(("bearer" = [])), request_body = DeviceIn,
    responses((status = 201, body = DeviceOut), (status = 200, body = DeviceOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn register_device(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<DeviceIn>,
) -> ApiResult<(StatusCode, Json<DeviceOut>)> {
    let (device, created) = device_push::register_device(
        &state.db,
        actor,
        NewDevice {
            provider: input.provider,
            token: input.token,
            platform: input.platform,
        },
        state.clock.now_ms(),
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(out(device))))
}

/// The caller's devices.
#[utoipa::path(get, path = "/v1/devices", tag = "devices", security(("bearer" = [])),
    responses((status = 200, body = List<DeviceOut>),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_devices(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<List<DeviceOut>>> {
    let items = device_push::list_devices(&state.db, actor)
        .await?
        .into_iter()
        .map(out)
        .collect();
    Ok(Json(List { items, next: None }))
}

/// Unregisters one of the caller's devices.
#[utoipa::path(delete, path = "/v1/devices/{id}", tag = "devices", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "device id")),
    responses((status = 204, description = "removed"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn remove_device(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    device_push::remove_device(&state.db, actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
