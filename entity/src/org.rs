//! A clinic: the unit of staff membership and data isolation.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orgs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub created_at: i64,
    /// Staff must sign in with TOTP; until they turn it on their tokens
    /// reach only their own account.
    pub require_totp: bool,
    /// The clinic's own phone line for its patients' urgent and routine
    /// advice, E.164 (`+4930123456`), if the admin set one.
    pub contact_phone: Option<String>,
    /// When that line is answered, in the org's own words.
    pub contact_hours: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
