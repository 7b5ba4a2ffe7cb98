//! The roles a user can hold and what each may do.

use serde::{Deserialize, Serialize};

/// A user's role. Patients own diaries; the other three are an org's staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Keeps a diary; belongs to no org, joins care teams by invite.
    Patient,
    /// Physical therapist: writes exercise plans for the org's patients
    /// and acts on alerts.
    Therapist,
    /// Reads the org's patients and acts on alerts.
    Clinician,
    /// Manages the org: staff, webhooks, the audit log; acts on alerts.
    Admin,
}

impl Role {
    /// Every role, in a stable order (used by tests and documentation).
    pub const ALL: [Role; 4] = [Role::Patient, Role::Therapist, Role::Clinician, Role::Admin];

    /// The name stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Therapist => "therapist",
            Role::Clinician => "clinician",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Whether the role belongs to an org's staff.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Patient)
    }
}

/// What a caller wants to do; a role either may or may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Add therapists, clinicians and admins to the org.
    ManageStaff,
    /// Create care-team invite codes.
    InvitePatients,
    /// Join a care team with an invite code.
    JoinCareTeam,
    /// List and read the org's patients.
    ReadPatients,
    /// Write exercise plans.
    WritePlans,
    /// Acknowledge and resolve alerts.
    ActOnAlerts,
    /// Read the org's audit log and manage webhooks.
    Administer,
    /// Sync one's own diary from a device.
    SyncDiary,
}

impl Role {
    /// The single table of who may do what; every handler asks it.
    pub fn can(self, capability: Capability) -> bool {
        use Capability::*;
        match capability {
            ManageStaff | Administer => matches!(self, Role::Admin),
            InvitePatients | ReadPatients => self.is_staff(),
            JoinCareTeam | SyncDiary => matches!(self, Role::Patient),
            WritePlans => matches!(self, Role::Therapist),
            // In a physiotherapy-led clinic the therapists are the
            // clinicians: every member of staff may act on alerts.
            ActOnAlerts => self.is_staff(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn capability_table() {
        use Capability::*;
        let table = [
            (ManageStaff, [false, false, false, true]),
            (InvitePatients, [false, true, true, true]),
            (JoinCareTeam, [true, false, false, false]),
            (ReadPatients, [false, true, true, true]),
            (WritePlans, [false, true, false, false]),
            (ActOnAlerts, [false, true, true, true]),
            (Administer, [false, false, false, true]),
            (SyncDiary, [true, false, false, false]),
        ];
        for (capability, expected) in table {
            for (role, allowed) in Role::ALL.into_iter().zip(expected) {
                assert_eq!(role.can(capability), allowed, "{role:?} {capability:?}");
            }
        }
    }
}
