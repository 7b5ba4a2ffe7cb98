//! The exercise catalog.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::dto::List;
use crate::dto::programs::{ExerciseIn, ExerciseOut};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The exercise routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_exercises, create_exercise))
}

/// The built-in evening stretches and the caller's org's own exercises.
#[utoipa::path(get, path = "/v1/exercises", tag = "programs", security(("bearer" = [])),
    responses((status = 200, body = List<ExerciseOut>)))]
async fn list_exercises(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<List<ExerciseOut>>> {
    let all = dorsal_service::programs::list_exercises(&state.db, actor).await?;
    Ok(Json(List {
        items: all.into_iter().map(ExerciseOut::from).collect(),
        next: None,
    }))
}

/// A therapist adds an exercise to their org's catalog.
#[utoipa::path(post, path = "/v1/exercises", tag = "programs", security(("bearer" = [])),
    request_body = ExerciseIn,
    responses((status = 201, body = ExerciseOut),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_exercise(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Json(input): Json<ExerciseIn>,
) -> ApiResult<(StatusCode, Json<ExerciseOut>)> {
    let made = dorsal_service::programs::create_exercise(
        &state.db,
        state.clock.as_ref(),
        actor,
        input.into(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(made.into())))
}
