//! Connecting, migrating and checking the database; the one place that
//! knows how SQLite and PostgreSQL differ at the connection level.

use std::sync::Arc;
use std::time::Duration;

use dorsal_migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, ExecResult, IsolationLevel, QueryResult, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use secrecy::ExposeSecret;

use crate::config::{Backend, Config, sqlite_file};

/// The connection pool and, on SQLite, this process's queue for the one
/// writer a database file allows. Clones share both. It derefs to the
/// pool, so reading code takes it as a `&DatabaseConnection`; writing code
/// takes a `&Db` and begins with [`begin_write`].
#[derive(Debug, Clone)]
pub struct Db {
    pool: DatabaseConnection,
    // Writers waiting here wake the moment the lock is free; waiting in
    // SQLite's busy handler instead sleeps in fixed steps of up to 100 ms,
    // which is where SQLite's slowest pushes under load went.
    writers: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl Db {
    /// `pool` with a writer queue of its own on SQLite: the process's one
    /// pool on its database ([`connect`] makes it).
    pub fn new(pool: DatabaseConnection) -> Db {
        let writers = (pool.get_database_backend() == DbBackend::Sqlite).then(Arc::default);
        Db { pool, writers }
    }

    /// Another pool on the same database in this process, whose writers
    /// queue with this one's.
    pub fn beside(&self, pool: DatabaseConnection) -> Db {
        Db {
            pool,
            writers: self.writers.clone(),
        }
    }

    /// Closes the pool (and every clone's: they share it).
    pub async fn close(self) -> Result<(), DbErr> {
        self.pool.close().await
    }
}

impl std::ops::Deref for Db {
    type Target = DatabaseConnection;
    fn deref(&self) -> &DatabaseConnection {
        &self.pool
    }
}

/// The pool's connection, so a `&Db` goes wherever a connection does.
#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.pool.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.pool.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.pool.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.pool.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.pool.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.pool.is_mock_connection()
    }
}

/// Opens the pool with the settings each backend needs: on SQLite WAL, a
/// busy timeout, `synchronous = NORMAL` and foreign keys on.
pub async fn connect(config: &Config) -> Result<Db, DbErr> {
    let url = config.database_url.expose_secret();
    let mut options = ConnectOptions::new(url.to_owned());
    let in_memory = sqlite_file(url).is_none();
    let max = match config.backend() {
        // An in-memory SQLite database is private to its connection.
        Ok(Backend::Sqlite) if in_memory => 1,
        _ => config.database.max_connections,
    };
    let busy = Duration::from_millis(config.database.sqlite_busy_timeout_ms);
    options
        .max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(config.database.acquire_timeout_seconds))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(busy)
                .foreign_keys(true)
        });
    Ok(Db::new(Database::connect(options).await?))
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the database answers and every migration is applied.
pub async fn is_ready(db: &DatabaseConnection) -> Result<bool, DbErr> {
    db.ping().await?;
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// A transaction that writes, holding this process's turn at the SQLite
/// write lock until it commits or is dropped. Use it as the transaction it
/// derefs to.
#[derive(Debug)]
pub struct WriteTxn {
    // Field order is drop order: the transaction ends before the turn passes.
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    /// Commits, then lets the next writer in.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }

    /// Rolls back, then lets the next writer in.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

/// The transaction's connection, so a `&WriteTxn` goes wherever a
/// connection does.
#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}

/// Starts a transaction that will write. On SQLite it first waits for this
/// process's turn (as long as a connection may be waited for), then takes
/// the write lock at `BEGIN` (`IMMEDIATE`), so a read-then-write
/// transaction cannot fail half-way with a busy snapshot; on PostgreSQL it
/// is read committed.
pub async fn begin_write(db: &Db) -> Result<WriteTxn, DbErr> {
    let turn = match &db.writers {
        None => None,
        Some(queue) => {
            let wait = db
                .get_sqlite_connection_pool()
                .options()
                .get_acquire_timeout();
            let turn = tokio::time::timeout(wait, queue.clone().lock_owned())
                .await
                .map_err(|_| DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))?;
            Some(turn)
        }
    };
    let txn = db
        .begin_with_options(TransactionOptions {
            isolation_level: match db.get_database_backend() {
                DbBackend::Postgres => Some(IsolationLevel::ReadCommitted),
                _ => None,
            },
            access_mode: match db.get_database_backend() {
                DbBackend::Postgres => Some(AccessMode::ReadWrite),
                _ => None,
            },
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        })
        .await?;
    Ok(WriteTxn { txn, _turn: turn })
}

/// Milliseconds since the epoch by PostgreSQL's own clock, as SQL.
pub(crate) const POSTGRES_NOW_MS: &str = "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)";

/// "Now" for leases that workers share, in milliseconds: on PostgreSQL the
/// database's clock, since replicas' clocks may disagree and a worker whose
/// clock runs ahead must not take over a live lease; on SQLite (one worker)
/// the worker's `now`, so tests can move it.
pub fn lease_now(backend: DbBackend, now: i64) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust(POSTGRES_NOW_MS),
        _ => Expr::val(now),
    }
}

/// Whether an error is a unique-constraint violation, on either backend.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Why the database cannot serve right now. Each kind is one answer to
/// the caller: the request did nothing and may be sent again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The database could not be reached or the connection broke (a
    /// PostgreSQL restart, a dropped socket, an exhausted pool).
    Unreachable,
    /// Another writer held the lock for longer than we wait, or
    /// PostgreSQL cancelled the transaction to break a deadlock.
    Busy,
    /// The disk under the database is full.
    StorageFull,
    /// The database refuses writes (a read-only file, mount or replica).
    ReadOnly,
}

/// What kind of outage `err` shows, or `None` for a statement that failed
/// on its own merits (a bug, a constraint): only those are internal errors.
pub fn outage(err: &DbErr) -> Option<Outage> {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return Some(Outage::Unreachable),
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(_) => return Some(Outage::Unreachable),
        _ => return None,
    };
    match &**sqlx {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => Some(Outage::Unreachable),
        Sqlx::Database(db) => {
            let code = db.code()?;
            if db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
            {
                sqlite_outage(code.parse().ok()?)
            } else {
                postgres_outage(&code)
            }
        }
        _ => None,
    }
}

/// SQLite result codes (the primary code is the low byte of an extended one).
fn sqlite_outage(extended: i32) -> Option<Outage> {
    match extended & 0xff {
        5 | 6 => Some(Outage::Busy),          // SQLITE_BUSY, SQLITE_LOCKED
        8 => Some(Outage::ReadOnly),          // SQLITE_READONLY
        13 => Some(Outage::StorageFull),      // SQLITE_FULL
        10 | 14 => Some(Outage::Unreachable), // SQLITE_IOERR, SQLITE_CANTOPEN
        _ => None,
    }
}

/// PostgreSQL SQLSTATEs, by class where the whole class means one thing.
fn postgres_outage(sqlstate: &str) -> Option<Outage> {
    match sqlstate {
        // connection_exception; admin/crash shutdown, cannot_connect_now
        s if s.starts_with("08") => Some(Outage::Unreachable),
        "57P01" | "57P02" | "57P03" => Some(Outage::Unreachable),
        // too_many_connections, out_of_memory
        "53300" | "53200" => Some(Outage::Unreachable),
        "53100" => Some(Outage::StorageFull),
        // read_only_sql_transaction (a hot standby, or default read-only)
        "25006" => Some(Outage::ReadOnly),
        // serialization_failure, deadlock_detected, lock_not_available
        "40001" | "40P01" | "55P03" => Some(Outage::Busy),
        _ => None,
    }
}
