//! Red flags (SPEC §6): the rule table as data, and what the rules read of
//! a patient's diary and profile. Single-log rules are in `single_log`,
//! rules over time in `over_time`, and the history they need in `history`.
//!
//! Thresholds come from configuration ([`Thresholds`]); the rules' wording,
//! sources and versions live here so every alert can name `rule@version`.

mod history;
mod over_time;
mod single_log;

use std::sync::LazyLock;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::calendar::{parse_date, zone};
use crate::sync::schema::table;
use crate::sync::{Cell, ColumnSpec};

pub use history::{History, Needed, NightRange, UNRELENTING, Unrelenting};
pub use over_time::{
    NIGHT_PAIN_STREAK, NOT_IMPROVING, TimeFinding, WORSENING_TREND, diary_since, evaluate_over_time,
};
pub use single_log::{
    CANCER_HISTORY, CAUDA_EQUINA, FRAGILITY_FRACTURE, Finding, INFECTION, MAJOR_TRAUMA,
    MOTOR_DEFICIT, NIGHT_SWEATS, RADICULAR_SYMPTOMS, Snapshot, UNRELENTING_NIGHT_PAIN, WEIGHT_LOSS,
    evaluate,
};

const DAY_MS: i64 = 86_400_000;

/// How urgent a finding is, lowest first: its `Ord` is the one order of
/// urgency (the clinic inbox sorts by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Review within days; inbox only.
    Routine,
    /// Same day.
    Urgent,
    /// Now: emergency department or emergency number.
    Emergency,
}

impl Severity {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Routine => "routine",
            Severity::Urgent => "urgent",
            Severity::Emergency => "emergency",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Severity> {
        [Severity::Routine, Severity::Urgent, Severity::Emergency]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// One rule of the table. Two rules are the same when their code and
/// version are.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable code, e.g. `cauda_equina`.
    pub code: &'static str,
    /// Bumped whenever the rule's logic changes.
    pub version: u32,
    /// Severity when it first matches.
    pub severity: Severity,
    /// The catalog messages of its advice to the patient: `{message}-title`
    /// (the headline) and `{message}-body` (what to do), rendered in the
    /// patient's language naming their care routes ([`crate::locale`]).
    pub message: &'static str,
    /// What the clinician should do.
    pub clinician_action: &'static str,
    /// Diary and profile fields the rule reads: the pain-log columns among
    /// them are the ones read for red flags ([`pain_log_columns`]).
    pub fields: &'static [&'static str],
    /// What of the patient's earlier diary the rule reads: whoever loads
    /// the diary asks the rules, so a new rule gets its history by saying so.
    pub looks_back: Lookback,
    /// Where it comes from.
    pub sources: &'static str,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        (self.code, self.version) == (other.code, other.version)
    }
}

impl Eq for Rule {}

/// What of a patient's earlier diary a rule reads besides the log it
/// evaluates and the profile.
#[derive(Debug, Clone, Copy)]
pub enum Lookback {
    /// Nothing earlier.
    Nothing,
    /// The patient's logs of the `days` days before a log for which `when`
    /// holds (a single-log rule).
    Logs {
        /// How many days back, from the thresholds.
        days: fn(&Thresholds) -> i64,
        /// Whether the rule looks back for this log and profile.
        when: fn(&PainFacts, &ProfileFacts) -> bool,
    },
    /// Only which of the `nights` nights up to a log's own had night pain not
    /// eased by rest, for a log that has it (a single-log rule).
    UnrelentingNights {
        /// Nights, counting the log's own.
        nights: i64,
    },
    /// The patient's logs of the `days` days before now (a rule over time).
    Diary {
        /// How many days back, from the thresholds.
        days: fn(&Thresholds) -> i64,
    },
}

/// The `profiles` column holding the patient's time zone, in which the
/// rules read dates and nights.
const ZONE_COLUMN: &str = "timezone";

/// The columns of `table` that a rule's fields name, or that are in
/// `also`, in the table's order.
fn columns_read(table_name: &str, also: &[&str]) -> Vec<&'static ColumnSpec> {
    let read = |column: &&ColumnSpec| {
        also.contains(&column.name)
            || RULES
                .iter()
                .chain(TIME_RULES)
                .any(|rule| rule.fields.contains(&column.name))
    };
    table(table_name)
        .map(|spec| spec.columns.iter().filter(read).collect())
        .unwrap_or_default()
}

/// The columns of `pain_logs` the rules read (besides `id`), in the
/// table's order: what to select to build [`PainFacts`].
pub fn pain_log_columns() -> &'static [&'static ColumnSpec] {
    // Worked out once from the table: it is read for every stored log.
    static COLUMNS: LazyLock<Vec<&'static ColumnSpec>> =
        LazyLock::new(|| columns_read("pain_logs", &[]));
    &COLUMNS
}

/// The columns of `profiles` the rules read, with the patient's zone, in
/// the table's order: what to select for [`ProfileFacts::from_cells`].
pub fn profile_columns() -> &'static [&'static ColumnSpec] {
    static COLUMNS: LazyLock<Vec<&'static ColumnSpec>> =
        LazyLock::new(|| columns_read("profiles", &[ZONE_COLUMN]));
    &COLUMNS
}

/// Every rule evaluated on a single pain log, in the order findings are
/// reported. Time-based rules (streaks, trends) run in the worker.
pub const RULES: &[Rule] = &[
    CAUDA_EQUINA,
    MAJOR_TRAUMA,
    MOTOR_DEFICIT,
    INFECTION,
    NIGHT_SWEATS,
    WEIGHT_LOSS,
    CANCER_HISTORY,
    FRAGILITY_FRACTURE,
    RADICULAR_SYMPTOMS,
    UNRELENTING_NIGHT_PAIN,
];

/// The rule with `code`, single-log or time-based.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().chain(TIME_RULES).find(|r| r.code == code)
}

/// Rules the worker evaluates over a patient's recent diary on a schedule.
pub const TIME_RULES: &[Rule] = &[NIGHT_PAIN_STREAK, NOT_IMPROVING, WORSENING_TREND];

/// Configurable thresholds (defaults from the design notes).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    /// A temperature at or above this is a fever (°C).
    pub fever_celsius: f64,
    /// Age from which the fragility-fracture rule applies.
    pub fragility_age: i16,
    /// Age above which unrelenting night pain is urgent.
    pub night_pain_urgent_age: i16,
    /// Nights (of the last 7) with unrelenting night pain that raise the flag.
    pub unrelenting_nights: usize,
    /// Days without a pain log before a log opens a new episode.
    pub new_episode_days: i64,
    /// Days within which leg weakness counts as new.
    pub new_weakness_days: i64,
    /// Days after which one-leg symptoms are urgent.
    pub radicular_urgent_days: i64,
    /// Night pain at or above this counts towards a streak.
    pub night_pain_streak_intensity: i64,
    /// Consecutive nights that make a streak.
    pub night_pain_streak_nights: usize,
    /// Minutes an emergency alert may stay unacknowledged before escalating.
    pub escalate_emergency_minutes: i64,
    /// Minutes an urgent alert may stay unacknowledged before escalating.
    pub escalate_urgent_minutes: i64,
}

impl Thresholds {
    /// How long an unacknowledged alert of `severity` waits before it is
    /// escalated (again); routine alerts never escalate.
    pub fn escalation_delay_ms(&self, severity: Severity) -> Option<i64> {
        match severity {
            Severity::Routine => None,
            Severity::Urgent => Some(self.escalate_urgent_minutes * 60_000),
            Severity::Emergency => Some(self.escalate_emergency_minutes * 60_000),
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            fever_celsius: 38.0,
            fragility_age: 70,
            night_pain_urgent_age: 50,
            unrelenting_nights: 3,
            new_episode_days: 30,
            new_weakness_days: 14,
            radicular_urgent_days: 7,
            night_pain_streak_intensity: 7,
            night_pain_streak_nights: 3,
            escalate_emergency_minutes: 15,
            escalate_urgent_minutes: 24 * 60,
        }
    }
}

/// What the rules read of one pain log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PainFacts {
    /// Record id.
    pub id: String,
    /// When, ms since the epoch.
    pub recorded_at: i64,
    /// 0-10.
    pub intensity: i64,
    /// `night`, `morning`, ...
    pub period: Option<String>,
    /// Eased by rest or position.
    pub eased_by_rest: bool,
    /// `none`, `one`, `both`.
    pub legs_affected: Option<String>,
    /// Numbness in a leg.
    pub leg_numbness: bool,
    /// Tingling in a leg.
    pub leg_tingling: bool,
    /// Weakness in a leg.
    pub leg_weakness: bool,
    /// Loss of bladder control.
    pub bladder_control_loss: bool,
    /// Loss of bowel control.
    pub bowel_control_loss: bool,
    /// Saddle numbness.
    pub saddle_numbness: bool,
    /// Fever.
    pub fever: bool,
    /// Measured temperature.
    pub temperature_c: Option<f64>,
    /// Chills.
    pub chills: bool,
    /// Night sweats.
    pub night_sweats: bool,
    /// Unexplained weight loss.
    pub unexplained_weight_loss: bool,
    /// `none`, `minor`, `major`.
    pub trauma: Option<String>,
}

impl PainFacts {
    /// A pain log from its values by column name (an absent value reads as
    /// `None` or `false`); `None` without the instant and intensity that
    /// every stored log has.
    pub fn from_cells<'c>(id: &str, cell: impl Fn(&str) -> Option<&'c Cell>) -> Option<PainFacts> {
        let int = |name: &str| match cell(name) {
            Some(Cell::Int(i)) => Some(*i),
            _ => None,
        };
        let text = |name: &str| match cell(name) {
            Some(Cell::Text(s)) => Some(s.clone()),
            _ => None,
        };
        let flag = |name: &str| matches!(cell(name), Some(Cell::Bool(true)));
        Some(PainFacts {
            id: id.to_owned(),
            recorded_at: int("recorded_at")?,
            intensity: int("intensity")?,
            period: text("period"),
            eased_by_rest: flag("eased_by_rest"),
            legs_affected: text("legs_affected"),
            leg_numbness: flag("leg_numbness"),
            leg_tingling: flag("leg_tingling"),
            leg_weakness: flag("leg_weakness"),
            bladder_control_loss: flag("bladder_control_loss"),
            bowel_control_loss: flag("bowel_control_loss"),
            saddle_numbness: flag("saddle_numbness"),
            fever: flag("fever"),
            temperature_c: match cell("temperature_c") {
                Some(Cell::Float(f)) => Some(*f),
                _ => None,
            },
            chills: flag("chills"),
            night_sweats: flag("night_sweats"),
            unexplained_weight_loss: flag("unexplained_weight_loss"),
            trauma: text("trauma"),
        })
    }
}

/// What the rules read of the patient's profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileFacts {
    /// Date of birth.
    pub birth_date: Option<Date>,
    /// Osteoporosis.
    pub osteoporosis: bool,
    /// Long-term corticosteroids.
    pub long_term_steroids: bool,
    /// A history of cancer.
    pub cancer_history: bool,
}

impl ProfileFacts {
    /// A profile from its values by column name, and the zone the rules
    /// read it in: an absent value reads as `None` or `false`, an absent or
    /// unknown zone as UTC.
    pub fn from_cells<'c>(cell: impl Fn(&str) -> Option<&'c Cell>) -> (ProfileFacts, TimeZone) {
        let text = |name: &str| match cell(name) {
            Some(Cell::Text(s)) => Some(s.as_str()),
            _ => None,
        };
        let flag = |name: &str| matches!(cell(name), Some(Cell::Bool(true)));
        let facts = ProfileFacts {
            birth_date: text("birth_date").and_then(parse_date),
            osteoporosis: flag("osteoporosis"),
            long_term_steroids: flag("long_term_steroids"),
            cancer_history: flag("cancer_history"),
        };
        (facts, zone(text(ZONE_COLUMN)))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[test]
    fn the_columns_selected_are_every_one_a_pain_log_is_built_from() {
        let asked = RefCell::new(Vec::new());
        let one = Cell::Int(1);
        let facts = PainFacts::from_cells("a", |name| {
            asked.borrow_mut().push(name.to_owned());
            Some(&one)
        });
        assert!(facts.is_some());
        let columns: Vec<&str> = pain_log_columns().iter().map(|c| c.name).collect();
        for name in asked.into_inner() {
            assert!(columns.contains(&name.as_str()), "{name} is not selected");
        }
    }

    #[test]
    fn the_columns_selected_are_every_one_a_profile_is_built_from() {
        let asked = RefCell::new(Vec::new());
        let _ = ProfileFacts::from_cells(|name| {
            asked.borrow_mut().push(name.to_owned());
            None
        });
        let columns: Vec<&str> = profile_columns().iter().map(|c| c.name).collect();
        for name in asked.into_inner() {
            assert!(columns.contains(&name.as_str()), "{name} is not selected");
        }
    }

    #[test]
    fn a_profile_reads_its_facts_and_zone_from_its_cells() {
        let cells = [
            ("timezone", Cell::Text("Europe/Berlin".into())),
            ("birth_date", Cell::Text("1950-02-03".into())),
            ("osteoporosis", Cell::Bool(true)),
            ("cancer_history", Cell::Bool(false)),
        ];
        let (facts, tz) =
            ProfileFacts::from_cells(|name| cells.iter().find(|(n, _)| *n == name).map(|(_, c)| c));
        assert_eq!(tz.iana_name(), Some("Europe/Berlin"));
        assert_eq!(facts.birth_date, parse_date("1950-02-03"));
        assert!(facts.osteoporosis && !facts.long_term_steroids && !facts.cancer_history);
        let (none, utc) = ProfileFacts::from_cells(|_| None);
        assert_eq!((none, utc), (ProfileFacts::default(), TimeZone::UTC));
    }

    #[test]
    fn every_field_a_rule_reads_is_a_pain_log_or_profile_column() {
        let columns = |name: &str| {
            table(name)
                .map(|spec| spec.columns.iter().map(|c| c.name).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let (pain, profile) = (columns("pain_logs"), columns("profiles"));
        for rule in RULES.iter().chain(TIME_RULES) {
            for field in rule.fields {
                assert!(
                    pain.contains(field) || profile.contains(field),
                    "{}: {field}",
                    rule.code
                );
            }
        }
    }
}
