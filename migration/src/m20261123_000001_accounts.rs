//! Orgs, users, refresh-token families, invites, care teams and the audit log.
//!
//! Instants are stored as integer milliseconds since the Unix epoch (UTC) on
//! both databases, the same unit the sync protocol speaks.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: &'static str, column: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    name: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create().name(name).table(table).take();
    for column in columns {
        statement.col(*column);
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("orgs")
                    .col(pk_uuid("id"))
                    .col(text("name"))
                    .col(big_integer("created_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(pk_uuid("id"))
                    .col(text_uniq("email"))
                    .col(text("password_hash"))
                    .col(text("display_name"))
                    .col(text("role"))
                    .col(uuid_null("org_id"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("users", "org_id", "orgs"))
                    .take(),
            )
            .await?;
        index(manager, "users", "users_org_id", &["org_id"], false).await?;

        manager
            .create_table(
                Table::create()
                    .table("refresh_tokens")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(uuid("family_id"))
                    .col(text_uniq("token_hash"))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("used_at"))
                    .col(big_integer_null("revoked_at"))
                    .foreign_key(&mut fk("refresh_tokens", "user_id", "users"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "refresh_tokens",
            "refresh_tokens_family_id",
            &["family_id"],
            false,
        )
        .await?;
        index(
            manager,
            "refresh_tokens",
            "refresh_tokens_user_id",
            &["user_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("invites")
                    .col(pk_uuid("id"))
                    .col(uuid("org_id"))
                    .col(uuid("created_by"))
                    .col(text_uniq("code_hash"))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("used_at"))
                    .col(uuid_null("used_by"))
                    .foreign_key(&mut fk("invites", "org_id", "orgs"))
                    .foreign_key(&mut fk("invites", "created_by", "users"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("care_teams")
                    .col(pk_uuid("id"))
                    .col(uuid("org_id"))
                    .col(uuid("patient_id"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("care_teams", "org_id", "orgs"))
                    .foreign_key(&mut fk("care_teams", "patient_id", "users"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "care_teams",
            "care_teams_org_patient",
            &["org_id", "patient_id"],
            true,
        )
        .await?;
        index(
            manager,
            "care_teams",
            "care_teams_patient_id",
            &["patient_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("care_team_members")
                    .col(pk_uuid("id"))
                    .col(uuid("care_team_id"))
                    .col(uuid("patient_id"))
                    .col(uuid("staff_id"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("care_team_members", "care_team_id", "care_teams"))
                    .foreign_key(&mut fk("care_team_members", "staff_id", "users"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "care_team_members",
            "care_team_members_team_staff",
            &["care_team_id", "staff_id"],
            true,
        )
        .await?;
        index(
            manager,
            "care_team_members",
            "care_team_members_patient_id",
            &["patient_id"],
            false,
        )
        .await?;

        // No foreign keys: the record of who read what outlives the accounts.
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(pk_uuid("id"))
                    .col(uuid_null("org_id"))
                    .col(uuid("actor_id"))
                    .col(text("actor_role"))
                    .col(uuid_null("patient_id"))
                    .col(text("action"))
                    .col(big_integer("at"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "audit_log",
            "audit_log_patient_at",
            &["patient_id", "at"],
            false,
        )
        .await?;
        index(
            manager,
            "audit_log",
            "audit_log_org_at",
            &["org_id", "at"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "care_team_members",
            "care_teams",
            "invites",
            "refresh_tokens",
            "users",
            "orgs",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
