//! Connecting, migrating and checking the database; the one place that
//! knows how SQLite and PostgreSQL differ at the connection level.

use std::time::Duration;

use dorsal_migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, IsolationLevel, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use secrecy::ExposeSecret;

use crate::config::{Backend, Config, sqlite_file};

/// Opens the pool with the settings each backend needs: on SQLite WAL, a
/// busy timeout, `synchronous = NORMAL` and foreign keys on.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
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
    Database::connect(options).await
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

/// Starts a transaction that will write. On SQLite it takes the write lock
/// at `BEGIN` (`IMMEDIATE`), so a read-then-write transaction cannot fail
/// half-way with a busy snapshot; on PostgreSQL it is read committed.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
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
    .await
}

/// Whether an error is a unique-constraint violation, on either backend.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether an error means the database could not be reached (as opposed to
/// a statement that failed): the request may succeed when retried.
pub fn is_unavailable(err: &DbErr) -> bool {
    matches!(err, DbErr::ConnectionAcquire(_) | DbErr::Conn(_))
}
