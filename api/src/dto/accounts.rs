//! Accounts and tokens on the wire.

use dorsal_domain::Role;
use dorsal_service::auth::TokenPair;
use dorsal_service::staff::{StaffChange, StaffMember};
use dorsal_service::totp::Enrolment;
use dorsal_service::users::NewAccount;
use secrecy::{ExposeSecret, SecretString};
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

/// `PATCH /v1/staff/{id}`: each field left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    /// `therapist`, `clinician` or `admin`.
    #[schema(value_type = Option<String>, example = "clinician")]
    pub role: Option<Role>,
    /// Name shown to patients and colleagues.
    pub display_name: Option<String>,
    /// `false` ends every session at once and refuses sign-in; `true`
    /// allows it again.
    pub active: Option<bool>,
}

impl From<StaffPatch> for StaffChange {
    fn from(patch: StaffPatch) -> Self {
        StaffChange {
            role: patch.role,
            display_name: patch.display_name,
            active: patch.active,
        }
    }
}

/// A member of staff as their admin sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffOut {
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
    /// Whether two-factor sign-in (TOTP) is on.
    pub mfa: bool,
}

impl From<StaffMember> for StaffOut {
    fn from(member: StaffMember) -> Self {
        StaffOut {
            id: member.id,
            email: member.email,
            display_name: member.display_name,
            role: member.role,
            active: member.active,
            mfa: member.mfa,
        }
    }
}

/// `POST /v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginIn {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// With two-factor sign-in on: the 6-digit code from the authenticator
    /// app, or an unused recovery code. Ignored for other accounts.
    #[serde(default)]
    pub totp: Option<String>,
}

/// `POST /v1/me/totp`: what an authenticator app needs. Shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolmentOut {
    /// The shared secret, base32, to type into the app.
    pub secret: String,
    /// `otpauth://totp/dorsal:<email>?secret=…&issuer=dorsal`, to show as a
    /// QR code.
    pub otpauth_uri: String,
}

impl From<Enrolment> for TotpEnrolmentOut {
    fn from(enrolment: Enrolment) -> Self {
        TotpEnrolmentOut {
            secret: enrolment.secret.expose_secret().to_owned(),
            otpauth_uri: enrolment.otpauth_uri.expose_secret().to_owned(),
        }
    }
}

/// `POST /v1/me/totp/confirm` and `DELETE /v1/me/totp`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TotpCodeIn {
    /// The 6-digit code the authenticator app shows now (to turn it off, an
    /// unused recovery code also does).
    #[schema(example = "287082")]
    pub code: String,
}

/// `POST /v1/me/totp/confirm`: two-factor sign-in is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesOut {
    /// Ten single-use codes that stand in for the app's code at login (or
    /// to turn two-factor sign-in off) when the app is lost. Shown once;
    /// only their digests are kept.
    pub recovery_codes: Vec<String>,
}

impl RecoveryCodesOut {
    /// The codes as shown to their owner, this once.
    pub fn new(codes: &[SecretString]) -> Self {
        RecoveryCodesOut {
            recovery_codes: codes
                .iter()
                .map(|code| code.expose_secret().to_owned())
                .collect(),
        }
    }
}

/// `POST /v1/auth/password-reset`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetIn {
    /// The account's email address.
    pub email: String,
}

/// `POST /v1/auth/password-reset/confirm`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetConfirmIn {
    /// The account's email address.
    pub email: String,
    /// The eight-digit code from the email (spaces and dashes forgiven).
    #[schema(example = "1234 5678")]
    pub code: String,
    /// At least 10 characters.
    pub new_password: String,
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
