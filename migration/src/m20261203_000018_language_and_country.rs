//! Every patient's language and country (SPEC §12): `profiles.language`
//! (a primary language subtag, `en` until the patient says otherwise) and
//! `profiles.country` (ISO 3166-1 alpha-2, or unknown); an org's own
//! contact line for its patients' advice; and the language each queued
//! device push is written in, so a push keeps the words it was queued with.

use sea_orm_migration::{prelude::*, schema::*};

use crate::added_columns;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns added, as (table, column definition).
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
        added_columns::add(manager, columns()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        added_columns::drop(manager, columns()).await
    }
}
