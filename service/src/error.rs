//! The errors of the application layer. Database errors are classified here,
//! once, so callers see what happened rather than a driver message.

use dorsal_domain::Violations;
use sea_orm::DbErr;

/// Why a caller could not be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Wrong email or password (deliberately not saying which).
    InvalidCredentials,
    /// No bearer token on a request that needs one.
    MissingToken,
    /// A token that is malformed, badly signed, or signed by an unknown key.
    InvalidToken,
    /// A well-formed token past its expiry.
    TokenExpired,
    /// A refresh token that is unknown, expired or revoked.
    InvalidRefreshToken,
    /// A refresh token that was already rotated: its family is now revoked.
    RefreshTokenReused,
    /// The token's account no longer exists.
    AccountGone,
    /// The token's account was deactivated by an admin.
    AccountInactive,
    /// The password was right, but the account signs in with TOTP and the
    /// login carried no code.
    TotpRequired,
}

/// A failure the API maps to one HTTP answer each.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The thing does not exist, or the caller may not know it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller's role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The caller's org requires two-factor sign-in and the caller has not
    /// turned it on: until then their tokens reach only their own account.
    #[error("totp enrolment required")]
    TotpEnrolmentRequired,
    /// A TOTP or recovery code that is wrong, spent, or of a step already
    /// used, when changing the account's two-factor sign-in.
    #[error("invalid totp code")]
    InvalidTotp,
    /// Authentication failed.
    #[error("unauthenticated: {0:?}")]
    Unauthenticated(AuthFailure),
    /// The input broke a rule; each violation names its field.
    #[error(transparent)]
    Invalid(#[from] Violations),
    /// The request clashes with the current state (e.g. a taken email).
    #[error("conflict: {code}")]
    Conflict {
        /// Stable snake_case code.
        code: &'static str,
        /// A sentence for a person.
        detail: &'static str,
    },
    /// The thing existed but can no longer be used (e.g. an expired invite).
    #[error("gone: {code}")]
    Gone {
        /// Stable snake_case code.
        code: &'static str,
        /// A sentence for a person.
        detail: &'static str,
    },
    /// The request cannot be understood as a whole (e.g. an unknown table).
    #[error("malformed request: {code}")]
    Malformed {
        /// Stable snake_case code.
        code: &'static str,
        /// A sentence for a person.
        detail: String,
    },
    /// The request carries more than the server takes in one go.
    #[error("too large: {0}")]
    TooLarge(&'static str),
    /// The client's schema is older than the server still serves.
    #[error("client schema too old; minimum {min_schema_version}")]
    UpgradeRequired {
        /// The lowest `schema_version` served.
        min_schema_version: u32,
    },
    /// Too many attempts; retry after this many seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until an attempt is allowed again.
        retry_after_secs: u64,
    },
    /// The database cannot serve right now; the request did nothing and
    /// may be sent again.
    #[error("database unavailable ({0:?}): {1}")]
    Unavailable(crate::db::Outage, #[source] DbErr),
    /// Anything else: a bug or a broken dependency. Logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbErr> for ServiceError {
    fn from(err: DbErr) -> Self {
        match crate::db::outage(&err) {
            Some(outage) => ServiceError::Unavailable(outage, err),
            None => ServiceError::Internal(format!("database: {err}")),
        }
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    fn from(err: tokio::task::JoinError) -> Self {
        ServiceError::Internal(format!("blocking task: {err}"))
    }
}

/// Shorthand for results of this crate.
pub type ServiceResult<T> = Result<T, ServiceError>;
