//! The caller's own account.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::accounts::UserOut;
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The me routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me, erase_me))
        .routes(routes!(export_me))
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<UserOut>> {
    let account = dorsal_service::users::me(&state.db, actor).await?;
    Ok(Json(account.into()))
}

/// Everything dorsal holds about the calling patient, as one JSON
/// document (a download).
#[utoipa::path(get, path = "/v1/me/export", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "the account, care teams, every diary table, alerts, devices and reminders", body = Object),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn export_me(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<impl IntoResponse> {
    let export = dorsal_service::privacy::export(&state.db, actor, state.clock.now_ms()).await?;
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"dorsal-export.json\"",
        )],
        Json(export),
    ))
}

/// `DELETE /v1/me`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EraseIn {
    /// The account's password, to confirm.
    pub password: String,
}

/// Erases the calling patient's account and data (export first). Alerts
/// stay with the clinic, no longer linked to the patient.
#[utoipa::path(delete, path = "/v1/me", tag = "auth", security(("bearer" = [])), request_body = EraseIn,
    responses((status = 204, description = "erased"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn erase_me(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<EraseIn>,
) -> ApiResult<StatusCode> {
    dorsal_service::privacy::erase(
        &state.db,
        &state.auth,
        actor,
        &input.password,
        state.clock.now_ms(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
