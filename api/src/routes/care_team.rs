//! Patients joining a care team.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::care_team::{JoinIn, MembershipOut};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The care-team routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(join))
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
