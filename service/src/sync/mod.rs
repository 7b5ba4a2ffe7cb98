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
