//! Red flags (SPEC §6): the rule table as data, and what the rules read of
//! a patient's diary and profile. Single-log rules are in `single_log`,
//! rules over time in `over_time`, and the history they need in `history`.
//!
//! Thresholds come from configuration ([`Thresholds`]); the rules' wording,
//! sources and versions live here so every alert can name `rule@version`.

mod history;
mod over_time;
mod single_log;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub use history::History;
pub use over_time::{TimeFinding, evaluate_over_time};
pub use single_log::{Finding, Snapshot, evaluate};

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

/// One rule of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable code, e.g. `cauda_equina`.
    pub code: &'static str,
    /// Bumped whenever the rule's logic or wording changes.
    pub version: u32,
    /// Severity when it first matches.
    pub severity: Severity,
    /// Headline for the patient.
    pub title: &'static str,
    /// What the patient should do.
    pub advice: &'static str,
    /// What the clinician should do.
    pub clinician_action: &'static str,
    /// Diary fields the rule reads.
    pub fields: &'static [&'static str],
    /// Where it comes from.
    pub sources: &'static str,
}

/// Every rule evaluated on a single pain log, in the order findings are
/// reported. Time-based rules (streaks, trends) run in the worker.
pub const RULES: &[Rule] = &[
    Rule {
        code: "cauda_equina",
        version: 1,
        severity: Severity::Emergency,
        title: "Go to the emergency department now",
        advice: "Loss of bladder or bowel control, numbness between your legs, or symptoms in both legs \
                 can mean pressure on the nerves at the base of your spine. Go to the emergency department \
                 or call the emergency number now. Don't wait for a reply here.",
        clinician_action: "Suspected cauda equina syndrome: contact the patient now, confirm they are going to \
                           the emergency department, follow the emergency MRI pathway.",
        fields: &[
            "bladder_control_loss",
            "bowel_control_loss",
            "saddle_numbness",
            "legs_affected",
            "leg_numbness",
            "leg_tingling",
            "leg_weakness",
        ],
        sources: "SBNS/BASS 2018; GIRFT 2023; NICE CKS; NHS",
    },
    Rule {
        code: "major_trauma",
        version: 1,
        severity: Severity::Emergency,
        title: "Get emergency care now",
        advice: "Back pain after a serious accident or fall needs emergency assessment. Go to the emergency \
                 department or call the emergency number now.",
        clinician_action: "Back pain after major trauma: confirm emergency assessment; follow up.",
        fields: &["trauma"],
        sources: "NHS; NICE CKS",
    },
    Rule {
        code: "motor_deficit",
        version: 1,
        severity: Severity::Urgent,
        title: "Get a medical assessment today",
        advice: "New or worsening leg weakness needs an urgent assessment today (GP, urgent care or 111). If \
                 it affects both legs or you notice bladder or bowel changes, go to the emergency department.",
        clinician_action: "New or progressive motor deficit: same-day call; consider urgent spinal referral.",
        fields: &["leg_weakness", "intensity"],
        sources: "ACP 2011; NICE CKS",
    },
    Rule {
        code: "infection",
        version: 1,
        severity: Severity::Urgent,
        title: "Have your fever checked today",
        advice: "A fever or chills with back pain needs checking today. Contact your GP or 111 today. If you \
                 feel very unwell, confused or breathless, call the emergency number.",
        clinician_action: "Possible spinal infection: same-day review; bloods per local pathway.",
        fields: &["fever", "chills", "temperature_c"],
        sources: "NICE CKS; ACP 2011; NHS",
    },
    Rule {
        code: "night_sweats",
        version: 1,
        severity: Severity::Urgent,
        title: "Have your night sweats checked",
        advice: "Night sweats with back pain should be checked. Please contact your GP within a day.",
        clinician_action: "Night sweats with back pain: review for infection or malignancy features.",
        fields: &["night_sweats"],
        sources: "NICE CKS (fevers, rigors); general malignancy literature",
    },
    Rule {
        code: "weight_loss",
        version: 1,
        severity: Severity::Urgent,
        title: "Book an urgent GP appointment",
        advice: "Losing weight without trying, together with back pain, should be checked. Please book an \
                 urgent GP appointment.",
        clinician_action: "Unexplained weight loss with back pain: review within 1-2 days.",
        fields: &["unexplained_weight_loss"],
        sources: "NICE CKS; ACP 2011; NHS",
    },
    Rule {
        code: "cancer_history",
        version: 1,
        severity: Severity::Urgent,
        title: "Contact your cancer team today",
        advice: "Because of your cancer history, new back pain should be checked promptly. Contact your \
                 cancer team or GP today.",
        clinician_action: "New back pain with a cancer history: contact within 24 h; follow the MSCC pathway.",
        fields: &["cancer_history", "recorded_at"],
        sources: "Downie 2013; ACP 2011; NICE NG234",
    },
    Rule {
        code: "fragility_fracture",
        version: 1,
        severity: Severity::Urgent,
        title: "Have your back checked today",
        advice: "Sudden back pain with osteoporosis, long-term steroid use or older age should be checked \
                 today, in case of a spinal fracture.",
        clinician_action: "Possible fragility fracture: same- or next-day review; imaging per pathway.",
        fields: &[
            "trauma",
            "osteoporosis",
            "long_term_steroids",
            "birth_date",
            "recorded_at",
        ],
        sources: "Henschke 2009; Downie 2013; ACP 2011",
    },
    Rule {
        code: "radicular_symptoms",
        version: 1,
        severity: Severity::Routine,
        title: "Tell us if the tingling spreads",
        advice: "Tingling or numbness down one leg is common with back-related nerve irritation. Tell us if it \
                 spreads, affects both legs, or you get weakness or bladder or bowel changes.",
        clinician_action: "Radicular sensory symptoms: PT review; neuro screen at next contact (urgent if \
                           persisting over 7 days).",
        fields: &["legs_affected", "leg_numbness", "leg_tingling"],
        sources: "NHS; makeitvisible.info",
    },
    Rule {
        code: "unrelenting_night_pain",
        version: 1,
        severity: Severity::Routine,
        title: "Your night pain will be reviewed",
        advice: "Pain at night that doesn't ease when you rest or change position should be reviewed. We've \
                 asked your care team to contact you.",
        clinician_action: "Night pain unrelieved by rest on 3 of 7 nights: review for systemic features.",
        fields: &["period", "eased_by_rest", "recorded_at", "birth_date"],
        sources: "NICE CKS; NHS",
    },
];

/// The rule with `code`, single-log or time-based.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().chain(TIME_RULES).find(|r| r.code == code)
}

/// Rules the worker evaluates over a patient's recent diary on a schedule.
pub const TIME_RULES: &[Rule] = &[
    Rule {
        code: "night_pain_streak",
        version: 1,
        severity: Severity::Routine,
        title: "Your night pain will be reviewed",
        advice: "Your pain has been keeping you up. Your physiotherapist will review your plan.",
        clinician_action: "Night pain of 7 or more on 3 nights running: PT review; check sleep position \
                           and the evening routine.",
        fields: &["period", "intensity", "recorded_at"],
        sources: "Medbridge Pathways (pain >= 7 critical); design notes TC-1",
    },
    Rule {
        code: "not_improving",
        version: 1,
        severity: Severity::Routine,
        title: "A physiotherapist review is recommended",
        advice: "Your pain hasn't improved as much as we'd expect after two weeks; a physiotherapist \
                 review is recommended.",
        clinician_action: "Not improving after 14 days of self-care: PT review; consider re-scoring \
                           STarT Back.",
        fields: &["intensity", "recorded_at"],
        sources: "Ostelo 2008 (MIC 2 points / 30%); design notes TC-2",
    },
    Rule {
        code: "worsening_trend",
        version: 1,
        severity: Severity::Routine,
        title: "Your pain has increased",
        advice: "Your pain has increased. Please check the warning signs; your physiotherapist will \
                 review.",
        clinician_action: "7-day mean pain up by 2 or more: review and re-ask the red-flag checklist.",
        fields: &["intensity", "recorded_at"],
        sources: "Medbridge Pathways (+2 = high); design notes TC-3",
    },
];

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
