//! Periodic work claimed once across worker replicas: one row per (job,
//! slot), inserted by whichever worker gets there first.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("job_slots")
                    .col(text("job"))
                    .col(big_integer("slot"))
                    .col(uuid("claimed_by"))
                    .col(big_integer("claimed_at"))
                    .primary_key(Index::create().col("job").col("slot"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("pain_logs_recorded_at")
                    .table("pain_logs")
                    .col("recorded_at")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("pain_logs_recorded_at")
                    .table("pain_logs")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("job_slots").take())
            .await
    }
}
