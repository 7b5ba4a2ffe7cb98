//! One module per resource, each with `router()`.

pub mod alerts;
pub mod audit;
pub mod auth;
pub mod care_team;
pub mod devices;
pub mod digest;
pub mod exercises;
pub mod fhir;
pub mod health;
pub mod invites;
pub mod me;
pub mod orgs;
pub mod patients;
pub mod plans;
pub mod push_gateway;
pub mod staff;
pub mod sync;
pub mod webhooks;
