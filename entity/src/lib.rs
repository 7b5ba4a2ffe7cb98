//! sea-orm entities: the shape of each table and nothing more. Instants are
//! `i64` milliseconds since the Unix epoch (UTC).

pub mod alert;
pub mod alert_evidence;
pub mod audit_log;
pub mod care_team;
pub mod care_team_member;
pub mod delivery;
pub mod device;
pub mod exercise;
pub mod exercise_image;
pub mod invite;
pub mod mail_outbox;
pub mod org;
pub mod password_reset;
pub mod plan;
pub mod plan_version;
pub mod push_delivery;
pub mod push_gateway;
pub mod rate_limit;
pub mod refresh_token;
pub mod reminder_schedule;
pub mod totp_recovery_code;
pub mod user;
pub mod webhook;
