//! Registration, login, token refresh and logout.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::accounts::{LoginIn, RefreshIn, RegisterIn, TokenOut, UserOut};
use crate::error::{ApiResult, Problem};
use crate::extract::{ClientAddr, Json};
use crate::state::AppState;

/// The auth routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
}

/// A patient creates an account. Rate limited per client address.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = RegisterIn,
    responses((status = 201, body = UserOut),
              (status = 409, description = "email taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "too many registrations from this address", body = Problem, content_type = "application/problem+json")))]
async fn register(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Json(input): Json<RegisterIn>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let account =
        dorsal_service::users::register_patient(&state.db, &state.auth, input.into(), address)
            .await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

/// Email and password (and with two-factor sign-in on, `totp`) for a
/// token pair. Rate limited per account and address.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginIn,
    responses((status = 200, body = TokenOut),
              (status = 401, description = "wrong email, password or `totp` (`invalid_credentials`, all alike), or the right password for an account that needs `totp` and sent none (`totp_required`)", body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json")))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Json(input): Json<LoginIn>,
) -> ApiResult<Json<TokenOut>> {
    let pair = state
        .auth
        .login(
            &state.db,
            &state.data_keys,
            &input.email,
            &input.password,
            input.totp.as_deref(),
            address,
        )
        .await?;
    Ok(Json(pair.into()))
}

/// A refresh token for a new pair; the old refresh token is spent.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshIn,
    responses((status = 200, body = TokenOut),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn refresh(
    State(state): State<AppState>,
    Json(input): Json<RefreshIn>,
) -> ApiResult<Json<TokenOut>> {
    let pair = state.auth.refresh(&state.db, &input.refresh_token).await?;
    Ok(Json(pair.into()))
}

/// Ends the session of a refresh token (its whole family).
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshIn,
    responses((status = 204, description = "logged out")))]
async fn logout(
    State(state): State<AppState>,
    Json(input): Json<RefreshIn>,
) -> ApiResult<StatusCode> {
    state.auth.logout(&state.db, &input.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}
