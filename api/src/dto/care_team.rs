//! Invites, care teams, patients and the audit log on the wire.

use dorsal_service::audit::AuditEntry;
use dorsal_service::care_team::{Membership, NewInvite, PatientSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::rfc3339;

/// A new invite code.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteOut {
    /// `XXXX-XXXX-XXXX`; case, dashes and O/0, I/1 confusions are forgiven.
    pub code: String,
    /// RFC 3339 instant after which the code no longer works.
    pub expires_at: String,
}

impl From<NewInvite> for InviteOut {
    fn from(invite: NewInvite) -> Self {
        InviteOut {
            code: invite.code,
            expires_at: rfc3339(invite.expires_at),
        }
    }
}

/// `POST /v1/care-team/join`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct JoinIn {
    /// The invite code.
    pub code: String,
}

/// The care team joined.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipOut {
    /// The clinic.
    pub org_id: Uuid,
    /// Its name.
    pub org_name: String,
    /// RFC 3339 instant the patient first joined it.
    pub joined_at: String,
}

impl From<Membership> for MembershipOut {
    fn from(m: Membership) -> Self {
        MembershipOut {
            org_id: m.org_id,
            org_name: m.org_name,
            joined_at: rfc3339(m.joined_at),
        }
    }
}

/// `GET /v1/care-team`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipsOut {
    /// The clinics, in the order joined.
    pub items: Vec<MembershipOut>,
}

/// A patient as their care team sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatientOut {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// RFC 3339 instant the patient joined this org's care team.
    pub joined_at: String,
}

impl From<PatientSummary> for PatientOut {
    fn from(p: PatientSummary) -> Self {
        PatientOut {
            id: p.id,
            email: p.email,
            display_name: p.display_name,
            joined_at: rfc3339(p.joined_at),
        }
    }
}

/// Paging of a list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1–500 (default 100).
    pub limit: Option<u64>,
    /// The `next` of the previous page.
    pub cursor: Option<Uuid>,
}

/// `GET /v1/patients`: a search and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatientsQuery {
    /// Only patients whose display name or email contains this,
    /// case-insensitively; `%`, `_` and `\` are matched literally. At most
    /// 200 characters; blank means every patient.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Items per page, 1–500 (default 100).
    pub limit: Option<u64>,
    /// The `next` of the previous page (of the same search).
    pub cursor: Option<Uuid>,
}

/// `GET /v1/audit` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries about this patient.
    pub patient_id: Option<Uuid>,
    /// Only entries by this member of staff, or about them (`staff.*`).
    pub staff_id: Option<Uuid>,
    /// Items per page, 1–500 (default 100).
    pub limit: Option<u64>,
    /// The `next` of the previous page.
    pub cursor: Option<Uuid>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    /// Entry id.
    pub id: Uuid,
    /// Who acted.
    pub actor_id: Uuid,
    /// Their role at the time.
    pub actor_role: String,
    /// Whose data.
    pub patient_id: Option<Uuid>,
    /// The member of staff an admin's action was about (`staff.*`).
    pub subject_id: Option<Uuid>,
    /// What was done, e.g. `patients.read`.
    pub action: String,
    /// RFC 3339 instant.
    pub at: String,
}

impl From<AuditEntry> for AuditOut {
    fn from(e: AuditEntry) -> Self {
        AuditOut {
            id: e.id,
            actor_id: e.actor_id,
            actor_role: e.actor_role,
            patient_id: e.patient_id,
            subject_id: e.subject_id,
            action: e.action,
            at: rfc3339(e.at),
        }
    }
}
