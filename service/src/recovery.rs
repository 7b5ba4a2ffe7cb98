//! Password reset by email, for patients and staff alike (SPEC §10).
//!
//! A request always gets the same answer (`202`) after the same work: the
//! limits per address and per email are taken, and everything that
//! depends on whether the account exists (finding it, making the code,
//! writing the email) happens after the answer, off the request's path.
//! The code is eight digits, single use, valid `auth.reset_code_minutes`,
//! stored only as a digest keyed by the server's secret (eight digits are
//! too few for a plain hash) and bound to its account. A new request
//! replaces the account's earlier code; five wrong codes spend it.

use std::net::IpAddr;
use std::sync::Arc;

use dorsal_domain::Role;
use dorsal_domain::Violations;
use dorsal_domain::account::{check_password, normalize_email};
use dorsal_domain::locale::DEFAULT_LANGUAGE;
use dorsal_entity::{password_reset, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::access::Actor;
use crate::audit;
use crate::auth::{Auth, end_every_session};
use crate::db::{Db, begin_write};
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::sealed::DataKeys;
use crate::secret::{new_id, random_bytes};
use crate::sync::Nudges;

/// Wrong codes after which a code is spent.
pub const MAX_ATTEMPTS: i32 = 5;
/// Digits in a code.
const CODE_DIGITS: usize = 8;

fn invalid_code() -> ServiceError {
    ServiceError::Malformed {
        code: "invalid_reset_code",
        detail: "this reset code is wrong, used or expired; ask for a new one".into(),
    }
}

/// What sending a reset code needs, owned, so it can finish after the
/// request has been answered.
#[derive(Debug, Clone)]
pub struct Mailroom {
    /// The pool.
    pub db: Db,
    /// Codes' digests and the clock.
    pub auth: Arc<Auth>,
    /// Emails are sealed under these.
    pub keys: Arc<DataKeys>,
    /// Wakes this process's mail delivery.
    pub nudges: Nudges,
}

/// Someone asks for a reset code for `email`, from `address`, reading
/// `language` (a patient with a profile gets their profile's language). `RateLimited` past the limits; otherwise done, whether or not
/// the account exists: the code, if there is an account, is made and
/// mailed after this returns.
#[tracing::instrument(skip_all)]
pub async fn request(
    mailroom: &Mailroom,
    email: &str,
    language: &str,
    address: Option<IpAddr>,
) -> ServiceResult<()> {
    let mut violations = Violations::new();
    let email = violations.check("/email", normalize_email(email));
    violations.into_result()?;
    let email = email.or_internal("validated email missing")?;
    let auth = &mailroom.auth;
    let now = auth.clock().now_ms();
    if let Some(address) = address {
        auth.limits
            .reset_address
            .check(&mailroom.db, &address.to_string(), now)
            .await?;
    }
    auth.limits
        .reset_email
        .check(&mailroom.db, &email, now)
        .await?;
    let mailroom = mailroom.clone();
    let language = language.to_owned();
    tokio::spawn(async move {
        match send_code(&mailroom, &email, &language).await {
            Ok(Some(reset_id)) => tracing::info!(%reset_id, "password reset code mailed"),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "password reset code not sent"),
        }
    });
    Ok(())
}

/// Makes a code for `email`'s account, if it has an active one, and writes
/// its email in the same transaction; the reset's id.
async fn send_code(
    mailroom: &Mailroom,
    email: &str,
    language: &str,
) -> ServiceResult<Option<Uuid>> {
    let auth = &mailroom.auth;
    let Some(account) = active_account(&mailroom.db, email).await? else {
        return Ok(None);
    };
    let now = auth.clock().now_ms();
    let code = new_code()?;
    let minutes = auth.reset_code_minutes;
    // A patient who chose a language in their profile reads it in that one;
    // anyone else (English being also what a profile holds until a language
    // is chosen) in the language their request asked for.
    let profile = crate::locale::locale(&mailroom.db, account.id).await?;
    let language = if profile.language == DEFAULT_LANGUAGE {
        language.to_owned()
    } else {
        profile.language
    };
    let mail = crate::mail::password_reset(&language, &code, minutes)?;
    let txn = begin_write(&mailroom.db).await?;
    // Only the newest code works.
    password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::UserId.eq(account.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    let id = new_id();
    password_reset::ActiveModel {
        id: Set(id),
        user_id: Set(account.id),
        code_digest: Set(auth.reset_digest(account.id, &code)?),
        created_at: Set(now),
        expires_at: Set(now.saturating_add(i64::from(minutes) * 60_000)),
        attempts: Set(0),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    crate::mail::enqueue(&txn, &mailroom.keys, &account.email, &mail, now).await?;
    txn.commit().await?;
    mailroom.nudges.wake_deliveries();
    Ok(Some(id))
}

/// Eight random digits, each equally likely.
fn new_code() -> ServiceResult<String> {
    // 10^8 divides 2^64 unevenly; redraw the top sliver so no code is
    // likelier than another.
    const SPAN: u64 = 100_000_000;
    let limit = u64::MAX - u64::MAX % SPAN;
    loop {
        let draw = u64::from_le_bytes(random_bytes::<8>()?);
        if draw < limit {
            return Ok(format!("{:0width$}", draw % SPAN, width = CODE_DIGITS));
        }
    }
}

/// The code as typed, without spaces or dashes; `None` unless it is eight
/// digits.
fn normalize_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

async fn active_account(
    db: &DatabaseConnection,
    email: &str,
) -> ServiceResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .filter(user::Column::Active.eq(true))
        .one(db)
        .await?)
}

/// A new password for the account of `email`, given its reset `code`.
/// Every session of the account ends. A wrong, spent, expired or malformed
/// code, or an email without a live code, is `invalid_reset_code`; a wrong
/// code counts against the code, which the fifth spends. The new password
/// is checked before the code is, so a weak one costs no attempt.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    db: &Db,
    auth: &Auth,
    email: &str,
    code: &str,
    new_password: &str,
    address: Option<IpAddr>,
) -> ServiceResult<()> {
    let mut violations = Violations::new();
    violations.check("/new_password", check_password(new_password));
    violations.into_result()?;
    let now = auth.clock().now_ms();
    if let Some(address) = address {
        auth.limits
            .reset_address
            .check(db, &address.to_string(), now)
            .await?;
    }
    let (Some(email), Some(code)) = (normalize_email(email).ok(), normalize_code(code)) else {
        return Err(invalid_code());
    };
    let Some(account) = active_account(db, &email).await? else {
        return Err(invalid_code());
    };
    let live = password_reset::Entity::find()
        .filter(password_reset::Column::UserId.eq(account.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now))
        .order_by_desc(password_reset::Column::CreatedAt)
        .one(db)
        .await?
        .ok_or_else(invalid_code)?;
    if !auth.reset_code_matches(account.id, &code, &live.code_digest)? {
        // One statement, so concurrent guesses each count.
        let attempts = Expr::col(password_reset::Column::Attempts).add(1);
        let spent_at: sea_orm::sea_query::SimpleExpr =
            Expr::case(attempts.clone().gte(MAX_ATTEMPTS), Expr::val(now))
                .finally(Expr::col(password_reset::Column::UsedAt))
                .into();
        password_reset::Entity::update_many()
            .col_expr(password_reset::Column::Attempts, attempts)
            .col_expr(password_reset::Column::UsedAt, spent_at)
            .filter(password_reset::Column::Id.eq(live.id))
            .filter(password_reset::Column::UsedAt.is_null())
            .exec(db)
            .await?;
        return Err(invalid_code());
    }
    let password_hash = auth.hash_password(new_password).await?;
    let txn = begin_write(db).await?;
    // Spend it only if no one else has: two confirms with one code end
    // with one winner.
    let spent = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::Id.eq(live.id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(invalid_code());
    }
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    end_every_session(&txn, account.id, now).await?;
    if let (Some(role), Some(org_id)) = (Role::parse(&account.role), account.org_id) {
        let actor = Actor {
            user_id: account.id,
            role,
            org_id: Some(org_id),
            totp_enrolment_required: false,
        };
        audit::record_about_staff(&txn, actor, account.id, "staff.password_reset", now).await?;
    }
    txn.commit().await?;
    tracing::info!(user_id = %account.id, "password reset");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_digits() {
        for _ in 0..100 {
            let code = new_code().unwrap();
            assert_eq!(normalize_code(&code), Some(code));
        }
    }

    #[test]
    fn typed_codes_forgive_spaces_and_dashes_only() {
        let table = [
            ("12345678", Some("12345678")),
            (" 1234 5678 ", Some("12345678")),
            ("1234-5678", Some("12345678")),
            ("1234567", None),
            ("123456789", None),
            ("1234567a", None),
            ("１２３４５６７８", None),
            ("", None),
        ];
        for (typed, expected) in table {
            assert_eq!(normalize_code(typed).as_deref(), expected, "{typed:?}");
        }
    }
}
