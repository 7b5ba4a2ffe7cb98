//! The errors of the application layer. Database errors are classified here,
//! once, so callers see what happened rather than a driver message.

use std::panic::Location;

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
    /// Anything else: a bug or a broken dependency. Logged once, by the
    /// API's response middleware or the worker's job, never shown.
    #[error(transparent)]
    Internal(Box<InternalError>),
}

/// A failure that is nobody's input: what was being done, the error that
/// caused it (kept as the error, not its words) and where in our code it
/// was raised.
#[derive(Debug)]
pub struct InternalError {
    doing: &'static str,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    location: &'static Location<'static>,
}

impl InternalError {
    /// What was being done when it failed.
    pub fn doing(&self) -> &str {
        self.doing
    }

    /// Where in dorsal's code the failure was raised.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

impl std::fmt::Display for InternalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at {})", self.doing, self.location)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InternalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl ServiceError {
    /// An internal failure with no error behind it (a broken invariant),
    /// located at the caller.
    #[track_caller]
    pub fn internal(doing: &'static str) -> Self {
        Self::internal_at(doing, None, Location::caller())
    }

    /// An internal failure caused by `source`, located at the caller.
    #[track_caller]
    pub fn internal_from(
        doing: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::internal_at(doing, Some(Box::new(source)), Location::caller())
    }

    fn internal_at(
        doing: &'static str,
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
        location: &'static Location<'static>,
    ) -> Self {
        ServiceError::Internal(Box::new(InternalError {
            doing,
            source,
            location,
        }))
    }
}

/// `.or_internal("doing what")` on any result whose error is a bug or a broken
/// dependency rather than the caller's input: keeps the error as the cause
/// and the caller's line as the place.
pub trait OrInternal<T> {
    /// The error as a [`ServiceError::Internal`] raised here.
    #[track_caller]
    fn or_internal(self, doing: &'static str) -> ServiceResult<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> OrInternal<T> for Result<T, E> {
    #[track_caller]
    fn or_internal(self, doing: &'static str) -> ServiceResult<T> {
        let location = Location::caller();
        self.map_err(|err| ServiceError::internal_at(doing, Some(Box::new(err)), location))
    }
}

impl<T> OrInternal<T> for Option<T> {
    #[track_caller]
    fn or_internal(self, doing: &'static str) -> ServiceResult<T> {
        let location = Location::caller();
        self.ok_or_else(|| ServiceError::internal_at(doing, None, location))
    }
}

impl From<DbErr> for ServiceError {
    #[track_caller]
    fn from(err: DbErr) -> Self {
        match crate::db::outage(&err) {
            Some(outage) => ServiceError::Unavailable(outage, err),
            None => ServiceError::internal_from("database", err),
        }
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    #[track_caller]
    fn from(err: tokio::task::JoinError) -> Self {
        ServiceError::internal_from("blocking task", err)
    }
}

/// Shorthand for results of this crate.
pub type ServiceResult<T> = Result<T, ServiceError>;
