//! Staff two-factor sign-in (TOTP): each account's sealed secret, whether it
//! is on, the last time step a code was accepted for (so no code works
//! twice), single-use recovery codes kept as digests, and the org's policy
//! that its staff must use it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut enabled = boolean("totp_enabled");
        enabled.default(false);
        // One column per statement: SQLite alters one column at a time.
        for column in [
            text_null("totp_secret"),
            enabled,
            big_integer_null("totp_last_step"),
        ] {
            manager
                .alter_table(Table::alter().table("users").add_column(column).take())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("orgs")
                    .add_column(boolean("require_totp").default(false))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("totp_recovery_codes")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(text("code_hash"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("used_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("totp_recovery_codes", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("totp_recovery_codes_user_code")
                    .table("totp_recovery_codes")
                    .col("user_id")
                    .col("code_hash")
                    .unique()
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("totp_recovery_codes").take())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("orgs")
                    .drop_column("require_totp")
                    .take(),
            )
            .await?;
        for column in ["totp_last_step", "totp_enabled", "totp_secret"] {
            manager
                .alter_table(Table::alter().table("users").drop_column(column).take())
                .await?;
        }
        Ok(())
    }
}
