//! Sync for patient devices: pull, push and "pull now" events, wire
//! compatible with WatermelonDB's `synchronize()`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use dorsal_domain::sync::record::{ID_MAX_LEN, TEXT_MAX_CHARS};
use dorsal_domain::sync::{
    DEFAULT_PULL_LIMIT, Kind, MAX_CURSOR, RawCursor, TABLES, TableSpec, parse_cursor,
};
use dorsal_service::access::{Actor, PatientAccess};
use dorsal_service::sync::{self, pull, push};
use serde::{Deserialize, Serialize};
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::BroadcastStream;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{CurrentUser, IdempotencyKey, Json, PushBody, Query};
use crate::state::AppState;

/// The sync routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pull_changes))
        .routes(routes!(push_changes))
        .routes(routes!(events))
}

async fn own_diary(state: &AppState, actor: Actor) -> ApiResult<PatientAccess> {
    Ok(sync::own_diary(&state.db, actor, state.clock.now_ms()).await?)
}

fn cursor(raw: Option<&str>) -> ApiResult<Option<i64>> {
    Ok(raw
        .map(|text| parse_cursor(RawCursor::Text(text), "last_pulled_at"))
        .transpose()
        .map_err(|err| ApiError::InvalidQuery(err.to_string()))?
        .flatten())
}

/// `GET /v1/sync/pull` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// The `timestamp` of the device's last pull; `null` on its first.
    #[param(pattern = r"^(null|undefined|[0-9]{1,16})?$")]
    pub last_pulled_at: Option<String>,
    /// The device's schema version.
    pub schema_version: Option<u32>,
    /// Rows per page, 1–5000 (default 1000).
    pub limit: Option<u64>,
}

/// One table's changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct TableChangesOut {
    /// Records new to the device (first pull only).
    #[schema(value_type = Vec<Object>)]
    pub created: Vec<Box<serde_json::value::RawValue>>,
    /// Records to create or update.
    #[schema(value_type = Vec<Object>)]
    pub updated: Vec<Box<serde_json::value::RawValue>>,
    /// Ids of deleted records.
    pub deleted: Vec<String>,
}

/// A page of changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct PullOut {
    /// Changes per table.
    pub changes: BTreeMap<String, TableChangesOut>,
    /// Pass back as `last_pulled_at`.
    pub timestamp: i64,
    /// Pull again from `timestamp` for more.
    pub has_more: bool,
    /// `replacement` when the device's cursor is unknown to this server.
    #[serde(
        rename = "experimentalStrategy",
        skip_serializing_if = "Option::is_none"
    )]
    pub strategy: Option<&'static str>,
}

/// Changes after the device's cursor, paged by change number.
#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", security(("bearer" = [])), params(PullQuery),
    responses((status = 200, body = PullOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 426, body = Problem, content_type = "application/problem+json")))]
async fn pull_changes(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<PullQuery>,
) -> ApiResult<Json<PullOut>> {
    let access = own_diary(&state, actor).await?;
    let request = pull::PullRequest {
        last_pulled_at: cursor(query.last_pulled_at.as_deref())?,
        schema_version: query.schema_version,
        limit: query.limit.unwrap_or(DEFAULT_PULL_LIMIT),
    };
    let page = pull::pull(&state.db, &access, request).await?;
    let rows: usize = page
        .changes
        .values()
        .map(|c| c.created.len() + c.updated.len() + c.deleted.len())
        .sum();
    metrics::counter!("dorsal_sync_rows_total", "direction" => "pull").increment(rows as u64);
    let changes = page
        .changes
        .into_iter()
        .map(|(table, c)| {
            (
                table.to_owned(),
                TableChangesOut {
                    created: c.created,
                    updated: c.updated,
                    deleted: c.deleted,
                },
            )
        })
        .collect();
    Ok(Json(PullOut {
        changes,
        timestamp: page.timestamp,
        has_more: page.has_more,
        strategy: page.strategy,
    }))
}

/// `POST /v1/sync/push` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PushQuery {
    /// The device's cursor (the body's `lastPulledAt` wins).
    #[param(pattern = r"^(null|undefined|[0-9]{1,16})?$")]
    pub last_pulled_at: Option<String>,
    /// The device's schema version.
    pub schema_version: Option<u32>,
}

/// The answer to a push (see `dorsal_service::sync::push::PushOutcome`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PushOut {
    /// `applied`, `merged` or `rejected` per table and id.
    #[schema(value_type = Object)]
    pub results: serde_json::Value,
    /// Ids the device must keep dirty.
    #[serde(rename = "experimentalRejectedIds")]
    #[schema(value_type = Object)]
    pub rejected_ids: serde_json::Value,
    /// Why each was refused: `{table, id, pointer, reason}`.
    #[schema(value_type = Vec<Object>)]
    pub rejections: serde_json::Value,
    /// Red-flag advice about what was just logged: `{code, severity, title, body}`.
    #[schema(value_type = Vec<Object>)]
    pub advisories: serde_json::Value,
}

/// A string that is one of `codes`, with what the codes are.
fn codes(codes: &[&str], description: &str) -> ObjectBuilder {
    let mut values: Vec<serde_json::Value> = codes.iter().map(|c| (*c).into()).collect();
    values.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .enum_values(Some(values))
        .description(Some(description))
}

/// `POST /v1/sync/push` body, for the document only: the handler reads raw
/// JSON and checks it record by record. Built from the synced tables, so
/// the document (and a fuzzer reading it) knows every column's kind.
#[derive(Debug)]
pub struct PushIn;

impl utoipa::ToSchema for PushIn {}

impl utoipa::PartialSchema for PushIn {
    fn schema() -> RefOr<Schema> {
        let mut changes = ObjectBuilder::new()
            .description(Some(
                "Changes per synced table; another name fails the push.",
            ))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        for table in TABLES {
            let record: RefOr<Schema> = table_record(table).into();
            let list = |what: &str| {
                ArrayBuilder::new()
                    .items(record.clone())
                    .description(Some(format!("Records the device {what}.")))
            };
            let table_changes = ObjectBuilder::new()
                .property("created", list("created"))
                .property("updated", list("updated"))
                .property(
                    "deleted",
                    ArrayBuilder::new()
                        .items(id_schema())
                        .description(Some("Ids the device deleted.")),
                );
            changes = changes.property(table.name, table_changes);
        }
        ObjectBuilder::new()
            .property("changes", changes)
            .required("changes")
            .property(
                "lastPulledAt",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(0))
                    .maximum(Some(MAX_CURSOR))
                    .description(Some("The cursor of the device's last pull.")),
            )
            .into()
    }
}

fn id_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^[A-Za-z0-9_.-]{{1,{ID_MAX_LEN}}}$")))
}

/// One pushed record of `table`: the columns a device may write; others
/// are ignored.
fn table_record(table: &TableSpec) -> ObjectBuilder {
    let mut record = ObjectBuilder::new()
        .property("id", id_schema())
        .required("id")
        .property("_status", ObjectBuilder::new().schema_type(Type::String))
        .property(
            "_changed",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("Comma-separated columns changed on the device.")),
        );
    for column in table
        .columns
        .iter()
        .filter(|c| table.patient_writes_column(c.name))
    {
        let (kind, schema) = match column.kind {
            Kind::Text => (
                Type::String,
                ObjectBuilder::new().max_length(Some(TEXT_MAX_CHARS)),
            ),
            Kind::Bool => (Type::Boolean, ObjectBuilder::new()),
            Kind::Int { min, max } => (
                Type::Integer,
                ObjectBuilder::new().minimum(Some(min)).maximum(Some(max)),
            ),
            Kind::Float { min, max } => (
                Type::Number,
                ObjectBuilder::new().minimum(Some(min)).maximum(Some(max)),
            ),
            Kind::Instant => (
                Type::Integer,
                ObjectBuilder::new()
                    .minimum(Some(0))
                    .maximum(Some(MAX_CURSOR))
                    .description(Some("Milliseconds since the Unix epoch.")),
            ),
            Kind::Date => (
                Type::String,
                ObjectBuilder::new().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
            ),
            Kind::LocalTime => (
                Type::String,
                ObjectBuilder::new().pattern(Some("^([01][0-9]|2[0-3]):[0-5][0-9]$")),
            ),
            Kind::Enum(words) => {
                let mut values: Vec<serde_json::Value> =
                    words.iter().map(|w| (*w).into()).collect();
                if !column.required {
                    values.push(serde_json::Value::Null);
                }
                (Type::String, ObjectBuilder::new().enum_values(Some(values)))
            }
            Kind::TimeZone => (
                Type::String,
                ObjectBuilder::new()
                    .description(Some("An IANA time zone, e.g. Europe/Berlin."))
                    .examples(["Europe/Berlin", "America/New_York"]),
            ),
            Kind::Ref => (Type::String, id_schema()),
            Kind::Language => (
                Type::String,
                codes(
                    dorsal_domain::locale::LANGUAGES,
                    "An ISO 639-1 language code in lower case; null is stored as `en`. \
                     Languages without a catalog read in English.",
                ),
            ),
            Kind::Country => (
                Type::String,
                codes(
                    dorsal_domain::care_routes::ALPHA2,
                    "An ISO 3166-1 alpha-2 country code in upper case: it chooses the \
                     emergency number and care routes advice names.",
                ),
            ),
        };
        let schema = if column.required {
            record = record.required(column.name);
            schema.schema_type(kind)
        } else {
            schema.schema_type(SchemaType::from_iter([kind, Type::Null]))
        };
        record = record.property(column.name, schema);
    }
    record
}

/// The device's changes, applied in one transaction with a result per
/// record. `Idempotency-Key` makes a retry return the stored answer.
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", security(("bearer" = [])), params(PushQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "repeat with the same key to get the stored answer",
            min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$")),
    request_body(content = PushIn, description = "`{changes, lastPulledAt}`"),
    responses((status = 200, body = PushOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "this `Idempotency-Key` was used for a different push (`idempotency_key_reused`)",
                  body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json"),
              (status = 426, body = Problem, content_type = "application/problem+json")))]
async fn push_changes(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<PushQuery>,
    IdempotencyKey(key): IdempotencyKey,
    PushBody(body): PushBody,
) -> ApiResult<Json<push::PushOutcome>> {
    let device = push::DevicePush {
        body,
        query_cursor: cursor(query.last_pulled_at.as_deref())?,
        schema_version: query.schema_version,
        idempotency_key: key.as_deref(),
    };
    let outcome = push::push_own(
        &state.db,
        &state.commit_hooks,
        &state.nudges,
        actor,
        device,
        &state.config.red_flags,
        state.clock.now_ms(),
    )
    .await?;
    let rows: usize = outcome.results.values().map(|t| t.len()).sum();
    metrics::counter!("dorsal_sync_rows_total", "direction" => "push").increment(rows as u64);
    Ok(Json(outcome))
}

/// Server-sent events: `event: sync` with `{"cursor": n}` whenever the
/// patient's data changes (a push from another device, a new plan, a
/// reminder). A hint to pull, nothing more.
#[utoipa::path(get, path = "/v1/sync/events", tag = "sync", security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream of `sync` events", content_type = "text/event-stream")))]
async fn events(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
) -> ApiResult<Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>>> {
    let access = own_diary(&state, actor).await?;
    let patient_id = access.patient_id();
    let stream =
        BroadcastStream::new(state.nudges.subscribe()).filter_map(move |nudge| match nudge {
            Ok(nudge) if nudge.patient_id == patient_id => Some(Ok(Event::default()
                .event("sync")
                .data(format!("{{\"cursor\":{}}}", nudge.cursor)))),
            Ok(_) => None,
            // Hints were dropped while this listener lagged: ask for a pull.
            Err(_) => Some(Ok(Event::default().event("sync").data("{\"cursor\":null}"))),
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}
