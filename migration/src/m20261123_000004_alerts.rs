//! Clinician alerts raised by red-flag rules, and the logs that matched.
//! One open alert per (patient, rule) is enforced by a partial unique index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("alerts")
                    .col(pk_uuid("id"))
                    .col(uuid("patient_id"))
                    .col(text("rule"))
                    .col(big_integer("rule_version"))
                    .col(text("severity"))
                    .col(big_integer("level").default(0))
                    .col(text("status"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .col(big_integer_null("acknowledged_at"))
                    .col(uuid_null("acknowledged_by"))
                    .col(big_integer_null("resolved_at"))
                    .col(uuid_null("resolved_by"))
                    .col(text_null("resolution_note"))
                    .col(big_integer_null("escalate_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("alerts_patient_rule")
                    .table("alerts")
                    .col("patient_id")
                    .col("rule")
                    .take(),
            )
            .await?;
        // Both SQLite and PostgreSQL accept partial indexes in this form.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX alerts_one_open ON alerts (patient_id, rule) WHERE status <> 'resolved'",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("alert_evidence")
                    .col(pk_uuid("id"))
                    .col(uuid("alert_id"))
                    .col(uuid("patient_id"))
                    .col(text("rule"))
                    .col(text("log_id"))
                    .col(text("matched"))
                    .col(big_integer("recorded_at"))
                    .col(big_integer("attached_at"))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .from("alert_evidence", "alert_id")
                            .to("alerts", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .take(),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("alert_evidence_once")
                    .table("alert_evidence")
                    .col("patient_id")
                    .col("rule")
                    .col("log_id")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("alert_evidence_alert")
                    .table("alert_evidence")
                    .col("alert_id")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["alert_evidence", "alerts"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
