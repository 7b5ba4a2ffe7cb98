//! One error type for every failure the API can answer with, rendered as
//! RFC 9457 `application/problem+json` with a stable snake_case `code`.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dorsal_domain::Violations;
use dorsal_service::db::Outage;
use dorsal_service::{AuthFailure, ServiceError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A failed request, as the API reports it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Raised by the application layer.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The body is not JSON, or not valid JSON.
    #[error("malformed body")]
    MalformedBody(String),
    /// The body is JSON of the wrong shape; the violations say where.
    #[error("invalid body")]
    InvalidBody(Violations),
    /// The body is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is larger than the configured limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The query string could not be read.
    #[error("invalid query")]
    InvalidQuery(String),
    /// No route matches, or a path parameter cannot name anything.
    #[error("not found")]
    RouteNotFound,
    /// A plain HTTP error produced outside a handler (e.g. 405, 408).
    #[error("http {0}")]
    Status(StatusCode),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI reference naming the kind of problem; stable.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong this time, for a person.
    pub detail: String,
    /// Stable snake_case code, the same as the last segment of `type`.
    pub code: String,
    /// Per-field errors of a 422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With a 426: the lowest schema version still served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_schema_version: Option<u32>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer to the field, e.g. `/email`.
    pub pointer: String,
    /// What is wrong with it.
    pub detail: String,
}

struct Parts {
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    retry_after: Option<u64>,
    bearer_error: Option<&'static str>,
    min_schema_version: Option<u32>,
}

impl Parts {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            bearer_error: None,
            min_schema_version: None,
        }
    }
}

fn unauthenticated(failure: AuthFailure) -> Parts {
    let (code, detail, bearer_error) = match failure {
        AuthFailure::InvalidCredentials => {
            ("invalid_credentials", "email or password is wrong", None)
        }
        AuthFailure::MissingToken => (
            "missing_token",
            "this endpoint needs an Authorization: Bearer token",
            None,
        ),
        AuthFailure::InvalidToken => (
            "invalid_token",
            "the access token is not valid",
            Some("invalid_token"),
        ),
        AuthFailure::TokenExpired => (
            "token_expired",
            "the access token has expired; refresh it",
            Some("invalid_token"),
        ),
        AuthFailure::InvalidRefreshToken => (
            "invalid_refresh_token",
            "the refresh token is not valid; log in again",
            None,
        ),
        AuthFailure::RefreshTokenReused => (
            "refresh_token_reused",
            "the refresh token was already used; every session of this login is ended",
            None,
        ),
        AuthFailure::AccountGone => ("account_gone", "this account no longer exists", None),
        AuthFailure::AccountInactive => (
            "account_inactive",
            "this account has been deactivated",
            None,
        ),
        AuthFailure::TotpRequired => (
            "totp_required",
            "this account signs in with a second factor: send `totp`, the code from the \
             authenticator app or an unused recovery code",
            None,
        ),
    };
    let mut parts = Parts::new(StatusCode::UNAUTHORIZED, code, detail);
    parts.bearer_error = bearer_error;
    parts
}

/// The HTTP status of each service error: the one table, for the API's
/// problem documents and the clinic's pages alike.
pub fn status_of(err: &ServiceError) -> StatusCode {
    match err {
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Forbidden | ServiceError::TotpEnrolmentRequired => StatusCode::FORBIDDEN,
        ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        ServiceError::Gone { .. } => StatusCode::GONE,
        ServiceError::InvalidTotp | ServiceError::Malformed { .. } => StatusCode::BAD_REQUEST,
        ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        ServiceError::UpgradeRequired { .. } => StatusCode::UPGRADE_REQUIRED,
        ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn field_errors(violations: &Violations) -> Vec<FieldError> {
    violations
        .iter()
        .map(|v| FieldError {
            pointer: v.pointer.clone(),
            detail: v.detail.clone(),
        })
        .collect()
}

fn status_parts(status: StatusCode) -> Parts {
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "bad_request",
    };
    let detail = status
        .canonical_reason()
        .unwrap_or("request failed")
        .to_owned();
    let mut parts = Parts::new(status, code, detail);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        parts.retry_after = Some(1);
    }
    parts
}

/// A database outage: 503, with a code and a wait that say which, so a
/// device keeps its entries and knows when to try again.
fn outage_parts(outage: Outage) -> Parts {
    let (code, detail, retry_after) = match outage {
        Outage::Unreachable | Outage::Busy => (
            "unavailable",
            "the service is briefly unavailable; nothing was changed, try again",
            1,
        ),
        Outage::StorageFull => (
            "storage_full",
            "the server's storage is full, so nothing was saved; keep the data and try again later",
            60,
        ),
        Outage::ReadOnly => (
            "storage_read_only",
            "the server cannot save changes right now, so nothing was saved; keep the data and try again later",
            60,
        ),
    };
    let mut parts = Parts::new(StatusCode::SERVICE_UNAVAILABLE, code, detail);
    parts.retry_after = Some(retry_after);
    parts
}

impl ApiError {
    fn parts(&self) -> Parts {
        match self {
            ApiError::Service(err) => {
                let status = status_of(err);
                match err {
                    ServiceError::NotFound(what) => {
                        Parts::new(status, "not_found", format!("{what} not found"))
                    }
                    ServiceError::Forbidden => {
                        Parts::new(status, "forbidden", "your role does not allow this")
                    }
                    ServiceError::TotpEnrolmentRequired => Parts::new(
                        status,
                        "totp_enrolment_required",
                        "your org requires two-factor sign-in: until you turn it on \
                     (POST /v1/me/totp) this token reaches only /v1/me",
                    ),
                    ServiceError::InvalidTotp => Parts::new(
                        status,
                        "invalid_totp",
                        "the code is wrong or was already used",
                    ),
                    ServiceError::Unauthenticated(failure) => unauthenticated(*failure),
                    ServiceError::Invalid(violations) => {
                        let mut parts =
                            Parts::new(status, "validation_failed", "some fields are invalid");
                        parts.errors = field_errors(violations);
                        parts
                    }
                    ServiceError::Conflict { code, detail } => Parts::new(status, code, *detail),
                    ServiceError::Gone { code, detail } => Parts::new(status, code, *detail),
                    ServiceError::Malformed { code, detail } => {
                        Parts::new(status, code, detail.as_str())
                    }
                    ServiceError::TooLarge(detail) => {
                        Parts::new(status, "payload_too_large", *detail)
                    }
                    ServiceError::UpgradeRequired { min_schema_version } => {
                        let mut parts = Parts::new(
                            status,
                            "upgrade_required",
                            format!(
                                "this app is too old to sync; update it (schema {min_schema_version} or later)"
                            ),
                        );
                        parts.min_schema_version = Some(*min_schema_version);
                        parts
                    }
                    ServiceError::RateLimited { retry_after_secs } => {
                        let mut parts = Parts::new(
                            status,
                            "rate_limited",
                            format!("too many attempts; try again in {retry_after_secs} s"),
                        );
                        parts.retry_after = Some(*retry_after_secs);
                        parts
                    }
                    ServiceError::Unavailable(outage, _) => outage_parts(*outage),
                    ServiceError::Internal(_) => status_parts(status),
                }
            }
            ApiError::MalformedBody(detail) => {
                Parts::new(StatusCode::BAD_REQUEST, "malformed_body", detail.as_str())
            }
            ApiError::InvalidBody(violations) => {
                let mut parts = Parts::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    "the body does not have the expected shape",
                );
                parts.errors = field_errors(violations);
                parts
            }
            ApiError::UnsupportedMediaType => Parts::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ),
            ApiError::PayloadTooLarge => Parts::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the body is larger than this server accepts",
            ),
            ApiError::InvalidQuery(detail) => {
                Parts::new(StatusCode::BAD_REQUEST, "invalid_query", detail.as_str())
            }
            ApiError::RouteNotFound => {
                Parts::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
            }
            ApiError::Status(status) => status_parts(*status),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let parts = self.parts();
        let problem = Problem {
            kind: format!("/problems/{}", parts.code),
            title: parts
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_owned(),
            status: parts.status.as_u16(),
            detail: parts.detail,
            code: parts.code.to_owned(),
            errors: parts.errors,
            min_schema_version: parts.min_schema_version,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (parts.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = parts.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if parts.status == StatusCode::UNAUTHORIZED {
            let challenge = match parts.bearer_error {
                Some(error) => format!("Bearer error=\"{error}\""),
                None => "Bearer".to_owned(),
            };
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let ApiError::Service(err) = self {
            ServerFault::attach(&mut response, err);
        }
        response
    }
}

/// The cause of a 5xx answer, carried on the response to the one
/// middleware that logs it, [`log_server_errors`]: a handler renders the
/// answer, the middleware says why, once.
#[derive(Debug, Clone)]
pub struct ServerFault(Arc<ServiceError>);

impl ServerFault {
    /// Carries `err` on `response` when the response is a 5xx (the
    /// client's own errors are not the server's faults and are not logged).
    pub fn attach<B>(response: &mut axum::http::Response<B>, err: ServiceError) {
        if response.status().is_server_error() {
            response.extensions_mut().insert(ServerFault(Arc::new(err)));
        }
    }
}

/// Logs every 5xx answer once, with the cause a handler left on it. An
/// outage the service rides out (an unreachable or busy database) is a
/// warning; one an operator must act on (a full or read-only disk), a
/// bug, a panic or a broken dependency is an error.
pub async fn log_server_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !status.is_server_error() {
        return response;
    }
    let status = status.as_u16();
    match response.extensions().get::<ServerFault>().map(|f| &*f.0) {
        Some(ServiceError::Unavailable(outage @ (Outage::Unreachable | Outage::Busy), err)) => {
            tracing::warn!(status, ?outage, error = %err, "database unavailable");
        }
        Some(ServiceError::Unavailable(Outage::StorageFull, err)) => {
            tracing::error!(status, error = %err, "database storage is full; writes are refused");
        }
        Some(ServiceError::Unavailable(Outage::ReadOnly, err)) => {
            tracing::error!(status, error = %err, "database is read-only; writes are refused");
        }
        // The fault's words name what was being done, where, and the
        // error behind it.
        Some(ServiceError::Internal(fault)) => {
            tracing::error!(status, error = %fault, "internal error")
        }
        Some(other) => tracing::error!(status, error = %other, "server error"),
        // A 503 made without a service error (readiness) said why where it
        // was made.
        None if status == 503 => {}
        None => tracing::error!(status, "server error without a recorded cause"),
    }
    response
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
