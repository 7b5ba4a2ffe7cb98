//! The synced tables and the pure rules of sync: what each table holds, who
//! may write which column, how a pushed record is validated, and how a
//! conflicting record is merged.

pub mod merge;
pub mod page;
pub mod record;
#[cfg(test)]
mod record_props;
pub mod schema;

pub use record::{Cell, Record, RecordError};
pub use schema::{Access, ColumnSpec, Kind, TABLES, TableSpec};

/// The lowest `schema_version` a client may sync with.
pub const MIN_SCHEMA_VERSION: u32 = 1;
/// The cursor of a patient nobody has written for yet. WatermelonDB refuses
/// 0, so the sequence starts at 1 and the first change is 2.
pub const FIRST_CURSOR: i64 = 1;
/// The largest cursor a JavaScript client stores exactly.
pub const MAX_CURSOR: i64 = (1 << 53) - 1;
/// Records one push may carry.
pub const MAX_PUSH_RECORDS: usize = 5000;
/// Rows per pull page unless the client asks otherwise, and the most it may.
pub const DEFAULT_PULL_LIMIT: u64 = 1000;
/// See [`DEFAULT_PULL_LIMIT`].
pub const MAX_PULL_LIMIT: u64 = 5000;
