//! A patient's reminder schedule, with its next instant precomputed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminder_schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub kind: String,
    pub local_time: String,
    pub timezone: String,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    pub enabled: bool,
    pub next_local_date: Option<String>,
    pub next_fire_at: Option<i64>,
    pub last_local_date: Option<String>,
    /// The followed plan's first day, `YYYY-MM-DD`: nothing fires before.
    pub from_date: Option<String>,
    /// The followed plan's last day: nothing fires after.
    pub until_date: Option<String>,
    pub version: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
