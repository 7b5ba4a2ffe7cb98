//! FHIR R4 export of one patient, for the staff who may read them (and the
//! patient themselves).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use dorsal_domain::role::Capability;
use dorsal_service::access::patient_access;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Path};
use crate::state::AppState;

/// The media type of FHIR resources in JSON.
const FHIR_JSON: &str = "application/fhir+json";

/// The FHIR routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(patient_bundle))
}

/// A FHIR R4 Bundle (type `collection`) of the patient: Patient, pain and
/// sleep Observations of the last 90 days, the active plan as a CarePlan
/// and, for clinicians and admins, a Flag and a DetectedIssue per
/// unresolved alert. Every reference resolves to an entry's `fullUrl`.
#[utoipa::path(get, path = "/v1/patients/{id}/fhir", tag = "fhir", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "patient id")),
    responses((status = 200, description = "FHIR R4 Bundle", body = Object, content_type = "application/fhir+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn patient_bundle(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(patient_id): Path<Uuid>,
) -> ApiResult<Response> {
    let now = state.clock.now_ms();
    let access = patient_access(
        &state.db,
        actor,
        patient_id,
        Capability::ReadPatients,
        "patients.fhir",
        now,
    )
    .await?;
    let bundle = dorsal_service::fhir::patient_bundle(&state.db, &access, now).await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
        axum::Json(bundle),
    )
        .into_response())
}
