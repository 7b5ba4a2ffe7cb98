//! The therapist digest: patients with an active plan and no exercise
//! session for 14 days.

use axum::extract::State;
use dorsal_service::prompts::{self, DigestEntry};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::{List, rfc3339};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json};
use crate::state::AppState;

/// The digest route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_digest))
}

/// A patient who has not exercised for 14 days.
#[derive(Debug, Serialize, ToSchema)]
pub struct DigestOut {
    /// Patient id.
    pub patient_id: Uuid,
    /// Patient's name.
    pub display_name: String,
    /// The active plan.
    pub plan_id: String,
    /// RFC 3339 instant the plan was given.
    pub plan_since: String,
    /// RFC 3339 instant of the last session, if any.
    pub last_session_at: Option<String>,
    /// Whole days without a session.
    pub days_without_session: i64,
}

fn out(e: DigestEntry) -> DigestOut {
    DigestOut {
        patient_id: e.patient_id,
        display_name: e.display_name,
        plan_id: e.plan_id,
        plan_since: rfc3339(e.plan_since),
        last_session_at: e.last_session_at.map(rfc3339),
        days_without_session: e.days_without_session,
    }
}

/// The org's patients with an active plan and no exercise session for 14
/// days, longest first.
#[utoipa::path(get, path = "/v1/digest", tag = "programs", security(("bearer" = [])),
    responses((status = 200, body = List<DigestOut>),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn get_digest(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Json<List<DigestOut>>> {
    let items = prompts::digest(&state.db, actor, state.clock.now_ms())
        .await?
        .into_iter()
        .map(out)
        .collect();
    Ok(Json(List { items, next: None }))
}
