//! The one mapping between the rules' severity (`domain`, which orders
//! them) and the severity an alert or a webhook endpoint stores.

use dorsal_domain::red_flags::Severity;
use dorsal_entity::alert;

/// A rule's severity as an alert stores it. With [`ranked`], the one
/// mapping between the rules' severity (which orders them) and the column.
pub fn stored(severity: Severity) -> alert::Severity {
    match severity {
        Severity::Routine => alert::Severity::Routine,
        Severity::Urgent => alert::Severity::Urgent,
        Severity::Emergency => alert::Severity::Emergency,
    }
}

/// A stored severity as the rules rank it (see [`stored`]).
pub fn ranked(severity: alert::Severity) -> Severity {
    match severity {
        alert::Severity::Routine => Severity::Routine,
        alert::Severity::Urgent => Severity::Urgent,
        alert::Severity::Emergency => Severity::Emergency,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveEnum, Iterable};

    #[test]
    fn a_stored_severity_is_spelled_as_the_rules_spell_it_and_maps_back() {
        for column in alert::Severity::iter() {
            assert_eq!(column.to_value(), ranked(column).as_str());
            assert_eq!(stored(ranked(column)), column);
        }
    }
}
