//! Staff two-factor sign-in: TOTP (RFC 6238: 6 digits, 30-second steps,
//! HMAC-SHA-1, what authenticator apps use), its enrolment, single-use
//! recovery codes, and spending a code at login.
//!
//! The secret is sealed under the data key for its `users` row. A code is
//! taken from the step before, at and after now (clock drift, typing time),
//! and only for a step later than the last one accepted, so a code seen
//! over a shoulder or in a log cannot be used again. Recovery codes are
//! stored as digests only, each good once. Codes are computed at the
//! service clock's time, never read from the system's clock here.

use std::collections::HashSet;

use dorsal_entity::{totp_recovery_code, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use secrecy::{ExposeSecret, SecretString};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;

use crate::access::{Actor, load_user};
use crate::audit;
use crate::db::{Db, begin_write};
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::sealed::{DataKeys, Row};
use crate::secret::{digest, new_id, random_bytes};

/// Digits of a code.
const DIGITS: u8 = 6;
/// Seconds one code lasts.
pub const STEP_SECONDS: u64 = 30;
/// Steps either side of now whose code is still taken.
const SKEW: u16 = 1;
/// The name authenticator apps show above the account.
pub const ISSUER: &str = "dorsal";
/// Recovery codes handed out when TOTP is turned on.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code: no 0/O or 1/I to mix up, and 32 of
/// them so a random byte's low five bits pick one uniformly.
const RECOVERY_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// A recovery code is two groups of this many characters (50 bits).
const RECOVERY_GROUP: usize = 5;

/// An RFC 6238 generator for `secret` with dorsal's parameters.
fn generator(secret: Secret, account: Option<&str>) -> ServiceResult<Totp> {
    let mut builder = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW)
        .with_step_duration(STEP_SECONDS)
        .with_secret(secret);
    if let Some(account) = account {
        builder = builder.with_issuer(Some(ISSUER)).with_account_name(account);
    }
    builder.build().or_internal("totp parameters")
}

fn unix_seconds(now_ms: i64) -> u64 {
    u64::try_from(now_ms.div_euclid(1000)).unwrap_or(0)
}

/// The code an authenticator app shows for `secret_base32` at
/// `unix_seconds`; `None` when the secret is not base32 or too short.
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Option<String> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    let totp = generator(secret, None).ok()?;
    Some(totp.generate(unix_seconds).to_string())
}

/// The time step (`unix seconds / 30`) whose code `code` is, among the
/// steps before, at and after `now_ms`.
fn matching_step(
    secret_base32: &SecretString,
    code: &str,
    now_ms: i64,
) -> ServiceResult<Option<i64>> {
    let secret =
        Secret::try_from_base32(secret_base32.expose_secret()).or_internal("stored totp secret")?;
    let totp = generator(secret, None)?;
    Ok(totp
        .check(code, unix_seconds(now_ms))
        .and_then(|step| i64::try_from(step).ok()))
}

fn open_secret(keys: &DataKeys, account: &user::Model) -> ServiceResult<Option<SecretString>> {
    account
        .totp_secret
        .as_deref()
        .map(|stored| {
            keys.open(Row::of(user::Entity, account.id), stored)
                .or_internal("opening the stored totp secret")
        })
        .transpose()
}

/// What an authenticator app needs to add the account.
#[derive(Debug)]
pub struct Enrolment {
    /// The shared secret, base32 (RFC 4648, no padding).
    pub secret: SecretString,
    /// `otpauth://totp/dorsal:<email>?secret=…&issuer=dorsal`, for a QR code.
    pub otpauth_uri: SecretString,
}

fn staff_only(actor: Actor) -> ServiceResult<()> {
    if actor.role.is_staff() && actor.org_id.is_some() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

fn already_enabled() -> ServiceError {
    ServiceError::Conflict {
        code: "totp_enabled",
        detail: "two-factor sign-in is already on; turn it off first to enrol again",
    }
}

/// Whether two-factor sign-in is on for the calling account.
pub async fn is_enabled(db: &DatabaseConnection, actor: Actor) -> ServiceResult<bool> {
    Ok(load_user(db, actor.user_id).await?.totp_enabled)
}

/// Starts (or restarts) enrolling the calling member of staff: a new
/// 160-bit secret, stored sealed and not yet in force until
/// [`confirm_enrolment`] sees a code made from it.
pub async fn start_enrolment(
    db: &DatabaseConnection,
    keys: &DataKeys,
    actor: Actor,
) -> ServiceResult<Enrolment> {
    staff_only(actor)?;
    let account = load_user(db, actor.user_id).await?;
    if account.totp_enabled {
        return Err(already_enabled());
    }
    let secret = Secret::from(random_bytes::<20>()?);
    let totp = generator(secret, Some(&account.email))?;
    let encoded = SecretString::from(totp.secret().to_base32());
    let otpauth_uri = totp.to_url().or_internal("otpauth uri")?;
    let sealed = keys.seal(Row::of(user::Entity, account.id), &encoded)?;
    // Only while TOTP is still off: a confirmation racing this keeps its
    // secret.
    let updated = user::Entity::update_many()
        .col_expr(user::Column::TotpSecret, Expr::value(sealed))
        .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::TotpEnabled.eq(false))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(already_enabled());
    }
    Ok(Enrolment {
        secret: encoded,
        otpauth_uri: SecretString::from(otpauth_uri),
    })
}

/// A new random recovery code, `XXXXX-XXXXX`.
fn recovery_code() -> ServiceResult<String> {
    let bytes = random_bytes::<{ 2 * RECOVERY_GROUP }>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
        .collect();
    let (first, second) = chars.split_at(RECOVERY_GROUP);
    Ok(format!(
        "{}-{}",
        first.iter().collect::<String>(),
        second.iter().collect::<String>()
    ))
}

/// The digest a recovery code is stored under: of the code as typed in
/// any case, with or without its dash and spaces, bound to its account.
fn recovery_digest(user_id: Uuid, code: &str) -> String {
    let plain: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    digest(&format!("dorsal-recovery:{user_id}:{plain}"))
}

/// Turns TOTP on for the calling member of staff once `code` is a current
/// code of the secret from [`start_enrolment`], and returns
/// [`RECOVERY_CODES`] single-use recovery codes (only their digests are
/// kept). Audited in the org's log.
pub async fn confirm_enrolment(
    db: &Db,
    keys: &DataKeys,
    actor: Actor,
    code: &str,
    now_ms: i64,
) -> ServiceResult<Vec<SecretString>> {
    staff_only(actor)?;
    let txn = begin_write(db).await?;
    let account = load_user(&txn, actor.user_id).await?;
    if account.totp_enabled {
        return Err(already_enabled());
    }
    let (Some(secret), Some(sealed)) = (open_secret(keys, &account)?, &account.totp_secret) else {
        return Err(ServiceError::Conflict {
            code: "totp_not_enrolling",
            detail: "no enrolment to confirm: start one with POST /v1/me/totp",
        });
    };
    let Some(step) = matching_step(&secret, code.trim(), now_ms)? else {
        return Err(ServiceError::InvalidTotp);
    };
    let enabled = user::Entity::update_many()
        .col_expr(user::Column::TotpEnabled, Expr::value(true))
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(account.id))
        .filter(user::Column::TotpEnabled.eq(false))
        .filter(user::Column::TotpSecret.eq(sealed.as_str()))
        .exec(&txn)
        .await?;
    if enabled.rows_affected != 1 {
        return Err(already_enabled());
    }
    totp_recovery_code::Entity::delete_many()
        .filter(totp_recovery_code::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?;
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut rows = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = HashSet::with_capacity(RECOVERY_CODES);
    while codes.len() < RECOVERY_CODES {
        let code = recovery_code()?;
        let hash = recovery_digest(account.id, &code);
        if !hashes.insert(hash.clone()) {
            continue;
        }
        rows.push(totp_recovery_code::ActiveModel {
            id: Set(new_id()),
            user_id: Set(account.id),
            code_hash: Set(hash),
            created_at: Set(now_ms),
            used_at: Set(None),
        });
        codes.push(SecretString::from(code));
    }
    totp_recovery_code::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    audit::record_account(&txn, actor, "totp.enabled", now_ms).await?;
    txn.commit().await?;
    tracing::info!(user_id = %account.id, "two-factor sign-in turned on");
    Ok(codes)
}

/// Turns TOTP off for the calling member of staff, given a current code or
/// an unused recovery code; the secret and every recovery code go.
/// Audited in the org's log.
pub async fn disable(
    db: &Db,
    keys: &DataKeys,
    actor: Actor,
    code: &str,
    now_ms: i64,
) -> ServiceResult<()> {
    staff_only(actor)?;
    let txn = begin_write(db).await?;
    let account = load_user(&txn, actor.user_id).await?;
    if !account.totp_enabled {
        return Err(ServiceError::Conflict {
            code: "totp_not_enabled",
            detail: "two-factor sign-in is not on for this account",
        });
    }
    if !spend_code(&txn, keys, &account, code, now_ms).await? {
        return Err(ServiceError::InvalidTotp);
    }
    user::Entity::update_many()
        .col_expr(user::Column::TotpEnabled, Expr::value(false))
        .col_expr(
            user::Column::TotpSecret,
            Expr::value(Option::<String>::None),
        )
        .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    totp_recovery_code::Entity::delete_many()
        .filter(totp_recovery_code::Column::UserId.eq(account.id))
        .exec(&txn)
        .await?;
    audit::record_account(&txn, actor, "totp.disabled", now_ms).await?;
    txn.commit().await?;
    tracing::info!(user_id = %account.id, "two-factor sign-in turned off");
    Ok(())
}

/// Spends `code` as `account`'s second factor: a code of a step later than
/// the last one accepted (which becomes the last), or an unused recovery
/// code (which is then used). Each update is conditional, so of two
/// requests with one code at most one succeeds. `false` for anything else.
pub(crate) async fn spend_code(
    db: &impl ConnectionTrait,
    keys: &DataKeys,
    account: &user::Model,
    code: &str,
    now_ms: i64,
) -> ServiceResult<bool> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == usize::from(DIGITS) && code.bytes().all(|b| b.is_ascii_digit()) {
        let Some(secret) = open_secret(keys, account)? else {
            return Ok(false);
        };
        let Some(step) = matching_step(&secret, &code, now_ms)? else {
            return Ok(false);
        };
        let spent = user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(account.id))
            .filter(user::Column::TotpEnabled.eq(true))
            .filter(
                user::Column::TotpLastStep
                    .is_null()
                    .or(user::Column::TotpLastStep.lt(step)),
            )
            .exec(db)
            .await?;
        return Ok(spent.rows_affected == 1);
    }
    let spent = totp_recovery_code::Entity::update_many()
        .col_expr(totp_recovery_code::Column::UsedAt, Expr::value(now_ms))
        .filter(totp_recovery_code::Column::UserId.eq(account.id))
        .filter(totp_recovery_code::Column::CodeHash.eq(recovery_digest(account.id, &code)))
        .filter(totp_recovery_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1: the secret "12345678901234567890" and
    /// the last six digits of each eight-digit code.
    #[test]
    fn codes_match_the_rfc_6238_sha1_vectors() {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(&secret, time).unwrap(), code[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_is_taken_one_step_either_side_and_no_further() {
        let secret = SecretString::from(Secret::from(b"12345678901234567890".to_vec()).to_base32());
        let now_ms = 1_111_111_111_000;
        let step = 1_111_111_111 / 30;
        for offset in [-1i64, 0, 1] {
            let at = u64::try_from((step + offset) * 30).unwrap();
            let code = code_at(secret.expose_secret(), at).unwrap();
            assert_eq!(
                matching_step(&secret, &code, now_ms).unwrap(),
                Some(step + offset)
            );
        }
        for offset in [-2i64, 2] {
            let at = u64::try_from((step + offset) * 30).unwrap();
            let code = code_at(secret.expose_secret(), at).unwrap();
            assert_eq!(matching_step(&secret, &code, now_ms).unwrap(), None);
        }
        assert_eq!(matching_step(&secret, "abc", now_ms).unwrap(), None);
    }

    #[test]
    fn recovery_codes_are_two_groups_from_the_alphabet_and_match_however_typed() {
        let code = recovery_code().unwrap();
        assert_eq!(code.len(), 2 * RECOVERY_GROUP + 1);
        assert_eq!(code.as_bytes()[RECOVERY_GROUP], b'-');
        assert!(
            code.bytes()
                .filter(|b| *b != b'-')
                .all(|b| RECOVERY_ALPHABET.contains(&b))
        );
        let user = Uuid::now_v7();
        let typed = format!(" {} ", code.replace('-', " ").to_lowercase());
        assert_eq!(recovery_digest(user, &code), recovery_digest(user, &typed));
        assert_ne!(
            recovery_digest(user, &code),
            recovery_digest(Uuid::now_v7(), &code)
        );
        assert_ne!(recovery_code().unwrap(), code);
    }
}
