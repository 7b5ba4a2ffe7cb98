//! An hourly slot is done only when its work finished: a worker that dies
//! half-way leaves a claim that runs out, and another worker does the hour.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("job_slots")
                    .add_column(big_integer_null("done_at"))
                    .take(),
            )
            .await?;
        // Slots claimed before leases existed were finished, or are past.
        manager
            .exec_stmt(
                Query::update()
                    .table("job_slots")
                    .value("done_at", Expr::col("claimed_at"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("job_slots")
                    .drop_column("done_at")
                    .take(),
            )
            .await
    }
}
