//! An exercise in the catalog: built in (no org) or an org's own.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exercises")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Option<Uuid>,
    pub slug: String,
    pub name: String,
    pub instructions: String,
    pub safety_note: String,
    pub default_sets: i64,
    pub default_reps: i64,
    pub default_hold_seconds: i64,
    pub image_url: Option<String>,
    pub image_alt: Option<String>,
    pub video_url: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
