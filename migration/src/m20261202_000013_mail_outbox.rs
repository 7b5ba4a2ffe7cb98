//! The mail outbox: emails written in the same transaction as what causes
//! them (a password reset), delivered by the worker under a lease like
//! webhook messages. Recipient, subject and body are sealed under the data
//! key; the body is cleared once the message is delivered or dead.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("mail_outbox")
                    .col(pk_uuid("id"))
                    .col(text("recipient"))
                    .col(text("subject"))
                    .col(text_null("body"))
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
        // The claim: pending messages by when they are due.
        manager
            .create_index(
                Index::create()
                    .name("mail_outbox_due")
                    .table("mail_outbox")
                    .col("status")
                    .col("next_attempt_at")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("mail_outbox").take())
            .await
    }
}
