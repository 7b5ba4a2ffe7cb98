//! Webhook endpoints per org and the delivery outbox the worker claims.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhooks")
                    .col(pk_uuid("id"))
                    .col(uuid("org_id"))
                    .col(text("url"))
                    .col(text("secret"))
                    .col(text("min_severity"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("disabled_at"))
                    .col(text_null("disabled_reason"))
                    .col(big_integer_null("deleted_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhooks_org")
                    .table("webhooks")
                    .col("org_id")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("deliveries")
                    .col(pk_uuid("id"))
                    .col(uuid("webhook_id"))
                    .col(uuid("patient_id"))
                    .col(uuid("alert_id"))
                    .col(text("event"))
                    .col(text("msg_id"))
                    .col(text("payload"))
                    .col(text("status"))
                    .col(big_integer("attempt").default(0))
                    .col(big_integer("next_attempt_at"))
                    .col(uuid_null("claimed_by"))
                    .col(big_integer_null("lease_until"))
                    .col(big_integer_null("last_status"))
                    .col(text_null("last_error"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("delivered_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deliveries_due")
                    .table("deliveries")
                    .col("status")
                    .col("next_attempt_at")
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deliveries_alert")
                    .table("deliveries")
                    .col("alert_id")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["deliveries", "webhooks"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
