//! The alert inbox: clinicians and admins of the patient's org only.

use axum::extract::State;
use dorsal_service::alerts::{self, AlertFilter, AlertView};
use dorsal_service::page::PageRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::dto::{List, rfc3339};
use crate::error::{ApiResult, Problem};
use crate::extract::{CurrentUser, Json, Path, Query};
use crate::state::AppState;

/// The alert routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(acknowledge))
        .routes(routes!(resolve))
}

/// Inbox filters and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open`, `acknowledged` or `resolved`.
    pub status: Option<String>,
    /// `routine`, `urgent` or `emergency`.
    pub severity: Option<String>,
    /// Items per page, 1–500 (default 100).
    pub limit: Option<u64>,
    /// The `next` of the previous page.
    pub cursor: Option<Uuid>,
}

/// A matched pain log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceOut {
    /// The pain log's id.
    pub log_id: String,
    /// RFC 3339 instant it was recorded.
    pub recorded_at: String,
    /// The fields and values that matched.
    #[schema(value_type = Object)]
    pub matched: serde_json::Value,
}

/// An alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertOut {
    /// Id.
    pub id: Uuid,
    /// The patient.
    pub patient_id: Uuid,
    /// `rule@version`, e.g. `cauda_equina@1`.
    pub rule: String,
    /// `routine`, `urgent` or `emergency`.
    pub severity: String,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// Escalation level (0 until escalated).
    pub level: i64,
    /// What to do.
    pub clinician_action: &'static str,
    /// RFC 3339 instants.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Who acknowledged it.
    pub acknowledged_by: Option<Uuid>,
    /// When.
    pub acknowledged_at: Option<String>,
    /// Who resolved it.
    pub resolved_by: Option<Uuid>,
    /// When.
    pub resolved_at: Option<String>,
    /// The resolution note.
    pub resolution_note: Option<String>,
    /// Matched logs (in the detail view).
    pub evidence: Vec<EvidenceOut>,
}

impl From<AlertView> for AlertOut {
    fn from(v: AlertView) -> Self {
        let a = v.alert;
        AlertOut {
            id: a.id,
            patient_id: a.patient_id,
            rule: format!("{}@{}", a.rule, a.rule_version),
            severity: a.severity.to_string(),
            status: a.status.to_string(),
            level: a.level,
            clinician_action: v.clinician_action,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
            acknowledged_by: a.acknowledged_by,
            acknowledged_at: a.acknowledged_at.map(rfc3339),
            resolved_by: a.resolved_by,
            resolved_at: a.resolved_at.map(rfc3339),
            resolution_note: a.resolution_note,
            evidence: v
                .evidence
                .into_iter()
                .map(|e| EvidenceOut {
                    log_id: e.log_id,
                    recorded_at: rfc3339(e.recorded_at),
                    matched: e.matched,
                })
                .collect(),
        }
    }
}

/// `POST /v1/alerts/{id}/resolve`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResolveIn {
    /// What was done, 1–1000 characters.
    pub note: String,
}

/// Alerts of the org's patients, newest first.
#[utoipa::path(get, path = "/v1/alerts", tag = "alerts", security(("bearer" = [])), params(AlertQuery),
    responses((status = 200, body = List<AlertOut>),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn list_alerts(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<AlertQuery>,
) -> ApiResult<Json<List<AlertOut>>> {
    let filter = AlertFilter {
        status: query.status,
        severity: query.severity,
    };
    let page = PageRequest::new(query.limit, query.cursor);
    let page = alerts::list(&state.db, actor, filter, page, state.clock.now_ms()).await?;
    Ok(Json(List::from_page(page, AlertOut::from)))
}

/// One alert with the logs that matched.
#[utoipa::path(get, path = "/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "alert id")),
    responses((status = 200, body = AlertOut),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_alert(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AlertOut>> {
    Ok(Json(
        alerts::get(&state.db, actor, id, state.clock.now_ms())
            .await?
            .into(),
    ))
}

/// Acknowledges an alert; pending escalation is cancelled.
#[utoipa::path(post, path = "/v1/alerts/{id}/acknowledge", tag = "alerts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "alert id")),
    responses((status = 200, body = AlertOut),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn acknowledge(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AlertOut>> {
    Ok(Json(
        alerts::acknowledge(&state.db, &state.nudges, actor, id, state.clock.now_ms())
            .await?
            .into(),
    ))
}

/// Resolves an alert with a note.
#[utoipa::path(post, path = "/v1/alerts/{id}/resolve", tag = "alerts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "alert id")), request_body = ResolveIn,
    responses((status = 200, body = AlertOut),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn resolve(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<ResolveIn>,
) -> ApiResult<Json<AlertOut>> {
    Ok(Json(
        alerts::resolve(
            &state.db,
            &state.nudges,
            actor,
            id,
            &input.note,
            state.clock.now_ms(),
        )
        .await?
        .into(),
    ))
}
