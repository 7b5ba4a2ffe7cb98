//! Patients' exercise plans: written by therapists, read by their care
//! team and the patient, delivered to devices through sync.

use axum::extract::State;
use axum::http::StatusCode;
use dorsal_domain::role::Capability;
use dorsal_service::access::patient_access;
use dorsal_service::programs;
use dorsal_service::reports::{self, Range};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::List;
use crate::dto::programs::{AdherenceOut, PlanIn, PlanOut, RangeQuery, TrendsOut};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

/// The plan and report routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_plan, list_plans))
        .routes(routes!(get_plan, revise_plan))
        .routes(routes!(get_plan_version))
        .routes(routes!(archive_plan))
        .routes(routes!(adherence))
        .routes(routes!(trends))
}

/// A therapist gives the patient a new plan; their active plan is archived.
#[utoipa::path(post, path = "/v1/patients/{id}/plans", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "patient id")), request_body = PlanIn,
    responses((status = 201, body = PlanOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_plan(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(patient_id): Path<Uuid>,
    Json(input): Json<PlanIn>,
) -> ApiResult<(StatusCode, Json<PlanOut>)> {
    let now = state.clock.now_ms();
    let access = patient_access(
        &state.db,
        actor,
        patient_id,
        Capability::WritePlans,
        "plans.create",
        now,
    )
    .await?;
    let plan = programs::create_plan(
        &state.db,
        &state.commit_hooks,
        &state.nudges,
        state.clock.as_ref(),
        &access,
        input.into(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(plan.into())))
}

/// The patient's plans, newest first, each at its latest version.
#[utoipa::path(get, path = "/v1/patients/{id}/plans", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "patient id")),
    responses((status = 200, body = List<PlanOut>),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_plans(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(patient_id): Path<Uuid>,
) -> ApiResult<Json<List<PlanOut>>> {
    let now = state.clock.now_ms();
    let access = patient_access(
        &state.db,
        actor,
        patient_id,
        Capability::ReadPatients,
        "plans.list",
        now,
    )
    .await?;
    let plans = programs::list_plans(&state.db, &access).await?;
    Ok(Json(List {
        items: plans.into_iter().map(PlanOut::from).collect(),
        next: None,
    }))
}

/// A plan at its latest version.
#[utoipa::path(get, path = "/v1/plans/{id}", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "plan id")),
    responses((status = 200, body = PlanOut),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_plan(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(plan_id): Path<String>,
) -> ApiResult<Json<PlanOut>> {
    let plan = programs::get_plan(&state.db, actor, &plan_id, None, state.clock.now_ms()).await?;
    Ok(Json(plan.into()))
}

/// A plan at an earlier (or the latest) version.
#[utoipa::path(get, path = "/v1/plans/{id}/versions/{version}", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "plan id"), ("version" = i64, Path, description = "version")),
    responses((status = 200, body = PlanOut),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_plan_version(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path((plan_id, version)): Path<(String, i64)>,
) -> ApiResult<Json<PlanOut>> {
    let plan = programs::get_plan(
        &state.db,
        actor,
        &plan_id,
        Some(version),
        state.clock.now_ms(),
    )
    .await?;
    Ok(Json(plan.into()))
}

/// A therapist revises a plan: a new version; earlier ones stay readable.
#[utoipa::path(put, path = "/v1/plans/{id}", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "plan id")), request_body = PlanIn,
    responses((status = 200, body = PlanOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "archived", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn revise_plan(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(plan_id): Path<String>,
    Json(input): Json<PlanIn>,
) -> ApiResult<Json<PlanOut>> {
    let plan = programs::revise_plan(
        &state.db,
        &state.commit_hooks,
        &state.nudges,
        state.clock.as_ref(),
        actor,
        &plan_id,
        input.into(),
    )
    .await?;
    Ok(Json(plan.into()))
}

/// A therapist archives a plan.
#[utoipa::path(post, path = "/v1/plans/{id}/archive", tag = "programs", security(("bearer" = [])),
    params(("id" = String, Path, description = "plan id")),
    responses((status = 200, body = PlanOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn archive_plan(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(plan_id): Path<String>,
) -> ApiResult<Json<PlanOut>> {
    let plan = programs::archive_plan(
        &state.db,
        &state.commit_hooks,
        &state.nudges,
        state.clock.as_ref(),
        actor,
        &plan_id,
    )
    .await?;
    Ok(Json(plan.into()))
}

/// Sessions done against prescribed, with pain before and after, per local
/// day of the patient.
#[utoipa::path(get, path = "/v1/patients/{id}/adherence", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "patient id"), RangeQuery),
    responses((status = 200, body = AdherenceOut),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn adherence(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(patient_id): Path<Uuid>,
    Query(range): Query<RangeQuery>,
) -> ApiResult<Json<AdherenceOut>> {
    let range = Range::parse(&range.from, &range.to)?;
    let now = state.clock.now_ms();
    let access = patient_access(
        &state.db,
        actor,
        patient_id,
        Capability::ReadPatients,
        "patients.adherence",
        now,
    )
    .await?;
    let days = reports::adherence_report(&state.db, &access, &range).await?;
    Ok(Json(AdherenceOut {
        days: days.into_iter().map(Into::into).collect(),
    }))
}

/// Nightly pain (max, mean) and sleep (quality, awakenings, woken by pain)
/// per night, in the patient's local dates.
#[utoipa::path(get, path = "/v1/patients/{id}/trends", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "patient id"), RangeQuery),
    responses((status = 200, body = TrendsOut),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn trends(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(patient_id): Path<Uuid>,
    Query(range): Query<RangeQuery>,
) -> ApiResult<Json<TrendsOut>> {
    let range = Range::parse(&range.from, &range.to)?;
    let now = state.clock.now_ms();
    let access = patient_access(
        &state.db,
        actor,
        patient_id,
        Capability::ReadPatients,
        "patients.trends",
        now,
    )
    .await?;
    let nights = reports::trends_report(&state.db, &access, &range).await?;
    Ok(Json(TrendsOut {
        nights: nights.into_iter().map(Into::into).collect(),
    }))
}
