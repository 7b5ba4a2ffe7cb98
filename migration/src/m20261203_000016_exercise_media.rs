//! Exercise media: an image (with its alt text) and a video for each
//! catalog exercise, and the same three columns on the synced `plan_items`,
//! which snapshot them when a plan is written.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["exercises", "plan_items"];
const COLUMNS: [&str; 3] = ["image_url", "image_alt", "video_url"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for table in TABLES {
            for name in COLUMNS {
                manager
                    .alter_table(
                        Table::alter()
                            .table(table)
                            .add_column(text_null(name))
                            .take(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            for name in COLUMNS {
                manager
                    .alter_table(Table::alter().table(table).drop_column(name).take())
                    .await?;
            }
        }
        Ok(())
    }
}
