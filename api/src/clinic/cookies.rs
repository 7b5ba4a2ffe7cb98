//! The clinic's cookies: their names, and reading, setting and clearing
//! one. Every clinic cookie is for `/clinic` only, HttpOnly and
//! SameSite=Strict.

use axum::http::{HeaderMap, HeaderValue, header};

/// The session cookie.
pub const COOKIE: &str = "dorsal_clinic";
/// The cookie that carries the sign-in form's CSRF token before there is a
/// session; a separate name, so showing the form never clobbers a session.
pub const LOGIN_COOKIE: &str = "dorsal_clinic_login";

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value for one of the clinic's cookies: only for
/// `/clinic`, never readable by scripts, never sent with a request another
/// site started. `session::layer` adds `Secure` when the page came over HTTPS.
pub fn set_cookie(name: &str, value: &str, max_age: u64) -> HeaderValue {
    let cookie =
        format!("{name}={value}; Path=/clinic; Max-Age={max_age}; HttpOnly; SameSite=Strict");
    // Every part is base64url, a JWT or fixed text, all valid header bytes.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that deletes cookie `name`.
pub fn clear_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", 0)
}
