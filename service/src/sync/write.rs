//! The one path by which anything writes a patient's synced data: a
//! transaction that first takes the patient's next change number.
//!
//! Taking the number is an upsert on the patient's `sync_clocks` row, which
//! locks it until commit (on SQLite the whole database is locked by
//! `BEGIN IMMEDIATE`). Writers to one patient are therefore serialized and
//! commit in change-number order, so a pull that reads the counter and the
//! rows in one snapshot can never hand out a cursor past a change that
//! commits later with a lower number.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use dorsal_domain::sync::{Cell, ColumnSpec, FIRST_CURSOR, Kind, TableSpec};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait};
use uuid::Uuid;

use super::hooks::CommitHooks;
use super::nudge::Nudges;
use super::rows::sql_value;
use crate::db::{Db, WriteTxn, begin_write};
use crate::error::{OrInternal, ServiceError, ServiceResult};

/// A row to insert: its id and its data columns.
pub type NewRow = (String, Vec<(&'static ColumnSpec, Cell)>);

/// A row to insert for some patient under that patient's change number.
pub type StampedRow<'a> = (Uuid, i64, &'a str, &'a [(&'static ColumnSpec, Cell)]);

/// Takes the next change number of each patient in `patients` (once per
/// patient, however often listed), inside `txn`, in one statement. The caller must already hold these patients'
/// `sync_clocks` rows (see [`lock_clocks`]) or be on SQLite, whose write
/// transaction excludes every other writer.
pub async fn take_change_numbers(
    txn: &DatabaseTransaction,
    patients: &[Uuid],
) -> ServiceResult<HashMap<Uuid, i64>> {
    let mut patients = patients.to_vec();
    patients.sort_unstable();
    patients.dedup();
    let mut out = HashMap::with_capacity(patients.len());
    for chunk in patients.chunks(1000) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new("sync_clocks"))
            .columns([Alias::new("patient_id"), Alias::new("seq")]);
        for patient in chunk {
            insert
                .values([(*patient).into(), (FIRST_CURSOR + 1).into()])
                .or_internal("clock statement")?;
        }
        insert
            .on_conflict(
                OnConflict::column(Alias::new("patient_id"))
                    .value(
                        Alias::new("seq"),
                        Expr::col((Alias::new("sync_clocks"), Alias::new("seq"))).add(1),
                    )
                    .to_owned(),
            )
            .returning(Query::returning().columns([Alias::new("patient_id"), Alias::new("seq")]));
        for row in txn.query_all(&insert).await? {
            out.insert(row.try_get("", "patient_id")?, row.try_get("", "seq")?);
        }
    }
    Ok(out)
}

/// Locks the `sync_clocks` rows of `patients` for the rest of `txn`,
/// skipping any another transaction holds (a patient mid-push), and
/// returns those it got. Taking a batch's clocks this way, never waiting,
/// keeps a batch writer from deadlocking with a patient's own writes. On
/// SQLite the write transaction already excludes everyone: all are got.
pub async fn lock_clocks(
    txn: &DatabaseTransaction,
    patients: &[Uuid],
) -> ServiceResult<HashSet<Uuid>> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(patients.iter().copied().collect());
    }
    let mut got = HashSet::with_capacity(patients.len());
    for chunk in patients.chunks(1000) {
        let mut sorted = chunk.to_vec();
        sorted.sort_unstable();
        let select = Query::select()
            .column(Alias::new("patient_id"))
            .from(Alias::new("sync_clocks"))
            .and_where(Expr::col(Alias::new("patient_id")).is_in(sorted))
            .order_by(Alias::new("patient_id"), sea_orm::sea_query::Order::Asc)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .take();
        for row in txn.query_all(&select).await? {
            got.insert(row.try_get("", "patient_id")?);
        }
    }
    // A patient who never wrote has no clock row to lock, and no writer to
    // collide with: the upsert that creates it serializes on the key.
    let present = {
        let select = Query::select()
            .column(Alias::new("patient_id"))
            .from(Alias::new("sync_clocks"))
            .and_where(Expr::col(Alias::new("patient_id")).is_in(patients.iter().copied()))
            .take();
        txn.query_all(&select)
            .await?
            .iter()
            .map(|row| row.try_get::<Uuid>("", "patient_id"))
            .collect::<Result<HashSet<_>, _>>()?
    };
    got.extend(patients.iter().filter(|p| !present.contains(p)));
    Ok(got)
}

/// Inserts rows of `table`, each for its own patient and change number,
/// reviving and overwriting rows with the same (patient, id). All rows
/// have the same columns. One statement per few hundred rows.
pub async fn upsert_rows<'a>(
    txn: &DatabaseTransaction,
    table: &TableSpec,
    rows: impl IntoIterator<Item = StampedRow<'a>>,
) -> ServiceResult<()> {
    write_rows(txn, table, rows.into_iter().collect(), false).await
}

/// Writes rows; with `skip_empty`, columns at their default in every row
/// are left out of the statement (and so take their default, or keep their
/// stored value on a conflict), which makes a wide table's sparse rows
/// cheap to insert.
async fn write_rows(
    txn: &DatabaseTransaction,
    table: &TableSpec,
    rows: Vec<StampedRow<'_>>,
    skip_empty: bool,
) -> ServiceResult<()> {
    let Some((_, _, _, first)) = rows.first() else {
        return Ok(());
    };
    // A column every row leaves at its default (null; `false` for the
    // booleans, which are `NOT NULL DEFAULT false`) need not be sent.
    let at_default = |cell: &Cell| matches!(cell, Cell::Null | Cell::Bool(false));
    let given: Vec<usize> = (0..first.len())
        .filter(|i| {
            !skip_empty
                || rows
                    .iter()
                    .any(|(_, _, _, cells)| cells.get(*i).is_some_and(|(_, c)| !at_default(c)))
        })
        .collect();
    let data_columns: Vec<&'static ColumnSpec> = given.iter().map(|i| first[*i].0).collect();
    if rows.iter().any(|(_, _, _, cells)| {
        cells.len() != first.len()
            || cells
                .iter()
                .zip(first.iter())
                .any(|((a, _), (b, _))| a.name != b.name)
    }) {
        return Err(ServiceError::internal(
            "rows of one insert differ in columns",
        ));
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        return insert_from_json(txn, table, &rows, &given, &data_columns).await;
    }
    // Keep each statement well under the bound-parameter limits.
    let per_statement = (30_000 / (data_columns.len() + 4)).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut insert = Query::insert();
        let mut columns = ["id", "patient_id", "change_seq", "deleted"]
            .map(Alias::new)
            .to_vec();
        columns.extend(data_columns.iter().map(|c| Alias::new(c.name)));
        insert.into_table(Alias::new(table.name)).columns(columns);
        for (patient_id, seq, id, cells) in chunk {
            let mut values: Vec<SimpleExpr> = vec![
                (*id).into(),
                (*patient_id).into(),
                (*seq).into(),
                false.into(),
            ];
            values.extend(given.iter().map(|i| {
                let (c, v) = &cells[*i];
                SimpleExpr::from(sql_value(c.kind, v))
            }));
            insert.values(values).or_internal("insert statement")?;
        }
        let mut update = vec![Alias::new("change_seq"), Alias::new("deleted")];
        update.extend(data_columns.iter().map(|c| Alias::new(c.name)));
        insert.on_conflict(
            OnConflict::columns([Alias::new("patient_id"), Alias::new("id")])
                .update_columns(update)
                .to_owned(),
        );
        txn.execute(&insert).await?;
    }
    Ok(())
}

/// The PostgreSQL type a column of `kind` is stored as.
fn postgres_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool => "boolean",
        Kind::Int { .. } | Kind::Instant => "bigint",
        Kind::Float { .. } => "double precision",
        Kind::Text
        | Kind::Date
        | Kind::LocalTime
        | Kind::Enum(_)
        | Kind::TimeZone
        | Kind::Ref
        | Kind::Language
        | Kind::Country => "text",
    }
}

/// One row of [`insert_from_json`], written straight to JSON.
struct StampedJson<'a> {
    id: &'a str,
    patient_id: Uuid,
    seq: i64,
    cells: &'a [(&'static ColumnSpec, Cell)],
    given: &'a [usize],
}

impl serde::Serialize for StampedJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.given.len() + 3))?;
        map.serialize_entry("id", self.id)?;
        map.serialize_entry("patient_id", &self.patient_id)?;
        map.serialize_entry("change_seq", &self.seq)?;
        for i in self.given {
            if let Some((column, cell)) = self.cells.get(*i) {
                map.serialize_entry(column.name, cell)?;
            }
        }
        map.end()
    }
}

/// [`write_rows`] on PostgreSQL: the rows go as one JSON parameter that
/// `json_to_recordset` turns back into typed rows. A multi-row `VALUES`
/// of a thousand diary rows binds ten thousand parameters, and encoding
/// and planning those cost more than the insert itself.
async fn insert_from_json(
    txn: &DatabaseTransaction,
    table: &TableSpec,
    rows: &[StampedRow<'_>],
    given: &[usize],
    data_columns: &[&'static ColumnSpec],
) -> ServiceResult<()> {
    let records: Vec<StampedJson<'_>> = rows
        .iter()
        .map(|(patient_id, seq, id, cells)| StampedJson {
            id,
            patient_id: *patient_id,
            seq: *seq,
            cells,
            given,
        })
        .collect();
    let json = serde_json::to_string(&records).or_internal("rows as JSON")?;
    // Names come from the table specs, never from input.
    let names: Vec<&str> = data_columns.iter().map(|c| c.name).collect();
    let typed: Vec<String> = data_columns
        .iter()
        .map(|c| format!("{} {}", c.name, postgres_type(c.kind)))
        .collect();
    let mut sets = vec![
        "change_seq = EXCLUDED.change_seq".to_owned(),
        "deleted = false".to_owned(),
    ];
    sets.extend(names.iter().map(|n| format!("{n} = EXCLUDED.{n}")));
    let comma = |parts: &[&str]| parts.iter().map(|p| format!(", {p}")).collect::<String>();
    let sql = format!(
        "INSERT INTO {table} (id, patient_id, change_seq, deleted{columns}) \
         SELECT id, patient_id, change_seq, false{columns} \
         FROM json_to_recordset($1::json) AS r(id text, patient_id uuid, change_seq bigint{typed}) \
         ON CONFLICT (patient_id, id) DO UPDATE SET {sets}",
        table = table.name,
        columns = comma(&names),
        typed = comma(&typed.iter().map(String::as_str).collect::<Vec<_>>()),
        sets = sets.join(", "),
    );
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [json.into()],
    ))
    .await?;
    Ok(())
}

/// An open write to one patient's synced data, holding its change number.
#[derive(Debug)]
pub struct PatientWrite {
    txn: WriteTxn,
    patient_id: Uuid,
    seq: i64,
    now: i64,
    outbox: AtomicBool,
    /// The tables written so far, for the commit hooks.
    touched: Mutex<Vec<&'static str>>,
}

impl PatientWrite {
    /// Begins a write transaction at `now` (ms) and takes `patient_id`'s
    /// next change number.
    pub async fn begin(db: &Db, patient_id: Uuid, now: i64) -> ServiceResult<PatientWrite> {
        let txn = begin_write(db).await?;
        let seq = *take_change_numbers(&txn, &[patient_id])
            .await?
            .get(&patient_id)
            .or_internal("change counter returned no row")?;
        // Under the counter's lock: an account erased meanwhile (erasure
        // takes the same lock first) gets nothing written back.
        let exists = dorsal_entity::user::Entity::find_by_id(patient_id)
            .one(&txn)
            .await?
            .is_some();
        if !exists {
            txn.rollback().await?;
            return Err(ServiceError::NotFound("patient"));
        }
        Ok(PatientWrite {
            txn,
            patient_id,
            seq,
            now,
            outbox: AtomicBool::new(false),
            touched: Mutex::new(Vec::new()),
        })
    }

    /// The change number every row written here gets.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Whose data is being written.
    pub fn patient_id(&self) -> Uuid {
        self.patient_id
    }

    /// The transaction, for reads and for writes to other tables that must
    /// commit together with this change.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Inserts rows (all with the same columns), reviving and overwriting
    /// any the patient already has with the same id. One statement per few
    /// hundred rows.
    pub async fn upsert_many(&self, table: &TableSpec, rows: &[NewRow]) -> ServiceResult<()> {
        self.touched(table);
        upsert_rows(
            &self.txn,
            table,
            rows.iter()
                .map(|(id, cells)| (self.patient_id, self.seq, id.as_str(), cells.as_slice())),
        )
        .await
    }

    /// Inserts rows the patient does not have yet (the caller checked,
    /// under this write's lock). Columns at their default in every row are
    /// left out of the statement, which keeps a batch of sparse diary rows
    /// cheap.
    pub async fn insert_new(&self, table: &TableSpec, rows: &[NewRow]) -> ServiceResult<()> {
        self.touched(table);
        let rows = rows
            .iter()
            .map(|(id, cells)| (self.patient_id, self.seq, id.as_str(), cells.as_slice()))
            .collect();
        write_rows(&self.txn, table, rows, true).await
    }

    /// Inserts or revives one row; see [`PatientWrite::upsert_many`].
    pub async fn upsert(
        &self,
        table: &TableSpec,
        id: &str,
        cells: Vec<(&'static ColumnSpec, Cell)>,
    ) -> ServiceResult<()> {
        self.upsert_many(table, &[(id.to_owned(), cells)]).await
    }

    /// Overwrites the given columns of an existing row (none: only its
    /// change number moves, so every device pulls it again).
    pub async fn update(
        &self,
        table: &TableSpec,
        id: &str,
        cells: &[(&'static ColumnSpec, Cell)],
    ) -> ServiceResult<()> {
        self.touched(table);
        let mut update = Query::update();
        update
            .table(Alias::new(table.name))
            .value(Alias::new("change_seq"), self.seq)
            .and_where(Expr::col(Alias::new("patient_id")).eq(self.patient_id))
            .and_where(Expr::col(Alias::new("id")).eq(id));
        for (column, cell) in cells {
            update.value(Alias::new(column.name), sql_value(column.kind, cell));
        }
        self.txn.execute(&update).await?;
        Ok(())
    }

    /// Turns a live row into a tombstone; a missing or deleted row is left
    /// as it is.
    pub async fn delete(&self, table: &TableSpec, id: &str) -> ServiceResult<()> {
        self.touched(table);
        let update = Query::update()
            .table(Alias::new(table.name))
            .value(Alias::new("change_seq"), self.seq)
            .value(Alias::new("deleted"), true)
            .and_where(Expr::col(Alias::new("patient_id")).eq(self.patient_id))
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .and_where(Expr::col(Alias::new("deleted")).eq(false))
            .take();
        self.txn.execute(&update).await?;
        Ok(())
    }

    /// Abandons the write; the change number is given back.
    pub async fn rollback(self) -> ServiceResult<()> {
        self.txn.rollback().await?;
        Ok(())
    }

    /// Notes that this write put messages in the webhook outbox, so the
    /// worker is woken when it commits.
    pub fn wrote_outbox(&self) {
        self.outbox.store(true, Ordering::Relaxed);
    }

    /// Notes a write to `table`, for the commit hooks.
    fn touched(&self, table: &TableSpec) {
        // A panic elsewhere cannot leave a list of names half written.
        let mut touched = self.touched.lock().unwrap_or_else(PoisonError::into_inner);
        if !touched.contains(&table.name) {
            touched.push(table.name);
        }
    }

    /// Commits, then nudges the patient's devices (and the worker). First,
    /// in the same transaction, each of `hooks` fed by a table written
    /// here recomputes its data (a write to the profile or a plan, the
    /// reminder schedule).
    pub async fn commit(self, hooks: &CommitHooks, nudges: &Nudges) -> ServiceResult<i64> {
        let touched = self
            .touched
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        for hook in hooks.fed_by(&touched) {
            (hook.run)(&self.txn, self.patient_id, self.now).await?;
        }
        self.txn.commit().await?;
        nudges.send(self.patient_id, self.seq);
        if self.outbox.load(Ordering::Relaxed) {
            nudges.wake_deliveries();
        }
        Ok(self.seq)
    }
}
