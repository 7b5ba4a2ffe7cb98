//! A clinician alert raised by a red-flag rule.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub rule: String,
    pub rule_version: i64,
    pub severity: String,
    pub level: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<Uuid>,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<Uuid>,
    pub resolution_note: Option<String>,
    pub escalate_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
