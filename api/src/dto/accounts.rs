//! Accounts and tokens on the wire.

use dorsal_domain::Role;
use dorsal_service::auth::TokenPair;
use dorsal_service::users::NewAccount;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /v1/auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterIn {
    /// Email address; stored lowercased.
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    /// Name shown to the care team.
    pub display_name: String,
}

impl From<RegisterIn> for NewAccount {
    fn from(input: RegisterIn) -> Self {
        NewAccount {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
        }
    }
}

/// `POST /v1/staff`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StaffIn {
    /// Email address.
    pub email: String,
    /// Initial password.
    pub password: String,
    /// `therapist`, `clinician` or `admin`.
    #[schema(value_type = String, example = "therapist")]
    pub role: Role,
    /// Name shown to patients and colleagues.
    pub display_name: String,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginIn {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshIn {
    /// The refresh token from the last login or refresh.
    pub refresh_token: String,
}

/// Tokens for a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Single-use token for `POST /v1/auth/refresh`.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
}

impl From<TokenPair> for TokenOut {
    fn from(pair: TokenPair) -> Self {
        TokenOut {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
        }
    }
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// `patient`, `therapist`, `clinician` or `admin`.
    pub role: String,
    /// The staff member's org; null for patients.
    pub org_id: Option<Uuid>,
}

impl From<dorsal_service::users::Account> for UserOut {
    fn from(user: dorsal_service::users::Account) -> Self {
        UserOut {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            org_id: user.org_id,
        }
    }
}
