//! A JSON body extractor that tells a malformed body (400) from a body of
//! the wrong shape (422, with a pointer to the field), and refuses bodies
//! that are not JSON (415) or too large (413).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dorsal_domain::Violations;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::ApiError;

/// A JSON request body, or a JSON response.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

fn is_json(request: &Request) -> bool {
    let Some(value) = request.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Turns serde's path into an RFC 6901 pointer.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } => pointer.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => pointer.push_str(variant),
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

/// Parses a JSON document into `T`, classifying failures for the client.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let pointer = pointer(err.path());
        let inner = err.into_inner();
        match inner.classify() {
            Category::Data => {
                let mut violations = Violations::new();
                violations.add(pointer, inner.to_string());
                ApiError::InvalidBody(violations)
            }
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::MalformedBody(format!("the body is not valid JSON: {inner}"))
            }
        }
    })
}

/// The pointer of the first string (or key) in `value` holding a NUL.
fn nul_pointer(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let escape = |key: &str| key.replace('~', "~0").replace('/', "~1");
    match value {
        Value::String(s) if s.contains('\0') => Some(String::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_pointer(item).map(|rest| format!("/{i}{rest}"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(format!("/{}", escape(key)));
            }
            nul_pointer(item).map(|rest| format!("/{}{rest}", escape(key)))
        }),
        _ => None,
    }
}

/// Refuses a NUL character anywhere in the body: no text field takes one,
/// and PostgreSQL cannot store or even compare text holding one.
fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    // A NUL can only be written escaped; most bodies skip the parse below.
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let value: serde_json::Value = parse(bytes)?;
    match nul_pointer(&value) {
        None => Ok(()),
        Some(pointer) => {
            let mut violations = Violations::new();
            violations.add(pointer, "must not contain the NUL character");
            Err(ApiError::InvalidBody(violations))
        }
    }
}

/// The body of a JSON request, checked for media type and size.
async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    if !is_json(&request) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedBody("the body could not be read".to_owned())
            }
        })
}

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        refuse_nul(&bytes)?;
        parse(&bytes).map(Json)
    }
}

/// A sync push body as JSON, NUL characters and all: a push refuses the
/// one record holding a NUL and applies the rest, rather than refusing
/// the whole push (see `dorsal_domain::sync::record`).
#[derive(Debug, Clone)]
pub struct PushBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for PushBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(request, state).await?;
        parse(&bytes).map(PushBody)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
