//! Database migrations. Tables are named as strings here, never through
//! entities, so a migration keeps meaning what it meant when it was written.

pub use sea_orm_migration::prelude::*;

mod added_columns;

mod m20261123_000001_accounts;
mod m20261123_000002_sync;
mod m20261123_000003_programs;
mod m20261123_000004_alerts;
mod m20261123_000005_webhooks;
mod m20261123_000006_job_slots;
mod m20261123_000007_reminders;
mod m20261123_000008_push_expiry;
mod m20261124_000009_slot_leases;
mod m20261124_000010_plan_window;
mod m20261202_000011_account_active;
mod m20261202_000012_receipt_expiry;
mod m20261202_000013_mail_outbox;
mod m20261202_000014_totp;
mod m20261202_000015_account_recovery;
mod m20261203_000016_exercise_media;
mod m20261203_000017_exercise_images;
mod m20261203_000018_language_and_country;
mod m20261203_000019_diary_signals;

/// Every migration, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_sync::Migration),
            Box::new(m20261123_000003_programs::Migration),
            Box::new(m20261123_000004_alerts::Migration),
            Box::new(m20261123_000005_webhooks::Migration),
            Box::new(m20261123_000006_job_slots::Migration),
            Box::new(m20261123_000007_reminders::Migration),
            Box::new(m20261123_000008_push_expiry::Migration),
            Box::new(m20261124_000009_slot_leases::Migration),
            Box::new(m20261124_000010_plan_window::Migration),
            Box::new(m20261202_000011_account_active::Migration),
            Box::new(m20261202_000012_receipt_expiry::Migration),
            Box::new(m20261202_000013_mail_outbox::Migration),
            Box::new(m20261202_000014_totp::Migration),
            Box::new(m20261202_000015_account_recovery::Migration),
            Box::new(m20261203_000016_exercise_media::Migration),
            Box::new(m20261203_000017_exercise_images::Migration),
            Box::new(m20261203_000018_language_and_country::Migration),
            Box::new(m20261203_000019_diary_signals::Migration),
        ]
    }
}
