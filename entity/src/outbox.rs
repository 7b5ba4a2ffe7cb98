//! What the outbox tables (`deliveries`, `push_deliveries`, `mail_outbox`)
//! share: where a message stands.

use sea_orm::entity::prelude::*;

/// Where an outbox message stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum Status {
    /// Waiting to be claimed (due or not, claimed or not).
    Pending,
    /// The receiver took it.
    Delivered,
    /// Given up: out of retries, gone, expired or with nowhere to go.
    Dead,
}
