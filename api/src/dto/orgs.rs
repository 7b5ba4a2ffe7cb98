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
    /// The clinic's phone line that its patients' urgent and routine advice
    /// adds; null when none is set.
    pub contact: Option<ContactOut>,
}

impl From<OrgSettings> for OrgOut {
    fn from(org: OrgSettings) -> Self {
        OrgOut {
            id: org.id,
            name: org.name,
            require_totp: org.require_totp,
            contact: org.contact.map(|line| ContactOut {
                phone: line.phone,
                hours: line.hours,
            }),
        }
    }
}

/// The clinic's contact line, as set.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    /// E.164, e.g. `+4930123456`.
    pub phone: String,
    /// When the line is answered, in the clinic's words.
    pub hours: String,
}

/// `PUT /v1/org/contact`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactIn {
    /// An international (E.164) number: `+`, the country code and the
    /// number, digits only.
    #[schema(pattern = r"^\+[1-9][0-9]{6,14}$", example = "+4930123456")]
    pub phone: String,
    /// When the line is answered, in the clinic's words, as patients will
    /// read it, untranslated: one line with something besides spaces, no
    /// invisible formatting marks, at most 100 characters once trimmed.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]*[^\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb][^\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]*$",
        example = "Mon-Fri 8:00-18:00"
    )]
    pub hours: String,
}

/// `PATCH /v1/org`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrgPatchIn {
    /// Require staff to sign in with TOTP.
    pub require_totp: bool,
}
