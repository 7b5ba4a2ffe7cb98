//! sea-orm entities: the shape of each table and nothing more. Instants are
//! `i64` milliseconds since the Unix epoch (UTC).

/// `Display` and `FromStr` for string-valued active enums, in the words
/// the column stores, so callers without sea-orm read and write them too.
macro_rules! stored_words {
    ($($enum:ty),+) => {$(
        impl std::fmt::Display for $enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&sea_orm::ActiveEnum::to_value(self))
            }
        }

        impl std::str::FromStr for $enum {
            type Err = sea_orm::DbErr;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                sea_orm::ActiveEnum::try_from_value(&s.to_owned())
            }
        }
    )+};
}

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
pub mod outbox;
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

stored_words!(alert::Severity, alert::Status, outbox::Status);
