//! Reminders and prompts: a schedule per patient with a precomputed,
//! indexed next instant; occurrences unique per (schedule, local date);
//! prompts unique per (patient, kind, subject, local date); devices with
//! push tokens; the push outbox; and each org's push gateway.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn index(
    manager: &SchemaManager<'_>,
    name: &'static str,
    table: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.take()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("reminder_schedules")
                    .col(pk_uuid("id"))
                    .col(uuid("patient_id"))
                    .col(text("kind"))
                    .col(text("local_time"))
                    .col(text("timezone"))
                    .col(text_null("quiet_start"))
                    .col(text_null("quiet_end"))
                    .col(boolean("enabled"))
                    .col(text_null("next_local_date"))
                    .col(big_integer_null("next_fire_at"))
                    .col(text_null("last_local_date"))
                    .col(big_integer("version"))
                    .col(big_integer("updated_at"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "reminder_schedules_patient_kind",
            "reminder_schedules",
            &["patient_id", "kind"],
            true,
        )
        .await?;
        // A tick reads only what is due: O(due), not O(patients).
        index(
            manager,
            "reminder_schedules_due",
            "reminder_schedules",
            &["next_fire_at"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("reminder_occurrences")
                    .col(pk_uuid("id"))
                    .col(uuid("schedule_id"))
                    .col(uuid("patient_id"))
                    .col(text("local_date"))
                    .col(big_integer("due_at"))
                    .col(big_integer("expires_at"))
                    .col(text("status"))
                    .col(big_integer("processed_at"))
                    .col(uuid("worker"))
                    .col(text_null("notification_id"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "reminder_occurrences_once",
            "reminder_occurrences",
            &["schedule_id", "local_date"],
            true,
        )
        .await?;
        index(
            manager,
            "reminder_occurrences_patient",
            "reminder_occurrences",
            &["patient_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("prompts")
                    .col(pk_uuid("id"))
                    .col(uuid("patient_id"))
                    .col(text("kind"))
                    .col(text("subject"))
                    .col(text("local_date"))
                    .col(text("notification_id"))
                    .col(big_integer("created_at"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "prompts_once",
            "prompts",
            &["patient_id", "kind", "subject", "local_date"],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("devices")
                    .col(pk_uuid("id"))
                    .col(uuid("patient_id"))
                    .col(text("provider"))
                    .col(text("token"))
                    .col(text_null("platform"))
                    .col(boolean("active"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .col(big_integer_null("deactivated_at"))
                    .col(text_null("deactivated_reason"))
                    .take(),
            )
            .await?;
        index(
            manager,
            "devices_token",
            "devices",
            &["provider", "token"],
            true,
        )
        .await?;
        index(
            manager,
            "devices_patient",
            "devices",
            &["patient_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("push_deliveries")
                    .col(pk_uuid("id"))
                    .col(uuid("patient_id"))
                    .col(text("notification_id"))
                    .col(uuid("device_id"))
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
        index(
            manager,
            "push_deliveries_once",
            "push_deliveries",
            &["notification_id", "device_id"],
            true,
        )
        .await?;
        index(
            manager,
            "push_deliveries_due",
            "push_deliveries",
            &["status", "next_attempt_at"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("push_gateways")
                    .col(pk_uuid("org_id"))
                    .col(text("url"))
                    .col(text("secret"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .take(),
            )
            .await?;
        // The prompt scan finds patients by their recent nights.
        index(
            manager,
            "sleep_logs_night_of",
            "sleep_logs",
            &["night_of"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("sleep_logs_night_of")
                    .table("sleep_logs")
                    .to_owned(),
            )
            .await?;
        for table in [
            "push_gateways",
            "push_deliveries",
            "devices",
            "prompts",
            "reminder_occurrences",
            "reminder_schedules",
        ] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
