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
    pub severity: Severity,
    pub level: i64,
    pub status: Status,
    pub created_at: i64,
    pub updated_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<Uuid>,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<Uuid>,
    pub resolution_note: Option<String>,
    pub escalate_at: Option<i64>,
}

/// How soon a clinician must look: the stored form of the red-flag rule's
/// severity (`dorsal_domain::red_flags::Severity`, which orders them).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum Severity {
    /// Review within days; inbox only.
    Routine,
    /// Same day.
    Urgent,
    /// Now.
    Emergency,
}

/// Where an alert stands: open until a clinician acknowledges it, and
/// resolved with a note. One alert per patient and rule is not resolved.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum Status {
    /// Raised, nobody has acknowledged it yet; it escalates.
    Open,
    /// A clinician has seen it; escalation stops.
    Acknowledged,
    /// Done, with a resolution note.
    Resolved,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The logs that matched.
    #[sea_orm(has_many = "super::alert_evidence::Entity")]
    Evidence,
}

impl Related<super::alert_evidence::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Evidence.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
