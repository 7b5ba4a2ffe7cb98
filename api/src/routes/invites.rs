//! Invite codes for patients to join a care team.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::care_team::InviteOut;
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The invite routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_invite))
}

/// Staff make a single-use code; the patient who uses it joins the org's
/// care team together with the staff member who made it.
#[utoipa::path(post, path = "/v1/invites", tag = "care teams", security(("bearer" = [])),
    responses((status = 201, body = InviteOut),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn create_invite(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<(StatusCode, Json<InviteOut>)> {
    let invite = dorsal_service::care_team::create_invite(
        &state.db,
        state.clock.as_ref(),
        actor,
        state.config.auth.invite_ttl_hours,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(invite.into())))
}
