//! Our own extractors: every rejection becomes an [`ApiError`], so even a
//! malformed body or a bad path answers with problem+json.

mod auth;
mod idempotency;
mod json;

pub use auth::{ClientAddr, CurrentUser};
pub use idempotency::IdempotencyKey;
pub use json::{Json, PushBody};

use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `axum::extract::Query` answering problem+json on a bad query string.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection: QueryRejection| ApiError::InvalidQuery(rejection.body_text()))
    }
}

/// `axum::extract::Path` answering 404 when a segment cannot name anything
/// (an id that is not a UUID names no resource).
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|_: PathRejection| ApiError::RouteNotFound)
    }
}

/// The language the client reads first, from `Accept-Language`: the
/// primary subtag of its first range (`es-MX;q=0.9` → `es`), lowercased;
/// `en` when there is none. The catalogs fall back to English per message
/// for a language they lack.
#[derive(Debug, Clone)]
pub struct PreferredLanguage(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PreferredLanguage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let first = parts
            .headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .and_then(|range| range.split(';').next())
            .and_then(|tag| tag.trim().split('-').next())
            .filter(|primary| {
                (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic())
            })
            .map(str::to_ascii_lowercase);
        Ok(PreferredLanguage(first.unwrap_or_else(|| "en".to_owned())))
    }
}
