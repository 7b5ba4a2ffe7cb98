//! The org's patients, for its staff.

use axum::extract::State;
use dorsal_domain::role::Capability;
use dorsal_service::page::PageRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::List;
use crate::dto::care_team::{PatientOut, PatientsQuery};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

/// The patient routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_patients))
        .routes(routes!(get_patient))
}

/// Patients on the caller's org's care teams, in the order they joined;
/// with `q`, those whose name or email contains it.
#[utoipa::path(get, path = "/v1/patients", tag = "patients", security(("bearer" = [])),
    params(PatientsQuery),
    responses((status = 200, body = List<PatientOut>),
              (status = 400, body = Problem, content_type = "application/problem+json",
               description = "`q` is longer than 200 characters (`invalid_query`)"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_patients(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<PatientsQuery>,
) -> ApiResult<Json<List<PatientOut>>> {
    let page = dorsal_service::care_team::list_patients(
        &state.db,
        actor,
        query.q.as_deref(),
        PageRequest::new(query.limit, query.cursor),
        state.clock.now_ms(),
    )
    .await?;
    Ok(Json(List::from_page(page, PatientOut::from)))
}

/// One patient of the caller's org (or the caller, for a patient).
#[utoipa::path(get, path = "/v1/patients/{id}", tag = "patients", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "patient id")),
    responses((status = 200, body = PatientOut),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_patient(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PatientOut>> {
    let access = dorsal_service::access::patient_access(
        &state.db,
        actor,
        id,
        Capability::ReadPatients,
        "patients.read",
        state.clock.now_ms(),
    )
    .await?;
    let patient = dorsal_service::care_team::get_patient(&state.db, &access).await?;
    Ok(Json(patient.into()))
}
