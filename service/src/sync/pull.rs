//! Pulls: every change after the device's cursor, in pages that never split
//! one change number, read in one snapshot with the counter.

use std::collections::BTreeMap;

use dorsal_domain::sync::page::{Cut, cut};
use dorsal_domain::sync::{FIRST_CURSOR, MAX_PULL_LIMIT, MIN_SCHEMA_VERSION, TABLES};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, IsolationLevel, TransactionOptions,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rows::{SyncedRow, fetch_rows, select_rows};
use crate::access::PatientAccess;
use crate::error::{ServiceError, ServiceResult};

/// One table's part of a pull.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableChanges {
    /// Rows the device has never seen (first pull only).
    pub created: Vec<Box<serde_json::value::RawValue>>,
    /// Rows to create or update.
    pub updated: Vec<Box<serde_json::value::RawValue>>,
    /// Ids of deleted rows.
    pub deleted: Vec<String>,
}

/// One page of a pull.
#[derive(Debug, Clone)]
pub struct PullPage {
    /// Changes per table (every synced table is listed).
    pub changes: BTreeMap<&'static str, TableChanges>,
    /// The cursor to pull from next.
    pub timestamp: i64,
    /// Whether more changes follow.
    pub has_more: bool,
    /// `replacement` when the device's cursor is unknown here: it should
    /// keep only what this pull sends (and its own unpushed records).
    pub strategy: Option<&'static str>,
}

/// What the device asks for.
#[derive(Debug, Clone, Copy)]
pub struct PullRequest {
    /// The device's cursor; `None` or 0 on its first pull.
    pub last_pulled_at: Option<i64>,
    /// The device's schema version.
    pub schema_version: Option<u32>,
    /// Rows per page.
    pub limit: u64,
}

/// The schema check shared by pull and push.
pub fn check_schema(schema_version: Option<u32>) -> ServiceResult<()> {
    match schema_version {
        Some(version) if version < MIN_SCHEMA_VERSION => Err(ServiceError::UpgradeRequired {
            min_schema_version: MIN_SCHEMA_VERSION,
        }),
        _ => Ok(()),
    }
}

async fn watermark(db: &impl ConnectionTrait, patient_id: Uuid) -> ServiceResult<i64> {
    let select = Query::select()
        .column(Alias::new("seq"))
        .from(Alias::new("sync_clocks"))
        .and_where(Expr::col(Alias::new("patient_id")).eq(patient_id))
        .take();
    match db.query_one(&select).await? {
        Some(row) => Ok(row.try_get("", "seq")?),
        None => Ok(FIRST_CURSOR),
    }
}

/// A page of the patient's changes after `last_pulled_at`.
#[tracing::instrument(skip_all)]
pub async fn pull(
    db: &DatabaseConnection,
    access: &PatientAccess,
    request: PullRequest,
) -> ServiceResult<PullPage> {
    check_schema(request.schema_version)?;
    let patient_id = access.patient_id();
    let limit = request.limit.clamp(1, MAX_PULL_LIMIT);
    // One snapshot for the counter and the rows.
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let txn = db
        .begin_with_options(TransactionOptions {
            isolation_level: postgres.then_some(IsolationLevel::RepeatableRead),
            access_mode: postgres.then_some(AccessMode::ReadOnly),
            sqlite_transaction_mode: None,
        })
        .await?;
    let watermark = watermark(&txn, patient_id).await?;
    let mut since = Ord::max(request.last_pulled_at.unwrap_or(0), 0);
    let mut strategy = None;
    if since > watermark {
        // A cursor this server never handed out (its data was restored or
        // replaced): send everything and let the device reconcile.
        since = 0;
        strategy = Some("replacement");
    }
    let first = since == 0;

    let fetch = |exact: Option<i64>| {
        let txn = &txn;
        async move {
            let mut fetched: Vec<(&'static str, SyncedRow)> = Vec::new();
            for table in TABLES {
                let mut select = select_rows(table, patient_id);
                match exact {
                    Some(seq) => {
                        select.and_where(Expr::col(Alias::new("change_seq")).eq(seq));
                    }
                    None => {
                        select
                            .and_where(Expr::col(Alias::new("change_seq")).gt(since))
                            .and_where(Expr::col(Alias::new("change_seq")).lte(watermark))
                            .limit(limit + 1);
                    }
                }
                if first {
                    // A device that never pulled has nothing to delete.
                    select.and_where(Expr::col(Alias::new("deleted")).eq(false));
                }
                for row in fetch_rows(txn, table, &select).await? {
                    fetched.push((table.name, row));
                }
            }
            Ok::<_, ServiceError>(fetched)
        }
    };

    let fetched = fetch(None).await?;
    let page_limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let (rows, timestamp, has_more) = match cut(
        fetched.iter().map(|(_, r)| r.change_seq).collect(),
        page_limit,
    ) {
        Cut::All => (fetched, watermark, false),
        Cut::Below(boundary) => {
            let rows = fetched
                .into_iter()
                .filter(|(_, r)| r.change_seq < boundary)
                .collect();
            (rows, boundary - 1, true)
        }
        Cut::Only(seq) => (fetch(Some(seq)).await?, seq, seq < watermark),
    };
    txn.commit().await?;

    let mut changes: BTreeMap<&'static str, TableChanges> = TABLES
        .iter()
        .map(|t| (t.name, TableChanges::default()))
        .collect();
    for (table, row) in rows {
        let entry = changes.entry(table).or_default();
        if row.deleted {
            entry.deleted.push(row.id);
        } else if first && strategy.is_none() {
            entry.created.push(row.record);
        } else {
            // Sent as updated: a device creates what it lacks, and a row it
            // deleted while its push was in flight is not brought back.
            entry.updated.push(row.record);
        }
    }
    Ok(PullPage {
        changes,
        timestamp,
        has_more,
        strategy,
    })
}
