//! The authenticated caller and what its role lets it do: the identity
//! every service call is made as.

use dorsal_domain::Role;
use dorsal_domain::role::Capability;
use uuid::Uuid;

use crate::error::{ServiceError, ServiceResult};

/// The authenticated caller, as proven by an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The caller's user id.
    pub user_id: Uuid,
    /// The caller's role.
    pub role: Role,
    /// The caller's org (staff only).
    pub org_id: Option<Uuid>,
    /// The caller's org requires two-factor sign-in and the caller has not
    /// turned it on: until they do, the API lets them reach only their own
    /// account (`/v1/me*`), where they can enrol.
    pub totp_enrolment_required: bool,
}

impl Actor {
    /// `Forbidden` unless the caller's role has `capability`.
    pub fn require(&self, capability: Capability) -> ServiceResult<()> {
        if self.role.can(capability) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// `Forbidden` unless a patient may do `capability` to their own data
    /// (reading it always; otherwise as the role table says).
    fn require_patient(&self, capability: Capability) -> ServiceResult<()> {
        match capability {
            Capability::ReadPatients => Ok(()),
            other => self.require(other),
        }
    }

    /// `Forbidden` unless the caller's role may do `capability` to some
    /// patient's data at all. Checked before anything is looked up, so a
    /// refusal says nothing about which ids exist.
    pub fn may(&self, capability: Capability) -> ServiceResult<()> {
        if self.role == Role::Patient {
            self.require_patient(capability)
        } else {
            self.require(capability)
        }
    }

    /// The caller's org, after checking the role has `capability`.
    pub fn staff_org(&self, capability: Capability) -> ServiceResult<Uuid> {
        self.require(capability)?;
        self.org_id.ok_or(ServiceError::Forbidden)
    }
}
