//! `/clinic` pages where a therapist builds, revises and archives a
//! patient's home program, reads its earlier versions, and adds exercises
//! to the org's catalog. Each handler makes the same service calls as the
//! REST routes (`routes/plans.rs`, `routes/exercises.rs`) through the same
//! DTO conversions; every rule stays in the service and domain, and a
//! rejected form comes back with what was typed and the service's reasons.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dorsal_domain::Violations;
use dorsal_domain::role::Capability;
use dorsal_service::ServiceError;
use dorsal_service::access::patient_access;
use dorsal_service::care_team::{self, PatientSummary};
use dorsal_service::exercise_images;
use dorsal_service::programs::{self, Exercise, Plan};
use maud::{Markup, html};
use uuid::Uuid;

use super::error::{PageError, parse_id};
use super::frame::{Page, framed};
use super::pages::{Chrome, csrf_field, document, see_other, when};
use super::session::{self, Session};
use crate::dto::programs::{ExerciseIn, PlanIn, PlanItemIn};
use crate::error::status_of;
use crate::state::AppState;

/// The program and catalog pages.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/clinic/patients/{id}/plans/new", get(new_plan_form))
        .route(
            "/clinic/patients/{id}/plans",
            axum::routing::post(create_plan),
        )
        .route(
            "/clinic/plans/{plan_id}/revise",
            get(revise_form).post(revise_plan),
        )
        .route(
            "/clinic/plans/{plan_id}/archive",
            get(archive_confirm).post(archive_plan),
        )
        .route("/clinic/plans/{plan_id}/versions", get(versions))
        .route("/clinic/exercises", get(exercises).post(create_exercise))
        .route("/clinic/exercises/{id}/image", get(exercise_image))
}

/// The fields of a submitted form, in order.
type Fields = Vec<(String, String)>;

/// The form's fields once its origin and CSRF token are checked.
fn checked_fields(
    headers: &HeaderMap,
    expected: &str,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<Fields, PageError> {
    let Ok(Form(fields)) = form else {
        return Err(PageError::Csrf);
    };
    let sent = fields
        .iter()
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value.as_str());
    session::check_post(headers, expected, sent)?;
    Ok(fields)
}

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

fn optional(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A number typed in a form: empty is `None`, anything else must be a
/// whole number (its range is the service's to check).
fn number(value: &str, pointer: &str, violations: &mut Violations) -> Option<i64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            violations.add(pointer, "must be a whole number");
            None
        }
    }
}

/// One exercise row of the builder, as typed.
#[derive(Debug, Clone, Default)]
struct RowDraft {
    include: bool,
    order: String,
    sets: String,
    reps: String,
    hold: String,
    times: String,
}

/// The builder's fields, as typed (or as prefilled).
#[derive(Debug, Clone, Default)]
struct PlanDraft {
    title: String,
    notes: String,
    starts_on: String,
    ends_on: String,
    reminder_time: String,
    rows: HashMap<String, RowDraft>,
    /// Chosen slugs, in the order they were sent.
    chosen: Vec<String>,
}

impl PlanDraft {
    fn from_fields(fields: &Fields) -> PlanDraft {
        let mut draft = PlanDraft {
            title: field(fields, "title").to_owned(),
            notes: field(fields, "notes").to_owned(),
            starts_on: field(fields, "starts_on").to_owned(),
            ends_on: field(fields, "ends_on").to_owned(),
            reminder_time: field(fields, "reminder_time").to_owned(),
            ..PlanDraft::default()
        };
        for (name, value) in fields {
            if name == "include" {
                // Each exercise once (a lookup, not a scan: the form is
                // the sender's to make as long as the body limit allows).
                let row = draft.rows.entry(value.clone()).or_default();
                if !row.include {
                    row.include = true;
                    draft.chosen.push(value.clone());
                }
                continue;
            }
            let Some((kind, slug)) = name.split_once('-') else {
                continue;
            };
            let row = draft.rows.entry(slug.to_owned()).or_default();
            match kind {
                "order" => row.order.clone_from(value),
                "sets" => row.sets.clone_from(value),
                "reps" => row.reps.clone_from(value),
                "hold" => row.hold.clone_from(value),
                "times" => row.times.clone_from(value),
                _ => {}
            }
        }
        draft
    }

    /// A blank plan starting `today`, each exercise at its defaults.
    fn blank(catalog: &[Exercise], today: String) -> PlanDraft {
        let mut draft = PlanDraft {
            starts_on: today,
            ..PlanDraft::default()
        };
        for (i, exercise) in catalog.iter().enumerate() {
            draft
                .rows
                .insert(exercise.slug.clone(), default_row(exercise, i + 1));
        }
        draft
    }

    /// The current version of `plan`, the rest of the catalog after it.
    fn of_plan(catalog: &[Exercise], plan: &Plan) -> PlanDraft {
        let body = &plan.body;
        let mut draft = PlanDraft {
            title: body.title.clone(),
            notes: body.notes.clone().unwrap_or_default(),
            starts_on: body.starts_on.clone(),
            ends_on: body.ends_on.clone().unwrap_or_default(),
            reminder_time: body.reminder_time.clone().unwrap_or_default(),
            ..PlanDraft::default()
        };
        for item in &body.items {
            draft.chosen.push(item.exercise_slug.clone());
            draft.rows.insert(
                item.exercise_slug.clone(),
                RowDraft {
                    include: true,
                    order: item.position.to_string(),
                    sets: item.sets.to_string(),
                    reps: item.reps.to_string(),
                    hold: item.hold_seconds.to_string(),
                    times: item.times_per_day.to_string(),
                },
            );
        }
        let mut next = body.items.len();
        for exercise in catalog {
            if !draft.rows.contains_key(&exercise.slug) {
                next += 1;
                draft
                    .rows
                    .insert(exercise.slug.clone(), default_row(exercise, next));
            }
        }
        draft
    }

    /// The API's input for this draft, the chosen exercises sorted by the
    /// order typed (ties and blanks keep the form's order), or the fields
    /// that are not numbers.
    fn to_input(&self) -> Result<(PlanIn, Vec<String>), Violations> {
        let mut violations = Violations::new();
        let mut chosen = Vec::with_capacity(self.chosen.len());
        for (i, slug) in self.chosen.iter().enumerate() {
            let row = self.rows.get(slug).cloned().unwrap_or_default();
            let at = |what: &str| format!("/form/{slug}/{what}");
            let order = number(&row.order, &at("order"), &mut violations);
            let item = PlanItemIn {
                exercise_slug: slug.clone(),
                sets: number(&row.sets, &at("sets"), &mut violations),
                reps: number(&row.reps, &at("reps"), &mut violations),
                hold_seconds: number(&row.hold, &at("hold"), &mut violations),
                times_per_day: number(&row.times, &at("times"), &mut violations),
            };
            chosen.push((order.unwrap_or(i64::MAX), i, item));
        }
        violations.into_result()?;
        chosen.sort_by_key(|(order, i, _)| (*order, *i));
        let slugs = chosen
            .iter()
            .map(|(_, _, item)| item.exercise_slug.clone())
            .collect();
        let input = PlanIn {
            title: self.title.clone(),
            starts_on: self.starts_on.trim().to_owned(),
            ends_on: optional(&self.ends_on),
            reminder_time: optional(&self.reminder_time),
            notes: optional(&self.notes),
            items: chosen.into_iter().map(|(_, _, item)| item).collect(),
        };
        Ok((input, slugs))
    }
}

fn default_row(exercise: &Exercise, order: usize) -> RowDraft {
    RowDraft {
        include: false,
        order: order.to_string(),
        sets: exercise.default_sets.to_string(),
        reps: exercise.default_reps.to_string(),
        hold: exercise.default_hold_seconds.to_string(),
        times: "1".to_owned(),
    }
}

/// The service's reasons in the words of the form: `slugs` are the chosen
/// exercises in the order sent to the service (for `/items/{i}/…`).
fn messages(violations: &Violations, slugs: &[String], catalog: &[Exercise]) -> Vec<String> {
    let name_of = |slug: &str| {
        catalog
            .iter()
            .find(|e| e.slug == slug)
            .map_or_else(|| format!("Exercise “{slug}”"), |e| e.name.clone())
    };
    violations
        .iter()
        .map(|v| {
            let parts: Vec<&str> = v.pointer.trim_start_matches('/').split('/').collect();
            let label = match parts.as_slice() {
                ["title"] => "Title".to_owned(),
                ["starts_on"] => "Start date".to_owned(),
                ["ends_on"] => "End date".to_owned(),
                ["reminder_time"] => "Reminder time".to_owned(),
                ["notes"] => "Notes".to_owned(),
                ["items"] => "Exercises (choose at least one)".to_owned(),
                ["form", slug, what] => format!("{} ({what})", name_of(slug)),
                ["items", i, rest @ ..] => {
                    let slug = i
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| slugs.get(i))
                        .map_or("?", String::as_str);
                    let what = match rest {
                        ["sets"] => "sets",
                        ["reps"] => "reps",
                        ["hold_seconds"] => "hold seconds",
                        ["times_per_day"] => "times per day",
                        _ => "exercise",
                    };
                    format!("{} ({what})", name_of(slug))
                }
                ["name"] => "Name".to_owned(),
                ["slug"] => "Short code".to_owned(),
                ["instructions"] => "Instructions".to_owned(),
                ["safety_note"] => "Safety note".to_owned(),
                ["default_sets"] => "Default sets".to_owned(),
                ["default_reps"] => "Default reps".to_owned(),
                ["default_hold_seconds"] => "Default hold seconds".to_owned(),
                ["image_url"] => "Image URL".to_owned(),
                ["image_alt"] => "Image description".to_owned(),
                ["video_url"] => "Video URL".to_owned(),
                _ => v.pointer.clone(),
            };
            format!("{label}: {}", v.detail)
        })
        .collect()
}

fn message_list(messages: &[String]) -> Markup {
    html! {
        @if !messages.is_empty() {
            div .message role="alert" #form-errors {
                p { "Please check the form; nothing was saved." }
                ul { @for m in messages { li { (m) } } }
            }
        }
    }
}

/// Where the builder posts and what it says.
struct Builder<'a> {
    patient: &'a PatientSummary,
    action: String,
    heading: String,
    submit: &'static str,
}

fn today(state: &AppState) -> String {
    state
        .clock
        .now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

fn builder_page(
    chrome: &Chrome<'_>,
    builder: &Builder<'_>,
    catalog: &[Exercise],
    images: &HashSet<Uuid>,
    draft: &PlanDraft,
    errors: &[String],
) -> Markup {
    let patient = builder.patient;
    document(
        &builder.heading,
        Some(chrome),
        html! {
            p .meta { a href={ "/clinic/patients/" (patient.id) } { "← " (patient.display_name) } }
            h1 { (builder.heading) }
            (message_list(errors))
            form method="post" action=(builder.action) #plan-form {
                (csrf_field(chrome.csrf))
                div .card {
                    label for="title" { "Title" }
                    input #title type="text" name="title" value=(draft.title) required maxlength="200";
                    label for="notes" { "Notes for the patient (optional)" }
                    textarea #notes name="notes" maxlength="1000" { (draft.notes) }
                    label for="starts_on" { "Start date" }
                    input #starts_on type="date" name="starts_on" value=(draft.starts_on) required;
                    label for="ends_on" { "End date (optional)" }
                    input #ends_on type="date" name="ends_on" value=(draft.ends_on);
                    label for="reminder_time" { "Evening reminder time (optional, the patient's time)" }
                    input #reminder_time type="time" name="reminder_time" value=(draft.reminder_time);
                }
                h2 { "Exercises" }
                p .meta { "Tick each exercise to include; the order numbers set their order." }
                @if catalog.is_empty() { p .empty { "The catalog has no exercises." } }
                @for exercise in catalog {
                    @let slug = &exercise.slug;
                    @let row = draft.rows.get(slug).cloned().unwrap_or_else(|| default_row(exercise, 1));
                    div .card .exercise data-slug=(slug) {
                        label for={ "include-" (slug) } {
                            input id={ "include-" (slug) } type="checkbox" name="include" value=(slug) checked[row.include];
                            " " strong { (exercise.name) }
                        }
                        p .meta { (exercise.instructions) }
                        (media_links(exercise, images))
                        div .buttons {
                            (number_field("order", slug, "Order", &row.order, 1))
                            (number_field("sets", slug, "Sets", &row.sets, 1))
                            (number_field("reps", slug, "Reps", &row.reps, 1))
                            (number_field("hold", slug, "Hold seconds", &row.hold, 0))
                            (number_field("times", slug, "Times per day", &row.times, 1))
                        }
                    }
                }
                div .buttons { button .primary type="submit" { (builder.submit) } }
            }
        },
    )
}

/// An exercise's image and video. The image is shown from dorsal's own
/// copy (`/clinic/exercises/{id}/image`, fetched by the worker) when one is
/// stored, `images` being the exercises that have one; the page loads
/// nothing from another origin (its CSP allows images from dorsal only).
/// The link to where the image is stays, as does the video's: links that
/// send no referrer, so the host learns nothing about which page, or which
/// patient, they were opened from.
fn media_links(exercise: &Exercise, images: &HashSet<Uuid>) -> Markup {
    let media = &exercise.media;
    let image_host = media.image_url.as_deref().and_then(programs::media_host);
    let video_host = media.video_url.as_deref().and_then(programs::media_host);
    html! {
        @if media.image_url.is_some() || media.video_url.is_some() {
            ul .media {
                @if let (Some(url), Some(alt)) = (&media.image_url, &media.image_alt) {
                    @if images.contains(&exercise.id) {
                        li .media-picture {
                            img .exercise-image src={ "/clinic/exercises/" (exercise.id) "/image" } alt=(alt) loading="lazy";
                        }
                    }
                    li .media-image {
                        a href=(url) rel="noopener noreferrer" {
                            "Image: " (alt)
                            @if let Some(host) = &image_host { " (opens " (host) ")" }
                        }
                    }
                }
                @if let (Some(url), Some(host)) = (&media.video_url, video_host) {
                    li .media-video {
                        a href=(url) rel="noopener noreferrer" { "Video (opens " (host) ")" }
                    }
                }
            }
        }
    }
}

/// The catalog as the caller sees it, and which of its exercises have an
/// image dorsal can show.
async fn catalog(
    state: &AppState,
    session: &Session,
) -> Result<(Vec<Exercise>, HashSet<Uuid>), PageError> {
    let catalog = programs::list_exercises(&state.db, session.actor).await?;
    let images = exercise_images::stored(
        &state.db,
        catalog.iter().map(|e| (e.id, e.media.image_url.as_deref())),
    )
    .await?;
    Ok((catalog, images))
}

/// An exercise's image as the worker stored it, to staff whose org sees
/// the exercise (built in, or their org's own); "Not found" otherwise, or
/// while none is stored for its current URL.
async fn exercise_image(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Page {
    let id = parse_id(&id)?;
    let stored = exercise_images::image(&state.db, session.actor, id)
        .await?
        .ok_or(PageError::NotFound)?;
    let content_type =
        HeaderValue::from_str(&stored.content_type).map_err(|_| PageError::NotFound)?;
    let mut response: Response<Body> = stored.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}

fn number_field(kind: &str, slug: &str, label: &str, value: &str, min: i64) -> Markup {
    let id = format!("{kind}-{slug}");
    html! {
        div {
            label for=(id) { (label) }
            input id=(id) type="number" name=(id) value=(value) min=(min) inputmode="numeric";
        }
    }
}

async fn patient_summary(
    state: &AppState,
    session: &Session,
    patient_id: Uuid,
) -> Result<PatientSummary, PageError> {
    let access = patient_access(
        &state.db,
        session.actor,
        patient_id,
        Capability::ReadPatients,
        "patients.read",
        state.clock.now_ms(),
    )
    .await?;
    Ok(care_team::get_patient(&state.db, &access).await?)
}

async fn new_plan_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Page {
    session.actor.may(Capability::WritePlans)?;
    let id = parse_id(&id)?;
    let patient = patient_summary(&state, &session, id).await?;
    let (catalog, images) = catalog(&state, &session).await?;
    let draft = PlanDraft::blank(&catalog, today(&state));
    let builder = Builder {
        patient: &patient,
        action: format!("/clinic/patients/{id}/plans"),
        heading: format!("New program for {}", patient.display_name),
        submit: "Assign the program",
    };
    framed(&state, &session, StatusCode::OK, |chrome| {
        builder_page(chrome, &builder, &catalog, &images, &draft, &[])
    })
    .await
}

/// Re-renders the builder with `draft` and the reasons, or passes on an
/// error that is not about the form. `catalog`: the exercises, and those
/// with an image.
async fn rejected(
    state: &AppState,
    session: &Session,
    builder: &Builder<'_>,
    draft: &PlanDraft,
    slugs: &[String],
    err: ServiceError,
) -> Page {
    let status = status_of(&err);
    let ServiceError::Invalid(violations) = err else {
        return Err(err.into());
    };
    let (catalog, images) = catalog(state, session).await?;
    let errors = messages(&violations, slugs, &catalog);
    framed(state, session, status, |chrome| {
        builder_page(chrome, builder, &catalog, &images, draft, &errors)
    })
    .await
}

async fn create_plan(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Page {
    let fields = checked_fields(&headers, &session.csrf, form)?;
    let id = parse_id(&id)?;
    let now = state.clock.now_ms();
    let access = patient_access(
        &state.db,
        session.actor,
        id,
        Capability::WritePlans,
        "plans.create",
        now,
    )
    .await?;
    let draft = PlanDraft::from_fields(&fields);
    let outcome = match draft.to_input() {
        Ok((input, slugs)) => (
            programs::create_plan(
                &state.db,
                &state.commit_hooks,
                &state.nudges,
                state.clock.as_ref(),
                &access,
                input.into(),
            )
            .await,
            slugs,
        ),
        Err(violations) => (Err(ServiceError::Invalid(violations)), Vec::new()),
    };
    match outcome {
        (Ok(plan), _) => {
            tracing::info!(plan_id = %plan.id, patient_id = %id, "plan assigned from the clinic page");
            Ok(see_other(&format!("/clinic/patients/{id}")))
        }
        (Err(err), slugs) => {
            let patient = care_team::get_patient(&state.db, &access).await?;
            let builder = Builder {
                patient: &patient,
                action: format!("/clinic/patients/{id}/plans"),
                heading: format!("New program for {}", patient.display_name),
                submit: "Assign the program",
            };
            rejected(&state, &session, &builder, &draft, &slugs, err).await
        }
    }
}

fn revise_builder<'a>(patient: &'a PatientSummary, plan: &Plan) -> Builder<'a> {
    Builder {
        patient,
        action: format!("/clinic/plans/{}/revise", plan.id),
        heading: format!(
            "Revise “{}” for {} (now version {})",
            plan.body.title, patient.display_name, plan.latest_version
        ),
        submit: "Save as a new version",
    }
}

async fn revise_form(
    State(state): State<AppState>,
    session: Session,
    Path(plan_id): Path<String>,
) -> Page {
    session.actor.may(Capability::WritePlans)?;
    let plan = programs::get_plan(
        &state.db,
        session.actor,
        &plan_id,
        None,
        state.clock.now_ms(),
    )
    .await?;
    let patient = patient_summary(&state, &session, plan.patient_id).await?;
    if plan.status == "archived" {
        return archived_page(&state, &session, &patient, &plan).await;
    }
    let (catalog, images) = catalog(&state, &session).await?;
    let draft = PlanDraft::of_plan(&catalog, &plan);
    let builder = revise_builder(&patient, &plan);
    framed(&state, &session, StatusCode::OK, |chrome| {
        builder_page(chrome, &builder, &catalog, &images, &draft, &[])
    })
    .await
}

async fn revise_plan(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(plan_id): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Page {
    let fields = checked_fields(&headers, &session.csrf, form)?;
    let draft = PlanDraft::from_fields(&fields);
    let outcome = match draft.to_input() {
        Ok((input, slugs)) => (
            programs::revise_plan(
                &state.db,
                &state.commit_hooks,
                &state.nudges,
                state.clock.as_ref(),
                session.actor,
                &plan_id,
                input.into(),
            )
            .await,
            slugs,
        ),
        Err(violations) => (Err(ServiceError::Invalid(violations)), Vec::new()),
    };
    match outcome {
        (Ok(plan), _) => {
            tracing::info!(plan_id = %plan.id, version = plan.version, "plan revised from the clinic page");
            Ok(see_other(&format!("/clinic/patients/{}", plan.patient_id)))
        }
        (Err(ServiceError::Invalid(violations)), slugs) => {
            // The plan as it stands (this also checks the caller may read it).
            let plan = programs::get_plan(
                &state.db,
                session.actor,
                &plan_id,
                None,
                state.clock.now_ms(),
            )
            .await?;
            let patient = patient_summary(&state, &session, plan.patient_id).await?;
            let builder = revise_builder(&patient, &plan);
            let err = ServiceError::Invalid(violations);
            rejected(&state, &session, &builder, &draft, &slugs, err).await
        }
        (
            Err(ServiceError::Conflict {
                code: "plan_archived",
                ..
            }),
            _,
        ) => {
            let plan = programs::get_plan(
                &state.db,
                session.actor,
                &plan_id,
                None,
                state.clock.now_ms(),
            )
            .await?;
            let patient = patient_summary(&state, &session, plan.patient_id).await?;
            archived_page(&state, &session, &patient, &plan).await
        }
        (Err(err), _) => Err(err.into()),
    }
}

/// An archived plan cannot be revised (a 409): says so, when it was
/// archived, and offers a new plan instead.
async fn archived_page(
    state: &AppState,
    session: &Session,
    patient: &PatientSummary,
    plan: &Plan,
) -> Page {
    framed(state, session, StatusCode::CONFLICT, |chrome| {
        document(
            "This program is archived",
            Some(chrome),
            html! {
                p .meta { a href={ "/clinic/patients/" (patient.id) } { "← " (patient.display_name) } }
                div .card #plan-archived {
                    h1 { "“" (plan.body.title) "” is archived" }
                    p {
                        "This plan was archived"
                        @if let Some(at) = plan.archived_at { " on " (when(at)) }
                        "; an archived plan cannot be revised. Assign a new plan instead."
                    }
                    p .buttons {
                        a href={ "/clinic/patients/" (patient.id) "/plans/new" } { "Assign a new program" }
                        a href={ "/clinic/plans/" (plan.id) "/versions" } { "Its versions" }
                    }
                }
            },
        )
    })
    .await
}

async fn archive_confirm(
    State(state): State<AppState>,
    session: Session,
    Path(plan_id): Path<String>,
) -> Page {
    session.actor.may(Capability::WritePlans)?;
    let plan = programs::get_plan(
        &state.db,
        session.actor,
        &plan_id,
        None,
        state.clock.now_ms(),
    )
    .await?;
    let patient = patient_summary(&state, &session, plan.patient_id).await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        document(
            "Archive the program",
            Some(chrome),
            html! {
                div .card #archive-confirm {
                    h1 { "Archive “" (plan.body.title) "”?" }
                    @if plan.status == "archived" {
                        p .empty { "This program is already archived." }
                    } @else {
                        p {
                            (patient.display_name) " will no longer see this program in the app. "
                            "Its versions stay readable here."
                        }
                        div .buttons {
                            form method="post" action={ "/clinic/plans/" (plan.id) "/archive" } {
                                (csrf_field(chrome.csrf))
                                button .primary type="submit" { "Archive" }
                            }
                        }
                    }
                    p { a href={ "/clinic/patients/" (patient.id) } { "Cancel, back to " (patient.display_name) } }
                }
            },
        )
    })
    .await
}

async fn archive_plan(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(plan_id): Path<String>,
    form: Result<Form<Fields>, FormRejection>,
) -> Page {
    checked_fields(&headers, &session.csrf, form)?;
    let plan = programs::archive_plan(
        &state.db,
        &state.commit_hooks,
        &state.nudges,
        state.clock.as_ref(),
        session.actor,
        &plan_id,
    )
    .await?;
    tracing::info!(plan_id = %plan.id, "plan archived from the clinic page");
    Ok(see_other(&format!("/clinic/patients/{}", plan.patient_id)))
}

fn plan_card(plan: &Plan) -> Markup {
    html! {
        section .card id={ "version-" (plan.version) } {
            h3 { "Version " (plan.version) ": " (plan.body.title) }
            p .meta {
                "Written " (when(plan.written_at)) " by " (plan.body.therapist_name)
                " · from " (plan.body.starts_on)
                @if let Some(ends) = &plan.body.ends_on { " to " (ends) }
                @if let Some(time) = &plan.body.reminder_time { " · reminder at " (time) }
            }
            @if let Some(notes) = &plan.body.notes { p { (notes) } }
            div .table-wrap {
                table {
                    thead { tr { th { "#" } th { "Exercise" } th { "Sets × reps" } th { "Hold" } th { "Times a day" } } }
                    tbody {
                        @for item in &plan.body.items {
                            tr {
                                td { (item.position) }
                                td { (item.name) }
                                td { (item.sets) " × " (item.reps) }
                                td { (item.hold_seconds) " s" }
                                td { (item.times_per_day) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn versions(
    State(state): State<AppState>,
    session: Session,
    Path(plan_id): Path<String>,
) -> Page {
    let now = state.clock.now_ms();
    let latest = programs::get_plan(&state.db, session.actor, &plan_id, None, now).await?;
    let mut all = Vec::new();
    for version in (1..latest.latest_version).rev() {
        all.push(programs::get_plan(&state.db, session.actor, &plan_id, Some(version), now).await?);
    }
    let patient = patient_summary(&state, &session, latest.patient_id).await?;
    framed(&state, &session, StatusCode::OK, |chrome| {
        document(
            "Program versions",
            Some(chrome),
            html! {
                p .meta { a href={ "/clinic/patients/" (patient.id) } { "← " (patient.display_name) } }
                h1 { "Versions of “" (latest.body.title) "”" }
                p .meta {
                    "This program is " (latest.status) "; version " (latest.latest_version)
                    " is the newest. Versions are read-only."
                }
                nav aria-label="Versions" {
                    ul #version-list {
                        @for plan in std::iter::once(&latest).chain(&all) {
                            li {
                                a href={ "#version-" (plan.version) } { "Version " (plan.version) }
                                " · " (when(plan.written_at)) " · " (plan.body.therapist_name)
                            }
                        }
                    }
                }
                (plan_card(&latest))
                @if all.is_empty() { p .empty { "No earlier versions." } }
                @for plan in &all { (plan_card(plan)) }
            },
        )
    })
    .await
}

/// The add-an-exercise form, as typed.
#[derive(Debug, Default)]
struct ExerciseDraft {
    slug: String,
    name: String,
    instructions: String,
    safety_note: String,
    sets: String,
    reps: String,
    hold: String,
    image_url: String,
    image_alt: String,
    video_url: String,
}

impl ExerciseDraft {
    fn from_fields(fields: &Fields) -> ExerciseDraft {
        let get = |name| field(fields, name).to_owned();
        ExerciseDraft {
            slug: get("slug"),
            name: get("name"),
            instructions: get("instructions"),
            safety_note: get("safety_note"),
            sets: get("default_sets"),
            reps: get("default_reps"),
            hold: get("default_hold_seconds"),
            image_url: get("image_url"),
            image_alt: get("image_alt"),
            video_url: get("video_url"),
        }
    }

    fn to_input(&self) -> Result<ExerciseIn, Violations> {
        let mut violations = Violations::new();
        let mut whole = |value: &str, pointer: &str| {
            number(value, pointer, &mut violations).unwrap_or_default()
        };
        let default_sets = whole(&self.sets, "/default_sets");
        let default_reps = whole(&self.reps, "/default_reps");
        let default_hold_seconds = whole(&self.hold, "/default_hold_seconds");
        violations.into_result()?;
        Ok(ExerciseIn {
            slug: self.slug.trim().to_owned(),
            name: self.name.clone(),
            instructions: self.instructions.clone(),
            safety_note: optional(&self.safety_note),
            default_sets,
            default_reps,
            default_hold_seconds,
            image_url: optional(&self.image_url),
            image_alt: optional(&self.image_alt),
            video_url: optional(&self.video_url),
        })
    }
}

fn exercises_page(
    chrome: &Chrome<'_>,
    catalog: &[Exercise],
    images: &HashSet<Uuid>,
    draft: &ExerciseDraft,
    errors: &[String],
) -> Markup {
    document(
        "Exercises",
        Some(chrome),
        html! {
            h1 { "Exercise catalog" }
            p .meta { "Built-in exercises and your clinic's own; each plan keeps its own copy." }
            div .table-wrap {
                table #catalog {
                    thead { tr { th { "Exercise" } th { "Defaults" } th { "From" } } }
                    tbody {
                        @for exercise in catalog {
                            tr id={ "exercise-" (exercise.slug) } data-slug=(exercise.slug) {
                                td {
                                    strong { (exercise.name) } br; span .meta { (exercise.instructions) }
                                    (media_links(exercise, images))
                                }
                                td {
                                    (exercise.default_sets) " × " (exercise.default_reps)
                                    ", hold " (exercise.default_hold_seconds) " s"
                                }
                                td { @if exercise.org_id.is_some() { "Your clinic" } @else { "Built in" } }
                            }
                        }
                    }
                }
            }
            h2 #add { "Add your clinic's own exercise" }
            (message_list(errors))
            form .card method="post" action="/clinic/exercises" #exercise-form {
                (csrf_field(chrome.csrf))
                label for="name" { "Name" }
                input #name type="text" name="name" value=(draft.name) required maxlength="100";
                label for="slug" { "Short code (a-z, 0-9 and -, used in plans and the API)" }
                input #slug type="text" name="slug" value=(draft.slug) required maxlength="60" spellcheck="false";
                label for="instructions" { "Instructions" }
                textarea #instructions name="instructions" required maxlength="1000" { (draft.instructions) }
                label for="safety_note" { "When to stop (optional)" }
                textarea #safety_note name="safety_note" maxlength="1000" { (draft.safety_note) }
                div .buttons {
                    div {
                        label for="default_sets" { "Default sets" }
                        input #default_sets type="number" name="default_sets" value=(draft.sets) min="0" required;
                    }
                    div {
                        label for="default_reps" { "Default reps" }
                        input #default_reps type="number" name="default_reps" value=(draft.reps) min="0" required;
                    }
                    div {
                        label for="default_hold_seconds" { "Default hold seconds" }
                        input #default_hold_seconds type="number" name="default_hold_seconds" value=(draft.hold) min="0" required;
                    }
                }
                label for="image_url" { "Image URL (optional, https://)" }
                input #image_url type="url" name="image_url" value=(draft.image_url) maxlength="2000" spellcheck="false";
                label for="image_alt" { "Image description for people who cannot see it (alt text; needed with an image)" }
                input #image_alt type="text" name="image_alt" value=(draft.image_alt) maxlength="300";
                label for="video_url" { "Video URL (optional, https://)" }
                input #video_url type="url" name="video_url" value=(draft.video_url) maxlength="2000" spellcheck="false";
                div .buttons { button .primary type="submit" { "Add the exercise" } }
            }
        },
    )
}

async fn exercises(State(state): State<AppState>, session: Session) -> Page {
    session.actor.may(Capability::WritePlans)?;
    let (catalog, images) = catalog(&state, &session).await?;
    let draft = ExerciseDraft {
        sets: "1".to_owned(),
        reps: "5".to_owned(),
        hold: "0".to_owned(),
        ..ExerciseDraft::default()
    };
    framed(&state, &session, StatusCode::OK, |chrome| {
        exercises_page(chrome, &catalog, &images, &draft, &[])
    })
    .await
}

async fn create_exercise(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<Fields>, FormRejection>,
) -> Page {
    let fields = checked_fields(&headers, &session.csrf, form)?;
    let draft = ExerciseDraft::from_fields(&fields);
    let outcome = match draft.to_input() {
        Ok(input) => {
            programs::create_exercise(&state.db, state.clock.as_ref(), session.actor, input.into())
                .await
        }
        Err(violations) => Err(ServiceError::Invalid(violations)),
    };
    let (status, errors) = match outcome {
        Ok(made) => {
            tracing::info!(exercise_id = %made.id, "exercise added from the clinic page");
            return Ok(see_other(&format!(
                "/clinic/exercises#exercise-{}",
                made.slug
            )));
        }
        Err(err) => {
            let status = status_of(&err);
            match err {
                ServiceError::Invalid(violations) => (status, messages(&violations, &[], &[])),
                ServiceError::Conflict { detail, .. } => {
                    (status, vec![format!("Short code: {detail}")])
                }
                err => return Err(err.into()),
            }
        }
    };
    let (catalog, images) = catalog(&state, &session).await?;
    framed(&state, &session, status, |chrome| {
        exercises_page(chrome, &catalog, &images, &draft, &errors)
    })
    .await
}
