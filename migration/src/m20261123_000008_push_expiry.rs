//! Pushes expire (a stretch reminder retried into the night is worse than
//! none), and a push is unique per patient, notification and device:
//! notification ids repeat across patients, and a device can change hands.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("push_deliveries")
                    .add_column(big_integer_null("expires_at"))
                    .take(),
            )
            .await?;
        // Dropped by name alone: with a table, SQLite reads the table as a
        // schema name.
        manager
            .drop_index(Index::drop().name("push_deliveries_once").to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("push_deliveries_per_patient")
                    .table("push_deliveries")
                    .col("patient_id")
                    .col("notification_id")
                    .col("device_id")
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("push_deliveries_per_patient").to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("push_deliveries_once")
                    .table("push_deliveries")
                    .col("notification_id")
                    .col("device_id")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("push_deliveries")
                    .drop_column("expires_at")
                    .take(),
            )
            .await
    }
}
