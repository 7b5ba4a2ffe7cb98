//! The caller's org and its settings.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::orgs::{ContactIn, OrgOut, OrgPatchIn};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The org routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_org, patch_org))
        .routes(routes!(put_contact, delete_contact))
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

/// An admin sets the clinic's own phone line: urgent and routine advice to
/// the org's patients adds it from the next advice on (in the patient's
/// language, the hours as written here). Audited.
#[utoipa::path(put, path = "/v1/org/contact", tag = "orgs", security(("bearer" = [])), request_body = ContactIn,
    responses((status = 200, body = OrgOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "not an admin, or `totp_enrolment_required`", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "`phone` not E.164, or `hours` empty, over 100 characters or more than one line", body = Problem, content_type = "application/problem+json")))]
async fn put_contact(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<ContactIn>,
) -> ApiResult<Json<OrgOut>> {
    let org = dorsal_service::orgs::set_contact(
        &state.db,
        actor,
        Some((&input.phone, &input.hours)),
        state.clock.now_ms(),
    )
    .await?;
    Ok(Json(org.into()))
}

/// An admin removes the clinic's phone line: advice names none from then
/// on. Audited.
#[utoipa::path(delete, path = "/v1/org/contact", tag = "orgs", security(("bearer" = [])),
    responses((status = 200, body = OrgOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "not an admin, or `totp_enrolment_required`", body = Problem, content_type = "application/problem+json")))]
async fn delete_contact(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<OrgOut>> {
    let org =
        dorsal_service::orgs::set_contact(&state.db, actor, None, state.clock.now_ms()).await?;
    Ok(Json(org.into()))
}
