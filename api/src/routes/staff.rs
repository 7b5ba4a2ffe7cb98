//! Staff accounts, managed by an org's admin: add, list, change, switch
//! off.

use axum::extract::State;
use axum::http::StatusCode;
use dorsal_service::page::PageRequest;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::List;
use crate::dto::accounts::{StaffIn, StaffOut, StaffPatch, UserOut};
use crate::dto::care_team::PageQuery;
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

/// The staff routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_staff, list_staff))
        .routes(routes!(update_staff))
}

/// An admin adds a therapist, clinician or admin to their org.
#[utoipa::path(post, path = "/v1/staff", tag = "orgs", security(("bearer" = [])), request_body = StaffIn,
    responses((status = 201, body = UserOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_staff(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<StaffIn>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let role = input.role;
    let account = dorsal_service::users::create_staff(
        &state.db,
        &state.auth,
        actor,
        dorsal_service::users::NewAccount {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
        },
        role,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

/// The admin's org's staff, deactivated accounts included, oldest first.
#[utoipa::path(get, path = "/v1/staff", tag = "orgs", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = List<StaffOut>),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn list_staff(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<List<StaffOut>>> {
    let page = dorsal_service::staff::list(
        &state.db,
        actor,
        PageRequest::new(query.limit, query.cursor),
    )
    .await?;
    Ok(Json(List::from_page(page, StaffOut::from)))
}

/// An admin changes a member of their staff: role, name, or whether the
/// account may sign in. Switching it off ends every session at once. The
/// org's last active admin can be neither demoted nor switched off.
#[utoipa::path(patch, path = "/v1/staff/{id}", tag = "orgs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the staff member's user id")),
    request_body = StaffPatch,
    responses((status = 200, body = StaffOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "no such member of the admin's org", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "`last_admin`: the org's last active admin", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_staff(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<StaffPatch>,
) -> ApiResult<Json<StaffOut>> {
    let member =
        dorsal_service::staff::update(&state.db, actor, id, input.into(), state.clock.now_ms())
            .await?;
    Ok(Json(member.into()))
}
