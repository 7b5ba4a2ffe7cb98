//! Staff accounts, added by an org's admin.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::accounts::{StaffIn, UserOut};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The staff routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_staff))
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
