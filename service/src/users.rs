//! Accounts: patients registering themselves, orgs with their first admin,
//! and staff added by an admin.

use std::net::IpAddr;

use dorsal_domain::account::{check_password, normalize_display_name, normalize_email};
use dorsal_domain::role::Capability;
use dorsal_domain::{Role, Violations};
use dorsal_entity::{org, user};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, Set};
use uuid::Uuid;

use crate::access::Actor;
use crate::auth::Auth;
use crate::db::{Db, begin_write, is_unique_violation};
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::secret::new_id;

/// An account as the outside world may see it (no password hash).
#[derive(Debug, Clone)]
pub struct Account {
    /// User id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Role name.
    pub role: String,
    /// Org of a staff member.
    pub org_id: Option<Uuid>,
}

impl From<user::Model> for Account {
    fn from(user: user::Model) -> Self {
        Account {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            org_id: user.org_id,
        }
    }
}

/// What a new account is made from.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Email as typed.
    pub email: String,
    /// Password as typed.
    pub password: String,
    /// Name shown to staff and in greetings.
    pub display_name: String,
}

/// A validated account, ready to store.
struct ValidAccount {
    email: String,
    display_name: String,
    password: String,
}

fn validate(input: NewAccount, violations: &mut Violations) -> Option<ValidAccount> {
    let email = violations.check("/email", normalize_email(&input.email));
    violations.check("/password", check_password(&input.password));
    let display_name =
        violations.check("/display_name", normalize_display_name(&input.display_name));
    Some(ValidAccount {
        email: email?,
        display_name: display_name?,
        password: input.password,
    })
}

async fn insert_user(
    db: &impl ConnectionTrait,
    auth: &Auth,
    account: ValidAccount,
    role: Role,
    org_id: Option<Uuid>,
) -> ServiceResult<user::Model> {
    let password_hash = auth.hash_password(&account.password).await?;
    insert_hashed(db, auth, account, password_hash, role, org_id).await
}

/// Stores an account whose password is already hashed (so a transaction
/// need not wait for Argon2).
async fn insert_hashed(
    db: &impl ConnectionTrait,
    auth: &Auth,
    account: ValidAccount,
    password_hash: String,
    role: Role,
    org_id: Option<Uuid>,
) -> ServiceResult<user::Model> {
    let inserted = user::ActiveModel {
        id: Set(new_id()),
        email: Set(account.email),
        password_hash: Set(password_hash),
        display_name: Set(account.display_name),
        role: Set(role.as_str().to_owned()),
        org_id: Set(org_id),
        created_at: Set(auth.clock().now_ms()),
        active: Set(true),
        totp_secret: Set(None),
        totp_enabled: Set(false),
        totp_last_step: Set(None),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(model) => Ok(model),
        Err(err) if is_unique_violation(&err) => Err(ServiceError::Conflict {
            code: "email_taken",
            detail: "an account with this email already exists",
        }),
        Err(err) => Err(err.into()),
    }
}

/// A patient signs up from `address` (rate limited per address). Patients
/// belong to no org until they join a care team.
#[tracing::instrument(skip_all)]
pub async fn register_patient(
    db: &DatabaseConnection,
    auth: &Auth,
    input: NewAccount,
    address: Option<IpAddr>,
) -> ServiceResult<Account> {
    auth.check_registration(db, address).await?;
    let mut violations = Violations::new();
    let account = validate(input, &mut violations);
    violations.into_result()?;
    let account = account.or_internal("validated account missing")?;
    insert_user(db, auth, account, Role::Patient, None)
        .await
        .map(Account::from)
}

/// An admin adds a therapist, clinician or admin to their own org.
pub async fn create_staff(
    db: &Db,
    auth: &Auth,
    actor: Actor,
    input: NewAccount,
    role: Role,
) -> ServiceResult<Account> {
    let org_id = actor.staff_org(Capability::ManageStaff)?;
    let mut violations = Violations::new();
    let account = validate(input, &mut violations);
    if !role.is_staff() {
        violations.add("/role", "must be one of therapist, clinician, admin");
    }
    violations.into_result()?;
    let account = account.or_internal("validated account missing")?;
    // Hashed before the transaction: SQLite's one writer does not wait
    // for Argon2.
    let password_hash = auth.hash_password(&account.password).await?;
    let txn = begin_write(db).await?;
    let added = insert_hashed(&txn, auth, account, password_hash, role, Some(org_id)).await?;
    crate::audit::record_about_staff(&txn, actor, added.id, "staff.added", auth.clock().now_ms())
        .await?;
    txn.commit().await?;
    Ok(added.into())
}

/// A new org and its first admin, in one transaction (the `admin create-org`
/// command).
pub async fn create_org_with_admin(
    db: &Db,
    auth: &Auth,
    name: &str,
    admin: NewAccount,
) -> ServiceResult<(Uuid, Account)> {
    let mut violations = Violations::new();
    let name = violations.check("/name", normalize_display_name(name));
    let account = validate(admin, &mut violations);
    violations.into_result()?;
    let (Some(name), Some(account)) = (name, account) else {
        return Err(ServiceError::internal("validated org missing"));
    };
    let password_hash = auth.hash_password(&account.password).await?;
    let txn = begin_write(db).await?;
    let org = org::ActiveModel {
        id: Set(new_id()),
        name: Set(name),
        created_at: Set(auth.clock().now_ms()),
        require_totp: Set(false),
        contact_phone: Set(None),
        contact_hours: Set(None),
    }
    .insert(&txn)
    .await?;
    let admin = insert_hashed(
        &txn,
        auth,
        account,
        password_hash,
        Role::Admin,
        Some(org.id),
    )
    .await?;
    txn.commit().await?;
    Ok((org.id, admin.into()))
}

/// The caller's own account. A token outliving its account is refused.
pub async fn me(db: &DatabaseConnection, actor: Actor) -> ServiceResult<Account> {
    crate::access::load_user(db, actor.user_id)
        .await
        .map(Account::from)
        .map_err(|err| match err {
            ServiceError::NotFound(_) => {
                ServiceError::Unauthenticated(crate::error::AuthFailure::AccountGone)
            }
            other => other,
        })
}
