//! Authentication: password hashing, access tokens (JWT), refresh-token
//! families with rotation and reuse detection, and login rate limiting.

use std::net::IpAddr;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm as ArgonAlgorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dorsal_domain::Role;
use dorsal_domain::account::PASSWORD_MAX_BYTES;
use dorsal_domain::role::Capability;
use dorsal_entity::{org, refresh_token, user};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::access::Actor;
use crate::clock::SharedClock;
use crate::config::{AuthConfig, Config, ConfigError};
use crate::db::{Db, begin_write};
use crate::error::{AuthFailure, OrInternal, ServiceError, ServiceResult};
use crate::limits::Limit;
use crate::sealed::DataKeys;
use crate::secret::{
    check_secret_length, configured_or_generated, digest, new_id, random_bytes, random_token,
};

const JWT_ALGORITHM: Algorithm = Algorithm::HS256;
const SECRET_FILE: &str = "dorsal-jwt.key";

/// The signing secret to use: `jwt_secret` when set (at least 32 bytes); on
/// PostgreSQL it must be set; on SQLite one is generated once into the data
/// directory and read back on later starts.
pub fn resolve_jwt_secret(config: &Config) -> Result<SecretString, ConfigError> {
    configured_or_generated(
        config,
        config.jwt_secret.as_ref(),
        "DORSAL_JWT_SECRET",
        SECRET_FILE,
    )
}

/// The retired signing secret still accepted for verification, held to the
/// same length rule as the current one: a short secret is as forgeable
/// retired as in use.
pub fn resolve_previous_jwt_secret(config: &Config) -> Result<Option<SecretString>, ConfigError> {
    config
        .auth
        .previous_jwt_secret
        .as_ref()
        .map(|secret| check_secret_length(secret, "DORSAL_AUTH__PREVIOUS_JWT_SECRET"))
        .transpose()
}

/// What each request reads of its token's account: role, org, active,
/// TOTP on, and the org's `require_totp` (null for patients).
type AccountState = (String, Option<Uuid>, bool, bool, Option<bool>);

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The user's role when the token was issued.
    pub role: Role,
    /// The user's org (staff).
    pub org: Option<Uuid>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Token id.
    pub jti: Uuid,
}

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKey {
    fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        // The key id names the key without revealing it.
        let mut hasher = Sha256::new();
        hasher.update(b"dorsal-jwt-kid:");
        hasher.update(bytes);
        let kid = URL_SAFE_NO_PAD.encode(&hasher.finalize()[..12]);
        Self {
            kid,
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }
}

/// The signing key and the retired key still accepted, chosen by `kid`.
struct JwtKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
    validation: Validation,
    /// Derives a refresh token's successor, so the same spent token
    /// presented again within the grace window gets the same successor.
    successor: [u8; 32],
    /// Keys the digests of password-reset codes: eight digits are too few
    /// to store under a plain hash, which anyone with the table could
    /// reverse by trying them all.
    reset: [u8; 32],
}

impl JwtKeys {
    fn new(current: &SecretString, previous: Option<&SecretString>) -> Self {
        let mut validation = Validation::new(JWT_ALGORITHM);
        validation.leeway = 0;
        // `exp` is checked against the injected clock (see `verify`), not
        // the library's reading of the system's.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        let mut successor = Sha256::new();
        successor.update(b"dorsal-refresh-successor:");
        successor.update(current.expose_secret().as_bytes());
        let mut reset = Sha256::new();
        reset.update(b"dorsal-password-reset:");
        reset.update(current.expose_secret().as_bytes());
        Self {
            reset: reset.finalize().into(),
            current: SigningKey::new(current),
            previous: previous.map(SigningKey::new),
            validation,
            successor: successor.finalize().into(),
        }
    }

    /// The refresh token that follows `spent`: unpredictable without the
    /// signing secret, and the same every time for the same token.
    fn successor_of(&self, spent: &str) -> ServiceResult<String> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.successor).or_internal("successor key")?;
        mac.update(spent.as_bytes());
        Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    fn reset_mac(&self, user_id: Uuid, code: &str) -> ServiceResult<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.reset).or_internal("reset key")?;
        mac.update(user_id.as_bytes());
        mac.update(code.as_bytes());
        Ok(mac)
    }

    fn sign(&self, claims: &Claims) -> ServiceResult<String> {
        let mut header = Header::new(JWT_ALGORITHM);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.current.encoding).or_internal("signing a token")
    }

    /// The claims of `token` if it is ours and has not expired at `now`
    /// (seconds since the epoch).
    fn verify(&self, token: &str, now: u64) -> Result<Claims, AuthFailure> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::InvalidToken)?;
        let kid = header.kid.as_deref().ok_or(AuthFailure::InvalidToken)?;
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|key| key.kid == kid)
            .ok_or(AuthFailure::InvalidToken)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| AuthFailure::InvalidToken)?;
        if claims.exp < now {
            return Err(AuthFailure::TokenExpired);
        }
        Ok(claims)
    }
}

/// Argon2id hashing off the async threads, with bounded concurrency so a
/// burst of logins cannot exhaust memory.
struct Passwords {
    argon2: Argon2<'static>,
    permits: Semaphore,
}

impl Passwords {
    fn new(config: &AuthConfig) -> ServiceResult<Self> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .or_internal("argon2 parameters")?;
        let lanes = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            argon2: Argon2::new(ArgonAlgorithm::Argon2id, Version::V0x13, params),
            permits: Semaphore::new(lanes * 2),
        })
    }

    fn hash_now(argon2: &Argon2<'static>, password: &str) -> ServiceResult<String> {
        let salt = SaltString::encode_b64(&random_bytes::<16>()?).or_internal("salt")?;
        argon2
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .or_internal("hashing")
    }

    async fn hash(&self, password: String) -> ServiceResult<String> {
        let _permit = self.permits.acquire().await.map_err(|_| closed())?;
        let argon2 = self.argon2.clone();
        tokio::task::spawn_blocking(move || Self::hash_now(&argon2, &password)).await?
    }

    async fn verify(&self, password: String, stored: String) -> ServiceResult<bool> {
        let _permit = self.permits.acquire().await.map_err(|_| closed())?;
        let argon2 = self.argon2.clone();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&stored).or_internal("stored hash")?;
            Ok(argon2.verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await?
    }
}

fn closed() -> ServiceError {
    ServiceError::internal("password hasher closed")
}

/// The limits on guessing: login attempts per account and per client
/// address, registrations per address, password-reset requests per
/// address and per email. Kept in the database ([`crate::limits`]).
#[derive(Debug)]
pub(crate) struct AuthLimits {
    login_account: Limit,
    login_address: Limit,
    register_address: Limit,
    pub(crate) reset_address: Limit,
    pub(crate) reset_email: Limit,
}

impl AuthLimits {
    fn new(config: &AuthConfig) -> Self {
        Self {
            login_account: Limit::per_minute("login-account", config.login_per_account_per_minute),
            login_address: Limit::per_minute("login-address", config.login_per_address_per_minute),
            register_address: Limit::per_hour(
                "register-address",
                config.register_per_address_per_hour,
            ),
            reset_address: Limit::per_hour("reset-address", config.reset_per_address_per_hour),
            reset_email: Limit::per_hour("reset-email", config.reset_per_email_per_hour),
        }
    }
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// Signed JWT.
    pub access_token: String,
    /// Opaque, single-use refresh token.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// Everything about proving who a caller is.
pub struct Auth {
    keys: JwtKeys,
    passwords: Passwords,
    /// Verified against when the account does not exist, so an unknown
    /// email costs the same time as a wrong password.
    dummy_hash: String,
    pub(crate) limits: AuthLimits,
    /// Minutes a password-reset code stays valid.
    pub(crate) reset_code_minutes: u32,
    access_ttl_seconds: u64,
    refresh_ttl_ms: i64,
    reuse_grace_ms: i64,
    clock: SharedClock,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("kid", &self.keys.current.kid)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Builds the keys and the hasher; `jwt_secret` comes from
    /// [`resolve_jwt_secret`], `previous_jwt_secret` from
    /// [`resolve_previous_jwt_secret`].
    pub fn new(
        config: &AuthConfig,
        jwt_secret: &SecretString,
        previous_jwt_secret: Option<&SecretString>,
        clock: SharedClock,
    ) -> ServiceResult<Arc<Self>> {
        let passwords = Passwords::new(config)?;
        let dummy_hash = Passwords::hash_now(&passwords.argon2, "no such account")?;
        let refresh_ttl_days =
            i64::try_from(config.refresh_ttl_days).unwrap_or(i64::MAX / 86_400_000);
        Ok(Arc::new(Self {
            keys: JwtKeys::new(jwt_secret, previous_jwt_secret),
            passwords,
            dummy_hash,
            limits: AuthLimits::new(config),
            reset_code_minutes: config.reset_code_minutes,
            access_ttl_seconds: config.access_ttl_seconds,
            refresh_ttl_ms: refresh_ttl_days.saturating_mul(86_400_000),
            reuse_grace_ms: i64::try_from(config.refresh_reuse_grace_seconds)
                .unwrap_or(0)
                .saturating_mul(1000),
            clock,
        }))
    }

    /// The clock everything in this service reads.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// `RateLimited` once `address` has registered too many accounts
    /// lately: each costs an Argon2 hash, and 409 `email_taken` answers
    /// whether an email has an account, so the limit keeps both slow.
    pub async fn check_registration(
        &self,
        db: &impl ConnectionTrait,
        address: Option<IpAddr>,
    ) -> ServiceResult<()> {
        match address {
            Some(address) => {
                self.limits
                    .register_address
                    .check(db, &address.to_string(), self.clock.now_ms())
                    .await
            }
            None => Ok(()),
        }
    }

    /// Hashes a new password (Argon2id, off the async threads).
    pub async fn hash_password(&self, password: &str) -> ServiceResult<String> {
        self.passwords.hash(password.to_owned()).await
    }

    /// Checks an access token and the account it names, and returns the
    /// caller. One primary-key read per request: a token whose account was
    /// erased or deactivated is refused at once, not when it expires, and
    /// the role and org are the account's now, not when the token was made.
    pub async fn authenticate(
        &self,
        db: &impl ConnectionTrait,
        token: &str,
    ) -> ServiceResult<Actor> {
        let now = u64::try_from(self.clock.now().as_second()).unwrap_or(0);
        let claims = self
            .keys
            .verify(token, now)
            .map_err(ServiceError::Unauthenticated)?;
        // The org's TOTP policy comes with the same read.
        let account: Option<AccountState> = user::Entity::find_by_id(claims.sub)
            .select_only()
            .columns([
                user::Column::Role,
                user::Column::OrgId,
                user::Column::Active,
                user::Column::TotpEnabled,
            ])
            .column(org::Column::RequireTotp)
            .left_join(org::Entity)
            .into_tuple()
            .one(db)
            .await?;
        let Some((role, org_id, active, totp_enabled, require_totp)) = account else {
            return Err(ServiceError::Unauthenticated(AuthFailure::AccountGone));
        };
        if !active {
            return Err(ServiceError::Unauthenticated(AuthFailure::AccountInactive));
        }
        let role = Role::parse(&role).or_internal("a stored role that does not parse")?;
        Ok(Actor {
            user_id: claims.sub,
            role,
            org_id,
            totp_enrolment_required: role.is_staff() && require_totp == Some(true) && !totp_enabled,
        })
    }

    /// The stored digest of password-reset `code` for `user_id`: keyed by
    /// the server's secret and bound to the account, so the same code for
    /// another account has another digest.
    pub(crate) fn reset_digest(&self, user_id: Uuid, code: &str) -> ServiceResult<String> {
        let mac = self.keys.reset_mac(user_id, code)?;
        Ok(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// Whether `code` is the one `stored` is the digest of, compared in
    /// constant time (the `hmac` crate's `verify_slice`).
    pub(crate) fn reset_code_matches(
        &self,
        user_id: Uuid,
        code: &str,
        stored: &str,
    ) -> ServiceResult<bool> {
        let Ok(expected) = URL_SAFE_NO_PAD.decode(stored) else {
            return Ok(false);
        };
        let mac = self.keys.reset_mac(user_id, code)?;
        Ok(mac.verify_slice(&expected).is_ok())
    }

    /// Signs an access token for `user`; exposed for tools and tests that need
    /// a token with particular claims.
    pub fn sign(&self, claims: &Claims) -> ServiceResult<String> {
        self.keys.sign(claims)
    }

    /// Email and password in, tokens out. A wrong password and an unknown
    /// account get the same answer after the same work. An account with
    /// two-factor sign-in on also needs `totp`, a current code (of a step
    /// not used before) or an unused recovery code, opened with `keys`:
    /// without one `TotpRequired`, with a wrong one the answer of a wrong
    /// password.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        db: &Db,
        keys: &DataKeys,
        email: &str,
        password: &str,
        totp: Option<&str>,
        address: Option<IpAddr>,
    ) -> ServiceResult<TokenPair> {
        let email = email.trim().to_lowercase();
        let now = self.clock.now_ms();
        if let Some(address) = address {
            self.limits
                .login_address
                .check(db, &address.to_string(), now)
                .await?;
        }
        self.limits.login_account.check(db, &email, now).await?;
        if password.len() > PASSWORD_MAX_BYTES {
            return Err(ServiceError::Unauthenticated(
                AuthFailure::InvalidCredentials,
            ));
        }
        let account = user::Entity::find()
            .filter(user::Column::Email.eq(&email))
            .one(db)
            .await?;
        let stored = account
            .as_ref()
            .map_or_else(|| self.dummy_hash.clone(), |u| u.password_hash.clone());
        let matches = self.passwords.verify(password.to_owned(), stored).await?;
        match account {
            Some(account) if matches && account.active => {
                let txn = begin_write(db).await?;
                if account.totp_enabled {
                    let code = totp.map(str::trim).filter(|code| !code.is_empty());
                    let Some(code) = code else {
                        return Err(ServiceError::Unauthenticated(AuthFailure::TotpRequired));
                    };
                    let now = self.clock.now_ms();
                    if !crate::totp::spend_code(&txn, keys, &account, code, now).await? {
                        return Err(ServiceError::Unauthenticated(
                            AuthFailure::InvalidCredentials,
                        ));
                    }
                }
                let pair = self
                    .issue(&txn, &account, new_id(), random_token()?)
                    .await?;
                txn.commit().await?;
                Ok(pair)
            }
            _ => Err(ServiceError::Unauthenticated(
                AuthFailure::InvalidCredentials,
            )),
        }
    }

    /// Whether `password` is `account`'s (for confirming a grave action).
    pub async fn verify_password(
        &self,
        account: &user::Model,
        password: &str,
    ) -> ServiceResult<bool> {
        if password.len() > PASSWORD_MAX_BYTES {
            return Ok(false);
        }
        self.passwords
            .verify(password.to_owned(), account.password_hash.clone())
            .await
    }

    /// Trades a refresh token for a new pair. The old token is spent; using
    /// a spent token again revokes its whole family (it was probably
    /// stolen), except within a short grace window after it was spent,
    /// when it gets the same successor again (two tabs, or a response lost
    /// on the way, renewing at the same moment).
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, db: &Db, token: &str) -> ServiceResult<TokenPair> {
        let now = self.clock.now_ms();
        let invalid = || ServiceError::Unauthenticated(AuthFailure::InvalidRefreshToken);
        let txn = begin_write(db).await?;
        let stored = find_refresh(&txn, token).await?.ok_or_else(invalid)?;
        if stored.revoked_at.is_some() || stored.expires_at <= now {
            return Err(invalid());
        }
        let account = user::Entity::find_by_id(stored.user_id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::Unauthenticated(AuthFailure::AccountGone))?;
        if !account.active {
            return Err(ServiceError::Unauthenticated(AuthFailure::AccountInactive));
        }
        let successor = self.keys.successor_of(token)?;
        // Spend the token only if nobody else has: the condition makes two
        // concurrent refreshes with one token end with exactly one winner.
        let spent = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
            .filter(refresh_token::Column::Id.eq(stored.id))
            .filter(refresh_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected == 1 {
            let pair = self
                .issue(&txn, &account, stored.family_id, successor)
                .await?;
            txn.commit().await?;
            return Ok(pair);
        }
        // Spent already. Read it again: a concurrent winner may have
        // committed after our first read.
        let stored = find_refresh(&txn, token).await?.ok_or_else(invalid)?;
        let within_grace = stored
            .used_at
            .is_some_and(|used| now.saturating_sub(used) <= self.reuse_grace_ms);
        if within_grace
            && stored.revoked_at.is_none()
            && let Some(next) = find_refresh(&txn, &successor).await?
            && next.used_at.is_none()
            && next.revoked_at.is_none()
            && next.family_id == stored.family_id
        {
            txn.commit().await?;
            return Ok(TokenPair {
                access_token: self.access_token(&account)?,
                refresh_token: successor,
                expires_in: self.access_ttl_seconds,
            });
        }
        revoke_family(&txn, stored.family_id, now).await?;
        txn.commit().await?;
        tracing::warn!(user_id = %stored.user_id, family_id = %stored.family_id,
            "refresh token reused; family revoked");
        Err(ServiceError::Unauthenticated(
            AuthFailure::RefreshTokenReused,
        ))
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are
    /// ignored, so logging out twice is not an error.
    pub async fn logout(&self, db: &DatabaseConnection, token: &str) -> ServiceResult<()> {
        let now = self.clock.now_ms();
        let found = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(digest(token)))
            .one(db)
            .await?;
        if let Some(found) = found {
            revoke_family(db, found.family_id, now).await?;
        }
        Ok(())
    }

    fn access_token(&self, account: &user::Model) -> ServiceResult<String> {
        let role = Role::parse(&account.role).or_internal("a stored role that does not parse")?;
        let iat = u64::try_from(self.clock.now().as_second()).unwrap_or(0);
        let claims = Claims {
            sub: account.id,
            role,
            org: account.org_id,
            iat,
            exp: iat + self.access_ttl_seconds,
            jti: new_id(),
        };
        self.keys.sign(&claims)
    }

    /// A new access token and stores `refresh` as the family's next
    /// refresh token.
    async fn issue(
        &self,
        db: &impl ConnectionTrait,
        account: &user::Model,
        family_id: Uuid,
        refresh: String,
    ) -> ServiceResult<TokenPair> {
        let now = self.clock.now();
        let access_token = self.access_token(account)?;
        refresh_token::ActiveModel {
            id: Set(new_id()),
            user_id: Set(account.id),
            family_id: Set(family_id),
            token_hash: Set(digest(&refresh)),
            created_at: Set(now.as_millisecond()),
            expires_at: Set(now.as_millisecond().saturating_add(self.refresh_ttl_ms)),
            used_at: Set(None),
            revoked_at: Set(None),
        }
        .insert(db)
        .await?;
        Ok(TokenPair {
            access_token,
            refresh_token: refresh,
            expires_in: self.access_ttl_seconds,
        })
    }
}

/// How a sign-in to the clinic's pages ends.
#[derive(Debug)]
pub enum StaffSignIn {
    /// Staff: the tokens of their session.
    Session {
        /// The session's tokens.
        pair: TokenPair,
        /// Their org requires two-factor sign-in they have not turned on:
        /// the session reaches only its enrolment (as their API tokens
        /// reach only `/v1/me*`), and confirming it ends the session.
        enrolment_required: bool,
    },
    /// Not staff: the login was ended at once, having no use there.
    NotStaff,
}

impl Auth {
    /// [`Auth::login`] for the clinic's pages, which only staff who may
    /// read patients use: anyone else's login is ended before it is used.
    #[tracing::instrument(skip_all)]
    pub async fn staff_login(
        &self,
        db: &Db,
        keys: &DataKeys,
        email: &str,
        password: &str,
        totp: Option<&str>,
        address: Option<IpAddr>,
    ) -> ServiceResult<StaffSignIn> {
        let pair = self.login(db, keys, email, password, totp, address).await?;
        let actor = self.authenticate(db, &pair.access_token).await?;
        if actor.staff_org(Capability::ReadPatients).is_err() {
            self.logout(db, &pair.refresh_token).await?;
            return Ok(StaffSignIn::NotStaff);
        }
        tracing::info!(
            user_id = %actor.user_id,
            enrolment_required = actor.totp_enrolment_required,
            "clinic sign-in"
        );
        Ok(StaffSignIn::Session {
            pair,
            enrolment_required: actor.totp_enrolment_required,
        })
    }
}

async fn find_refresh(
    db: &impl ConnectionTrait,
    token: &str,
) -> ServiceResult<Option<refresh_token::Model>> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(digest(token)))
        .one(db)
        .await?)
}

/// Ends every session of `user_id` at once: each refresh-token family is
/// revoked, so the next refresh of any of them is refused.
pub(crate) async fn end_every_session(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: i64,
) -> ServiceResult<()> {
    revoke(db, refresh_token::Column::UserId.eq(user_id), now).await
}

async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid, now: i64) -> ServiceResult<()> {
    revoke(db, refresh_token::Column::FamilyId.eq(family_id), now).await
}

/// Revokes the live refresh tokens `which` selects.
async fn revoke(
    db: &impl ConnectionTrait,
    which: sea_orm::sea_query::SimpleExpr,
    now: i64,
) -> ServiceResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(which)
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str, previous: Option<&str>) -> JwtKeys {
        JwtKeys::new(
            &SecretString::from(secret),
            previous.map(SecretString::from).as_ref(),
        )
    }

    fn now() -> u64 {
        u64::try_from(jiff::Timestamp::now().as_second()).unwrap()
    }

    fn claims(exp_offset: i64) -> Claims {
        let now = jiff::Timestamp::now().as_second();
        Claims {
            sub: Uuid::now_v7(),
            role: Role::Patient,
            org: None,
            iat: u64::try_from(now).unwrap(),
            exp: u64::try_from(now + exp_offset).unwrap(),
            jti: Uuid::now_v7(),
        }
    }

    const A: &str = "a-secret-that-is-long-enough-0000000000";
    const B: &str = "b-secret-that-is-long-enough-1111111111";

    #[test]
    fn a_signed_token_verifies_and_carries_its_claims() {
        let keys = keys(A, None);
        let claims = claims(60);
        let verified = keys.verify(&keys.sign(&claims).unwrap(), now()).unwrap();
        assert_eq!(verified.sub, claims.sub);
    }

    #[test]
    fn expired_tokens_are_told_apart_from_bad_ones() {
        let keys = keys(A, None);
        let token = keys.sign(&claims(-5)).unwrap();
        assert_eq!(
            keys.verify(&token, now()).unwrap_err(),
            AuthFailure::TokenExpired
        );
        // Expiry is read against the clock it is given.
        assert!(keys.verify(&token, now() - 10).is_ok());
        assert_eq!(
            keys.verify("not.a.token", now()).unwrap_err(),
            AuthFailure::InvalidToken
        );
    }

    #[test]
    fn a_retired_key_verifies_until_it_is_dropped() {
        let old = keys(A, None);
        let token = old.sign(&claims(60)).unwrap();
        assert!(keys(B, Some(A)).verify(&token, now()).is_ok());
        assert_eq!(
            keys(B, None).verify(&token, now()).unwrap_err(),
            AuthFailure::InvalidToken
        );
    }
}
