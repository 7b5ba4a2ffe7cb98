//! Patients joining, listing and leaving care teams.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::care_team::{JoinIn, MembershipOut, MembershipsOut};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json, Path};
use crate::state::AppState;

/// The care-team routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join))
        .routes(routes!(list_care_teams))
        .routes(routes!(leave))
}

/// A patient joins the care team of the org that made the code. Repeating
/// it with the same code answers the same membership.
#[utoipa::path(post, path = "/v1/care-team/join", tag = "care teams", security(("bearer" = [])),
    request_body = JoinIn,
    responses((status = 200, body = MembershipOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "unknown code", body = Problem, content_type = "application/problem+json"),
              (status = 410, description = "expired or used code", body = Problem, content_type = "application/problem+json")))]
async fn join(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<JoinIn>,
) -> ApiResult<Json<MembershipOut>> {
    let membership =
        dorsal_service::care_team::join(&state.db, state.clock.as_ref(), actor, &input.code)
            .await?;
    Ok(Json(membership.into()))
}

/// The clinics whose care teams the patient is on.
#[utoipa::path(get, path = "/v1/care-team", tag = "care teams", security(("bearer" = [])),
    responses((status = 200, body = MembershipsOut),
              (status = 403, description = "staff have no care teams of their own", body = Problem, content_type = "application/problem+json")))]
async fn list_care_teams(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<MembershipsOut>> {
    let items = dorsal_service::care_team::memberships(&state.db, actor).await?;
    Ok(Json(MembershipsOut {
        items: items.into_iter().map(MembershipOut::from).collect(),
    }))
}

/// The patient leaves a clinic's care team: from then on its staff cannot
/// reach the patient's data and no new alert goes to it. Joining again
/// needs a new invite.
#[utoipa::path(delete, path = "/v1/care-team/{org_id}", tag = "care teams", security(("bearer" = [])),
    params(("org_id" = Uuid, Path, description = "the clinic's org id")),
    responses((status = 204, description = "left"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "not on that org's care team", body = Problem, content_type = "application/problem+json")))]
async fn leave(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(org_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    dorsal_service::care_team::leave(&state.db, state.clock.as_ref(), actor, org_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
