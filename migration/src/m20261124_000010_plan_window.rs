//! A plan's reminders run from its first day to its last: the schedule
//! keeps the window of the plan it follows.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["from_date", "until_date"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("reminder_schedules")
                        .add_column(text_null(column))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["from_date", "until_date"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("reminder_schedules")
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
