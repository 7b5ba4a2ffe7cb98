//! Accounts people can recover and control: password-reset codes (stored
//! as keyed digests), rate limits shared by every API process, and the
//! member of staff an audit entry is about.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("password_resets")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(text("code_digest"))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .col(integer("attempts").default(0))
                    .col(big_integer_null("used_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("password_resets", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("password_resets_user")
                    .table("password_resets")
                    .col("user_id")
                    .take(),
            )
            .await?;
        // One row per limited key (a digest, never an address or email):
        // the instant its allowance is theoretically used up to (GCRA).
        manager
            .create_table(
                Table::create()
                    .table("rate_limits")
                    .col(text("key").primary_key())
                    .col(big_integer("tat"))
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("audit_log")
                    .add_column(uuid_null("subject_id"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_log")
                    .drop_column("subject_id")
                    .take(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table("rate_limits").take())
            .await?;
        manager
            .drop_table(Table::drop().table("password_resets").take())
            .await
    }
}
