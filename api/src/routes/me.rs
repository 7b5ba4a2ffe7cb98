//! The caller's own account.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::accounts::UserOut;
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The me routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<UserOut>> {
    let account = dorsal_service::users::me(&state.db, actor).await?;
    Ok(Json(account.into()))
}
