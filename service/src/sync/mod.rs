//! Offline-first sync of a patient's diary (SPEC §4): the change-number
//! write path every writer to patient data uses, pulls by change number and
//! per-record pushes.

pub mod hooks;
pub mod nudge;
pub mod pull;
pub mod push;
pub mod receipts;
pub(crate) mod rows;
pub mod write;

pub use hooks::{CommitHook, CommitHooks};
pub use nudge::Nudges;
pub use write::PatientWrite;

use dorsal_domain::role::Capability;
use sea_orm::ConnectionTrait;

use crate::access::{Actor, PatientAccess, patient_access};
use crate::error::ServiceResult;

/// Grants a patient's device access to their own diary, as every sync
/// call (pull, push, events) asks for it.
pub async fn own_diary(
    db: &impl ConnectionTrait,
    actor: Actor,
    now_ms: i64,
) -> ServiceResult<PatientAccess> {
    patient_access(
        db,
        actor,
        actor.user_id,
        Capability::SyncDiary,
        "sync",
        now_ms,
    )
    .await
}
