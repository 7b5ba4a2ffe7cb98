//! The org's audit log, for its admins.

use axum::extract::State;
use dorsal_domain::role::Capability;
use dorsal_service::page::PageRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::List;
use crate::dto::care_team::{AuditOut, AuditQuery};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json, Query};
use crate::state::AppState;

/// The audit routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

/// Who read or wrote which patient's data, newest first; `patient_id`
/// and `staff_id` narrow it to one patient and/or one member of staff.
#[utoipa::path(get, path = "/v1/audit", tag = "orgs", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = List<AuditOut>),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_audit(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<List<AuditOut>>> {
    let org_id = actor.staff_org(Capability::Administer)?;
    let page = dorsal_service::audit::list(
        &state.db,
        org_id,
        dorsal_service::audit::AuditFilter {
            patient_id: query.patient_id,
            staff_id: query.staff_id,
        },
        PageRequest::new(query.limit, query.cursor),
    )
    .await?;
    Ok(Json(List::from_page(page, AuditOut::from)))
}
