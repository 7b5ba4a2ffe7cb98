//! The clinic page's session: an HttpOnly cookie holding the API's own
//! token pair (renewed with the refresh token when the access token has
//! expired) and a random CSRF token, plus the checks every form POST passes.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use dorsal_service::access::Actor;
use dorsal_service::auth::TokenPair;
use dorsal_service::{AuthFailure, ServiceError, ServiceResult};

use super::cookies::{self, COOKIE, LOGIN_COOKIE, cookie, set_cookie};
use super::error::PageError;
use super::pages::{self, respond, see_other};
use crate::state::AppState;

/// A session ends this long after its tokens were last renewed, i.e. after
/// about this long unused (in use they are renewed every 15 minutes).
const SESSION_MAX_AGE_SECONDS: u64 = 12 * 3600;
const LOGIN_MAX_AGE_SECONDS: u64 = 3600;

/// The contents of the session cookie: `<csrf>.<refresh>.<access>`. The
/// first two are base64url (no dots); the access token is a JWT.
#[derive(Debug)]
pub struct Tokens {
    /// The session's CSRF token; it stays the same across renewals.
    pub csrf: String,
    /// The refresh token of the API login behind this session.
    pub refresh: String,
    access: String,
}

impl Tokens {
    /// A new session for a fresh login, with a new CSRF token.
    pub fn new(pair: TokenPair) -> ServiceResult<Tokens> {
        Ok(Tokens {
            csrf: dorsal_service::secret::random_token()?,
            refresh: pair.refresh_token,
            access: pair.access_token,
        })
    }

    /// Reads the session cookie of a request, if it has a well-formed one.
    pub fn from_headers(headers: &HeaderMap) -> Option<Tokens> {
        let value = cookie(headers, COOKIE)?;
        let (csrf, rest) = value.split_once('.')?;
        let (refresh, access) = rest.split_once('.')?;
        if csrf.is_empty() || refresh.is_empty() || access.is_empty() {
            return None;
        }
        Some(Tokens {
            csrf: csrf.to_owned(),
            refresh: refresh.to_owned(),
            access: access.to_owned(),
        })
    }

    /// The `Set-Cookie` value that stores this session.
    pub fn set_cookie(&self) -> HeaderValue {
        let value = format!("{}.{}.{}", self.csrf, self.refresh, self.access);
        set_cookie(COOKIE, &value, SESSION_MAX_AGE_SECONDS)
    }
}

/// The sign-in form's CSRF token: the one in the login cookie, or a new one
/// (then the caller sets the cookie).
pub fn login_csrf(headers: &HeaderMap) -> ServiceResult<(String, HeaderValue)> {
    let token = match cookie(headers, LOGIN_COOKIE) {
        Some(token) if token.len() == 43 => token.to_owned(),
        _ => dorsal_service::secret::random_token()?,
    };
    let set = set_cookie(LOGIN_COOKIE, &token, LOGIN_MAX_AGE_SECONDS);
    Ok((token, set))
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether a POST comes from one of our own pages: the browser's
/// `Sec-Fetch-Site`, when sent, must be `same-origin`, and `Origin`, when
/// sent, must name the host the request was sent to. The CSRF token is
/// checked as well; these refuse a forged request before it is parsed.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && site.as_bytes() != b"same-origin"
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = origin.to_str().ok();
    match (origin, host) {
        (Some(origin), Some(host)) => origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .is_some_and(|rest| rest.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// Checks a form POST made within a session: our origin, and the session's
/// CSRF token in the form's `csrf` field.
pub fn check_post(
    headers: &HeaderMap,
    expected: &str,
    sent: Option<&str>,
) -> Result<(), PageError> {
    if same_origin(headers) && sent.is_some_and(|sent| same_token(sent, expected)) {
        Ok(())
    } else {
        Err(PageError::Csrf)
    }
}

/// A renewed session cookie, handed from the extractor to [`layer`] so it
/// reaches the browser with whatever response the request ends in (a
/// spent refresh token left in the browser would end the session).
#[derive(Debug, Clone, Default)]
struct Renewed(Arc<OnceLock<HeaderValue>>);

/// Whether the browser reached us over HTTPS: dorsal speaks plain HTTP
/// itself, so only a proxy we trust (`http.trust_forwarded_for`) can say
/// so, in the `X-Forwarded-Proto` entry it added last.
fn came_over_https(trust_proxy: bool, headers: &HeaderMap) -> bool {
    trust_proxy
        && headers
            .get_all("x-forwarded-proto")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// Sets the renewed session cookie; marks every cookie `Secure` when the
/// page came over HTTPS (and only then, so a clinic on a LAN host over
/// plain HTTP can still sign in); and on every clinic response sets the
/// headers that keep pages out of caches (the stylesheet excepted) and
/// frames, and scripts and other sites' styles out of pages.
pub async fn layer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response<Body> {
    let secure = came_over_https(state.config.http.trust_forwarded_for, request.headers());
    let renewed = Renewed::default();
    request.extensions_mut().insert(renewed.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A response that sets the session cookie itself (ending the session)
    // has the last word over a renewal made on the way in.
    let session_set = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(format!("{COOKIE}=").as_bytes()));
    if let Some(cookie) = renewed.0.get()
        && !session_set
    {
        headers.append(header::SET_COOKIE, cookie.clone());
    }
    if secure {
        let marked: Vec<HeaderValue> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|cookie| {
                let mut bytes = cookie.as_bytes().to_vec();
                bytes.extend_from_slice(b"; Secure");
                HeaderValue::from_bytes(&bytes).ok()
            })
            .collect();
        headers.remove(header::SET_COOKIE);
        for cookie in marked {
            headers.append(header::SET_COOKIE, cookie);
        }
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Page addresses carry patient ids; don't hand them to other sites.
    // (`no-referrer` would also turn our own forms' `Origin` into `null`.)
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A signed-in member of staff.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is signed in.
    pub actor: Actor,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
}

/// The session of a request, whatever its org's two-factor policy makes
/// of it; `None` without a working one.
async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<Session>, PageError> {
    let Some(tokens) = Tokens::from_headers(&parts.headers) else {
        return Ok(None);
    };
    let actor = match state.auth.authenticate(&state.db, &tokens.access).await {
        Ok(actor) => actor,
        // An erased or deactivated account is signed out.
        Err(ServiceError::Unauthenticated(
            AuthFailure::AccountGone | AuthFailure::AccountInactive,
        )) => return Ok(None),
        // Expired (or signed with a retired key): the refresh token is
        // the credential that renews it, as it would for an app.
        Err(ServiceError::Unauthenticated(_)) => {
            match state.auth.refresh(&state.db, &tokens.refresh).await {
                Ok(pair) => {
                    let actor = state
                        .auth
                        .authenticate(&state.db, &pair.access_token)
                        .await?;
                    let renewed = Tokens {
                        csrf: tokens.csrf.clone(),
                        refresh: pair.refresh_token,
                        access: pair.access_token,
                    };
                    if let Some(slot) = parts.extensions.get::<Renewed>() {
                        slot.0.set(renewed.set_cookie()).ok();
                    }
                    actor
                }
                Err(ServiceError::Unauthenticated(_)) => return Ok(None),
                Err(other) => return Err(other.into()),
            }
        }
        Err(other) => return Err(other.into()),
    };
    tracing::Span::current().record("user_id", tracing::field::display(actor.user_id));
    Ok(Some(Session {
        actor,
        csrf: tokens.csrf,
    }))
}

impl OptionalFromRequestParts<AppState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        let session = resolve(parts, state).await?;
        if session
            .as_ref()
            .is_some_and(|session| session.actor.totp_enrolment_required)
        {
            // The org requires two-factor sign-in (from the sign-in on, or
            // since it came to during the session) and it is not on: the
            // session reaches only its enrolment until it is.
            return Err(PageError::Service(ServiceError::TotpEnrolmentRequired));
        }
        Ok(session)
    }
}

/// A session on the way to turning on two-factor sign-in: like
/// [`Session`], but also one whose org requires it before anything else
/// (`actor.totp_enrolment_required`), which only the enrolment pages take.
#[derive(Debug, Clone)]
pub struct Enrolling(pub Session);

impl FromRequestParts<AppState> for Enrolling {
    type Rejection = Response<Body>;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match resolve(parts, state).await {
            Ok(Some(session)) => Ok(Enrolling(session)),
            Ok(None) => Err(signed_out(&parts.method, &parts.headers)),
            Err(err) => Err(err.into_response()),
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response<Body>;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match <Session as OptionalFromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
        {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(signed_out(&parts.method, &parts.headers)),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// A link from another site arrives without the SameSite=Strict cookie; a
/// page that reloads itself gets it sent.
pub(super) fn arrived_from_another_site(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::GET
        && cookies::cookie(headers, COOKIE).is_none()
        && headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site")
}

/// Answers for requests the session extractor turned away: a link from
/// another site gets the self-reloading page, anything else the sign-in
/// form (clearing a session cookie that no longer works).
fn signed_out(method: &Method, headers: &HeaderMap) -> Response<Body> {
    if arrived_from_another_site(method, headers) {
        return respond(StatusCode::OK, pages::bounce());
    }
    let mut response = see_other("/clinic");
    if cookies::cookie(headers, COOKIE).is_some() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::clear_cookie(COOKIE));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_saying_https_last_makes_cookies_secure() {
        for (trust, protos, expected) in [
            (true, &["https"][..], true),
            (true, &["HTTPS"], true),
            (true, &["http, https"], true),
            (true, &["https", "http"], false),
            (true, &["https, http"], false),
            (true, &[], false),
            (true, &["http"], false),
            (false, &["https"], false),
        ] {
            let mut headers = HeaderMap::new();
            for proto in protos {
                headers.append("x-forwarded-proto", HeaderValue::from_static(proto));
            }
            assert_eq!(
                came_over_https(trust, &headers),
                expected,
                "{trust} {protos:?}"
            );
        }
    }
}
