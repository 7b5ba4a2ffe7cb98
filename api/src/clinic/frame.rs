//! The frame every signed-in clinic page is rendered in (the header with
//! the member of staff's name and role), and the sign-in form.

use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode, header};
use dorsal_service::users;

use super::cookies::{self, COOKIE};
use super::error::PageError;
use super::pages::{self, Chrome, respond};
use super::session::{self, Session};
use crate::state::AppState;

/// What a page handler answers: the page, or why there is none.
pub(super) type Page = Result<Response<Body>, PageError>;

/// The header of every page, for the signed-in member of staff.
async fn chrome_of(state: &AppState, session: &Session) -> Result<(String, String), PageError> {
    let account = users::me(&state.db, session.actor).await?;
    Ok((account.display_name, account.role))
}

/// Renders `body` inside the signed-in page frame.
pub(super) async fn framed(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    body: impl FnOnce(&Chrome<'_>) -> maud::Markup,
) -> Page {
    let (name, role) = chrome_of(state, session).await?;
    let chrome = Chrome {
        name: &name,
        role: &role,
        csrf: &session.csrf,
    };
    Ok(respond(status, body(&chrome)))
}

/// The sign-in form (with `message`), setting the form's CSRF cookie and
/// dropping a session cookie that no longer works.
pub(super) fn sign_in_form(headers: &HeaderMap, status: StatusCode, message: Option<&str>) -> Page {
    let (csrf, login_cookie) = session::login_csrf(headers)?;
    let mut response = respond(status, pages::sign_in(&csrf, message));
    let set = response.headers_mut();
    set.append(header::SET_COOKIE, login_cookie);
    if cookies::cookie(headers, COOKIE).is_some() {
        set.append(header::SET_COOKIE, cookies::clear_cookie(COOKIE));
    }
    Ok(response)
}
