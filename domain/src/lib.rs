//! Pure rules of dorsal, shared by the API and the worker: who may do what,
//! what valid input looks like. Nothing in this crate performs I/O.

pub mod account;
pub mod calendar;
pub mod care_routes;
pub mod fhir;
pub mod invite;
pub mod locale;
pub mod mail;
pub mod messages;
pub mod programs;
pub mod prompts;
pub mod red_flags;
pub mod reminders;
pub mod role;
pub mod sync;
pub mod validation;
pub mod webhooks;

pub use role::Role;
pub use validation::{Violation, Violations};
