//! `/clinic` pages for one's own account (SPEC §10, §11): resetting a
//! forgotten password before signing in, and turning two-factor sign-in
//! on and off, including straight after signing in when the org requires
//! it and it is not on yet.
//!
//! Each handler makes the same service call as its REST route
//! (`/v1/auth/password-reset*`, `/v1/me/totp*`), so the limits, the
//! answers that reveal nothing about accounts and the audit are theirs.
//! The forms sent before signing in carry the sign-in form's CSRF token
//! (its cookie) and pass the same origin check. Secrets (the TOTP secret,
//! recovery codes) appear only on the answer to the POST that made them;
//! codes and passwords are never put back into a page or a log.

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use dorsal_service::recovery::{self, Mailroom};
use dorsal_service::{ServiceError, totp, users};
use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::cookies::{self, COOKIE, LOGIN_COOKIE};
use super::error::PageError;
use super::frame::{Page, framed, sign_in_form};
use super::pages::{Chrome, ENROLMENT, csrf_field, document, qr_svg, respond, see_other};
use super::session::{self, Enrolling, Session, Tokens};
use crate::error::status_of;
use crate::extract::{ClientAddr, PreferredLanguage};
use crate::state::AppState;

/// The page where two-factor sign-in is turned on; the only one a session
/// reaches while its org requires it and it is not on.
const ACCOUNT: &str = "/clinic/account";
const RESET: &str = "/clinic/password-reset";
const RESET_CONFIRM: &str = "/clinic/password-reset/confirm";
const ENROLMENT_CONFIRM: &str = "/clinic/account/two-factor/confirm";
const TURN_OFF: &str = "/clinic/account/two-factor/off";

/// The account pages' routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(RESET, get(reset_page).post(request_reset))
        .route(RESET_CONFIRM, get(reset_confirm_page).post(confirm_reset))
        .route(ACCOUNT, get(account_page))
        .route(ENROLMENT, get(enrolment_page).post(start_enrolment))
        .route(ENROLMENT_CONFIRM, post(confirm_enrolment))
        .route(TURN_OFF, get(turn_off_page).post(turn_off))
}

// ---------------------------------------------------------------------------
// Password reset, before signing in

#[derive(Debug, Default, Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    new_password: String,
}

/// Whether a form sent without a session comes from our own page: the
/// sign-in form's check (its CSRF cookie, our origin).
fn from_our_page(headers: &HeaderMap, sent: &str) -> bool {
    let expected = cookies::cookie(headers, LOGIN_COOKIE).unwrap_or_default();
    !expected.is_empty() && session::same_origin(headers) && session::same_token(sent, expected)
}

/// What to say when [`from_our_page`] refused a form.
const EXPIRED: &str = "The form had expired. Please send it again.";

/// A page with a form sent before signing in, setting the CSRF cookie its
/// token is checked against.
fn pre_session(headers: &HeaderMap, status: StatusCode, page: impl FnOnce(&str) -> Markup) -> Page {
    let (csrf, cookie) = session::login_csrf(headers)?;
    let mut response = respond(status, page(&csrf));
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

fn message(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text { p .message role="alert" { (text) } }
    }
}

/// The form that asks for a code.
fn reset_request_markup(csrf: &str, email: &str, problem: Option<&str>) -> Markup {
    document(
        "Reset your password",
        None,
        html! {
            div .signin .card {
                h1 { "Reset your password" }
                p {
                    "Enter the email address you sign in with. If it has an account, "
                    "we email it a code to set a new password."
                }
                (message(problem))
                form method="post" action=(RESET) {
                    (csrf_field(csrf))
                    label for="email" { "Email" }
                    input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                    div .buttons { button .primary type="submit" { "Email me a code" } }
                }
                p { a href="/clinic" { "Back to sign in" } }
            }
        },
    )
}

/// The form that takes the emailed code and a new password.
fn reset_confirm_form(csrf: &str, email: &str, code: &str) -> Markup {
    html! {
        form method="post" action=(RESET_CONFIRM) {
            (csrf_field(csrf))
            label for="email" { "Email" }
            input #email type="email" name="email" value=(email) autocomplete="username" required;
            label for="code" { "Code from the email" }
            input #code type="text" name="code" value=(code) autocomplete="one-time-code" inputmode="numeric" spellcheck="false" required;
            label for="new_password" { "New password (at least 10 characters)" }
            input #new_password type="password" name="new_password" autocomplete="new-password" minlength="10" required;
            div .buttons { button .primary type="submit" { "Set the new password" } }
        }
    }
}

fn reset_confirm_markup(csrf: &str, form: &ResetForm, problem: Option<&str>) -> Markup {
    document(
        "Set a new password",
        None,
        html! {
            div .signin .card {
                h1 { "Set a new password" }
                p { "Enter the code we emailed you and choose a new password." }
                (message(problem))
                (reset_confirm_form(csrf, &form.email, &form.code))
                p { a href=(RESET) { "Ask for a new code" } " · " a href="/clinic" { "Back to sign in" } }
            }
        },
    )
}

async fn reset_page(headers: HeaderMap) -> Page {
    pre_session(&headers, StatusCode::OK, |csrf| {
        reset_request_markup(csrf, "", None)
    })
}

async fn reset_confirm_page(headers: HeaderMap) -> Page {
    pre_session(&headers, StatusCode::OK, |csrf| {
        reset_confirm_markup(csrf, &ResetForm::default(), None)
    })
}

/// `429` with `Retry-After`.
fn rate_limited(mut response: axum::response::Response, retry_after_secs: u64) -> Page {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    Ok(response)
}

async fn request_reset(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    PreferredLanguage(language): PreferredLanguage,
    headers: HeaderMap,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Page {
    let form = form.map(|Form(form)| form).unwrap_or_default();
    if !from_our_page(&headers, &form.csrf) {
        return pre_session(&headers, StatusCode::FORBIDDEN, |csrf| {
            reset_request_markup(csrf, &form.email, Some(EXPIRED))
        });
    }
    let mailroom = Mailroom {
        db: state.db.clone(),
        auth: state.auth.clone(),
        keys: state.data_keys.clone(),
        nudges: state.nudges.clone(),
    };
    match recovery::request(&mailroom, &form.email, &language, address).await {
        // The same page whether or not the email has an account.
        Ok(()) => {
            let minutes = state.config.auth.reset_code_minutes;
            pre_session(&headers, StatusCode::OK, |csrf| {
                document(
                    "Check your email",
                    None,
                    html! {
                        div .signin .card {
                            h1 { "Check your email" }
                            p .message role="status" {
                                "If " strong { (form.email) } " has an account, we have emailed it "
                                "a code. It works once, for " (minutes) " minutes."
                            }
                            (reset_confirm_form(csrf, &form.email, ""))
                            p .meta {
                                "Closed this page? Enter the code at "
                                a href=(RESET_CONFIRM) { "the new password page" } "."
                            }
                        }
                    },
                )
            })
        }
        Err(err @ ServiceError::Invalid(_)) => pre_session(&headers, status_of(&err), |csrf| {
            reset_request_markup(
                csrf,
                &form.email,
                Some("Enter an email address, like name@example.org."),
            )
        }),
        Err(err @ ServiceError::RateLimited { retry_after_secs }) => {
            let text = format!("Too many codes were asked for. Try again in {retry_after_secs} s.");
            let response = pre_session(&headers, status_of(&err), |csrf| {
                reset_request_markup(csrf, &form.email, Some(&text))
            })?;
            rate_limited(response, retry_after_secs)
        }
        Err(other) => Err(other.into()),
    }
}

async fn confirm_reset(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Page {
    let form = form.map(|Form(form)| form).unwrap_or_default();
    let again = |status: StatusCode, problem: &str| {
        pre_session(&headers, status, |csrf| {
            reset_confirm_markup(csrf, &form, Some(problem))
        })
    };
    if !from_our_page(&headers, &form.csrf) {
        return again(StatusCode::FORBIDDEN, EXPIRED);
    }
    match recovery::confirm(
        &state.db,
        &state.auth,
        &form.email,
        &form.code,
        &form.new_password,
        address,
    )
    .await
    {
        Ok(()) => sign_in_form(
            &headers,
            StatusCode::OK,
            Some("Your password was changed. Sign in with the new one."),
        ),
        Err(
            err @ ServiceError::Malformed {
                code: "invalid_reset_code",
                ..
            },
        ) => again(
            status_of(&err),
            "That code is wrong, used or expired. Check the email, or ask for a new code.",
        ),
        Err(ref err @ ServiceError::Invalid(ref violations)) => {
            let said = violations
                .iter()
                .map(|v| match v.pointer.as_str() {
                    "/new_password" => format!("The new password {}.", v.detail),
                    other => format!("{} {}.", other.trim_start_matches('/'), v.detail),
                })
                .collect::<Vec<_>>()
                .join(" ");
            again(status_of(err), &said)
        }
        Err(err @ ServiceError::RateLimited { retry_after_secs }) => rate_limited(
            again(
                status_of(&err),
                &format!("Too many attempts. Try again in {retry_after_secs} s."),
            )?,
            retry_after_secs,
        ),
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------
// The account page and two-factor sign-in

#[derive(Debug, Default, Deserialize)]
struct CodeForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
}

/// The form of a POST made within a session, once its origin and CSRF
/// token are checked; one that cannot be read is refused like a forged one.
fn accept(
    headers: &HeaderMap,
    session: &Session,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Result<CodeForm, PageError> {
    if !session::same_origin(headers) {
        return Err(PageError::Csrf);
    }
    let Ok(Form(form)) = form else {
        return Err(PageError::Csrf);
    };
    session::check_post(headers, &session.csrf, form.csrf.as_deref())?;
    Ok(form)
}

/// A page of the account: in the usual frame, or, for a session that must
/// enrol first, without the links it cannot follow and with a way out.
async fn own_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> Page {
    if session.actor.totp_enrolment_required {
        let body = html! {
            (body)
            form method="post" action="/clinic/logout" {
                (csrf_field(&session.csrf))
                div .buttons { button type="submit" { "Sign out" } }
            }
        };
        return Ok(respond(status, document(title, None, body)));
    }
    framed(state, session, status, |chrome| {
        document(title, Some(chrome), body)
    })
    .await
}

fn code_field(label: &str) -> Markup {
    html! {
        label for="code" { (label) }
        input #code type="text" name="code" autocomplete="one-time-code" inputmode="numeric" spellcheck="false" required autofocus;
    }
}

async fn account_page(State(state): State<AppState>, session: Session) -> Page {
    let account = users::me(&state.db, session.actor).await?;
    let on = totp::is_enabled(&state.db, session.actor).await?;
    let chrome = Chrome {
        name: &account.display_name,
        role: &account.role,
        csrf: &session.csrf,
    };
    let body = html! {
        h1 { "Your account" }
        div .card {
            div .table-wrap {
                table {
                    tbody {
                        tr { th scope="row" { "Name" } td { (account.display_name) } }
                        tr { th scope="row" { "Email" } td { (account.email) } }
                        tr { th scope="row" { "Role" } td { (account.role) } }
                        tr {
                            th scope="row" { "Two-factor sign-in" }
                            td #two-factor { @if on { "On" } @else { "Off" } }
                        }
                    }
                }
            }
        }
        h2 { "Two-factor sign-in" }
        div .card {
            @if on {
                p {
                    "Signing in takes your password and a code from your authenticator app "
                    "(or one of your recovery codes)."
                }
                p { a href=(TURN_OFF) { "Turn off two-factor sign-in…" } }
            } @else {
                p {
                    "With two-factor sign-in, signing in also takes a code from an "
                    "authenticator app on your phone, so a password alone is not enough."
                }
                form method="post" action=(ENROLMENT) {
                    (csrf_field(&session.csrf))
                    div .buttons { button .primary type="submit" { "Turn on two-factor sign-in" } }
                }
            }
        }
        p .meta {
            "To change your password, sign out and use “Forgot your password?” on the sign-in page."
        }
    };
    Ok(respond(
        StatusCode::OK,
        document("Your account", Some(&chrome), body),
    ))
}

/// The start of enrolment: what it is, and the button that makes a secret.
async fn enrolment_page(State(state): State<AppState>, Enrolling(session): Enrolling) -> Page {
    if totp::is_enabled(&state.db, session.actor).await? {
        return Ok(see_other(ACCOUNT));
    }
    let required = session.actor.totp_enrolment_required;
    let body = html! {
        div .card {
            h1 { "Turn on two-factor sign-in" }
            @if required {
                p .message role="status" {
                    "Your clinic requires a code from an authenticator app at every sign-in. "
                    "Turn it on now to use the clinic pages."
                }
            }
            p {
                "You need an authenticator app on your phone (for example Google Authenticator, "
                "Microsoft Authenticator, 1Password or FreeOTP). The next page shows a QR code "
                "to scan with it."
            }
            form method="post" action=(ENROLMENT) {
                (csrf_field(&session.csrf))
                div .buttons { button .primary type="submit" { "Show the QR code" } }
            }
            @if !required { p { a href=(ACCOUNT) { "Back to your account" } } }
        }
    };
    own_page(
        &state,
        &session,
        StatusCode::OK,
        "Turn on two-factor sign-in",
        body,
    )
    .await
}

/// The confirmation form: a code from the app, or starting again.
fn confirm_enrolment_form(csrf: &str) -> Markup {
    html! {
        form method="post" action=(ENROLMENT_CONFIRM) {
            (csrf_field(csrf))
            (code_field("Code from your authenticator app"))
            div .buttons { button .primary type="submit" { "Turn on" } }
        }
    }
}

async fn start_enrolment(
    State(state): State<AppState>,
    Enrolling(session): Enrolling,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Page {
    accept(&headers, &session, form)?;
    let enrolment = match totp::start_enrolment(&state.db, &state.data_keys, session.actor).await {
        Ok(enrolment) => enrolment,
        Err(ServiceError::Conflict {
            code: "totp_enabled",
            ..
        }) => return Ok(see_other(ACCOUNT)),
        Err(other) => return Err(other.into()),
    };
    let qr = qr_svg(
        enrolment.otpauth_uri.expose_secret(),
        "totp-qr",
        "QR code that adds your dorsal account to an authenticator app",
    )?;
    tracing::info!(user_id = %session.actor.user_id, "two-factor enrolment started from the clinic page");
    let body = html! {
        h1 { "Turn on two-factor sign-in" }
        div .card {
            h2 { "1. Add dorsal to your authenticator app" }
            p { "Scan this QR code with the app." }
            div .qr { (qr) }
            p {
                "Can't scan it? Add an account by hand (time-based) with this key:"
            }
            p { code #totp-secret .secret { (enrolment.secret.expose_secret()) } }
            p .meta { "This key is shown only on this page. Don't share it." }
        }
        div .card {
            h2 { "2. Enter the code the app shows" }
            (confirm_enrolment_form(&session.csrf))
        }
    };
    own_page(
        &state,
        &session,
        StatusCode::OK,
        "Turn on two-factor sign-in",
        body,
    )
    .await
}

/// Where enrolment stands when a confirmation was refused: `problem`, and
/// the code field again or a way to start over (the secret is not shown
/// twice).
async fn enrolment_refused(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    problem: &str,
    code_again: bool,
) -> Page {
    let body = html! {
        h1 { "Turn on two-factor sign-in" }
        div .card {
            p .message role="alert" { (problem) }
            @if code_again { (confirm_enrolment_form(&session.csrf)) }
            p { "Or start again with a new QR code (remove the old dorsal entry from the app)." }
            form method="post" action=(ENROLMENT) {
                (csrf_field(&session.csrf))
                div .buttons { button type="submit" { "Start again" } }
            }
        }
    };
    own_page(state, session, status, "Turn on two-factor sign-in", body).await
}

fn recovery_codes(codes: &[SecretString]) -> Markup {
    html! {
        h2 { "Your recovery codes" }
        p {
            "If you lose your phone, each of these codes signs you in once instead of a code "
            "from the app. Keep them somewhere safe, away from your phone: they are not shown again."
        }
        ul #recovery-codes .codes {
            @for code in codes { li { code { (code.expose_secret()) } } }
        }
    }
}

async fn confirm_enrolment(
    State(state): State<AppState>,
    Enrolling(session): Enrolling,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Page {
    let form = accept(&headers, &session, form)?;
    let codes = match totp::confirm_enrolment(
        &state.db,
        &state.data_keys,
        session.actor,
        &form.code,
        state.clock.now_ms(),
    )
    .await
    {
        Ok(codes) => codes,
        Err(err @ ServiceError::InvalidTotp) => {
            return enrolment_refused(
                &state,
                &session,
                status_of(&err),
                "That code is wrong, so two-factor sign-in is still off. Check the app's \
                 clock and enter the code it shows now.",
                true,
            )
            .await;
        }
        Err(ServiceError::Conflict {
            code: "totp_enabled",
            ..
        }) => return Ok(see_other(ACCOUNT)),
        Err(err @ ServiceError::Conflict { .. }) => {
            return enrolment_refused(
                &state,
                &session,
                status_of(&err),
                "There is no QR code waiting for a code: start again.",
                false,
            )
            .await;
        }
        Err(other) => return Err(other.into()),
    };
    if session.actor.totp_enrolment_required {
        // This session was granted on the password alone; rather than
        // let it (and its 30-day refresh family) become a full one, it
        // ends, and the next sign-in takes the new second factor.
        if let Some(tokens) = Tokens::from_headers(&headers) {
            state.auth.logout(&state.db, &tokens.refresh).await?;
        }
        let body = html! {
            div .card {
                h1 { "Two-factor sign-in is on" }
                p .message role="status" {
                    "Now sign in again with your password and the next code your app shows."
                }
                (recovery_codes(&codes))
                p { a href="/clinic" { "Sign in" } }
            }
        };
        let mut response = respond(
            StatusCode::OK,
            document("Two-factor sign-in is on", None, body),
        );
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::clear_cookie(COOKIE));
        return Ok(response);
    }
    let body = html! {
        h1 { "Two-factor sign-in is on" }
        div .card {
            p .message role="status" {
                "From your next sign-in on, enter the code your app shows with your password."
            }
            (recovery_codes(&codes))
            p { a href=(ACCOUNT) { "Back to your account" } }
        }
    };
    own_page(
        &state,
        &session,
        StatusCode::OK,
        "Two-factor sign-in is on",
        body,
    )
    .await
}

fn turn_off_markup(chrome: &Chrome<'_>, problem: Option<&str>) -> Markup {
    document(
        "Turn off two-factor sign-in",
        Some(chrome),
        html! {
            h1 { "Turn off two-factor sign-in?" }
            div .card {
                p {
                    "Signing in will take only your password again, and your recovery codes "
                    "stop working. If your clinic requires two-factor sign-in, you will have to "
                    "turn it on again before using the clinic pages."
                }
                (message(problem))
                div .buttons {
                    form method="post" action=(TURN_OFF) {
                        (csrf_field(chrome.csrf))
                        div {
                            (code_field("Code from your authenticator app, or a recovery code"))
                        }
                        button .primary type="submit" { "Turn off two-factor sign-in" }
                    }
                    a href=(ACCOUNT) { "Cancel" }
                }
            }
        },
    )
}

async fn turn_off_page(State(state): State<AppState>, session: Session) -> Page {
    framed(&state, &session, StatusCode::OK, |chrome| {
        turn_off_markup(chrome, None)
    })
    .await
}

async fn turn_off(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Page {
    let form = accept(&headers, &session, form)?;
    match totp::disable(
        &state.db,
        &state.data_keys,
        session.actor,
        &form.code,
        state.clock.now_ms(),
    )
    .await
    {
        Ok(()) => Ok(see_other(ACCOUNT)),
        Err(err @ ServiceError::InvalidTotp) => {
            framed(&state, &session, status_of(&err), |chrome| {
                turn_off_markup(
                    chrome,
                    Some("That code is wrong or was already used; two-factor sign-in is still on."),
                )
            })
            .await
        }
        Err(ServiceError::Conflict {
            code: "totp_not_enabled",
            ..
        }) => Ok(see_other(ACCOUNT)),
        Err(other) => Err(other.into()),
    }
}
