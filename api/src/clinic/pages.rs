//! The clinic's HTML, rendered with maud (which escapes every interpolated
//! value). The error pages a person sees instead of problem+json are in
//! `error`.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use dorsal_domain::programs::{DayAdherence, NightTrend};
use dorsal_domain::red_flags::Severity;
use dorsal_domain::role::{Capability, Role};
use dorsal_service::alerts::{AlertStatus, AlertView, InboxAlert, InboxFilter};
use dorsal_service::care_team::PatientSummary;
use dorsal_service::page::Page;
use dorsal_service::programs::Plan;
use dorsal_service::severity::ranked;
use dorsal_service::{OrInternal, ServiceError};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use uuid::Uuid;

use super::chart;

/// The stylesheet, served at [`STYLESHEET`].
pub(super) const STYLE: &str = include_str!("../../assets/clinic.css");
/// Where pages load [`STYLE`] from.
pub(super) const STYLESHEET: &str = "/clinic/assets/clinic.css";
/// The two-factor enrolment page: the only page a session reaches while its
/// org requires two-factor sign-in and it is not on yet.
pub(super) const ENROLMENT: &str = "/clinic/account/two-factor";

/// What the header shows for a signed-in member of staff.
#[derive(Debug)]
pub struct Chrome<'a> {
    /// Display name.
    pub name: &'a str,
    /// Role name.
    pub role: &'a str,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: &'a str,
}

/// The links of the header, for what `role` may do: each page's own checks
/// still decide (a link is only a way there).
fn nav_links(role: &str) -> Vec<(&'static str, &'static str)> {
    let role = Role::parse(role);
    let can = |capability| role.is_some_and(|role| role.can(capability));
    let mut links = vec![
        ("/clinic/alerts", "Alerts"),
        ("/clinic/patients", "Patients"),
    ];
    if can(Capability::InvitePatients) {
        links.push(("/clinic/invites", "Invites"));
    }
    if can(Capability::WritePlans) {
        links.push(("/clinic/exercises", "Exercises"));
    }
    if can(Capability::ManageStaff) {
        links.push(("/clinic/staff", "Staff"));
    }
    if can(Capability::Administer) {
        links.push(("/clinic/webhooks", "Webhooks"));
        links.push(("/clinic/audit", "Audit log"));
        links.push(("/clinic/settings", "Settings"));
    }
    links.push(("/clinic/account", "Account"));
    links
}

/// A whole page: the header (with the signed-in member of staff's links
/// and sign-out form when `chrome` is given) around `body`.
pub(super) fn document(title: &str, chrome: Option<&Chrome<'_>>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                // No icon to fetch (and no 404 for it in the console).
                link rel="icon" href="data:,";
                title { (title) " · dorsal clinic" }
                link rel="stylesheet" href=(STYLESHEET);
            }
            body {
                header {
                    span .brand { "dorsal clinic" }
                    @if let Some(chrome) = chrome {
                        nav aria-label="Clinic" {
                            @for (href, label) in nav_links(chrome.role) {
                                a href=(href) { (label) }
                            }
                        }
                        span .who { "Signed in as " (chrome.name) " (" (chrome.role) ")" }
                        form method="post" action="/clinic/logout" {
                            (csrf_field(chrome.csrf))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page that asks before a destructive action: what will happen, a
/// button that POSTs to `action`, and a way back to `cancel`. With
/// JavaScript off this page is the confirmation.
pub(super) struct Confirm<'a> {
    /// The page's title.
    pub title: &'a str,
    /// The question, as the heading.
    pub heading: Markup,
    /// What will happen.
    pub details: Markup,
    /// Where the form POSTs.
    pub action: &'a str,
    /// The button's words.
    pub button: &'a str,
    /// Where "Cancel" leads.
    pub cancel: &'a str,
}

/// The page of a [`Confirm`].
pub(super) fn confirm(chrome: &Chrome<'_>, page: Confirm<'_>) -> Markup {
    document(
        page.title,
        Some(chrome),
        html! {
            h1 { (page.heading) }
            div .card {
                (page.details)
                div .buttons {
                    form method="post" action=(page.action) {
                        (csrf_field(chrome.csrf))
                        button .primary type="submit" { (page.button) }
                    }
                    a href=(page.cancel) { "Cancel" }
                }
            }
        },
    )
}

/// The hidden field that carries the session's CSRF token in a form.
pub(super) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// An HTML response.
pub fn respond(status: StatusCode, markup: Markup) -> Response<Body> {
    let mut response = (status, markup.into_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// A 303 to `location` (after a form POST, or to the sign-in form).
pub fn see_other(location: &str) -> Response<Body> {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The sign-in form, with `message` after a failed attempt.
pub fn sign_in(csrf: &str, message: Option<&str>) -> Markup {
    document(
        "Sign in",
        None,
        html! {
            div .signin .card {
                h1 { "Sign in" }
                p .meta { "For clinic staff: therapists, clinicians and admins." }
                @if let Some(message) = message {
                    p .message role="alert" { (message) }
                }
                form method="post" action="/clinic/login" {
                    (csrf_field(csrf))
                    label for="email" { "Email" }
                    input #email type="email" name="email" autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    label for="totp" { "Authenticator code (if two-factor sign-in is on)" }
                    input #totp type="text" name="totp" autocomplete="one-time-code" inputmode="numeric" spellcheck="false";
                    div .buttons { button .primary type="submit" { "Sign in" } }
                }
                p { a href="/clinic/password-reset" { "Forgot your password?" } }
            }
        },
    )
}

/// What a patient sees after signing in with their own account.
pub fn staff_only() -> Markup {
    document(
        "For clinic staff",
        None,
        html! {
            div .signin .card {
                h1 { "This page is for clinic staff" }
                p { "Patients keep their diary in the dorsal app; there is nothing for you here." }
                p { a href="/clinic" { "Back to sign in" } }
            }
        },
    )
}

/// Where a session goes while its org requires two-factor sign-in and it
/// is not on yet: the enrolment page, the only one such a session reaches
/// (as its tokens reach only `/v1/me*` in the API).
pub fn totp_enrolment_required() -> Response<Body> {
    see_other(ENROLMENT)
}

/// `data` as an inline SVG QR code that scales to its container (at most
/// 240 px tall), labelled `label` for screen readers.
pub(super) fn qr_svg(data: &str, id: &str, label: &str) -> Result<Markup, ServiceError> {
    let qr = qrcode::QrCode::new(data.as_bytes()).or_internal("QR code")?;
    let drawn = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .module_dimensions(1, 1)
        .build();
    let unreadable = || ServiceError::internal("QR code: unexpected SVG");
    let view_box = drawn
        .split_once(r#"viewBox=""#)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(view_box, _)| view_box.to_owned())
        .ok_or_else(unreadable)?;
    let start = drawn.find("<path").ok_or_else(unreadable)?;
    let end = drawn.rfind("</svg>").ok_or_else(unreadable)?;
    let path = drawn.get(start..end).ok_or_else(unreadable)?;
    // The path is the library's own output: digits and path commands.
    Ok(html! {
        svg id=(id) xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(label)
            width="100%" height="240" viewBox=(view_box) shape-rendering="crispEdges" {
            title { (label) }
            rect x="0" y="0" width="100%" height="100%" fill="#fff" {}
            (PreEscaped(path))
        }
    })
}

/// A page that reloads itself: a link from another site arrives without
/// the (SameSite=Strict) session cookie, and the reload, started by our
/// own page, carries it.
pub fn bounce() -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content="0";
                link rel="icon" href="data:,";
                title { "dorsal clinic" }
            }
            body { p { "Opening the clinic page… " a href="" { "Continue" } } }
        }
    }
}

/// `cauda_equina` → `Cauda equina`.
fn humanize(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An instant as `2026-11-23 21:00 UTC`.
pub fn when(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn age(now: i64, ms: i64) -> String {
    let minutes = (now - ms).max(0) / 60_000;
    match minutes {
        0 => "just now".to_owned(),
        1..60 => format!("{minutes} min ago"),
        60..2880 => format!("{} h ago", minutes / 60),
        _ => format!("{} days ago", minutes / 1440),
    }
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Bool(true) => "yes".to_owned(),
        serde_json::Value::Bool(false) => "no".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The inbox's sections, in the order shown, with their labels; also the
/// status filter's values (besides `all`).
const INBOX_STATUSES: [(AlertStatus, &str); 3] = [
    (AlertStatus::Open, "Open"),
    (AlertStatus::Acknowledged, "Acknowledged"),
    (AlertStatus::Resolved, "Resolved"),
];

/// The inbox's address with `filter`, e.g. `/clinic/alerts?status=open`.
pub fn inbox_address(filter: &InboxFilter) -> String {
    let mut pairs = Vec::new();
    if let Some(status) = filter.status {
        pairs.push(format!("status={status}"));
    }
    if let Some(severity) = filter.severity {
        pairs.push(format!("severity={}", severity.as_str()));
    }
    if pairs.is_empty() {
        "/clinic/alerts".to_owned()
    } else {
        format!("/clinic/alerts?{}", pairs.join("&"))
    }
}

/// Hidden fields that carry `filter` through an alert's form, so the
/// answer returns to the same filtered inbox.
fn filter_fields(filter: &InboxFilter) -> Markup {
    html! {
        @if let Some(status) = filter.status { input type="hidden" name="status" value=(status); }
        @if let Some(severity) = filter.severity { input type="hidden" name="severity" value=(severity.as_str()); }
    }
}

/// The inbox, sorted.
#[derive(Debug)]
pub struct Inbox {
    /// Open alerts, most severe and then oldest first.
    pub open: Vec<InboxAlert>,
    /// Acknowledged, not yet resolved.
    pub acknowledged: Vec<InboxAlert>,
    /// The most recently resolved.
    pub resolved: Vec<InboxAlert>,
    /// Now, for ages.
    pub now: i64,
    /// What it is filtered by.
    pub filter: InboxFilter,
}

/// Where an open or acknowledged alert stands in escalation: the worker
/// raises the level of an unacknowledged emergency or urgent alert each
/// time its deadline passes; acknowledging stops it; routine alerts never
/// escalate.
fn escalation(view: &AlertView) -> Markup {
    let alert = &view.alert;
    let level = alert.level;
    html! {
        p .escalation data-level=(level) {
            strong { "Escalation level " (level) }
            @if level == 0 { " (not escalated)" } @else { " (escalated " (level) " times while unacknowledged)" }
            @if alert.status == AlertStatus::Acknowledged {
                @if level > 0 { " · no further escalation: acknowledged" }
            } @else if let Some(at) = alert.escalate_at {
                " · " @if level == 0 { "escalates" } @else { "next escalation" } " at " (when(at)) " unless acknowledged"
            } @else if ranked(alert.severity) == Severity::Routine {
                " · routine alerts are not escalated"
            }
        }
    }
}

fn alert_card(item: &InboxAlert, csrf: &str, now: i64, filter: &InboxFilter) -> Markup {
    let alert = &item.view.alert;
    // The severity's wire name is its style class.
    let class = ranked(alert.severity).as_str();
    let id = alert.id;
    html! {
        article .card .alert .(class) id={ "alert-" (id) } data-alert-id=(id) data-status=(alert.status) {
            h3 {
                span .badge .(class) { (alert.severity) }
                " " (humanize(&alert.rule))
                span .meta { " · " (alert.rule) "@" (alert.rule_version) }
            }
            div .meta {
                "Patient: " a href={ "/clinic/patients/" (alert.patient_id) } { (item.patient_name) }
                " · raised " (when(alert.created_at)) " (" (age(now, alert.created_at)) ")"
                @if alert.level > 0 && alert.status == AlertStatus::Resolved { " · reached escalation level " (alert.level) }
                @if let Some(at) = alert.acknowledged_at { " · acknowledged " (when(at)) }
                @if let Some(at) = alert.resolved_at { " · resolved " (when(at)) }
            }
            @if alert.status != AlertStatus::Resolved { (escalation(&item.view)) }
            @if !item.view.clinician_action.is_empty() && alert.status != AlertStatus::Resolved {
                p .action { strong { "Action: " } (item.view.clinician_action) }
            }
            @if !item.view.evidence.is_empty() {
                div .meta { "Evidence:" }
                ul .evidence {
                    @for evidence in &item.view.evidence {
                        li {
                            "Pain log recorded " (when(evidence.recorded_at)) ": "
                            @if let Some(fields) = evidence.matched.as_object() {
                                @for (i, (field, value)) in fields.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    (humanize(field)) " " strong { (value_text(value)) }
                                }
                            } @else {
                                (value_text(&evidence.matched))
                            }
                        }
                    }
                }
            }
            @if let Some(note) = &alert.resolution_note {
                p { "Note: " (note) }
            }
            @if alert.status != AlertStatus::Resolved {
                div .buttons {
                    @if alert.status == AlertStatus::Open {
                        form method="post" action={ "/clinic/alerts/" (id) "/acknowledge" } {
                            (csrf_field(csrf))
                            (filter_fields(filter))
                            button .primary type="submit" { "Acknowledge" }
                        }
                    }
                    form method="post" action={ "/clinic/alerts/" (id) "/resolve" } {
                        (csrf_field(csrf))
                        (filter_fields(filter))
                        label for={ "note-" (id) } { "Resolution note" }
                        textarea id={ "note-" (id) } name="note" required maxlength="1000" placeholder="What was done (needed to resolve)" {}
                        button type="submit" { "Resolve" }
                    }
                }
            }
        }
    }
}

/// The inbox's filter form (a GET, so it works without scripts and the
/// filtered inbox has an address).
fn inbox_filters(filter: &InboxFilter) -> Markup {
    let status = filter.status.map_or("all".to_owned(), |s| s.to_string());
    let severity = filter.severity.map_or("all", Severity::as_str);
    html! {
        form .card .filters method="get" action="/clinic/alerts" {
            div .field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="all" selected[status == "all"] { "All" }
                    @for (value, label) in INBOX_STATUSES {
                        option value=(value) selected[value.to_string() == status] { (label) }
                    }
                }
            }
            div .field {
                label for="severity" { "Severity" }
                select #severity name="severity" {
                    @for (value, label) in [("all", "All"), ("emergency", "Emergency"), ("urgent", "Urgent"), ("routine", "Routine")] {
                        option value=(value) selected[value == severity] { (label) }
                    }
                }
            }
            div .buttons {
                button .primary type="submit" { "Filter" }
                @if filter.status.is_some() || filter.severity.is_some() {
                    a href="/clinic/alerts" { "Show all" }
                }
            }
        }
    }
}

/// The alert inbox.
pub fn inbox(chrome: &Chrome<'_>, inbox: &Inbox) -> Markup {
    let csrf = chrome.csrf;
    let filter = &inbox.filter;
    document(
        "Alerts",
        Some(chrome),
        html! {
            h1 { "Alert inbox" }
            (inbox_filters(filter))
            @if filter.shows(AlertStatus::Open) {
                section #open {
                    h2 { "Open (" (inbox.open.len()) ")" }
                    @if inbox.open.is_empty() { p .empty { "No open " @if let Some(severity) = filter.severity { (severity.as_str()) " " } "alerts." } }
                    @for item in &inbox.open { (alert_card(item, csrf, inbox.now, &inbox.filter)) }
                }
            }
            @if filter.shows(AlertStatus::Acknowledged) {
                section #acknowledged {
                    h2 { "Acknowledged (" (inbox.acknowledged.len()) ")" }
                    @if inbox.acknowledged.is_empty() { p .empty { "None." } }
                    @for item in &inbox.acknowledged { (alert_card(item, csrf, inbox.now, &inbox.filter)) }
                }
            }
            @if filter.status == Some(AlertStatus::Resolved) {
                section #resolved {
                    h2 { "Resolved, most recent first (" (inbox.resolved.len()) ")" }
                    @if inbox.resolved.is_empty() { p .empty { "None." } }
                    @for item in &inbox.resolved { (alert_card(item, csrf, inbox.now, &inbox.filter)) }
                }
            } @else if filter.shows(AlertStatus::Resolved) {
                details #resolved {
                    summary { "Recently resolved (" (inbox.resolved.len()) ")" }
                    @if inbox.resolved.is_empty() { p .empty { "None." } }
                    @for item in &inbox.resolved { (alert_card(item, csrf, inbox.now, &inbox.filter)) }
                }
            }
        },
    )
}

/// `value` percent-encoded for a query string.
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The org's patients, or those matching `search` (blank: all).
pub fn patients(chrome: &Chrome<'_>, search: &str, page: &Page<PatientSummary>) -> Markup {
    document(
        "Patients",
        Some(chrome),
        html! {
            h1 { "Patients" }
            form .card .filters method="get" action="/clinic/patients" role="search" {
                div .field .grow {
                    label for="q" { "Name or email" }
                    input #q type="search" name="q" value=(search) maxlength="200" autocomplete="off" spellcheck="false";
                }
                div .buttons {
                    button .primary type="submit" { "Search" }
                    @if !search.is_empty() { a href="/clinic/patients" { "Show all" } }
                }
            }
            @if page.items.is_empty() {
                @if search.is_empty() {
                    p .empty { "No patient has joined the clinic's care team yet." }
                } @else {
                    p .empty { "No patient matches “" (search) "”." }
                }
            } @else {
                div .table-wrap {
                    table {
                        thead { tr { th { "Name" } th { "Email" } th { "Joined" } } }
                        tbody {
                            @for patient in &page.items {
                                tr {
                                    td { a href={ "/clinic/patients/" (patient.id) } { (patient.display_name) } }
                                    td { (patient.email) }
                                    td { (when(patient.joined_at)) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = page.next {
                p {
                    a href={
                        "/clinic/patients?"
                        @if !search.is_empty() { "q=" (query_value(search)) "&" }
                        "cursor=" (next)
                    } { "More patients →" }
                }
            }
        },
    )
}

/// Everything the patient page shows.
#[derive(Debug)]
pub struct PatientPage {
    /// Who.
    pub patient: PatientSummary,
    /// The last 30 nights.
    pub nights: Vec<NightTrend>,
    /// The last 30 days.
    pub days: Vec<DayAdherence>,
    /// The active plan, if any.
    pub plan: Option<Plan>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

fn one_decimal(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

/// One patient: chart, plan and adherence.
pub fn patient(chrome: &Chrome<'_>, page: &PatientPage) -> Markup {
    let prescribed: u32 = page.days.iter().map(|d| d.prescribed).sum();
    let done: u32 = page.days.iter().map(|d| d.done.min(d.prescribed)).sum();
    let percent = (prescribed > 0).then(|| f64::from(done) * 100.0 / f64::from(prescribed));
    let pain_before = mean(page.days.iter().filter_map(|d| d.pain_before));
    let pain_after = mean(page.days.iter().filter_map(|d| d.pain_after));
    let worst = page.nights.iter().filter_map(|n| n.pain_max).max();
    let sleep = mean(page.nights.iter().filter_map(|n| n.sleep_quality));
    let woken = page
        .nights
        .iter()
        .filter(|n| n.woke_from_pain == Some(true))
        .count();
    let first = page.nights.first().map(|n| n.night_of.to_string());
    let last = page.nights.last().map(|n| n.night_of.to_string());
    document(
        &page.patient.display_name,
        Some(chrome),
        html! {
            h1 { (page.patient.display_name) }
            p .meta { (page.patient.email) " · on the care team since " (when(page.patient.joined_at)) }
            h2 { "Pain and sleep, last 30 nights" }
            div .card {
                (chart::legend())
                (chart::pain_and_sleep(&page.nights))
                p .meta {
                    "Nights " (first.unwrap_or_default()) " to " (last.unwrap_or_default())
                    " (dates as the patient lives them). Worst night pain: "
                    (worst.map_or_else(|| "–".to_owned(), |w| w.to_string()))
                    "/10 · mean sleep quality " (one_decimal(sleep)) "/5 · woken by pain on "
                    (woken) " nights."
                }
            }
            h2 { "Home exercise programme" }
            (plan_links(chrome.role, page.patient.id, page.plan.as_ref()))
            @match &page.plan {
                None => p .empty { "No active plan." },
                Some(plan) => div .card {
                    h3 { (plan.body.title) }
                    p .meta {
                        "Version " (plan.version) " by " (plan.body.therapist_name)
                        " · from " (plan.body.starts_on)
                        @if let Some(ends) = &plan.body.ends_on { " to " (ends) }
                        @if let Some(time) = &plan.body.reminder_time { " · reminder at " (time) }
                    }
                    @if let Some(notes) = &plan.body.notes { p { (notes) } }
                    div .table-wrap {
                        table {
                            thead { tr { th { "Exercise" } th { "Sets × reps" } th { "Hold" } th { "Times a day" } } }
                            tbody {
                                @for item in &plan.body.items {
                                    tr {
                                        td { (item.name) }
                                        td { (item.sets) " × " (item.reps) }
                                        td { (item.hold_seconds) " s" }
                                        td { (item.times_per_day) }
                                    }
                                }
                            }
                        }
                    }
                },
            }
            h2 { "Adherence, last 30 days" }
            div .stats {
                div .card {
                    span .meta { "Sessions done / prescribed" }
                    strong #adherence { (done) " / " (prescribed) }
                    @if let Some(percent) = percent { span .meta { (format!("{percent:.0}")) "%" } }
                }
                div .card {
                    span .meta { "Mean pain before sessions" }
                    strong { (one_decimal(pain_before)) }
                }
                div .card {
                    span .meta { "Mean pain after sessions" }
                    strong { (one_decimal(pain_after)) }
                }
            }
        },
    )
}

/// The links of the patient page for `role`: the builder's for those who
/// write plans, the earlier versions of the active plan for all staff.
fn plan_links(role: &str, patient_id: Uuid, plan: Option<&Plan>) -> Markup {
    let writes = Role::parse(role).is_some_and(|role| role.can(Capability::WritePlans));
    html! {
        p .buttons #plan-links {
            @if writes {
                a href={ "/clinic/patients/" (patient_id) "/plans/new" } { "Assign a new program" }
                @if let Some(plan) = plan {
                    a href={ "/clinic/plans/" (plan.id) "/revise" } { "Revise this program" }
                    a href={ "/clinic/plans/" (plan.id) "/archive" } { "Archive" }
                }
            }
            @if let Some(plan) = plan {
                a href={ "/clinic/plans/" (plan.id) "/versions" } { "Earlier versions" }
            }
        }
    }
}
