//! The caller's own account.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::accounts::{RecoveryCodesOut, TotpCodeIn, TotpEnrolmentOut, UserOut};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The me routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me, erase_me))
        .routes(routes!(export_me))
        .routes(routes!(start_totp, disable_totp))
        .routes(routes!(confirm_totp))
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

/// Starts (or restarts) turning on two-factor sign-in for the calling
/// member of staff: a new secret for an authenticator app, in force once
/// confirmed with a code from it. Staff only.
#[utoipa::path(post, path = "/v1/me/totp", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TotpEnrolmentOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "not staff", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "two-factor sign-in is already on (`totp_enabled`)", body = Problem, content_type = "application/problem+json")))]
async fn start_totp(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<TotpEnrolmentOut>> {
    let enrolment =
        dorsal_service::totp::start_enrolment(&state.db, &state.data_keys, actor).await?;
    Ok(Json(enrolment.into()))
}

/// Turns two-factor sign-in on with a current code from the app; answers
/// ten single-use recovery codes, shown this once. Logins then need `totp`.
#[utoipa::path(post, path = "/v1/me/totp/confirm", tag = "auth", security(("bearer" = [])), request_body = TotpCodeIn,
    responses((status = 200, body = RecoveryCodesOut),
              (status = 400, description = "the code is wrong (`invalid_totp`)", body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "not staff", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "already on (`totp_enabled`), or no enrolment started (`totp_not_enrolling`)", body = Problem, content_type = "application/problem+json")))]
async fn confirm_totp(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<TotpCodeIn>,
) -> ApiResult<Json<RecoveryCodesOut>> {
    let codes = dorsal_service::totp::confirm_enrolment(
        &state.db,
        &state.data_keys,
        actor,
        &input.code,
        state.clock.now_ms(),
    )
    .await?;
    Ok(Json(RecoveryCodesOut::new(&codes)))
}

/// Turns two-factor sign-in off, given a current code or an unused
/// recovery code; the secret and the recovery codes are deleted.
#[utoipa::path(delete, path = "/v1/me/totp", tag = "auth", security(("bearer" = [])), request_body = TotpCodeIn,
    responses((status = 204, description = "turned off"),
              (status = 400, description = "the code is wrong or spent (`invalid_totp`)", body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "not staff", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "two-factor sign-in is not on (`totp_not_enabled`)", body = Problem, content_type = "application/problem+json")))]
async fn disable_totp(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<TotpCodeIn>,
) -> ApiResult<StatusCode> {
    dorsal_service::totp::disable(
        &state.db,
        &state.data_keys,
        actor,
        &input.code,
        state.clock.now_ms(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
