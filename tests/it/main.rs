//! Black-box tests: the real router over HTTP, a fresh database each.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test loudly")]

mod access;
mod accounts;
mod auth;
mod care_team;
mod clinic;
mod clinic_account;
mod clinic_admin;
mod clinic_inbox;
mod clinic_programs;
mod device_push;
mod drills;
#[cfg(target_os = "linux")]
mod driver;
mod errors;
mod exercise_images;
mod fhir;
mod languages;
mod logs;
mod mail;
mod operations;
mod privacy;
mod programs;
mod prompts;
mod recovery;
mod red_flags;
mod reminders;
mod secrets;
mod security;
mod startup;
mod sync;
mod sync_convergence;
mod totp;
mod webhooks;
