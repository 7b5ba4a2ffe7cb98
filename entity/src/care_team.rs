//! A patient under the care of an org: what lets its staff see the patient.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_teams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub patient_id: Uuid,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The patient cared for.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::PatientId",
        to = "super::user::Column::Id"
    )]
    Patient,
    /// The push gateway of the org, if it has set one.
    #[sea_orm(
        belongs_to = "super::push_gateway::Entity",
        from = "Column::OrgId",
        to = "super::push_gateway::Column::OrgId"
    )]
    PushGateway,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Patient.def()
    }
}

impl Related<super::push_gateway::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PushGateway.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
