//! The diary signals the tips and rules of SPEC §13 read: on `sleep_logs`
//! the head pillow, knees bent, lumbar support, the evening's heat,
//! stretches, heavy meal, alcohol and caffeine, and pain waking the patient
//! in the second half of the night; on `pain_logs` how much pain got in the
//! way of daily life or sleep. Added columns only (SPEC §4.9): a row written
//! before reads them as null or false.

use sea_orm_migration::{prelude::*, schema::*};

use crate::added_columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns added, as (table, column definition).
fn columns() -> Vec<(&'static str, ColumnDef)> {
    let flag = |name: &'static str| ("sleep_logs", boolean(name).default(false).take());
    vec![
        ("sleep_logs", text_null("head_pillow")),
        flag("knees_bent"),
        flag("lumbar_support"),
        flag("heat_before_bed"),
        flag("stretched_before_bed"),
        flag("late_heavy_meal"),
        flag("alcohol_evening"),
        flag("caffeine_late"),
        flag("woke_second_half"),
        ("pain_logs", big_integer_null("interference")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        added_columns::add(manager, columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        added_columns::drop(manager, columns()).await
    }
}
