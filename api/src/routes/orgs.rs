//! The caller's org and its settings.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::orgs::{OrgOut, OrgPatchIn};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The org routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_org, patch_org))
}

/// The caller's org and its settings. Staff only.
#[utoipa::path(get, path = "/v1/org", tag = "orgs", security(("bearer" = [])),
    responses((status = 200, body = OrgOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "not staff, or `totp_enrolment_required`", body = Problem, content_type = "application/problem+json")))]
async fn get_org(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<OrgOut>> {
    let org = dorsal_service::orgs::settings(&state.db, actor).await?;
    Ok(Json(org.into()))
}

/// An admin changes the org's settings: `require_totp` makes staff sign
/// in with TOTP (staff without it then get tokens that reach only
/// `/v1/me*`, where they can turn it on). Audited.
#[utoipa::path(patch, path = "/v1/org", tag = "orgs", security(("bearer" = [])), request_body = OrgPatchIn,
    responses((status = 200, body = OrgOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "not an admin, or `totp_enrolment_required`", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn patch_org(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<OrgPatchIn>,
) -> ApiResult<Json<OrgOut>> {
    let org = dorsal_service::orgs::set_require_totp(
        &state.db,
        actor,
        input.require_totp,
        state.clock.now_ms(),
    )
    .await?;
    Ok(Json(org.into()))
}
