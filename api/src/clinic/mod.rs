//! `/clinic`: server-rendered HTML for staff — sign-in, the alert inbox,
//! the patient list and a patient's pain/sleep chart with their plan. It
//! stands on the same service calls as the API (access checks and audit
//! included) and is not part of the OpenAPI document.

mod account;
mod admin;
mod chart;
mod cookies;
mod error;
mod frame;
mod pages;
mod programs;
mod session;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use dorsal_domain::red_flags::Severity;
use dorsal_domain::role::Capability;
use dorsal_service::OrInternal;
use dorsal_service::access::patient_access;
use dorsal_service::alerts::{self, AlertStatus, InboxFilter};
use dorsal_service::auth::StaffSignIn;
use dorsal_service::page::{MAX_LIMIT, PageRequest};
use dorsal_service::reports::{self, Range};
use dorsal_service::{AuthFailure, ServiceError, care_team};
use serde::Deserialize;
use uuid::Uuid;

use self::cookies::LOGIN_COOKIE;
use self::error::PageError;
use self::frame::{Page, framed, sign_in_form};
use self::pages::{Inbox, PatientPage, respond, see_other};
use self::session::{Session, Tokens, arrived_from_another_site};
use crate::error::status_of;
use crate::extract::ClientAddr;
use crate::state::AppState;

/// Nights and days the patient page covers.
const REPORT_DAYS: i64 = 30;

/// Whether `path` is one of the clinic's pages (their HTML error pages are
/// meant for people and are left as they are).
pub fn owns(path: &str) -> bool {
    path == "/clinic" || path.starts_with("/clinic/")
}

/// The clinic routes.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/clinic", get(home))
        .route(pages::STYLESHEET, get(stylesheet))
        .route("/clinic/login", post(login))
        .route("/clinic/logout", post(logout))
        .route("/clinic/alerts", get(inbox))
        .route("/clinic/alerts/{id}/acknowledge", post(acknowledge))
        .route("/clinic/alerts/{id}/resolve", post(resolve))
        .route("/clinic/patients", get(patients))
        .route("/clinic/patients/{id}", get(patient))
        .merge(account::routes())
        .merge(admin::routes())
        .merge(programs::routes())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
}

/// The pages' stylesheet. Cached for an hour: a release that changes it
/// reaches every open page within that.
async fn stylesheet() -> Response<Body> {
    let mut response = pages::STYLE.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

async fn home(method: Method, headers: HeaderMap, session: Option<Session>) -> Page {
    if session.is_some() {
        return Ok(see_other("/clinic/alerts"));
    }
    if arrived_from_another_site(&method, &headers) {
        return Ok(respond(StatusCode::OK, pages::bounce()));
    }
    sign_in_form(&headers, StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: String,
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Page {
    let expected = cookies::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    let Ok(Form(form)) = form else {
        return Err(PageError::BadRequest("the sign-in form could not be read"));
    };
    if expected.is_empty()
        || !session::same_origin(&headers)
        || !session::same_token(&form.csrf, expected)
    {
        return sign_in_form(
            &headers,
            StatusCode::FORBIDDEN,
            Some("The sign-in form had expired. Please sign in again."),
        );
    }
    let signed_in = state
        .auth
        .staff_login(
            &state.db,
            &state.data_keys,
            &form.email,
            &form.password,
            Some(form.totp.as_str()),
            address,
        )
        .await;
    let (pair, enrolment_required) = match signed_in {
        Ok(StaffSignIn::Session {
            pair,
            enrolment_required,
        }) => (pair, enrolment_required),
        Ok(StaffSignIn::NotStaff) => {
            return Ok(respond(StatusCode::FORBIDDEN, pages::staff_only()));
        }
        Err(ServiceError::Unauthenticated(AuthFailure::TotpRequired)) => {
            return sign_in_form(
                &headers,
                StatusCode::OK,
                Some(
                    "Two-factor sign-in is on for this account: enter the code from your \
                     authenticator app (or a recovery code) with your password.",
                ),
            );
        }
        Err(ServiceError::Unauthenticated(_)) => {
            return sign_in_form(
                &headers,
                StatusCode::OK,
                Some("Email or password is wrong."),
            );
        }
        Err(err @ ServiceError::RateLimited { retry_after_secs }) => {
            let message = format!("Too many attempts. Try again in {retry_after_secs} s.");
            let mut response = sign_in_form(&headers, status_of(&err), Some(&message))?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return Ok(response);
        }
        Err(other) => return Err(other.into()),
    };
    let next = if enrolment_required {
        pages::ENROLMENT
    } else {
        "/clinic/alerts"
    };
    let tokens = Tokens::new(pair)?;
    let mut response = see_other(next);
    let set = response.headers_mut();
    set.append(header::SET_COOKIE, tokens.set_cookie());
    set.append(header::SET_COOKIE, cookies::clear_cookie(LOGIN_COOKIE));
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    csrf: Option<String>,
    #[serde(default)]
    note: String,
    /// The inbox filter the form was sent from, to return to.
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
}

impl ActionForm {
    /// The filtered inbox the form was sent from.
    fn back(&self) -> Result<InboxFilter, PageError> {
        InboxQuery {
            status: self.status.clone(),
            severity: self.severity.clone(),
        }
        .filter()
    }
}

/// The form of a POST made within a session, once its origin and CSRF
/// token are checked.
fn checked(
    headers: &HeaderMap,
    expected: &str,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<ActionForm, PageError> {
    if !session::same_origin(headers) {
        return Err(PageError::Csrf);
    }
    let Ok(Form(form)) = form else {
        return Err(PageError::Csrf);
    };
    session::check_post(headers, expected, form.csrf.as_deref())?;
    Ok(form)
}

/// Signing out ends the login behind the session (its refresh tokens);
/// it needs a working CSRF token but not a live access token.
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let Some(tokens) = Tokens::from_headers(&headers) else {
        return Ok(see_other("/clinic"));
    };
    checked(&headers, &tokens.csrf, form)?;
    state.auth.logout(&state.db, &tokens.refresh).await?;
    Ok(PageError::SignedOut.into_response())
}

#[derive(Debug, Deserialize)]
struct InboxQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
}

impl InboxQuery {
    /// The filters, read strictly: a value the form does not offer is a
    /// bad request, never quietly "all".
    fn filter(&self) -> Result<InboxFilter, PageError> {
        let status = match self.status.as_str() {
            "" | "all" => None,
            named => Some(named.parse::<AlertStatus>().map_err(|_| {
                PageError::BadRequest(
                    "The status filter must be all, open, acknowledged or resolved.",
                )
            })?),
        };
        let severity = match self.severity.as_str() {
            "" | "all" => None,
            named => Some(Severity::parse(named).ok_or(PageError::BadRequest(
                "The severity filter must be all, emergency, urgent or routine.",
            ))?),
        };
        Ok(InboxFilter { status, severity })
    }
}

async fn inbox(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<InboxQuery>, QueryRejection>,
) -> Page {
    let Ok(Query(query)) = query else {
        return Err(PageError::BadRequest("the page address is not valid"));
    };
    let filter = query.filter()?;
    let now = state.clock.now_ms();
    // Every member of staff acts on alerts (therapists too).
    let found = alerts::inbox(&state.db, session.actor, filter, now).await?;
    let inbox = Inbox {
        open: found.open,
        acknowledged: found.acknowledged,
        resolved: found.resolved,
        now,
        filter,
    };
    framed(&state, &session, StatusCode::OK, |chrome| {
        pages::inbox(chrome, &inbox)
    })
    .await
}

async fn acknowledge(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let form = checked(&headers, &session.csrf, form)?;
    let back = form.back()?;
    let id = error::parse_id(&id)?;
    alerts::acknowledge(
        &state.db,
        &state.nudges,
        session.actor,
        id,
        state.clock.now_ms(),
    )
    .await?;
    tracing::info!(alert_id = %id, "alert acknowledged from the clinic page");
    Ok(see_other(&format!(
        "{}#alert-{id}",
        pages::inbox_address(&back)
    )))
}

async fn resolve(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Page {
    let form = checked(&headers, &session.csrf, form)?;
    let back = form.back()?;
    let id = error::parse_id(&id)?;
    alerts::resolve(
        &state.db,
        &state.nudges,
        session.actor,
        id,
        &form.note,
        state.clock.now_ms(),
    )
    .await?;
    tracing::info!(alert_id = %id, "alert resolved from the clinic page");
    Ok(see_other(&pages::inbox_address(&back)))
}

#[derive(Debug, Deserialize)]
struct PatientsQuery {
    #[serde(default)]
    q: String,
    cursor: Option<Uuid>,
}

async fn patients(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<PatientsQuery>, QueryRejection>,
) -> Page {
    let Ok(Query(query)) = query else {
        return Err(PageError::BadRequest("the page address is not valid"));
    };
    let page = care_team::list_patients(
        &state.db,
        session.actor,
        Some(query.q.as_str()),
        PageRequest::new(Some(MAX_LIMIT), query.cursor),
        state.clock.now_ms(),
    )
    .await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        pages::patients(chrome, query.q.trim(), &page)
    })
    .await
}

/// The last [`REPORT_DAYS`] dates up to today (UTC; the reports put each
/// entry on the patient's own local date).
fn last_days(state: &AppState) -> Result<Range, ServiceError> {
    let today = state
        .clock
        .now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let from = today
        .checked_sub(jiff::Span::new().days(REPORT_DAYS - 1))
        .or_internal("report range")?;
    Range::parse(&from.to_string(), &today.to_string())
}

async fn patient(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Page {
    let id = error::parse_id(&id)?;
    let actor = session.actor;
    let now = state.clock.now_ms();
    // Each read is granted and audited as its API counterpart would be.
    let grant =
        |action| patient_access(&state.db, actor, id, Capability::ReadPatients, action, now);
    let summary = care_team::get_patient(&state.db, &grant("patients.read").await?).await?;
    let range = last_days(&state)?;
    let nights =
        reports::trends_report(&state.db, &grant("patients.trends").await?, &range).await?;
    let days =
        reports::adherence_report(&state.db, &grant("patients.adherence").await?, &range).await?;
    let plan = dorsal_service::programs::list_plans(&state.db, &grant("plans.list").await?)
        .await?
        .into_iter()
        .find(|plan| plan.status == "active");
    let page = PatientPage {
        patient: summary,
        nights,
        days,
        plan,
    };
    framed(&state, &session, StatusCode::OK, |chrome| {
        pages::patient(chrome, &page)
    })
    .await
}
