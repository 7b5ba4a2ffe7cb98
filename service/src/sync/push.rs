//! Pushes: one transaction, one change number, an outcome for every record.
//! Only a malformed request, an unknown table or too many records fail the
//! whole push; a bad record is rejected alone and the rest applied.

use std::collections::BTreeMap;

use dorsal_domain::red_flags::Thresholds;
use dorsal_domain::sync::merge::{Arrival, columns_to_write};
use dorsal_domain::sync::record::{self, Record, RecordError};
use dorsal_domain::sync::{MAX_PUSH_RECORDS, RawCursor, TableSpec, parse_cursor, schema};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::hooks::CommitHooks;
use super::nudge::Nudges;
use super::pull::check_schema;
use super::rows::{RowState, known_ids};
use super::write::{NewRow, PatientWrite};
use crate::access::{Actor, PatientAccess};
use crate::db::Db;
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::red_flags::{self, Advisory};

/// One table's pushed changes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PushedTable {
    /// Records the device created.
    #[serde(default)]
    pub created: Vec<Value>,
    /// Records the device updated.
    #[serde(default)]
    pub updated: Vec<Value>,
    /// Ids the device deleted.
    #[serde(default)]
    pub deleted: Vec<Value>,
}

/// A push as the device sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct PushRequest {
    /// Changes per table.
    pub changes: BTreeMap<String, PushedTable>,
    /// The cursor of the device's last pull.
    #[serde(rename = "lastPulledAt", default, deserialize_with = "cursor")]
    pub last_pulled_at: Option<i64>,
}

fn cursor<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    parse_cursor(RawCursor::Json(&value), "lastPulledAt").map_err(serde::de::Error::custom)
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Written as sent.
    Applied,
    /// Merged with a newer server row (or a server delete won); the device
    /// pulls the result.
    Merged,
    /// Refused; the device keeps it and `rejections` says why.
    Rejected,
}

/// Why a record was refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rejection {
    /// Table.
    pub table: String,
    /// Record id.
    pub id: String,
    /// JSON pointer inside the record; empty for the whole record.
    pub pointer: String,
    /// What is wrong.
    pub reason: String,
}

/// The answer to a push; stored whole for idempotent retries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PushOutcome {
    /// Outcome per table and id.
    pub results: BTreeMap<String, BTreeMap<String, Outcome>>,
    /// Rejected ids per table (the client keeps them dirty).
    #[serde(rename = "experimentalRejectedIds")]
    pub rejected_ids: BTreeMap<String, Vec<String>>,
    /// Why each rejected record was refused.
    pub rejections: Vec<Rejection>,
    /// Advice for the patient about what was just logged.
    pub advisories: Vec<Advisory>,
}

impl PushOutcome {
    fn record(&mut self, table: &str, id: &str, outcome: Outcome) {
        self.results
            .entry(table.to_owned())
            .or_default()
            .insert(id.to_owned(), outcome);
    }

    fn reject(&mut self, table: &str, id: &str, errors: Vec<RecordError>) {
        self.record(table, id, Outcome::Rejected);
        let ids = self.rejected_ids.entry(table.to_owned()).or_default();
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
        self.rejections
            .extend(errors.into_iter().map(|e| Rejection {
                table: table.to_owned(),
                id: id.to_owned(),
                pointer: e.pointer,
                reason: e.reason,
            }));
    }
}

/// Checks the parts of a push that fail it whole.
fn check_whole(request: &PushRequest) -> ServiceResult<Vec<(&'static TableSpec, &PushedTable)>> {
    let mut tables = Vec::with_capacity(request.changes.len());
    let mut count = 0usize;
    for (name, changes) in &request.changes {
        let spec = schema::table(name).ok_or_else(|| ServiceError::Malformed {
            code: "unknown_table",
            detail: format!("`{name}` is not a synced table"),
        })?;
        for raw in changes.created.iter().chain(&changes.updated) {
            if record::record_id(raw).is_none() {
                return Err(ServiceError::Malformed {
                    code: "malformed_record",
                    detail: format!("every record in `{name}` must be an object with a string id"),
                });
            }
        }
        if changes.deleted.iter().any(|id| !id.is_string()) {
            return Err(ServiceError::Malformed {
                code: "malformed_record",
                detail: format!("deleted ids in `{name}` must be strings"),
            });
        }
        count += changes.created.len() + changes.updated.len() + changes.deleted.len();
        tables.push((spec, changes));
    }
    if count > MAX_PUSH_RECORDS {
        return Err(ServiceError::TooLarge(
            "a push carries at most 5000 records",
        ));
    }
    // Apply in the order tables are listed, so parents precede children.
    tables.sort_by_key(|(spec, _)| schema::TABLES.iter().position(|t| t.name == spec.name));
    Ok(tables)
}

/// What makes two pushes "the same request" for an idempotency key.
fn digest(body: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(body.to_string().as_bytes());
    base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        hasher.finalize(),
    )
}

async fn stored_answer(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
    key: &str,
    request_digest: &str,
) -> ServiceResult<Option<PushOutcome>> {
    let select = Query::select()
        .columns(["request_digest", "response"].map(Alias::new))
        .from(Alias::new("sync_push_receipts"))
        .and_where(Expr::col(Alias::new("patient_id")).eq(patient_id))
        .and_where(Expr::col(Alias::new("idempotency_key")).eq(key))
        .take();
    let Some(row) = db.query_one(&select).await? else {
        return Ok(None);
    };
    let stored_digest: String = row.try_get("", "request_digest")?;
    if stored_digest != request_digest {
        return Err(ServiceError::Conflict {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used for a different push",
        });
    }
    let response: String = row.try_get("", "response")?;
    serde_json::from_str(&response)
        .map(Some)
        .or_internal("stored push answer")
}

/// What a push carries besides its body.
#[derive(Debug, Clone, Copy)]
pub struct PushMeta<'a> {
    /// The device's schema version.
    pub schema_version: Option<u32>,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<&'a str>,
    /// Now, ms.
    pub now_ms: i64,
}

/// Applies a push for the patient `access` names. With an idempotency key,
/// a repeat of the same push returns the stored answer and writes nothing.
#[tracing::instrument(skip_all)]
pub async fn push(
    db: &Db,
    hooks: &CommitHooks,
    nudges: &Nudges,
    access: &PatientAccess,
    body: Value,
    meta: PushMeta<'_>,
    thresholds: &Thresholds,
) -> ServiceResult<PushOutcome> {
    let PushMeta {
        schema_version,
        idempotency_key,
        now_ms,
    } = meta;
    check_schema(schema_version)?;
    // Only a keyed push needs its digest; hashing costs a serialization.
    let receipt = idempotency_key.map(|key| (key, digest(&body)));
    let request: PushRequest =
        serde_json::from_value(body).map_err(|err| ServiceError::Malformed {
            code: "malformed_body",
            detail: format!("not a push: {err}"),
        })?;
    let tables = check_whole(&request)?;
    let patient_id = access.patient_id();

    // The change number's lock serializes this patient's writers, so two
    // retries of one push cannot both miss the stored answer.
    let write = PatientWrite::begin(db, patient_id, now_ms).await?;
    if let Some((key, request_digest)) = &receipt
        && let Some(answer) = stored_answer(write.txn(), patient_id, key, request_digest).await?
    {
        write.rollback().await?;
        return Ok(answer);
    }
    let since = request.last_pulled_at.unwrap_or(0);
    let mut outcome = PushOutcome::default();
    // Pain logs inserted by this push, as evaluated by the red-flag rules
    // straight from what was written (no need to read them back).
    let mut fresh_pain = Vec::new();
    for (spec, changes) in tables {
        let inserted = apply_table(&write, spec, changes, since, &mut outcome).await?;
        if spec.name == "pain_logs" {
            fresh_pain.extend(
                inserted
                    .iter()
                    .filter_map(|(id, cells)| red_flags::pain_facts_from_cells(id, cells)),
            );
        }
    }
    // Pain logs this push wrote (created, updated or merged), for red flags.
    let pain = request.changes.get("pain_logs");
    let outcomes = outcome.results.get("pain_logs");
    let written_pain: Vec<&str> = pain
        .into_iter()
        .flat_map(|t| t.created.iter().chain(&t.updated))
        .filter_map(record::record_id)
        .filter(|id| outcomes.and_then(|r| r.get(*id)) != Some(&Outcome::Rejected))
        .collect();
    let fresh_ids: std::collections::HashSet<&str> =
        fresh_pain.iter().map(|f| f.id.as_str()).collect();
    let reread: Vec<&str> = written_pain
        .into_iter()
        .filter(|id| !fresh_ids.contains(id))
        .collect();
    outcome.advisories =
        red_flags::on_pain_logs(&write, fresh_pain, &reread, thresholds, now_ms).await?;
    if let Some((key, request_digest)) = receipt {
        let response = serde_json::to_string(&outcome).or_internal("push answer")?;
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("sync_push_receipts"))
            .columns(
                [
                    "patient_id",
                    "idempotency_key",
                    "request_digest",
                    "response",
                    "created_at",
                ]
                .map(Alias::new),
            )
            .values([
                patient_id.into(),
                key.into(),
                request_digest.into(),
                response.into(),
                now_ms.into(),
            ])
            .or_internal("receipt statement")?;
        write.txn().execute(&insert).await?;
    }
    write.commit(hooks, nudges).await?;
    Ok(outcome)
}

/// A push as a device sends it over HTTP: the body, and what came beside
/// it.
#[derive(Debug, Clone)]
pub struct DevicePush<'a> {
    /// The body as sent, checked record by record.
    pub body: Value,
    /// The cursor of the query string; the body's `lastPulledAt` wins.
    pub query_cursor: Option<i64>,
    /// The device's schema version.
    pub schema_version: Option<u32>,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<&'a str>,
}

/// A patient's device pushes their own diary at `now_ms`: the access
/// check of every sync call, then [`push`].
pub async fn push_own(
    db: &Db,
    hooks: &CommitHooks,
    nudges: &Nudges,
    actor: Actor,
    device: DevicePush<'_>,
    thresholds: &Thresholds,
    now_ms: i64,
) -> ServiceResult<PushOutcome> {
    let access = super::own_diary(db, actor, now_ms).await?;
    let DevicePush {
        mut body,
        query_cursor,
        schema_version,
        idempotency_key,
    } = device;
    if let (Some(object), Some(cursor)) = (body.as_object_mut(), query_cursor) {
        object.entry("lastPulledAt").or_insert(cursor.into());
    }
    let meta = PushMeta {
        schema_version,
        idempotency_key,
        now_ms,
    };
    push(db, hooks, nudges, &access, body, meta, thresholds).await
}

/// A pushed record after validation.
type Parsed = Result<Record, Vec<RecordError>>;

const CARE_TEAM_ONLY: &str = "this table is written by your care team";

/// Applies one table's records, returning the rows it inserted. Existing
/// rows are looked up for the whole
/// table at once and new rows inserted in batches; rows that exist are
/// updated one by one (after any pending inserts, so a record repeated in
/// one push sees its first copy).
async fn apply_table(
    write: &PatientWrite,
    spec: &'static TableSpec,
    changes: &PushedTable,
    since: i64,
    outcome: &mut PushOutcome,
) -> ServiceResult<Vec<NewRow>> {
    let mut inserted: Vec<NewRow> = Vec::new();
    let arrivals = changes
        .created
        .iter()
        .map(|raw| (Arrival::Created, raw))
        .chain(changes.updated.iter().map(|raw| (Arrival::Updated, raw)));
    let parsed: Vec<(Arrival, &str, Parsed)> = arrivals
        .map(|(arrival, raw)| {
            (
                arrival,
                record::record_id(raw).unwrap_or_default(),
                record::parse(spec, raw),
            )
        })
        .collect();
    let ids: Vec<&str> = parsed
        .iter()
        .filter(|(_, _, r)| r.is_ok())
        .map(|(_, id, _)| *id)
        .collect();
    let known = known_ids(write.txn(), spec, write.patient_id(), &ids).await?;
    let (mut states, taken) = (known.own, known.taken);
    let patient = write.patient_id().to_string();
    let mut pending: Vec<NewRow> = Vec::new();

    for (arrival, id, parsed) in parsed {
        let record = match parsed {
            Ok(record) => record,
            Err(errors) => {
                outcome.reject(spec.name, id, errors);
                continue;
            }
        };
        if spec.id_is_patient && record.id != patient {
            outcome.reject(
                spec.name,
                id,
                vec![RecordError::record("the id must be your user id")],
            );
            continue;
        }
        match states.get(id).copied() {
            None if !spec.patient_creates() => {
                outcome.reject(spec.name, id, vec![RecordError::record(CARE_TEAM_ONLY)]);
            }
            None if taken.contains(id) => {
                let reason = "this id is already in use; make a new one";
                outcome.reject(spec.name, id, vec![RecordError::record(reason)]);
            }
            None => {
                states.insert(
                    id.to_owned(),
                    RowState {
                        change_seq: write.seq(),
                        deleted: false,
                    },
                );
                pending.push((record.id, record.cells));
                outcome.record(spec.name, id, Outcome::Applied);
            }
            Some(_)
                if !spec.patient_updates()
                    || (arrival == Arrival::Created && !spec.patient_creates()) =>
            {
                outcome.reject(spec.name, id, vec![RecordError::record(CARE_TEAM_ONLY)]);
            }
            Some(state) => {
                write.insert_new(spec, &pending).await?;
                inserted.append(&mut pending);
                if state.deleted {
                    // A delete on the server wins: stamp the tombstone again
                    // so the device pulls it and drops its copy.
                    write.update(spec, &record.id, &[]).await?;
                    outcome.record(spec.name, id, Outcome::Merged);
                } else {
                    let conflict = state.change_seq > since;
                    let cells = columns_to_write(&record, arrival, conflict);
                    write.update(spec, &record.id, &cells).await?;
                    outcome.record(
                        spec.name,
                        id,
                        if conflict {
                            Outcome::Merged
                        } else {
                            Outcome::Applied
                        },
                    );
                }
            }
        }
    }
    write.insert_new(spec, &pending).await?;
    inserted.append(&mut pending);
    for id in changes.deleted.iter().filter_map(Value::as_str) {
        apply_delete(write, spec, id, outcome).await?;
    }
    Ok(inserted)
}

async fn apply_delete(
    write: &PatientWrite,
    spec: &'static TableSpec,
    id: &str,
    outcome: &mut PushOutcome,
) -> ServiceResult<()> {
    if let Err(error) = record::check_id(id) {
        outcome.reject(spec.name, id, vec![error]);
    } else if !spec.patient_creates() {
        outcome.reject(spec.name, id, vec![RecordError::record(CARE_TEAM_ONLY)]);
    } else {
        // Deleting what is missing or already deleted succeeds.
        write.delete(spec, id).await?;
        outcome.record(spec.name, id, Outcome::Applied);
    }
    Ok(())
}
