//! Registration, login, token refresh and logout.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use dorsal_service::recovery::{self, Mailroom};

use crate::dto::accounts::{
    LoginIn, PasswordResetConfirmIn, PasswordResetIn, RefreshIn, RegisterIn, TokenOut, UserOut,
};
use crate::error::{ApiResult, Problem};
use crate::extract::{ClientAddr, Json, PreferredLanguage};
use crate::state::AppState;

/// The auth routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
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

/// Email and password for a token pair; with two-factor sign-in on, also
/// `totp`. Rate limited per account and address.
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

/// Asks for a password-reset code by email. The answer is the same
/// whether or not the email has an account; if it has, the account's
/// owner receives a single-use code valid for 30 minutes, in the language
/// of `Accept-Language` when the catalogs have it. Rate limited per
/// address and per email.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth", request_body = PasswordResetIn,
    params(("Accept-Language" = Option<String>, Header, description = "the language of the email, e.g. `es`")),
    responses((status = 202, description = "accepted; a code is on its way if the account exists"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "too many requests from this address or for this email", body = Problem, content_type = "application/problem+json")))]
async fn request_password_reset(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    PreferredLanguage(language): PreferredLanguage,
    Json(input): Json<PasswordResetIn>,
) -> ApiResult<StatusCode> {
    let mailroom = Mailroom {
        db: state.db.clone(),
        auth: state.auth.clone(),
        keys: state.data_keys.clone(),
        nudges: state.nudges.clone(),
    };
    recovery::request(&mailroom, &input.email, &language, address).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the emailed code; every session of the
/// account ends. Five wrong codes spend the code.
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "auth", request_body = PasswordResetConfirmIn,
    responses((status = 204, description = "the password is changed; sign in with it"),
              (status = 400, description = "`invalid_reset_code`: wrong, used or expired", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "the new password breaks a rule", body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json")))]
async fn confirm_password_reset(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Json(input): Json<PasswordResetConfirmIn>,
) -> ApiResult<StatusCode> {
    recovery::confirm(
        &state.db,
        &state.auth,
        &input.email,
        &input.code,
        &input.new_password,
        address,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
