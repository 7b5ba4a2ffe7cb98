//! `/clinic` pages for running the clinic (SPEC §11): invite codes (every
//! member of staff), and for admins the staff, webhooks, push gateway,
//! audit log and settings.
//!
//! Each handler makes the same service call as its REST route (the
//! service decides who may and what is valid); a refusal the person can
//! fix re-renders the form with what they typed and the service's words.
//! Secrets (a webhook's, the push gateway's) appear only on the answer to
//! the POST that made them.

use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use dorsal_domain::Violations;
use dorsal_domain::locale::{ClinicLine, HOURS_MAX_CHARS};
use dorsal_domain::red_flags::Severity;
use dorsal_domain::role::{Capability, Role};
use dorsal_domain::webhooks::{LEAST_SENT, sent_severities};
use dorsal_service::audit::{self, AuditEntry, AuditFilter};
use dorsal_service::device_push::{self, Gateway};
use dorsal_service::page::{MAX_LIMIT, PageRequest};
use dorsal_service::staff::{self, StaffChange, StaffMember};
use dorsal_service::webhooks::{self, DeliverySummary, Endpoint};
use dorsal_service::{ServiceError, care_team, orgs, users};
use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{PageError, parse_id};
use super::frame::{Page, framed};
use super::pages::{Chrome, Confirm, confirm, csrf_field, document, qr_svg, see_other, when};
use super::session::{self, Session};
use crate::error::status_of;
use crate::state::AppState;

/// Audit entries per page.
const AUDIT_PAGE: u64 = 50;
/// Staff roles, in the order the role selects offer them.
const STAFF_ROLES: [Role; 3] = [Role::Therapist, Role::Clinician, Role::Admin];
/// What the page says when the service refuses to take away the last
/// active admin.
const LAST_ADMIN: &str = "The clinic's last active admin can't be demoted or switched off: \
     make another member of staff an admin first. Nothing was changed.";

/// The admin pages' routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/clinic/invites", get(invites).post(make_invite))
        .route("/clinic/staff", get(staff_page).post(add_staff))
        .route("/clinic/staff/{id}", get(member_page).post(change_member))
        .route(
            "/clinic/staff/{id}/deactivate",
            get(confirm_deactivate).post(deactivate),
        )
        .route(
            "/clinic/staff/{id}/reactivate",
            axum::routing::post(reactivate),
        )
        .route("/clinic/webhooks", get(webhooks_page).post(add_webhook))
        .route(
            "/clinic/webhooks/{id}/remove",
            get(confirm_remove_webhook).post(remove_webhook),
        )
        .route("/clinic/audit", get(audit_page))
        .route("/clinic/settings", get(settings_page))
        .route("/clinic/settings/totp", axum::routing::post(set_totp))
        .route(
            "/clinic/settings/push-gateway",
            axum::routing::post(set_gateway),
        )
        .route(
            "/clinic/settings/push-gateway/remove",
            get(confirm_remove_gateway).post(remove_gateway),
        )
        .route("/clinic/settings/contact", axum::routing::post(set_contact))
        .route(
            "/clinic/settings/contact/remove",
            axum::routing::post(remove_contact),
        )
}

// ---------------------------------------------------------------------------
// Forms and the check every POST passes

/// A form that carries the session's CSRF token.
trait Posted {
    fn csrf(&self) -> Option<&str>;
}

/// The form of a POST, once its origin and CSRF token are checked; a form
/// that cannot be read is refused like a forged one.
fn accept<T: Posted>(
    headers: &HeaderMap,
    session: &Session,
    form: Result<Form<T>, FormRejection>,
) -> Result<T, PageError> {
    if !session::same_origin(headers) {
        return Err(PageError::Csrf);
    }
    let Ok(Form(form)) = form else {
        return Err(PageError::Csrf);
    };
    session::check_post(headers, &session.csrf, form.csrf())?;
    Ok(form)
}

macro_rules! posted {
    ($($form:ty),*) => {
        $(impl Posted for $form {
            fn csrf(&self) -> Option<&str> {
                self.csrf.as_deref()
            }
        })*
    };
}

#[derive(Debug, Deserialize)]
struct PlainForm {
    csrf: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct StaffForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Default, Deserialize)]
struct MemberForm {
    csrf: Option<String>,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Default, Deserialize)]
struct UrlForm {
    csrf: Option<String>,
    #[serde(default)]
    url: String,
    #[serde(default)]
    min_severity: String,
}

#[derive(Debug, Deserialize)]
struct TotpForm {
    csrf: Option<String>,
    require_totp: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ContactForm {
    csrf: Option<String>,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    hours: String,
}

posted!(
    PlainForm,
    StaffForm,
    MemberForm,
    UrlForm,
    TotpForm,
    ContactForm
);

/// What the page tells the person above a form.
enum Notice {
    /// Something they can fix (shown as an alert).
    Problem(String),
    /// Something done.
    Done(String),
}

fn notice(notice: Option<&Notice>) -> Markup {
    html! {
        @match notice {
            Some(Notice::Problem(text)) => p .message role="alert" { (text) },
            Some(Notice::Done(text)) => p .message role="status" { (text) },
            None => {},
        }
    }
}

/// The service's validation refusal as one sentence per field.
fn violations_text(violations: &Violations) -> String {
    violations
        .iter()
        .map(|v| {
            let field = match v.pointer.trim_start_matches('/') {
                "url" => "URL".to_owned(),
                other => sentence(&other.replace('_', " "))
                    .trim_end_matches('.')
                    .to_owned(),
            };
            format!("{field} {}.", v.detail.trim_end_matches('.'))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A refusal the person can fix, with its status, or the error to show as
/// its own page.
fn fixable(err: ServiceError) -> Result<(StatusCode, Notice), PageError> {
    let status = status_of(&err);
    match err {
        ServiceError::Invalid(violations) => {
            Ok((status, Notice::Problem(violations_text(&violations))))
        }
        ServiceError::Conflict {
            code: "last_admin", ..
        } => Ok((status, Notice::Problem(LAST_ADMIN.to_owned()))),
        ServiceError::Conflict { detail, .. } => Ok((status, Notice::Problem(sentence(detail)))),
        other => Err(other.into()),
    }
}

/// `detail` with a capital and a full stop.
fn sentence(detail: &str) -> String {
    let mut chars = detail.chars();
    let text: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}

/// `text` with line-break opportunities after each `/` and within every
/// 24-character run without one, so a long URL or address wraps on a
/// phone instead of widening the page.
fn breakable(text: &str) -> Markup {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    for c in text.chars() {
        piece.push(c);
        if c == '/' || piece.chars().count() >= 24 {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    html! {
        @for (i, piece) in pieces.iter().enumerate() {
            @if i > 0 { wbr; }
            (piece)
        }
    }
}

/// A secret shown this once, in a read-only field that fits any width
/// and is easy to select and copy.
fn secret_field(id: &str, label: &str, secret: &SecretString) -> Markup {
    html! {
        label for=(id) { (label) }
        input #(id) type="text" readonly value=(secret.expose_secret()) autocomplete="off" spellcheck="false";
    }
}

fn role_select(id: &str, chosen: &str) -> Markup {
    html! {
        select #(id) name="role" required {
            @for role in STAFF_ROLES {
                option value=(role.as_str()) selected[role.as_str() == chosen] { (role.as_str()) }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Invites

fn invites_markup(
    chrome: &Chrome<'_>,
    made: Option<&care_team::NewInvite>,
    qr: Option<Markup>,
) -> Markup {
    document(
        "Invites",
        Some(chrome),
        html! {
            h1 { "Invite a patient" }
            p {
                "An invite code lets one patient join the clinic's care team, with you on it. "
                "Give the code to the patient (say it, write it down or show this screen): "
                "they open the dorsal app, choose to join a care team and type the code in. "
                "Each code works once and only until it expires."
            }
            @if let Some(invite) = made {
                section #invite aria-labelledby="invite-heading" {
                    h2 #invite-heading { "New invite code" }
                    div .stats {
                        div .card {
                            span .meta { "Code" }
                            strong #invite-code { (invite.code) }
                            span .meta { "Works once, until " (when(invite.expires_at)) "." }
                        }
                        @if let Some(qr) = qr {
                            div .card {
                                span .meta { "The same code as a QR code" }
                                (qr)
                            }
                        }
                    }
                    p .meta {
                        "This code is not shown again. If it is lost, make a new one; "
                        "an unused code simply expires."
                    }
                }
            }
            form method="post" action="/clinic/invites" {
                (csrf_field(chrome.csrf))
                div .buttons {
                    button .primary type="submit" {
                        @if made.is_some() { "Make another invite code" } @else { "Make an invite code" }
                    }
                }
            }
        },
    )
}

async fn invites(State(state): State<AppState>, session: Session) -> Page {
    // Only staff who may invite see the form.
    session.actor.staff_org(Capability::InvitePatients)?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        invites_markup(chrome, None, None)
    })
    .await
}

async fn make_invite(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<PlainForm>, FormRejection>,
) -> Page {
    accept(&headers, &session, form)?;
    let invite = care_team::create_invite(
        &state.db,
        state.clock.as_ref(),
        session.actor,
        state.config.auth.invite_ttl_hours,
    )
    .await?;
    let qr = qr_svg(
        &invite.code,
        "invite-qr",
        &format!("QR code of the invite code {}", invite.code),
    )?;
    tracing::info!(user_id = %session.actor.user_id, "invite made from the clinic page");
    framed(&state, &session, StatusCode::CREATED, |chrome| {
        invites_markup(chrome, Some(&invite), Some(qr))
    })
    .await
}

// ---------------------------------------------------------------------------
// Staff

/// Every member of the admin's org's staff (the service's pages, walked).
async fn all_staff(state: &AppState, session: &Session) -> Result<Vec<StaffMember>, ServiceError> {
    let mut members = Vec::new();
    let mut cursor = None;
    loop {
        let page = staff::list(
            &state.db,
            session.actor,
            PageRequest::new(Some(MAX_LIMIT), cursor),
        )
        .await?;
        members.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(members),
        }
    }
}

/// One member of the admin's org's staff; anyone else is not found.
async fn member_of(
    state: &AppState,
    session: &Session,
    raw: &str,
) -> Result<StaffMember, PageError> {
    let id = parse_id(raw)?;
    all_staff(state, session)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(PageError::NotFound)
}

fn staff_markup(
    chrome: &Chrome<'_>,
    members: &[StaffMember],
    typed: &StaffForm,
    said: Option<&Notice>,
) -> Markup {
    let role = if typed.role.is_empty() {
        "therapist"
    } else {
        typed.role.as_str()
    };
    document(
        "Staff",
        Some(chrome),
        html! {
            h1 { "Staff" }
            div .table-wrap {
                table #staff {
                    thead { tr { th { "Name" } th { "Email" } th { "Role" } th { "Two-factor" } th { "Account" } } }
                    tbody {
                        @for member in members {
                            tr data-staff-id=(member.id) {
                                td { a href={ "/clinic/staff/" (member.id) } { (member.display_name) } }
                                td { (member.email) }
                                td { (member.role) }
                                td { @if member.mfa { "on" } @else { "off" } }
                                td { @if member.active { "active" } @else { "switched off" } }
                            }
                        }
                    }
                }
            }
            h2 #add { "Add a member of staff" }
            div .card {
                (notice(said))
                form method="post" action="/clinic/staff" {
                    (csrf_field(chrome.csrf))
                    label for="email" { "Email" }
                    input #email type="email" name="email" value=(typed.email) autocomplete="off" required;
                    label for="display_name" { "Display name (shown to patients and colleagues)" }
                    input #display_name type="text" name="display_name" value=(typed.display_name) autocomplete="off" required;
                    label for="role" { "Role" }
                    (role_select("role", role))
                    label for="password" { "Initial password (give it to them; they change it)" }
                    input #password type="password" name="password" autocomplete="new-password" required;
                    div .buttons { button .primary type="submit" { "Add" } }
                }
            }
        },
    )
}

async fn staff_page(State(state): State<AppState>, session: Session) -> Page {
    let members = all_staff(&state, &session).await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        staff_markup(chrome, &members, &StaffForm::default(), None)
    })
    .await
}

async fn add_staff(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<StaffForm>, FormRejection>,
) -> Page {
    let mut form = accept(&headers, &session, form)?;
    let outcome = match Role::parse(form.role.trim()) {
        Some(role) => {
            users::create_staff(
                &state.db,
                &state.auth,
                session.actor,
                users::NewAccount {
                    email: form.email.clone(),
                    password: std::mem::take(&mut form.password),
                    display_name: form.display_name.clone(),
                },
                role,
            )
            .await
        }
        None => {
            // Not a role at all (the API's JSON body could not name one):
            // refused as the service refuses a patient role.
            session.actor.staff_org(Capability::ManageStaff)?;
            let mut violations = Violations::new();
            violations.add("/role", "must be one of therapist, clinician, admin");
            Err(ServiceError::Invalid(violations))
        }
    };
    let (status, said) = match outcome {
        Ok(added) => {
            tracing::info!(staff_id = %added.id, "staff added from the clinic page");
            return Ok(see_other(&format!("/clinic/staff/{}?added=1", added.id)));
        }
        Err(err) => fixable(err)?,
    };
    let members = all_staff(&state, &session).await?;
    framed(&state, &session, status, |chrome| {
        staff_markup(chrome, &members, &form, Some(&said))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct MemberQuery {
    added: Option<String>,
    changed: Option<String>,
}

fn member_markup(
    chrome: &Chrome<'_>,
    member: &StaffMember,
    typed: Option<&MemberForm>,
    said: Option<&Notice>,
) -> Markup {
    let name = typed.map_or(member.display_name.as_str(), |t| t.display_name.as_str());
    let role = typed.map_or(member.role.as_str(), |t| t.role.as_str());
    document(
        &member.display_name,
        Some(chrome),
        html! {
            p { a href="/clinic/staff" { "← Staff" } }
            h1 { (member.display_name) }
            p .meta #member-state {
                (breakable(&member.email)) " · " (member.role) " · "
                @if member.active { "active" } @else { "switched off: cannot sign in" }
                " · two-factor sign-in " @if member.mfa { "on" } @else { "off" }
            }
            (notice(said))
            div .card {
                h2 { "Name and role" }
                form method="post" action={ "/clinic/staff/" (member.id) } {
                    (csrf_field(chrome.csrf))
                    label for="display_name" { "Display name" }
                    input #display_name type="text" name="display_name" value=(name) required;
                    label for="role" { "Role" }
                    (role_select("role", role))
                    div .buttons { button .primary type="submit" { "Save" } }
                }
            }
            div .card {
                h2 { "Account" }
                @if member.active {
                    p { "Switching the account off ends their sessions at once and stops them signing in." }
                    p { a href={ "/clinic/staff/" (member.id) "/deactivate" } { "Switch off this account…" } }
                } @else {
                    p { "This account is switched off." }
                    form method="post" action={ "/clinic/staff/" (member.id) "/reactivate" } {
                        (csrf_field(chrome.csrf))
                        div .buttons { button type="submit" { "Switch the account on again" } }
                    }
                }
            }
        },
    )
}

async fn member_page(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    query: Result<Query<MemberQuery>, QueryRejection>,
) -> Page {
    let member = member_of(&state, &session, &id).await?;
    let said = query.ok().and_then(|Query(q)| {
        if q.added.is_some() {
            Some(Notice::Done(
                "Added. They can sign in with their email and the initial password.".into(),
            ))
        } else {
            q.changed.map(|_| Notice::Done("Saved.".into()))
        }
    });
    framed(&state, &session, StatusCode::OK, |chrome| {
        member_markup(chrome, &member, None, said.as_ref())
    })
    .await
}

/// Applies `change` to the member at `raw`; on success back to their
/// page, else their page with what went wrong (and what was typed).
async fn apply_change(
    state: &AppState,
    session: &Session,
    raw: &str,
    change: StaffChange,
    typed: Option<&MemberForm>,
) -> Page {
    let member = member_of(state, session, raw).await?;
    match staff::update(
        &state.db,
        session.actor,
        member.id,
        change,
        state.clock.now_ms(),
    )
    .await
    {
        Ok(updated) => {
            tracing::info!(staff_id = %updated.id, "staff changed from the clinic page");
            Ok(see_other(&format!(
                "/clinic/staff/{}?changed=1",
                updated.id
            )))
        }
        Err(err) => {
            let (status, said) = fixable(err)?;
            framed(state, session, status, |chrome| {
                member_markup(chrome, &member, typed, Some(&said))
            })
            .await
        }
    }
}

async fn change_member(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<MemberForm>, FormRejection>,
) -> Page {
    let form = accept(&headers, &session, form)?;
    let Some(role) = Role::parse(form.role.trim()) else {
        let member = member_of(&state, &session, &id).await?;
        let said = Notice::Problem("Role must be one of therapist, clinician, admin.".into());
        return framed(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            |chrome| member_markup(chrome, &member, Some(&form), Some(&said)),
        )
        .await;
    };
    let change = StaffChange {
        role: Some(role),
        display_name: Some(form.display_name.clone()),
        active: None,
    };
    apply_change(&state, &session, &id, change, Some(&form)).await
}

async fn confirm_deactivate(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Page {
    let member = member_of(&state, &session, &id).await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        let action = format!("/clinic/staff/{}/deactivate", member.id);
        let cancel = format!("/clinic/staff/{}", member.id);
        confirm(
            chrome,
            Confirm {
                title: "Switch off an account",
                heading: html! { "Switch off " (member.display_name) "'s account?" },
                details: html! {
                    p { (breakable(&member.email)) " · " (member.role) }
                    ul {
                        li { "Every session they have ends at once, in the app and on this page." }
                        li { "They can no longer sign in." }
                        li { "Their past work (plans, notes, alert actions) stays as it is." }
                        li { "You can switch the account on again later from their page." }
                    }
                },
                action: &action,
                button: "Switch off",
                cancel: &cancel,
            },
        )
    })
    .await
}

async fn deactivate(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<PlainForm>, FormRejection>,
) -> Page {
    accept(&headers, &session, form)?;
    let change = StaffChange {
        active: Some(false),
        ..StaffChange::default()
    };
    apply_change(&state, &session, &id, change, None).await
}

async fn reactivate(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<PlainForm>, FormRejection>,
) -> Page {
    accept(&headers, &session, form)?;
    let change = StaffChange {
        active: Some(true),
        ..StaffChange::default()
    };
    apply_change(&state, &session, &id, change, None).await
}

// ---------------------------------------------------------------------------
// Webhooks

/// An endpoint with its latest deliveries.
struct Hook {
    endpoint: Endpoint,
    deliveries: Vec<DeliverySummary>,
}

async fn hooks(state: &AppState, session: &Session) -> Result<Vec<Hook>, ServiceError> {
    let mut out = Vec::new();
    for endpoint in webhooks::list(&state.db, session.actor).await? {
        let deliveries = webhooks::recent_deliveries(&state.db, session.actor, endpoint.id).await?;
        out.push(Hook {
            endpoint,
            deliveries,
        });
    }
    Ok(out)
}

fn deliveries_markup(deliveries: &[DeliverySummary]) -> Markup {
    html! {
        @if deliveries.is_empty() {
            p .empty { "No deliveries yet." }
        } @else {
            div .table-wrap {
                table .deliveries .stack {
                    caption .meta { "Latest deliveries, newest first" }
                    thead { tr { th { "Written" } th { "Event" } th { "Outcome" } th { "Attempts" } th { "Last HTTP status" } th { "Last error" } } }
                    tbody {
                        @for d in deliveries {
                            tr data-delivery-id=(d.id) {
                                td data-label="Written" { (when(d.created_at)) }
                                td data-label="Event" { (d.event) }
                                td data-label="Outcome" {
                                    (d.status)
                                    @if let Some(at) = d.delivered_at { " " span .meta { (when(at)) } }
                                }
                                td data-label="Attempts" { (d.attempts) }
                                td data-label="Last HTTP status" { @if let Some(code) = d.last_status { (code) } @else { "–" } }
                                td data-label="Last error" { @if let Some(error) = &d.last_error { (error) } @else { "–" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn webhooks_markup(
    chrome: &Chrome<'_>,
    hooks: &[Hook],
    typed: &UrlForm,
    said: Option<&Notice>,
    secret: Option<(&Endpoint, &SecretString)>,
) -> Markup {
    let severity = if typed.min_severity.is_empty() {
        LEAST_SENT.as_str()
    } else {
        typed.min_severity.as_str()
    };
    document(
        "Webhooks",
        Some(chrome),
        html! {
            h1 { "Webhooks" }
            p {
                "The clinic's own systems can be told about urgent and emergency alerts: "
                "each event is POSTed to every endpoint below, signed with its secret "
                "(Standard Webhooks). The deliveries show ids and outcomes only."
            }
            @if let Some((endpoint, secret)) = secret {
                div .card #new-secret role="status" {
                    h2 { "Endpoint added: copy its signing secret now" }
                    p { "For " (breakable(&endpoint.url)) ":" }
                    (secret_field("webhook-secret", "Signing secret", secret))
                    p .meta {
                        "This is the only time the secret is shown. Store it with the receiving "
                        "system; if it is lost, remove the endpoint and add it again."
                    }
                }
            }
            @if hooks.is_empty() {
                p .empty { "No endpoints yet." }
            }
            @for hook in hooks {
                section .card .webhook data-webhook-id=(hook.endpoint.id) {
                    h2 { (breakable(&hook.endpoint.url)) }
                    p .meta {
                        "Sends " (hook.endpoint.min_severity) " alerts and above · added "
                        (when(hook.endpoint.created_at))
                        @if let Some(at) = hook.endpoint.disabled_at {
                            " · disabled " (when(at))
                            @if let Some(reason) = &hook.endpoint.disabled_reason { ": " (reason) }
                        }
                    }
                    (deliveries_markup(&hook.deliveries))
                    p { a href={ "/clinic/webhooks/" (hook.endpoint.id) "/remove" } { "Remove this endpoint…" } }
                }
            }
            h2 #add { "Add an endpoint" }
            div .card {
                (notice(said))
                form method="post" action="/clinic/webhooks" {
                    (csrf_field(chrome.csrf))
                    label for="url" { "URL (https, on a public address)" }
                    input #url type="text" inputmode="url" name="url" value=(typed.url) autocomplete="off" spellcheck="false" required;
                    label for="min_severity" { "Send alerts of at least" }
                    select #min_severity name="min_severity" {
                        @for level in sent_severities().map(Severity::as_str) {
                            option value=(level) selected[level == severity] { (level) }
                        }
                    }
                    div .buttons { button .primary type="submit" { "Add endpoint" } }
                }
            }
        },
    )
}

async fn webhooks_page(State(state): State<AppState>, session: Session) -> Page {
    let hooks = hooks(&state, &session).await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        webhooks_markup(chrome, &hooks, &UrlForm::default(), None, None)
    })
    .await
}

async fn add_webhook(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<UrlForm>, FormRejection>,
) -> Page {
    let form = accept(&headers, &session, form)?;
    let severity = Some(form.min_severity.trim()).filter(|s| !s.is_empty());
    match webhooks::create(
        &state.db,
        &state.data_keys,
        session.actor,
        form.url.trim(),
        severity,
        state.config.webhook_allow_private,
        state.clock.now_ms(),
    )
    .await
    {
        Ok((endpoint, secret)) => {
            tracing::info!(webhook_id = %endpoint.id, "webhook added from the clinic page");
            let hooks = hooks(&state, &session).await?;
            framed(&state, &session, StatusCode::CREATED, |chrome| {
                webhooks_markup(
                    chrome,
                    &hooks,
                    &UrlForm::default(),
                    None,
                    Some((&endpoint, &secret)),
                )
            })
            .await
        }
        Err(err) => {
            let (status, said) = fixable(err)?;
            let hooks = hooks(&state, &session).await?;
            framed(&state, &session, status, |chrome| {
                webhooks_markup(chrome, &hooks, &form, Some(&said), None)
            })
            .await
        }
    }
}

/// One of the admin's org's endpoints; anything else is not found.
async fn endpoint_of(
    state: &AppState,
    session: &Session,
    raw: &str,
) -> Result<Endpoint, PageError> {
    let id = parse_id(raw)?;
    webhooks::list(&state.db, session.actor)
        .await?
        .into_iter()
        .find(|w| w.id == id)
        .ok_or(PageError::NotFound)
}

async fn confirm_remove_webhook(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Page {
    let endpoint = endpoint_of(&state, &session, &id).await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        let action = format!("/clinic/webhooks/{}/remove", endpoint.id);
        confirm(
            chrome,
            Confirm {
                title: "Remove an endpoint",
                heading: html! { "Remove this endpoint?" },
                details: html! {
                    p { strong { (breakable(&endpoint.url)) } }
                    p { "No more alert events go to it; messages not yet delivered are dropped. This cannot be undone (add it again for a new secret)." }
                },
                action: &action,
                button: "Remove",
                cancel: "/clinic/webhooks",
            },
        )
    })
    .await
}

async fn remove_webhook(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<PlainForm>, FormRejection>,
) -> Page {
    accept(&headers, &session, form)?;
    let id = parse_id(&id)?;
    webhooks::delete(&state.db, session.actor, id, state.clock.now_ms()).await?;
    tracing::info!(webhook_id = %id, "webhook removed from the clinic page");
    Ok(see_other("/clinic/webhooks"))
}

// ---------------------------------------------------------------------------
// Audit log

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    patient_id: String,
    #[serde(default)]
    staff_id: String,
    cursor: Option<String>,
}

/// An optional id typed in a filter field.
fn filter_id(raw: &str, field: &str, problems: &mut Vec<String>) -> Option<Uuid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = raw.parse().ok();
    if parsed.is_none() {
        problems.push(format!(
            "{field} must be an id like 0190a1b2-…, or left empty."
        ));
    }
    parsed
}

fn audit_markup(
    chrome: &Chrome<'_>,
    query: &AuditQuery,
    members: &[StaffMember],
    entries: &[AuditEntry],
    next: Option<Uuid>,
    said: Option<&Notice>,
) -> Markup {
    let name_of = |id: Uuid| members.iter().find(|m| m.id == id);
    let older = next.map(|next| {
        format!(
            "/clinic/audit?patient_id={}&staff_id={}&cursor={next}",
            query.patient_id.trim(),
            query.staff_id.trim(),
        )
    });
    document(
        "Audit log",
        Some(chrome),
        html! {
            h1 { "Audit log" }
            p .meta { "Who read or changed what, newest first: ids and action names only." }
            form .card method="get" action="/clinic/audit" {
                label for="patient_id" { "Patient id" }
                input #patient_id type="text" name="patient_id" value=(query.patient_id) autocomplete="off" spellcheck="false";
                label for="staff_id" { "Member of staff (by or about them)" }
                select #staff_id name="staff_id" {
                    option value="" selected[query.staff_id.trim().is_empty()] { "Anyone" }
                    @for member in members {
                        option value=(member.id) selected[query.staff_id.trim() == member.id.to_string()] {
                            (member.display_name) " (" (member.role) ")"
                        }
                    }
                }
                div .buttons { button type="submit" { "Filter" } a href="/clinic/audit" { "Clear" } }
            }
            (notice(said))
            @if entries.is_empty() {
                p .empty { "No entries." }
            } @else {
                div .table-wrap {
                    table #audit {
                        thead { tr { th { "Time" } th { "Actor" } th { "Action" } th { "Patient" } th { "Staff member" } } }
                        tbody {
                            @for entry in entries {
                                tr data-audit-id=(entry.id) {
                                    td { (when(entry.at)) }
                                    td {
                                        @if let Some(member) = name_of(entry.actor_id) { (member.display_name) " " }
                                        span .meta { (entry.actor_role) " " (entry.actor_id) }
                                    }
                                    td { code { (entry.action) } }
                                    td { @if let Some(id) = entry.patient_id { (id) } }
                                    td {
                                        @if let Some(id) = entry.subject_id {
                                            @if let Some(member) = name_of(id) { (member.display_name) " " }
                                            span .meta { (id) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(older) = older {
                p { a href=(older) rel="next" { "Older entries →" } }
            }
        },
    )
}

async fn audit_page(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Page {
    // The same check as `GET /v1/audit`.
    let org_id = session.actor.staff_org(Capability::Administer)?;
    let Ok(Query(query)) = query else {
        return Err(PageError::BadRequest("the page address is not valid"));
    };
    let mut problems = Vec::new();
    let filter = AuditFilter {
        patient_id: filter_id(&query.patient_id, "Patient id", &mut problems),
        staff_id: filter_id(&query.staff_id, "Member of staff", &mut problems),
    };
    let cursor = query
        .cursor
        .as_deref()
        .and_then(|c| filter_id(c, "The page cursor", &mut problems));
    let members = all_staff(&state, &session).await?;
    if !problems.is_empty() {
        let said = Notice::Problem(problems.join(" "));
        return framed(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            |chrome| audit_markup(chrome, &query, &members, &[], None, Some(&said)),
        )
        .await;
    }
    let page = audit::list(
        &state.db,
        org_id,
        filter,
        PageRequest::new(Some(AUDIT_PAGE), cursor),
    )
    .await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        audit_markup(chrome, &query, &members, &page.items, page.next, None)
    })
    .await
}

// ---------------------------------------------------------------------------
// Settings: two-factor sign-in and the push gateway

/// The org's push gateway, if one is set (admins only).
async fn gateway(state: &AppState, session: &Session) -> Result<Option<Gateway>, ServiceError> {
    match device_push::get_gateway(&state.db, session.actor).await {
        Ok(gateway) => Ok(Some(gateway)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

struct Settings {
    require_totp: bool,
    gateway: Option<Gateway>,
    contact: Option<ClinicLine>,
}

/// What the settings page shows in its forms: what was typed into the one
/// that was refused, and why.
#[derive(Default)]
struct Typed {
    gateway: UrlForm,
    gateway_said: Option<Notice>,
    contact: Option<ContactForm>,
    contact_said: Option<Notice>,
}

async fn settings(state: &AppState, session: &Session) -> Result<Settings, ServiceError> {
    // The gateway first: it is for admins only, the org's settings for
    // every member of staff.
    let gateway = gateway(state, session).await?;
    let org = orgs::settings(&state.db, session.actor).await?;
    Ok(Settings {
        require_totp: org.require_totp,
        gateway,
        contact: org.contact,
    })
}

fn settings_markup(
    chrome: &Chrome<'_>,
    settings: &Settings,
    typed: &Typed,
    secret: Option<&SecretString>,
) -> Markup {
    let (phone, hours) = match (&typed.contact, &settings.contact) {
        (Some(form), _) => (form.phone.as_str(), form.hours.as_str()),
        (None, Some(line)) => (line.phone.as_str(), line.hours.as_str()),
        (None, None) => ("", ""),
    };
    document(
        "Settings",
        Some(chrome),
        html! {
            h1 { "Settings" }
            section .card #two-factor aria-labelledby="two-factor-heading" {
                h2 #two-factor-heading { "Two-factor sign-in" }
                p #require-totp-state {
                    "Now: "
                    @if settings.require_totp {
                        strong { "required" } " for every member of staff."
                    } @else {
                        strong { "not required" } "."
                    }
                }
                p .meta {
                    "When it is required, staff who have not turned on an authenticator app "
                    "(you included) are signed out and can reach only their own account until they do."
                }
                form method="post" action="/clinic/settings/totp" {
                    (csrf_field(chrome.csrf))
                    label for="require_totp" {
                        input #require_totp type="checkbox" name="require_totp" value="on" checked[settings.require_totp];
                        " Require two-factor sign-in for the clinic's staff"
                    }
                    div .buttons { button .primary type="submit" { "Save" } }
                }
            }
            section .card #push-gateway aria-labelledby="push-gateway-heading" {
                h2 #push-gateway-heading { "Push gateway" }
                p .meta {
                    "Where signed push requests for patients' gateway devices go. "
                    "Push messages only say that something new is waiting."
                }
                @if let Some(secret) = secret {
                    div #new-secret role="status" {
                        p { strong { "Gateway set: copy its signing secret now." } }
                        (secret_field("gateway-secret", "Signing secret", secret))
                        p .meta { "This is the only time the secret is shown; setting the gateway again makes a new one." }
                    }
                }
                @match &settings.gateway {
                    Some(gateway) => {
                        p #gateway-state {
                            "Set: " strong { (breakable(&gateway.url)) } " (since " (when(gateway.updated_at)) "; its secret is not shown)."
                        }
                        p { a href="/clinic/settings/push-gateway/remove" { "Remove the push gateway…" } }
                    }
                    None => p .empty #gateway-state { "No push gateway is set." },
                }
                (notice(typed.gateway_said.as_ref()))
                form method="post" action="/clinic/settings/push-gateway" {
                    (csrf_field(chrome.csrf))
                    label for="gateway_url" {
                        @if settings.gateway.is_some() { "New URL (replaces the gateway and its secret)" } @else { "URL (https, on a public address)" }
                    }
                    input #gateway_url type="text" inputmode="url" name="url" value=(typed.gateway.url) autocomplete="off" spellcheck="false" required;
                    div .buttons { button type="submit" { "Set gateway" } }
                }
            }
            section .card #contact-line aria-labelledby="contact-line-heading" {
                h2 #contact-line-heading { "Contact line for patients" }
                p .meta {
                    "Urgent and routine advice to the clinic's patients ends with "
                    "“You can also call your care team on (phone) (hours).”, in the patient's language. "
                    "Emergency advice never adds it: it names only the emergency number. "
                    "The hours are shown as you write them, untranslated."
                }
                @match &settings.contact {
                    Some(line) => p #contact-state {
                        "Set: " strong { (line.phone) } " (" (line.hours) ")."
                    },
                    None => p .empty #contact-state { "No contact line is set." },
                }
                (notice(typed.contact_said.as_ref()))
                form method="post" action="/clinic/settings/contact" {
                    (csrf_field(chrome.csrf))
                    label for="contact_phone" { "Phone, international form (+ then country code and number, digits only)" }
                    input #contact_phone type="tel" name="phone" value=(phone) autocomplete="off" placeholder="+4930123456" required;
                    label for="contact_hours" { "When it is answered, as patients will read it" }
                    input #contact_hours type="text" name="hours" value=(hours) maxlength=(HOURS_MAX_CHARS) placeholder="Mon–Fri 8:00–18:00" required;
                    div .buttons { button type="submit" { "Save contact line" } }
                }
                @if settings.contact.is_some() {
                    form method="post" action="/clinic/settings/contact/remove" {
                        (csrf_field(chrome.csrf))
                        div .buttons { button type="submit" { "Remove the contact line" } }
                    }
                }
            }
        },
    )
}

/// The settings page again after a form was refused: why, beside what was
/// typed into it (`typed` places both).
async fn settings_refused(
    state: &AppState,
    session: &Session,
    err: ServiceError,
    typed: impl FnOnce(Notice) -> Typed,
) -> Page {
    let (status, said) = fixable(err)?;
    let settings = settings(state, session).await?;
    let typed = typed(said);
    framed(state, session, status, |chrome| {
        settings_markup(chrome, &settings, &typed, None)
    })
    .await
}

async fn settings_page(State(state): State<AppState>, session: Session) -> Page {
    let settings = settings(&state, &session).await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        settings_markup(chrome, &settings, &Typed::default(), None)
    })
    .await
}

async fn set_totp(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<TotpForm>, FormRejection>,
) -> Page {
    let form = accept(&headers, &session, form)?;
    let require = form.require_totp.as_deref() == Some("on");
    orgs::set_require_totp(&state.db, session.actor, require, state.clock.now_ms()).await?;
    tracing::info!(
        require_totp = require,
        "org settings changed from the clinic page"
    );
    Ok(see_other("/clinic/settings"))
}

async fn set_gateway(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<UrlForm>, FormRejection>,
) -> Page {
    let form = accept(&headers, &session, form)?;
    match device_push::set_gateway(
        &state.db,
        &state.data_keys,
        session.actor,
        form.url.trim(),
        state.config.webhook_allow_private,
        state.clock.now_ms(),
    )
    .await
    {
        Ok((_, secret)) => {
            tracing::info!("push gateway set from the clinic page");
            let settings = settings(&state, &session).await?;
            framed(&state, &session, StatusCode::OK, |chrome| {
                settings_markup(chrome, &settings, &Typed::default(), Some(&secret))
            })
            .await
        }
        Err(err) => {
            settings_refused(&state, &session, err, |said| Typed {
                gateway: form,
                gateway_said: Some(said),
                ..Typed::default()
            })
            .await
        }
    }
}

async fn confirm_remove_gateway(State(state): State<AppState>, session: Session) -> Page {
    let Some(gateway) = gateway(&state, &session).await? else {
        return Ok(see_other("/clinic/settings"));
    };
    framed(&state, &session, StatusCode::OK, |chrome| {
        confirm(
            chrome,
            Confirm {
                title: "Remove the push gateway",
                heading: html! { "Remove the push gateway?" },
                details: html! {
                    p { strong { (breakable(&gateway.url)) } }
                    p { "Pushes to patients' gateway devices stop until a gateway is set again (with a new secret)." }
                },
                action: "/clinic/settings/push-gateway/remove",
                button: "Remove",
                cancel: "/clinic/settings",
            },
        )
    })
    .await
}

async fn remove_gateway(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<PlainForm>, FormRejection>,
) -> Page {
    accept(&headers, &session, form)?;
    match device_push::delete_gateway(&state.db, session.actor).await {
        Ok(()) | Err(ServiceError::NotFound(_)) => {}
        Err(other) => return Err(other.into()),
    }
    tracing::info!("push gateway removed from the clinic page");
    Ok(see_other("/clinic/settings"))
}

async fn set_contact(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<ContactForm>, FormRejection>,
) -> Page {
    let form = accept(&headers, &session, form)?;
    let line = Some((form.phone.trim(), form.hours.as_str()));
    match orgs::set_contact(&state.db, session.actor, line, state.clock.now_ms()).await {
        Ok(_) => {
            tracing::info!("contact line set from the clinic page");
            Ok(see_other("/clinic/settings"))
        }
        Err(err) => {
            settings_refused(&state, &session, err, |said| Typed {
                contact: Some(form),
                contact_said: Some(said),
                ..Typed::default()
            })
            .await
        }
    }
}

async fn remove_contact(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<PlainForm>, FormRejection>,
) -> Page {
    accept(&headers, &session, form)?;
    orgs::set_contact(&state.db, session.actor, None, state.clock.now_ms()).await?;
    tracing::info!("contact line removed from the clinic page");
    Ok(see_other("/clinic/settings"))
}
