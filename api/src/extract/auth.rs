//! Who is calling: the bearer token's actor, and the client's address for
//! rate limiting.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use dorsal_service::access::Actor;
use dorsal_service::{AuthFailure, ServiceError};

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller. Rejects with 401 when the token is missing,
/// malformed, badly signed, signed by an unknown key, or expired; and with
/// 403 `totp_enrolment_required` anywhere outside the caller's own account
/// (`/v1/me*`) while their org requires two-factor sign-in they have not
/// turned on.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser(pub Actor);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let fail = |failure| ApiError::Service(ServiceError::Unauthenticated(failure));
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| fail(AuthFailure::MissingToken))?;
        let value = header
            .to_str()
            .map_err(|_| fail(AuthFailure::InvalidToken))?;
        let (scheme, token) = value
            .split_once(' ')
            .ok_or_else(|| fail(AuthFailure::InvalidToken))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(fail(AuthFailure::MissingToken));
        }
        let actor = state.auth.authenticate(&state.db, token.trim()).await?;
        tracing::Span::current().record("user_id", tracing::field::display(actor.user_id));
        if actor.totp_enrolment_required && !is_own_account(parts.uri.path()) {
            return Err(ApiError::Service(ServiceError::TotpEnrolmentRequired));
        }
        Ok(CurrentUser(actor))
    }
}

/// Whether `path` is the caller's own account, the only place a token that
/// must first enrol in two-factor sign-in reaches.
fn is_own_account(path: &str) -> bool {
    path == "/v1/me" || path.starts_with("/v1/me/")
}

/// The client's address: the peer, or with `http.trust_forwarded_for` the
/// last `X-Forwarded-For` entry (the one our own proxy appended).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.http.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .rev()
                .find_map(|v| v.trim().parse::<IpAddr>().ok());
            if forwarded.is_some() {
                return Ok(ClientAddr(forwarded));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientAddr(peer))
    }
}
