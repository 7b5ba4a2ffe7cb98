//! Reading and writing synced rows generically, driven by the table specs
//! in `domain::sync::schema`. Table and column names come only from those
//! specs, never from input.

use dorsal_domain::sync::{Cell, ColumnSpec, Kind, TableSpec};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement, Value};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
use std::collections::{HashMap, HashSet};

use serde_json::value::RawValue;
use uuid::Uuid;

use crate::error::{OrInternal, ServiceResult};

/// The bookkeeping of a stored row.
#[derive(Debug, Clone, Copy)]
pub struct RowState {
    /// Change number of its last write.
    pub change_seq: i64,
    /// Whether it is a tombstone.
    pub deleted: bool,
}

/// A stored row as a pull sends it.
#[derive(Debug, Clone)]
pub struct SyncedRow {
    /// Record id.
    pub id: String,
    /// Change number of its last write.
    pub change_seq: i64,
    /// Tombstone?
    pub deleted: bool,
    /// `id` and every data column, as the JSON object a device gets,
    /// written straight from the row.
    pub record: Box<RawValue>,
}

/// A row's `id` and data columns, serialized as one JSON object.
struct RecordJson<'a> {
    id: &'a str,
    cells: &'a [(&'static str, Cell)],
}

impl serde::Serialize for RecordJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.cells.len() + 1))?;
        map.serialize_entry("id", self.id)?;
        for (name, cell) in self.cells {
            map.serialize_entry(name, cell)?;
        }
        map.end()
    }
}

/// The SQL value of a cell in a column of `kind` (typed even when null).
pub fn sql_value(kind: Kind, cell: &Cell) -> Value {
    match (kind, cell) {
        (_, Cell::Bool(b)) => (*b).into(),
        (_, Cell::Int(i)) => (*i).into(),
        (_, Cell::Float(f)) => (*f).into(),
        (_, Cell::Text(s)) => s.clone().into(),
        (Kind::Bool, Cell::Null) => Option::<bool>::None.into(),
        (Kind::Int { .. } | Kind::Instant, Cell::Null) => Option::<i64>::None.into(),
        (Kind::Float { .. }, Cell::Null) => Option::<f64>::None.into(),
        (_, Cell::Null) => Option::<String>::None.into(),
    }
}

/// One cell of `row`, read as its column's kind says (an absent flag reads as false).
pub(crate) fn read_cell(row: &QueryResult, column: &ColumnSpec) -> Result<Cell, sea_orm::DbErr> {
    let name = column.name;
    Ok(match column.kind {
        Kind::Bool => Cell::Bool(row.try_get::<Option<bool>>("", name)?.unwrap_or(false)),
        Kind::Int { .. } | Kind::Instant => row
            .try_get::<Option<i64>>("", name)?
            .map_or(Cell::Null, Cell::Int),
        Kind::Float { .. } => row
            .try_get::<Option<f64>>("", name)?
            .map_or(Cell::Null, Cell::Float),
        _ => row
            .try_get::<Option<String>>("", name)?
            .map_or(Cell::Null, Cell::Text),
    })
}

/// A SELECT of `table`'s rows for `patient_id` with all columns.
pub fn select_rows(table: &TableSpec, patient_id: Uuid) -> SelectStatement {
    let mut select = Query::select();
    select
        .from(Alias::new(table.name))
        .columns(["id", "change_seq", "deleted"].map(Alias::new))
        .columns(table.columns.iter().map(|c| Alias::new(c.name)))
        .and_where(Expr::col(Alias::new("patient_id")).eq(patient_id))
        .order_by(Alias::new("change_seq"), Order::Asc)
        .order_by(Alias::new("id"), Order::Asc);
    select
}

/// Runs a SELECT made by [`select_rows`].
pub async fn fetch_rows(
    db: &impl ConnectionTrait,
    table: &TableSpec,
    select: &SelectStatement,
) -> ServiceResult<Vec<SyncedRow>> {
    let rows = db.query_all(select).await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("", "id")?;
            let cells = table
                .columns
                .iter()
                .map(|column| Ok((column.name, read_cell(row, column)?)))
                .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
            let record = serde_json::value::to_raw_value(&RecordJson {
                id: &id,
                cells: &cells,
            })
            .or_internal("row as JSON")?;
            Ok(SyncedRow {
                id,
                change_seq: row.try_get("", "change_seq")?,
                deleted: row.try_get("", "deleted")?,
                record,
            })
        })
        .collect()
}

/// Ids per statement in batched lookups: far below SQLite's and
/// PostgreSQL's bound-parameter limits.
const IDS_PER_STATEMENT: usize = 500;

/// What the database knows of a set of pushed ids.
#[derive(Debug, Default)]
pub struct KnownIds {
    /// The patient's own rows among them.
    pub own: HashMap<String, RowState>,
    /// Ids another patient already has a row with.
    pub taken: HashSet<String>,
}

/// Looks `ids` up across patients in one statement per few hundred ids.
/// Only the `id` index serves it, so the plan stays an index lookup per id
/// however the table's statistics lag behind its growth.
pub async fn known_ids(
    db: &impl ConnectionTrait,
    table: &TableSpec,
    patient_id: Uuid,
    ids: &[&str],
) -> ServiceResult<KnownIds> {
    let mut known = KnownIds::default();
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    // PostgreSQL takes the ids as one JSON array rather than one
    // parameter each (see `write::insert_from_json`).
    let per_statement = if postgres { 5_000 } else { IDS_PER_STATEMENT };
    for chunk in ids.chunks(per_statement) {
        let rows = if postgres {
            let json = serde_json::to_string(chunk).or_internal("ids as JSON")?;
            // The table name comes from its spec, never from input.
            let sql = format!(
                "SELECT id, patient_id, change_seq, deleted FROM {} \
                 WHERE id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))",
                table.name
            );
            db.query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                [json.into()],
            ))
            .await?
        } else {
            let select = Query::select()
                .from(Alias::new(table.name))
                .columns(["id", "patient_id", "change_seq", "deleted"].map(Alias::new))
                .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().copied()))
                .take();
            db.query_all(&select).await?
        };
        for row in rows {
            let id: String = row.try_get("", "id")?;
            let owner: Uuid = row.try_get("", "patient_id")?;
            if owner == patient_id {
                let state = RowState {
                    change_seq: row.try_get("", "change_seq")?,
                    deleted: row.try_get("", "deleted")?,
                };
                known.own.insert(id, state);
            } else {
                known.taken.insert(id);
            }
        }
    }
    Ok(known)
}

/// One column of a query result, with the error mapped.
pub fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> ServiceResult<T> {
    Ok(row.try_get("", column)?)
}

/// A SELECT (without columns yet) of the live rows of synced `table` for
/// the given patients.
pub fn live_rows(table: &str, patients: impl IntoIterator<Item = Uuid>) -> SelectStatement {
    Query::select()
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("patient_id")).is_in(patients))
        .and_where(Expr::col(Alias::new("deleted")).eq(false))
        .take()
}
