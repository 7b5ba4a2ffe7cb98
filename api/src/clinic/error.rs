//! How a clinic request that does not get its page is answered: the
//! `PageError` each handler returns, and the HTML error page it renders,
//! with the status the API gives the same service error.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use dorsal_service::ServiceError;
use maud::html;
use uuid::Uuid;

use super::cookies::{COOKIE, clear_cookie};
use super::pages::{document, respond, see_other, totp_enrolment_required};

/// Why a clinic request did not get its page.
#[derive(Debug)]
pub enum PageError {
    /// No session, or it ended: back to the sign-in form.
    SignedOut,
    /// A form POST without our CSRF token, or from another site.
    Csrf,
    /// No such thing, or not one the caller's org may see.
    NotFound,
    /// A request we cannot read.
    BadRequest(&'static str),
    /// Raised by the application layer.
    Service(ServiceError),
}

impl From<ServiceError> for PageError {
    fn from(err: ServiceError) -> Self {
        PageError::Service(err)
    }
}

fn error_page(status: StatusCode, title: &str, detail: &str) -> Response<Body> {
    respond(
        status,
        document(
            title,
            None,
            html! {
                div .card {
                    h1 { (title) }
                    p { (detail) }
                    p { a href="/clinic/alerts" { "Alert inbox" } " · " a href="/clinic/patients" { "Patients" } }
                }
            },
        ),
    )
}

/// The page for a service error; a 5xx carries its cause to the
/// middleware that logs it.
fn service_error(err: ServiceError) -> Response<Body> {
    let mut response = service_error_page(&err);
    crate::error::ServerFault::attach(&mut response, err);
    response
}

fn service_error_page(err: &ServiceError) -> Response<Body> {
    // The status is the API's for the same error (one table).
    let code = crate::error::status_of(err);
    let status = |code| error_page(code, "Something went wrong", "Please try again.");
    match err {
        ServiceError::NotFound(_) => PageError::NotFound.into_response(),
        ServiceError::Forbidden => {
            error_page(code, "Not for your role", "Your role does not allow this.")
        }
        ServiceError::TotpEnrolmentRequired => totp_enrolment_required(),
        ServiceError::InvalidTotp => {
            error_page(code, "Wrong code", "The code is wrong or was already used.")
        }
        ServiceError::Unauthenticated(_) => PageError::SignedOut.into_response(),
        ServiceError::Invalid(violations) => {
            let detail = violations
                .iter()
                .map(|v| format!("{}: {}", v.pointer.trim_start_matches('/'), v.detail))
                .collect::<Vec<_>>()
                .join("; ");
            error_page(code, "Please check the form", &detail)
        }
        ServiceError::Conflict { detail, .. } => error_page(code, "Already done", detail),
        ServiceError::Gone { detail, .. } => error_page(code, "Gone", detail),
        ServiceError::Malformed { detail, .. } => error_page(code, "Bad request", detail),
        ServiceError::TooLarge(detail) => error_page(code, "Too large", detail),
        ServiceError::UpgradeRequired { .. } => status(code),
        ServiceError::RateLimited { retry_after_secs } => {
            let mut response = error_page(
                code,
                "Too many attempts",
                &format!("Try again in {retry_after_secs} s."),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            response
        }
        ServiceError::Unavailable(..) => {
            let mut response = error_page(
                code,
                "Briefly unavailable",
                "The service is briefly unavailable; reload the page in a moment.",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        ServiceError::Internal(_) => status(code),
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response<Body> {
        match self {
            PageError::SignedOut => {
                let mut response = see_other("/clinic");
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, clear_cookie(COOKIE));
                response
            }
            PageError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "Form not accepted",
                "This form could not be verified as coming from this page. Reload the page and try again.",
            ),
            PageError::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such alert or patient among your clinic's.",
            ),
            PageError::BadRequest(detail) => {
                error_page(StatusCode::BAD_REQUEST, "Bad request", detail)
            }
            PageError::Service(err) => service_error(err),
        }
    }
}

/// The id in a page address; anything that is not a UUID names nothing.
pub fn parse_id(raw: &str) -> Result<Uuid, PageError> {
    raw.parse().map_err(|_| PageError::NotFound)
}
