//! One email to deliver, claimed by a worker under a lease. Recipient,
//! subject and body are sealed; the body is cleared once it is done.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub body: Option<String>,
    pub status: crate::outbox::Status,
    pub attempt: i64,
    pub next_attempt_at: i64,
    pub claimed_by: Option<Uuid>,
    pub lease_until: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
