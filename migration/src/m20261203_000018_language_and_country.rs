//! Every patient's language and country (SPEC §12): `profiles.language`
//! (a primary language subtag, `en` until the patient says otherwise) and
//! `profiles.country` (ISO 3166-1 alpha-2, or unknown); an org's own
//! contact line for its patients' advice; and the language each queued
//! device push is written in, so a push keeps the words it was queued with.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, column definition), one per statement: SQLite's ALTER TABLE adds
/// one column at a time.
fn columns() -> Vec<(&'static str, ColumnDef)> {
    vec![
        ("profiles", text("language").default("en").take()),
        ("profiles", text_null("country")),
        ("orgs", text_null("contact_phone")),
        ("orgs", text_null("contact_hours")),
        ("push_deliveries", text("language").default("en").take()),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in columns() {
            manager
                .alter_table(Table::alter().table(table).add_column(&mut column).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in columns().into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(column.get_column_name())
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
