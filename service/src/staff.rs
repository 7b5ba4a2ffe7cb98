//! An org's staff as its admins manage them: the list, a change of role or
//! name, and switching an account off or on again.
//!
//! Every change is in the org's audit log, naming the member of staff it
//! was about. The org always keeps one active admin: the change that would
//! take away the last one is refused, under a lock on the org's row so two
//! admins demoting each other at once cannot both succeed.

use dorsal_domain::Role;
use dorsal_domain::Violations;
use dorsal_domain::account::normalize_display_name;
use dorsal_domain::role::Capability;
use dorsal_entity::{org, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::audit;
use crate::auth::end_every_session;
use crate::db::{Db, begin_write};
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::page::{Page, PageRequest};

/// A member of staff as their admin sees them.
#[derive(Debug, Clone)]
pub struct StaffMember {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// `therapist`, `clinician` or `admin`.
    pub role: String,
    /// Whether the account may sign in.
    pub active: bool,
    /// Whether the account has two-factor sign-in on.
    pub mfa: bool,
}

impl From<user::Model> for StaffMember {
    fn from(user: user::Model) -> Self {
        StaffMember {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            active: user.active,
            mfa: user.totp_enabled,
        }
    }
}

/// What an admin changes; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct StaffChange {
    /// A staff role.
    pub role: Option<Role>,
    /// A new display name.
    pub display_name: Option<String>,
    /// Off ends every session at once and refuses sign-in; on allows it
    /// again.
    pub active: Option<bool>,
}

/// Staff accounts of the org, deactivated ones included, oldest first.
fn of_org(org_id: Uuid) -> sea_orm::Select<user::Entity> {
    user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::Role.ne(Role::Patient.as_str()))
}

/// The admin's org's staff, a page at a time.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: Actor,
    page: PageRequest,
) -> ServiceResult<Page<StaffMember>> {
    let org_id = actor.staff_org(Capability::ManageStaff)?;
    let mut query = of_org(org_id)
        .order_by_asc(user::Column::Id)
        .limit(page.fetch_limit());
    if let Some(after) = page.after {
        query = query.filter(user::Column::Id.gt(after));
    }
    let rows = query.all(db).await?;
    Ok(page.finish(rows, |u| u.id).map(StaffMember::from))
}

const LAST_ADMIN: ServiceError = ServiceError::Conflict {
    code: "last_admin",
    detail: "this is the org's last active admin; make another member of staff an admin first",
};

/// Applies an admin's change to one member of their org's staff. Another
/// org's account, or a patient, is `NotFound`.
pub async fn update(
    db: &Db,
    actor: Actor,
    staff_id: Uuid,
    change: StaffChange,
    now_ms: i64,
) -> ServiceResult<StaffMember> {
    let org_id = actor.staff_org(Capability::ManageStaff)?;
    let mut violations = Violations::new();
    if change.role.is_some_and(|role| !role.is_staff()) {
        violations.add("/role", "must be one of therapist, clinician, admin");
    }
    let display_name = change
        .display_name
        .as_deref()
        .and_then(|name| violations.check("/display_name", normalize_display_name(name)));
    violations.into_result()?;

    let txn = begin_write(db).await?;
    // Changes to one org's staff take turns (SQLite's write transaction
    // already serializes them).
    org::Entity::find_by_id(org_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ServiceError::Forbidden)?;
    let found = of_org(org_id)
        .filter(user::Column::Id.eq(staff_id))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("staff"))?;
    let was_admin = found.active && found.role == Role::Admin.as_str();
    let stays_admin = change.active.unwrap_or(found.active)
        && change
            .role
            .map_or(found.role == Role::Admin.as_str(), |r| r == Role::Admin);
    if was_admin && !stays_admin {
        let other_admins = of_org(org_id)
            .filter(user::Column::Role.eq(Role::Admin.as_str()))
            .filter(user::Column::Active.eq(true))
            .filter(user::Column::Id.ne(staff_id))
            .count(&txn)
            .await?;
        if other_admins == 0 {
            return Err(LAST_ADMIN);
        }
    }

    let mut update = user::Entity::update_many().filter(user::Column::Id.eq(staff_id));
    let mut actions = Vec::new();
    if let Some(role) = change.role.filter(|r| r.as_str() != found.role) {
        update = update.col_expr(user::Column::Role, Expr::value(role.as_str()));
        actions.push("staff.role_changed");
    }
    if let Some(name) = display_name.filter(|n| *n != found.display_name) {
        update = update.col_expr(user::Column::DisplayName, Expr::value(name));
        actions.push("staff.renamed");
    }
    match change.active {
        Some(false) if found.active => {
            update = update.col_expr(user::Column::Active, Expr::value(false));
            actions.push("staff.deactivated");
        }
        Some(true) if !found.active => {
            update = update.col_expr(user::Column::Active, Expr::value(true));
            actions.push("staff.reactivated");
        }
        _ => {}
    }
    if !actions.is_empty() {
        update.exec(&txn).await?;
    }
    if actions.contains(&"staff.deactivated") {
        end_every_session(&txn, staff_id, now_ms).await?;
    }
    for action in actions {
        audit::record_about_staff(&txn, actor, staff_id, action, now_ms).await?;
    }
    let updated = user::Entity::find_by_id(staff_id)
        .one(&txn)
        .await?
        .or_internal("staff account vanished in its update")?;
    txn.commit().await?;
    Ok(updated.into())
}
