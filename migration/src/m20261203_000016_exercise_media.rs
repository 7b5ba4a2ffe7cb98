//! Exercise media: an image (with its alt text) and a video for each
//! catalog exercise, and the same three columns on the synced `plan_items`,
//! which snapshot them when a plan is written.

use sea_orm_migration::{prelude::*, schema::*};

use crate::added_columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["exercises", "plan_items"];
const COLUMNS: [&str; 3] = ["image_url", "image_alt", "video_url"];

/// The columns added, as (table, column definition).
fn columns() -> Vec<(&'static str, ColumnDef)> {
    TABLES
        .into_iter()
        .flat_map(|table| {
            COLUMNS
                .into_iter()
                .map(move |name| (table, text_null(name)))
        })
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        added_columns::add(manager, columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        added_columns::drop(manager, columns()).await
    }
}
