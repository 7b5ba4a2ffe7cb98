//! An org's own settings, read by its staff and changed by its admins:
//! whether its staff must sign in with TOTP, and the phone line its
//! patients' urgent and routine advice adds (SPEC §12).

use dorsal_domain::locale::{self, ClinicLine};
use dorsal_domain::role::Capability;
use dorsal_entity::org;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::Actor;
use crate::audit;
use crate::db::{Db, begin_write};
use crate::error::{ServiceError, ServiceResult};

/// An org as its staff see it.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    /// Org id.
    pub id: Uuid,
    /// The clinic's name.
    pub name: String,
    /// Whether staff must sign in with TOTP.
    pub require_totp: bool,
    /// The clinic's line for its patients' advice, if set.
    pub contact: Option<ClinicLine>,
}

impl From<org::Model> for OrgSettings {
    fn from(org: org::Model) -> Self {
        OrgSettings {
            id: org.id,
            name: org.name,
            require_totp: org.require_totp,
            contact: org.contact_phone.map(|phone| ClinicLine {
                phone,
                hours: org.contact_hours.unwrap_or_default(),
            }),
        }
    }
}

async fn load(db: &impl ConnectionTrait, org_id: Uuid) -> ServiceResult<OrgSettings> {
    org::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .map(OrgSettings::from)
        .ok_or(ServiceError::NotFound("org"))
}

/// The caller's org (staff only).
pub async fn settings(db: &DatabaseConnection, actor: Actor) -> ServiceResult<OrgSettings> {
    let org_id = actor.staff_org(Capability::ReadPatients)?;
    load(db, org_id).await
}

/// An admin requires (or stops requiring) TOTP of the org's staff. From
/// then on the tokens of staff without it reach only their own account.
/// Audited in the org's log when it changes.
pub async fn set_require_totp(
    db: &Db,
    actor: Actor,
    require_totp: bool,
    now_ms: i64,
) -> ServiceResult<OrgSettings> {
    let org_id = actor.staff_org(Capability::Administer)?;
    let txn = begin_write(db).await?;
    let changed = org::Entity::update_many()
        .col_expr(org::Column::RequireTotp, Expr::value(require_totp))
        .filter(org::Column::Id.eq(org_id))
        .filter(org::Column::RequireTotp.ne(require_totp))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 1 {
        let action = if require_totp {
            "org.totp_required"
        } else {
            "org.totp_optional"
        };
        audit::record_account(&txn, actor, action, now_ms).await?;
    }
    let settings = load(&txn, org_id).await?;
    txn.commit().await?;
    Ok(settings)
}

/// An admin sets the org's contact line (`Some`: a phone in E.164 form and
/// when it is answered) or removes it (`None`). From then on, urgent and
/// routine advice to the org's patients names it; advice already written
/// keeps its words. Audited in the org's log when it changes.
pub async fn set_contact(
    db: &Db,
    actor: Actor,
    contact: Option<(&str, &str)>,
    now_ms: i64,
) -> ServiceResult<OrgSettings> {
    let org_id = actor.staff_org(Capability::Administer)?;
    let line = contact
        .map(|(phone, hours)| locale::clinic_line(phone, hours))
        .transpose()?;
    let txn = begin_write(db).await?;
    let before = load(&txn, org_id).await?;
    if before.contact != line {
        let (phone, hours) = line
            .as_ref()
            .map(|l| (l.phone.clone(), l.hours.clone()))
            .unzip();
        org::Entity::update_many()
            .col_expr(org::Column::ContactPhone, Expr::value(phone))
            .col_expr(org::Column::ContactHours, Expr::value(hours))
            .filter(org::Column::Id.eq(org_id))
            .exec(&txn)
            .await?;
        let action = if line.is_some() {
            "org.contact_set"
        } else {
            "org.contact_removed"
        };
        audit::record_account(&txn, actor, action, now_ms).await?;
    }
    let settings = load(&txn, org_id).await?;
    txn.commit().await?;
    Ok(settings)
}
