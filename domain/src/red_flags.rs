//! Red flags (SPEC §6): the rule table as data, and the pure evaluation of
//! one pain log against the patient's recent diary and profile.
//!
//! Thresholds come from configuration ([`Thresholds`]); the rules' wording,
//! sources and versions live here so every alert can name `rule@version`.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::calendar::{local_date, night_of};

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

/// Everything one evaluation sees.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// The log being evaluated.
    pub log: &'a PainFacts,
    /// The patient's pain logs, indexed (it may include `log` itself; logs
    /// after `log` are ignored).
    pub history: &'a History<'a>,
    /// The profile.
    pub profile: &'a ProfileFacts,
    /// The patient's zone.
    pub tz: &'a TimeZone,
    /// Rules with an alert already open for the patient.
    pub open_rules: &'a [String],
}

/// A patient's pain logs, sorted by time, with the nights of unrelenting
/// night pain precomputed: built once per push, so evaluating many logs
/// stays O(log n) each instead of rescanning the diary.
#[derive(Debug, Clone)]
pub struct History<'a> {
    sorted: Vec<&'a PainFacts>,
    unrelenting_nights: BTreeSet<Date>,
}

fn unrelenting(p: &PainFacts) -> bool {
    p.period.as_deref() == Some("night") && !p.eased_by_rest
}

impl<'a> History<'a> {
    /// Indexes `logs` for evaluation in `tz`.
    pub fn new(logs: &'a [PainFacts], tz: &TimeZone) -> History<'a> {
        let mut sorted: Vec<&PainFacts> = logs.iter().collect();
        sorted.sort_by_key(|p| p.recorded_at);
        let unrelenting_nights = logs
            .iter()
            .filter(|p| unrelenting(p))
            .filter_map(|p| night_of(p.recorded_at, tz))
            .collect();
        History {
            sorted,
            unrelenting_nights,
        }
    }

    /// Adds the instants of night pain not eased by rest known from
    /// elsewhere (the night-pain rule needs only when they happened).
    pub fn add_unrelenting_nights(&mut self, instants: &[i64], tz: &TimeZone) {
        self.unrelenting_nights
            .extend(instants.iter().filter_map(|at| night_of(*at, tz)));
    }

    /// Logs other than `log` recorded in the `days` days up to and including
    /// `log`'s instant, oldest first.
    fn before<'s>(
        &'s self,
        log: &'s PainFacts,
        days: i64,
    ) -> impl DoubleEndedIterator<Item = &'a PainFacts> + 's {
        let start = self
            .sorted
            .partition_point(|p| p.recorded_at < log.recorded_at - days * DAY_MS);
        let end = self
            .sorted
            .partition_point(|p| p.recorded_at <= log.recorded_at);
        self.sorted[start..end]
            .iter()
            .copied()
            .filter(move |p| p.id != log.id)
    }
}

/// A rule that matched, with what it matched on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule.
    #[serde(skip)]
    pub rule: &'static Rule,
    /// Severity this time (a rule may escalate itself).
    pub severity: Severity,
    /// The fields and values that matched.
    pub matched: Vec<(&'static str, serde_json::Value)>,
}

fn age_on(birth: Option<Date>, day: Option<Date>) -> Option<i16> {
    let (birth, day) = (birth?, day?);
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    Some(age)
}

const DAY_MS: i64 = 86_400_000;

type Matched = Vec<(&'static str, serde_json::Value)>;

fn found(findings: &mut Vec<Finding>, code: &str, severity: Option<Severity>, matched: Matched) {
    if let Some(rule) = rule(code) {
        findings.push(Finding {
            rule,
            severity: severity.unwrap_or(rule.severity),
            matched,
        });
    }
}

/// Evaluates the single-log rules for `snapshot.log`.
pub fn evaluate(snapshot: &Snapshot<'_>, thresholds: &Thresholds) -> Vec<Finding> {
    use serde_json::json;
    let log = snapshot.log;
    let history = snapshot.history;
    let within = |days: i64| history.before(log, days);
    let new_episode = within(thresholds.new_episode_days).next().is_none();
    let age = age_on(
        snapshot.profile.birth_date,
        local_date(log.recorded_at, snapshot.tz),
    );
    let legs = log.legs_affected.as_deref();
    let trauma = log.trauma.as_deref();
    let mut findings: Vec<Finding> = Vec::new();

    // cauda_equina
    let mut matched = Vec::new();
    for (name, value) in [
        ("bladder_control_loss", log.bladder_control_loss),
        ("bowel_control_loss", log.bowel_control_loss),
        ("saddle_numbness", log.saddle_numbness),
    ] {
        if value {
            matched.push((name, json!(true)));
        }
    }
    if legs == Some("both") && (log.leg_numbness || log.leg_tingling || log.leg_weakness) {
        matched.push(("legs_affected", json!("both")));
        for (name, value) in [
            ("leg_numbness", log.leg_numbness),
            ("leg_tingling", log.leg_tingling),
            ("leg_weakness", log.leg_weakness),
        ] {
            if value {
                matched.push((name, json!(true)));
            }
        }
    }
    if !matched.is_empty() {
        found(&mut findings, "cauda_equina", None, matched);
    }

    if trauma == Some("major") {
        found(
            &mut findings,
            "major_trauma",
            None,
            vec![("trauma", json!("major"))],
        );
    }

    if log.leg_weakness {
        let weak_before = within(thresholds.new_weakness_days).any(|p| p.leg_weakness);
        let previous = within(i64::MAX / (2 * DAY_MS)).next_back();
        let rising = previous.is_some_and(|p| log.intensity > p.intensity);
        if !weak_before || rising {
            let mut matched = vec![("leg_weakness", json!(true))];
            if rising {
                matched.push(("intensity", json!(log.intensity)));
            }
            found(&mut findings, "motor_deficit", None, matched);
        }
    }

    let mut matched = Vec::new();
    if log.fever {
        matched.push(("fever", json!(true)));
    }
    if log.chills {
        matched.push(("chills", json!(true)));
    }
    if let Some(t) = log.temperature_c.filter(|t| *t >= thresholds.fever_celsius) {
        matched.push(("temperature_c", json!(t)));
    }
    if !matched.is_empty() {
        found(&mut findings, "infection", None, matched);
    }

    if log.night_sweats {
        found(
            &mut findings,
            "night_sweats",
            None,
            vec![("night_sweats", json!(true))],
        );
    }
    if log.unexplained_weight_loss {
        found(
            &mut findings,
            "weight_loss",
            None,
            vec![("unexplained_weight_loss", json!(true))],
        );
    }
    if snapshot.profile.cancer_history && new_episode {
        found(
            &mut findings,
            "cancer_history",
            None,
            vec![
                ("cancer_history", json!(true)),
                ("new_episode", json!(true)),
            ],
        );
    }

    let risk: Vec<(&'static str, serde_json::Value)> = [
        (
            "osteoporosis",
            snapshot.profile.osteoporosis.then_some(json!(true)),
        ),
        (
            "long_term_steroids",
            snapshot.profile.long_term_steroids.then_some(json!(true)),
        ),
        (
            "age",
            age.filter(|a| *a >= thresholds.fragility_age)
                .map(|a| json!(a)),
        ),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect();
    if !risk.is_empty() && (trauma == Some("minor") || new_episode) {
        let mut matched = risk;
        matched.push(if trauma == Some("minor") {
            ("trauma", json!("minor"))
        } else {
            ("new_episode", json!(true))
        });
        found(&mut findings, "fragility_fracture", None, matched);
    }

    let radicular = |p: &PainFacts| {
        p.legs_affected.as_deref() == Some("one") && (p.leg_numbness || p.leg_tingling)
    };
    if radicular(log) {
        let since = within(2 * thresholds.radicular_urgent_days)
            .find(|p| radicular(p))
            .map(|p| p.recorded_at);
        let persists = since.is_some_and(|first| {
            log.recorded_at - first > thresholds.radicular_urgent_days * DAY_MS
        });
        let mut matched = vec![("legs_affected", json!("one"))];
        if log.leg_numbness {
            matched.push(("leg_numbness", json!(true)));
        }
        if log.leg_tingling {
            matched.push(("leg_tingling", json!(true)));
        }
        if persists {
            matched.push(("persists_days", json!(thresholds.radicular_urgent_days)));
        }
        found(
            &mut findings,
            "radicular_symptoms",
            persists.then_some(Severity::Urgent),
            matched,
        );
    }

    if unrelenting(log)
        && let Some(this_night) = night_of(log.recorded_at, snapshot.tz)
    {
        // This log's own night counts even if the index was built without it.
        let first = this_night
            .checked_sub(jiff::Span::new().days(6))
            .unwrap_or(this_night);
        let mut nights: BTreeSet<Date> = history
            .unrelenting_nights
            .range(first..=this_night)
            .copied()
            .collect();
        nights.insert(this_night);
        if nights.len() >= thresholds.unrelenting_nights {
            let other_flag = !findings.is_empty()
                || snapshot
                    .open_rules
                    .iter()
                    .any(|code| code != "unrelenting_night_pain");
            let older = age.is_some_and(|a| a > thresholds.night_pain_urgent_age);
            let severity = (other_flag || older).then_some(Severity::Urgent);
            let mut matched = vec![("unrelenting_nights", json!(nights.len()))];
            if older {
                matched.push(("age", json!(age)));
            }
            if other_flag {
                matched.push(("other_flag_open", json!(true)));
            }
            found(&mut findings, "unrelenting_night_pain", severity, matched);
        }
    }
    findings
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

/// A time-based finding and the newest log it rests on (its evidence key).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeFinding {
    /// The rule.
    pub rule: &'static Rule,
    /// The newest log the finding rests on.
    pub log_id: String,
    /// When that log was recorded.
    pub recorded_at: i64,
    /// What matched.
    pub matched: Vec<(&'static str, serde_json::Value)>,
}

fn mean_of(values: &[i64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<i64>() as f64 / values.len() as f64)
}

/// Evaluates the time-based rules over `logs` (the patient's pain logs of
/// at least the last 30 days) at `now`.
pub fn evaluate_over_time(
    logs: &[PainFacts],
    tz: &TimeZone,
    now_ms: i64,
    t: &Thresholds,
) -> Vec<TimeFinding> {
    use serde_json::json;
    let mut out = Vec::new();
    let mut sorted: Vec<&PainFacts> = logs.iter().filter(|p| p.recorded_at <= now_ms).collect();
    sorted.sort_by_key(|p| p.recorded_at);
    let Some(newest) = sorted.last().copied() else {
        return out;
    };
    let time_rule = |code: &str| TIME_RULES.iter().find(|r| r.code == code);

    // night_pain_streak: the worst night pain >= threshold on K nights running,
    // ending with the latest night that has a night log.
    let mut nights: std::collections::BTreeMap<Date, (i64, &PainFacts)> =
        std::collections::BTreeMap::new();
    for p in sorted
        .iter()
        .filter(|p| p.period.as_deref() == Some("night"))
    {
        if let Some(night) = night_of(p.recorded_at, tz) {
            let entry = nights.entry(night).or_insert((p.intensity, p));
            if p.intensity >= entry.0 {
                *entry = (p.intensity, p);
            }
        }
    }
    if let Some((&last, _)) = nights.iter().next_back() {
        let mut run = Vec::new();
        let mut day = last;
        while let Some((worst, log)) = nights.get(&day) {
            if *worst < t.night_pain_streak_intensity {
                break;
            }
            run.push(*log);
            if run.len() == t.night_pain_streak_nights {
                break;
            }
            match day.yesterday() {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        if run.len() >= t.night_pain_streak_nights
            && let (Some(rule), Some(latest)) = (time_rule("night_pain_streak"), run.first())
        {
            out.push(TimeFinding {
                rule,
                log_id: latest.id.clone(),
                recorded_at: latest.recorded_at,
                matched: vec![
                    ("nights", json!(run.len())),
                    ("min_intensity", json!(t.night_pain_streak_intensity)),
                ],
            });
        }
    }

    let window = |from: i64, to: i64| -> Vec<i64> {
        sorted
            .iter()
            .filter(|p| p.recorded_at >= from && p.recorded_at < to)
            .map(|p| p.intensity)
            .collect()
    };

    // not_improving: 14+ days since the episode began, >= 4 logs in the
    // first 3 days and in the last 7, and not at least max(2, 30%) better.
    let episode_start = {
        let mut start = newest.recorded_at;
        for p in sorted.iter().rev() {
            if start - p.recorded_at > t.new_episode_days * DAY_MS {
                break;
            }
            start = p.recorded_at;
        }
        start
    };
    if now_ms - episode_start >= 14 * DAY_MS {
        let first = window(episode_start, episode_start + 3 * DAY_MS);
        let last = window(now_ms - 7 * DAY_MS, now_ms + 1);
        if first.len() >= 4
            && last.len() >= 4
            && let (Some(baseline), Some(current)) = (mean_of(&first), mean_of(&last))
        {
            let needed = f64::max(2.0, 0.3 * baseline);
            if baseline - current < needed
                && let Some(rule) = time_rule("not_improving")
            {
                out.push(TimeFinding {
                    rule,
                    log_id: newest.id.clone(),
                    recorded_at: newest.recorded_at,
                    matched: vec![
                        ("baseline_mean", json!(baseline)),
                        ("last_7_days_mean", json!(current)),
                    ],
                });
            }
        }
    }

    // worsening_trend: the last 7 days' mean at least 2 above the 7 before.
    let recent = window(now_ms - 7 * DAY_MS, now_ms + 1);
    let before = window(now_ms - 14 * DAY_MS, now_ms - 7 * DAY_MS);
    if recent.len() >= 2
        && before.len() >= 2
        && let (Some(now_mean), Some(then_mean)) = (mean_of(&recent), mean_of(&before))
        && now_mean >= then_mean + 2.0
        && let Some(rule) = time_rule("worsening_trend")
    {
        out.push(TimeFinding {
            rule,
            log_id: newest.id.clone(),
            recorded_at: newest.recorded_at,
            matched: vec![
                ("last_7_days_mean", json!(now_mean)),
                ("previous_7_days_mean", json!(then_mean)),
            ],
        });
    }
    out
}

#[cfg(test)]
mod time_tests {
    use super::*;

    const NOW: i64 = 1_793_600_000_000;

    fn at(id: &str, days_ago: f64, intensity: i64, night: bool) -> PainFacts {
        PainFacts {
            id: id.into(),
            recorded_at: NOW - (days_ago * DAY_MS as f64) as i64,
            intensity,
            period: night.then(|| "night".to_owned()),
            ..PainFacts::default()
        }
    }

    fn codes(logs: &[PainFacts]) -> Vec<&'static str> {
        evaluate_over_time(logs, &TimeZone::UTC, NOW, &Thresholds::default())
            .into_iter()
            .map(|f| f.rule.code)
            .collect()
    }

    #[test]
    fn three_bad_nights_running_make_a_streak_and_a_gap_breaks_it() {
        let streak = [
            at("a", 2.9, 7, true),
            at("b", 1.9, 8, true),
            at("c", 0.9, 9, true),
        ];
        assert_eq!(codes(&streak), ["night_pain_streak"]);
        let broken = [
            at("a", 3.9, 7, true),
            at("b", 1.9, 8, true),
            at("c", 0.9, 9, true),
        ];
        assert_eq!(codes(&broken), Vec::<&str>::new());
        let mild = [
            at("a", 2.9, 6, true),
            at("b", 1.9, 8, true),
            at("c", 0.9, 9, true),
        ];
        assert_eq!(codes(&mild), Vec::<&str>::new());
        let daytime = [
            at("a", 2.9, 7, false),
            at("b", 1.9, 8, true),
            at("c", 0.9, 9, true),
        ];
        assert_eq!(codes(&daytime), Vec::<&str>::new());
    }

    #[test]
    fn not_improving_compares_the_first_three_days_with_the_last_seven() {
        let mut logs: Vec<PainFacts> = (0..4)
            .map(|i| at(&format!("f{i}"), 15.5 - f64::from(i) * 0.5, 6, false))
            .collect();
        logs.extend((0..4).map(|i| at(&format!("l{i}"), 6.0 - f64::from(i), 5, false)));
        assert_eq!(
            codes(&logs),
            ["not_improving"],
            "6 -> 5 is less than 2 points better"
        );
        let mut better: Vec<PainFacts> = (0..4)
            .map(|i| at(&format!("f{i}"), 15.5 - f64::from(i) * 0.5, 6, false))
            .collect();
        better.extend((0..4).map(|i| at(&format!("l{i}"), 6.0 - f64::from(i), 4, false)));
        assert_eq!(codes(&better), Vec::<&str>::new(), "2 points better");
        let too_few: Vec<PainFacts> = logs.iter().take(7).cloned().collect();
        assert_eq!(
            codes(&too_few),
            Vec::<&str>::new(),
            "3 logs in the last week are not enough"
        );
    }

    #[test]
    fn a_two_point_rise_week_on_week_is_a_worsening_trend() {
        let logs = [
            at("a", 12.0, 3, false),
            at("b", 10.0, 3, false),
            at("c", 5.0, 5, false),
            at("d", 2.0, 5, false),
        ];
        assert_eq!(codes(&logs), ["worsening_trend"]);
        let flat = [
            at("a", 12.0, 3, false),
            at("b", 10.0, 3, false),
            at("c", 5.0, 4, false),
            at("d", 2.0, 4, false),
        ];
        assert_eq!(codes(&flat), Vec::<&str>::new());
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    const T: i64 = 1_793_503_800_000; // 2026-10-31T23:30-04:00 (New York)

    fn log(id: &str, at: i64) -> PainFacts {
        PainFacts {
            id: id.into(),
            recorded_at: at,
            intensity: 4,
            ..PainFacts::default()
        }
    }

    fn codes(
        log: &PainFacts,
        history: &[PainFacts],
        profile: &ProfileFacts,
    ) -> Vec<(&'static str, Severity)> {
        let tz = TimeZone::get("America/New_York").unwrap();
        let history = History::new(history, &tz);
        let snapshot = Snapshot {
            log,
            history: &history,
            profile,
            tz: &tz,
            open_rules: &[],
        };
        evaluate(&snapshot, &Thresholds::default())
            .into_iter()
            .map(|f| (f.rule.code, f.severity))
            .collect()
    }

    fn recent() -> Vec<PainFacts> {
        vec![log("before", T - DAY_MS)]
    }

    #[test]
    fn single_log_rules_and_their_boundaries() {
        use Severity::*;
        let none = ProfileFacts::default();
        let cases: Vec<(PainFacts, Vec<(&str, Severity)>)> = vec![
            (log("a", T), vec![]),
            (
                PainFacts {
                    bladder_control_loss: true,
                    ..log("a", T)
                },
                vec![("cauda_equina", Emergency)],
            ),
            (
                PainFacts {
                    saddle_numbness: true,
                    ..log("a", T)
                },
                vec![("cauda_equina", Emergency)],
            ),
            (
                PainFacts {
                    legs_affected: Some("both".into()),
                    leg_tingling: true,
                    ..log("a", T)
                },
                vec![("cauda_equina", Emergency)],
            ),
            (
                PainFacts {
                    legs_affected: Some("both".into()),
                    ..log("a", T)
                },
                vec![],
            ),
            (
                PainFacts {
                    trauma: Some("major".into()),
                    ..log("a", T)
                },
                vec![("major_trauma", Emergency)],
            ),
            (
                PainFacts {
                    trauma: Some("minor".into()),
                    ..log("a", T)
                },
                vec![],
            ),
            (
                PainFacts {
                    temperature_c: Some(38.0),
                    ..log("a", T)
                },
                vec![("infection", Urgent)],
            ),
            (
                PainFacts {
                    temperature_c: Some(37.9),
                    ..log("a", T)
                },
                vec![],
            ),
            (
                PainFacts {
                    chills: true,
                    ..log("a", T)
                },
                vec![("infection", Urgent)],
            ),
            (
                PainFacts {
                    night_sweats: true,
                    ..log("a", T)
                },
                vec![("night_sweats", Urgent)],
            ),
            (
                PainFacts {
                    unexplained_weight_loss: true,
                    ..log("a", T)
                },
                vec![("weight_loss", Urgent)],
            ),
            (
                PainFacts {
                    legs_affected: Some("one".into()),
                    leg_numbness: true,
                    ..log("a", T)
                },
                vec![("radicular_symptoms", Routine)],
            ),
            (
                PainFacts {
                    legs_affected: Some("one".into()),
                    ..log("a", T)
                },
                vec![],
            ),
        ];
        for (pain, expected) in cases {
            assert_eq!(codes(&pain, &recent(), &none), expected, "{pain:?}");
        }
    }

    #[test]
    fn leg_weakness_is_a_flag_when_new_or_with_rising_pain() {
        let weak = |id: &str, at: i64, intensity: i64| PainFacts {
            leg_weakness: true,
            intensity,
            ..log(id, at)
        };
        let none = ProfileFacts::default();
        assert_eq!(
            codes(&weak("n", T, 4), &recent(), &none),
            [("motor_deficit", Severity::Urgent)]
        );
        // Weak 13 days ago and pain not rising: not new.
        assert_eq!(
            codes(&weak("n", T, 4), &[weak("w", T - 13 * DAY_MS, 4)], &none),
            []
        );
        // Weak 15 days ago: new again.
        assert_eq!(
            codes(&weak("n", T, 4), &[weak("w", T - 15 * DAY_MS, 4)], &none).len(),
            1
        );
        // Weak before, but pain is rising.
        assert_eq!(
            codes(&weak("n", T, 6), &[weak("w", T - DAY_MS, 5)], &none).len(),
            1
        );
    }

    #[test]
    fn a_new_episode_is_a_first_log_in_thirty_days() {
        let cancer = ProfileFacts {
            cancer_history: true,
            ..ProfileFacts::default()
        };
        assert_eq!(
            codes(&log("a", T), &[], &cancer),
            [("cancer_history", Severity::Urgent)]
        );
        assert_eq!(
            codes(&log("a", T), &[log("b", T - 30 * DAY_MS)], &cancer),
            []
        );
        assert_eq!(
            codes(&log("a", T), &[log("b", T - 31 * DAY_MS)], &cancer).len(),
            1
        );
        // A later log does not count as history.
        assert_eq!(
            codes(&log("a", T), &[log("b", T + DAY_MS)], &cancer).len(),
            1
        );
    }

    #[test]
    fn fragility_needs_a_risk_and_minor_trauma_or_a_new_episode() {
        let osteo = ProfileFacts {
            osteoporosis: true,
            ..ProfileFacts::default()
        };
        let minor = PainFacts {
            trauma: Some("minor".into()),
            ..log("a", T)
        };
        assert_eq!(
            codes(&minor, &recent(), &osteo),
            [("fragility_fracture", Severity::Urgent)]
        );
        assert_eq!(
            codes(&log("a", T), &recent(), &osteo),
            [],
            "ongoing episode, no trauma"
        );
        assert_eq!(codes(&log("a", T), &[], &osteo).len(), 1, "new episode");
        let seventy = ProfileFacts {
            birth_date: Some(date(1956, 10, 31)),
            ..ProfileFacts::default()
        };
        let sixty_nine = ProfileFacts {
            birth_date: Some(date(1956, 11, 1)),
            ..ProfileFacts::default()
        };
        assert_eq!(
            codes(&minor, &recent(), &seventy).len(),
            1,
            "70 on the day, local date"
        );
        assert_eq!(codes(&minor, &recent(), &sixty_nine), []);
    }

    #[test]
    fn one_leg_symptoms_become_urgent_after_seven_days() {
        let tingle = |id: &str, at: i64| PainFacts {
            legs_affected: Some("one".into()),
            leg_tingling: true,
            ..log(id, at)
        };
        let none = ProfileFacts::default();
        assert_eq!(
            codes(&tingle("a", T), &[tingle("b", T - 7 * DAY_MS)], &none),
            [("radicular_symptoms", Severity::Routine)]
        );
        assert_eq!(
            codes(&tingle("a", T), &[tingle("b", T - 8 * DAY_MS)], &none),
            [("radicular_symptoms", Severity::Urgent)]
        );
    }

    #[test]
    fn unrelenting_night_pain_on_three_of_seven_nights() {
        let night = |id: &str, at: i64| PainFacts {
            period: Some("night".into()),
            ..log(id, at)
        };
        let none = ProfileFacts::default();
        let two = [night("a", T - DAY_MS), log("day", T - 2 * DAY_MS)];
        assert_eq!(codes(&night("c", T), &two, &none), []);
        let three = [night("a", T - DAY_MS), night("b", T - 6 * DAY_MS)];
        assert_eq!(
            codes(&night("c", T), &three, &none),
            [("unrelenting_night_pain", Severity::Routine)]
        );
        let too_old = [night("a", T - DAY_MS), night("b", T - 7 * DAY_MS)];
        assert_eq!(
            codes(&night("c", T), &too_old, &none),
            [],
            "the 8th night back is outside the window"
        );
        let same_night = [night("a", T - 3_600_000), night("b", T - 7_200_000)];
        assert_eq!(
            codes(&night("c", T), &same_night, &none),
            [],
            "three logs of one night are one night"
        );
        let eased = PainFacts {
            eased_by_rest: true,
            ..night("c", T)
        };
        assert_eq!(codes(&eased, &three, &none), []);
        let older = ProfileFacts {
            birth_date: Some(date(1960, 1, 1)),
            ..ProfileFacts::default()
        };
        assert_eq!(
            codes(&night("c", T), &three, &older),
            [("unrelenting_night_pain", Severity::Urgent)]
        );
        let with_fever = PainFacts {
            fever: true,
            ..night("c", T)
        };
        assert_eq!(
            codes(&with_fever, &three, &none),
            [
                ("infection", Severity::Urgent),
                ("unrelenting_night_pain", Severity::Urgent)
            ]
        );
    }

    #[test]
    fn every_rule_has_its_wording_and_sources() {
        for rule in RULES {
            assert!(
                !rule.advice.is_empty()
                    && !rule.clinician_action.is_empty()
                    && !rule.sources.is_empty(),
                "{}",
                rule.code
            );
            assert!(rule.version >= 1);
        }
        assert!(
            rule("cauda_equina")
                .unwrap()
                .advice
                .contains("Don't wait for a reply here")
        );
    }
}
