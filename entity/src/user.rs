//! An account: a patient (no org) or a member of an org's staff.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: String,
    pub org_id: Option<Uuid>,
    pub created_at: i64,
    /// False once deactivated: no login, no token honoured.
    pub active: bool,
    /// The TOTP secret (base32), sealed under the data key for this row;
    /// set from enrolment on, null when two-factor sign-in is off.
    pub totp_secret: Option<String>,
    /// Whether sign-in needs a code (set once the enrolment is confirmed).
    pub totp_enabled: bool,
    /// The latest time step a code was accepted for: a code of that step or
    /// an earlier one is refused.
    pub totp_last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::org::Entity",
        from = "Column::OrgId",
        to = "super::org::Column::Id"
    )]
    Org,
}

impl Related<super::org::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Org.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
