//! The `Idempotency-Key` header of a push: absent, or 1–255 visible ASCII
//! characters; anything else answers 400 `invalid_idempotency_key`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use dorsal_service::ServiceError;

use crate::error::ApiError;

/// The longest key a device may send.
const IDEMPOTENCY_KEY_MAX: usize = 255;

/// The request's `Idempotency-Key`, when it has one.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key").map(|v| v.to_str()) {
            None => Ok(IdempotencyKey(None)),
            Some(Ok(key)) if !key.is_empty() && key.len() <= IDEMPOTENCY_KEY_MAX => {
                Ok(IdempotencyKey(Some(key.to_owned())))
            }
            Some(_) => Err(ApiError::Service(ServiceError::Malformed {
                code: "invalid_idempotency_key",
                detail: "Idempotency-Key must be 1-255 visible ASCII characters".into(),
            })),
        }
    }
}
