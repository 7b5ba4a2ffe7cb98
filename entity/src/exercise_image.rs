//! The image of a catalog exercise as the worker fetched it from
//! `source_url`, or why it could not and when it may try again.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exercise_images")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub exercise_id: Uuid,
    pub source_url: String,
    pub content_type: Option<String>,
    pub bytes: Option<Vec<u8>>,
    pub fetched_at: Option<i64>,
    pub failure: Option<String>,
    pub attempted_at: Option<i64>,
    pub attempts: i64,
    pub retry_at: Option<i64>,
    pub claimed_by: Option<Uuid>,
    pub claimed_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
