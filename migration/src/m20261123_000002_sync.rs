//! The synced tables, the per-patient change counter and stored push
//! answers. Each synced row carries `patient_id`, its `change_seq` (the
//! patient's change number of its last write) and a `deleted` tombstone flag.
//! Synced tables change only by adding columns.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Clone, Copy)]
enum T {
    Text,
    Bool,
    Int,
    Float,
}

const SYNCED: &[(&str, &[(&str, T)])] = &[
    (
        "profiles",
        &[
            ("timezone", T::Text),
            ("birth_date", T::Text),
            ("sex", T::Text),
            ("osteoporosis", T::Bool),
            ("long_term_steroids", T::Bool),
            ("cancer_history", T::Bool),
            ("reminders_enabled", T::Bool),
            ("stretch_reminder_time", T::Text),
            ("quiet_start", T::Text),
            ("quiet_end", T::Text),
        ],
    ),
    (
        "sleep_logs",
        &[
            ("night_of", T::Text),
            ("bedtime", T::Int),
            ("wake_time", T::Int),
            ("quality", T::Int),
            ("awakenings", T::Int),
            ("woke_from_pain", T::Bool),
            ("position", T::Text),
            ("pillow_between_knees", T::Bool),
            ("pillow_under_knees", T::Bool),
            ("pillow_under_hips", T::Bool),
            ("morning_stiffness_minutes", T::Int),
            ("mattress_sagging", T::Bool),
            ("pressure_points", T::Bool),
            ("note", T::Text),
        ],
    ),
    (
        "pain_logs",
        &[
            ("recorded_at", T::Int),
            ("intensity", T::Int),
            ("location", T::Text),
            ("period", T::Text),
            ("eased_by_rest", T::Bool),
            ("legs_affected", T::Text),
            ("leg_numbness", T::Bool),
            ("leg_tingling", T::Bool),
            ("leg_weakness", T::Bool),
            ("bladder_control_loss", T::Bool),
            ("bowel_control_loss", T::Bool),
            ("saddle_numbness", T::Bool),
            ("fever", T::Bool),
            ("temperature_c", T::Float),
            ("chills", T::Bool),
            ("night_sweats", T::Bool),
            ("unexplained_weight_loss", T::Bool),
            ("trauma", T::Text),
            ("note", T::Text),
        ],
    ),
    (
        "mattresses",
        &[
            ("purchased_on", T::Text),
            ("kind", T::Text),
            ("firmness", T::Text),
            ("retired_at", T::Int),
        ],
    ),
    (
        "exercise_sessions",
        &[
            ("plan_id", T::Text),
            ("performed_at", T::Int),
            ("completed_items", T::Int),
            ("duration_minutes", T::Int),
            ("pain_before", T::Int),
            ("pain_after", T::Int),
            ("note", T::Text),
        ],
    ),
    (
        "exercise_plans",
        &[
            ("title", T::Text),
            ("status", T::Text),
            ("starts_on", T::Text),
            ("ends_on", T::Text),
            ("reminder_time", T::Text),
            ("version", T::Int),
            ("therapist_name", T::Text),
            ("notes", T::Text),
        ],
    ),
    (
        "plan_items",
        &[
            ("plan_id", T::Text),
            ("position", T::Int),
            ("exercise_slug", T::Text),
            ("name", T::Text),
            ("instructions", T::Text),
            ("sets", T::Int),
            ("reps", T::Int),
            ("hold_seconds", T::Int),
            ("times_per_day", T::Int),
        ],
    ),
    (
        "notifications",
        &[
            ("kind", T::Text),
            ("title", T::Text),
            ("body", T::Text),
            ("severity", T::Text),
            ("created_at", T::Int),
            ("read_at", T::Int),
        ],
    ),
];

fn column(name: &'static str, kind: T) -> ColumnDef {
    match kind {
        T::Text => text_null(name),
        T::Bool => boolean(name).default(false).take(),
        T::Int => big_integer_null(name),
        T::Float => double_null(name),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in SYNCED {
            let mut create = Table::create()
                .table(*table)
                .col(text("id"))
                .col(uuid("patient_id"))
                .col(big_integer("change_seq"))
                .col(boolean("deleted").default(false))
                .primary_key(Index::create().col("patient_id").col("id"))
                .take();
            for (name, kind) in *columns {
                create.col(column(name, *kind));
            }
            manager.create_table(create).await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("{table}_patient_change"))
                        .table(*table)
                        .col("patient_id")
                        .col("change_seq")
                        .take(),
                )
                .await?;
            // Ownership checks look a pushed id up across patients.
            manager
                .create_index(
                    Index::create()
                        .name(format!("{table}_id"))
                        .table(*table)
                        .col("id")
                        .take(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("sync_clocks")
                    .col(pk_uuid("patient_id"))
                    .col(big_integer("seq"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sync_push_receipts")
                    .col(uuid("patient_id"))
                    .col(text("idempotency_key"))
                    .col(text("request_digest"))
                    .col(text("response"))
                    .col(big_integer("created_at"))
                    .primary_key(Index::create().col("patient_id").col("idempotency_key"))
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["sync_push_receipts", "sync_clocks"]
            .into_iter()
            .chain(SYNCED.iter().map(|(table, _)| *table))
        {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
