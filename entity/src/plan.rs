//! A patient's exercise plan: who owns it and whether it is archived. Its
//! content is in `plan_version`; the device's copy in the synced tables.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub patient_id: Uuid,
    pub org_id: Uuid,
    pub author_id: Uuid,
    pub created_at: i64,
    pub archived_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
