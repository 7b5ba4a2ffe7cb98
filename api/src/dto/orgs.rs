//! An org's settings on the wire.

use dorsal_service::orgs::OrgSettings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `GET /v1/org` and `PATCH /v1/org`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgOut {
    /// Org id.
    pub id: Uuid,
    /// The clinic's name.
    pub name: String,
    /// Whether staff must sign in with TOTP; staff without it get tokens
    /// that reach only `/v1/me*`.
    pub require_totp: bool,
}

impl From<OrgSettings> for OrgOut {
    fn from(org: OrgSettings) -> Self {
        OrgOut {
            id: org.id,
            name: org.name,
            require_totp: org.require_totp,
        }
    }
}

/// `PATCH /v1/org`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrgPatchIn {
    /// Require staff to sign in with TOTP.
    pub require_totp: bool,
}
