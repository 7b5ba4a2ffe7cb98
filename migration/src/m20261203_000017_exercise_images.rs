//! Exercise images fetched by the worker: one row per catalog exercise
//! whose `image_url` was tried, holding the bytes (or why the fetch failed
//! and when to try again) for the URL in `source_url`. The API serves the
//! bytes only while `source_url` still equals the exercise's `image_url`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("exercise_images")
                    .col(pk_uuid("exercise_id"))
                    .col(text("source_url"))
                    .col(text_null("content_type"))
                    .col(blob_null("bytes"))
                    .col(big_integer_null("fetched_at"))
                    .col(text_null("failure"))
                    .col(big_integer_null("attempted_at"))
                    .col(big_integer("attempts").default(0))
                    .col(big_integer_null("retry_at"))
                    .col(uuid_null("claimed_by"))
                    .col(big_integer_null("claimed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("exercise_images", "exercise_id")
                            .to("exercises", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("exercise_images").take())
            .await
    }
}
