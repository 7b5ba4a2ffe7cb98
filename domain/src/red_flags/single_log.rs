//! The single-log rules: one pain log against the patient's recent diary
//! and profile, evaluated in the push transaction. Each rule's entry in
//! the table is the constant its function reports findings with.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::json;

use super::history::unrelenting;
use super::{DAY_MS, History, Lookback, PainFacts, ProfileFacts, Rule, Severity, Thresholds};
use crate::calendar::{local_date, night_of};

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

type Matched = Vec<(&'static str, serde_json::Value)>;

fn found(rule: &'static Rule, severity: Option<Severity>, matched: Matched) -> Finding {
    Finding {
        rule,
        severity: severity.unwrap_or(rule.severity),
        matched,
    }
}

/// What every rule sees of one evaluation.
struct Context<'a> {
    log: &'a PainFacts,
    history: &'a History<'a>,
    profile: &'a ProfileFacts,
    tz: &'a TimeZone,
    open_rules: &'a [String],
    t: &'a Thresholds,
    new_episode: bool,
    age: Option<i16>,
}

impl<'a> Context<'a> {
    /// Logs other than this one in the `days` days up to it, oldest first.
    fn within(&self, days: i64) -> impl DoubleEndedIterator<Item = &'a PainFacts> + 'a {
        self.history.before(self.log, days)
    }
}

/// Evaluates the single-log rules for `snapshot.log`, in the order of
/// [`RULES`](super::RULES).
pub fn evaluate(snapshot: &Snapshot<'_>, thresholds: &Thresholds) -> Vec<Finding> {
    let log = snapshot.log;
    let mut c = Context {
        log,
        history: snapshot.history,
        profile: snapshot.profile,
        tz: snapshot.tz,
        open_rules: snapshot.open_rules,
        t: thresholds,
        new_episode: false,
        age: age_on(
            snapshot.profile.birth_date,
            local_date(log.recorded_at, snapshot.tz),
        ),
    };
    c.new_episode = c.within(thresholds.new_episode_days).next().is_none();
    let single: [fn(&Context<'_>) -> Option<Finding>; 9] = [
        cauda_equina,
        major_trauma,
        motor_deficit,
        infection,
        night_sweats,
        weight_loss,
        cancer_history,
        fragility_fracture,
        radicular_symptoms,
    ];
    let mut findings: Vec<Finding> = single.iter().filter_map(|rule| rule(&c)).collect();
    // Urgent when another rule matched this log, so it runs last.
    if let Some(finding) = unrelenting_night_pain(&c, &findings) {
        findings.push(finding);
    }
    findings
}

/// Suspected cauda equina syndrome (RF-1).
pub const CAUDA_EQUINA: Rule = Rule {
    code: "cauda_equina",
    version: 1,
    severity: Severity::Emergency,
    message: "red-flag-cauda-equina",
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
    looks_back: Lookback::Nothing,
    sources: "SBNS/BASS 2018; GIRFT 2023; NICE CKS; NHS",
};

fn cauda_equina(c: &Context<'_>) -> Option<Finding> {
    let log = c.log;
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
    if log.legs_affected.as_deref() == Some("both")
        && (log.leg_numbness || log.leg_tingling || log.leg_weakness)
    {
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
    (!matched.is_empty()).then(|| found(&CAUDA_EQUINA, None, matched))
}

/// Back pain after major trauma (RF-8).
pub const MAJOR_TRAUMA: Rule = Rule {
    code: "major_trauma",
    version: 1,
    severity: Severity::Emergency,
    message: "red-flag-major-trauma",
    clinician_action: "Back pain after major trauma: confirm emergency assessment; follow up.",
    fields: &["trauma"],
    looks_back: Lookback::Nothing,
    sources: "NHS; NICE CKS",
};

fn major_trauma(c: &Context<'_>) -> Option<Finding> {
    (c.log.trauma.as_deref() == Some("major"))
        .then(|| found(&MAJOR_TRAUMA, None, vec![("trauma", json!("major"))]))
}

/// New or progressive leg weakness (RF-2): new when no log of the last
/// `new_weakness_days` was weak; rising pain is compared with the previous log.
pub const MOTOR_DEFICIT: Rule = Rule {
    code: "motor_deficit",
    version: 1,
    severity: Severity::Urgent,
    message: "red-flag-motor-deficit",
    clinician_action: "New or progressive motor deficit: same-day call; consider urgent spinal referral.",
    fields: &["leg_weakness", "intensity"],
    looks_back: Lookback::Logs {
        days: |t| t.new_weakness_days,
        when: |log, _| log.leg_weakness,
    },
    sources: "ACP 2011; NICE CKS",
};

fn motor_deficit(c: &Context<'_>) -> Option<Finding> {
    let log = c.log;
    if !log.leg_weakness {
        return None;
    }
    let weak_before = c.within(c.t.new_weakness_days).any(|p| p.leg_weakness);
    let previous = c.within(i64::MAX / (2 * DAY_MS)).next_back();
    let rising = previous.is_some_and(|p| log.intensity > p.intensity);
    if weak_before && !rising {
        return None;
    }
    let mut matched = vec![("leg_weakness", json!(true))];
    if rising {
        matched.push(("intensity", json!(log.intensity)));
    }
    Some(found(&MOTOR_DEFICIT, None, matched))
}

/// Possible spinal infection (RF-4).
pub const INFECTION: Rule = Rule {
    code: "infection",
    version: 1,
    severity: Severity::Urgent,
    message: "red-flag-infection",
    clinician_action: "Possible spinal infection: same-day review; bloods per local pathway.",
    fields: &["fever", "chills", "temperature_c"],
    looks_back: Lookback::Nothing,
    sources: "NICE CKS; ACP 2011; NHS",
};

fn infection(c: &Context<'_>) -> Option<Finding> {
    let log = c.log;
    let mut matched = Vec::new();
    if log.fever {
        matched.push(("fever", json!(true)));
    }
    if log.chills {
        matched.push(("chills", json!(true)));
    }
    if let Some(t) = log.temperature_c.filter(|t| *t >= c.t.fever_celsius) {
        matched.push(("temperature_c", json!(t)));
    }
    (!matched.is_empty()).then(|| found(&INFECTION, None, matched))
}

/// Night sweats (RF-5).
pub const NIGHT_SWEATS: Rule = Rule {
    code: "night_sweats",
    version: 1,
    severity: Severity::Urgent,
    message: "red-flag-night-sweats",
    clinician_action: "Night sweats with back pain: review for infection or malignancy features.",
    fields: &["night_sweats"],
    looks_back: Lookback::Nothing,
    sources: "NICE CKS (fevers, rigors); general malignancy literature",
};

fn night_sweats(c: &Context<'_>) -> Option<Finding> {
    c.log
        .night_sweats
        .then(|| found(&NIGHT_SWEATS, None, vec![("night_sweats", json!(true))]))
}

/// Unexplained weight loss (RF-7).
pub const WEIGHT_LOSS: Rule = Rule {
    code: "weight_loss",
    version: 1,
    severity: Severity::Urgent,
    message: "red-flag-weight-loss",
    clinician_action: "Unexplained weight loss with back pain: review within 1-2 days.",
    fields: &["unexplained_weight_loss"],
    looks_back: Lookback::Nothing,
    sources: "NICE CKS; ACP 2011; NHS",
};

fn weight_loss(c: &Context<'_>) -> Option<Finding> {
    c.log.unexplained_weight_loss.then(|| {
        found(
            &WEIGHT_LOSS,
            None,
            vec![("unexplained_weight_loss", json!(true))],
        )
    })
}

/// A history of cancer and a new episode (RF-6): no log in the
/// `new_episode_days` before.
pub const CANCER_HISTORY: Rule = Rule {
    code: "cancer_history",
    version: 1,
    severity: Severity::Urgent,
    message: "red-flag-cancer-history",
    clinician_action: "New back pain with a cancer history: contact within 24 h; follow the MSCC pathway.",
    fields: &["cancer_history", "recorded_at"],
    looks_back: Lookback::Logs {
        days: |t| t.new_episode_days,
        when: |_, profile| profile.cancer_history,
    },
    sources: "Downie 2013; ACP 2011; NICE NG234",
};

fn cancer_history(c: &Context<'_>) -> Option<Finding> {
    (c.profile.cancer_history && c.new_episode).then(|| {
        found(
            &CANCER_HISTORY,
            None,
            vec![
                ("cancer_history", json!(true)),
                ("new_episode", json!(true)),
            ],
        )
    })
}

/// Possible fragility fracture (RF-9): a risk, and minor trauma or a new
/// episode.
pub const FRAGILITY_FRACTURE: Rule = Rule {
    code: "fragility_fracture",
    version: 1,
    severity: Severity::Urgent,
    message: "red-flag-fragility-fracture",
    clinician_action: "Possible fragility fracture: same- or next-day review; imaging per pathway.",
    fields: &[
        "trauma",
        "osteoporosis",
        "long_term_steroids",
        "birth_date",
        "recorded_at",
    ],
    looks_back: Lookback::Logs {
        days: |t| t.new_episode_days,
        when: |_, profile| at_risk_of_fracture(profile),
    },
    sources: "Henschke 2009; Downie 2013; ACP 2011",
};

/// Whether the profile has a risk the fragility-fracture rule may read
/// (age counts once known: the threshold is checked on the log's date).
fn at_risk_of_fracture(profile: &ProfileFacts) -> bool {
    profile.osteoporosis || profile.long_term_steroids || profile.birth_date.is_some()
}

fn fragility_fracture(c: &Context<'_>) -> Option<Finding> {
    let trauma = c.log.trauma.as_deref();
    let risk: Matched = [
        (
            "osteoporosis",
            c.profile.osteoporosis.then_some(json!(true)),
        ),
        (
            "long_term_steroids",
            c.profile.long_term_steroids.then_some(json!(true)),
        ),
        (
            "age",
            c.age.filter(|a| *a >= c.t.fragility_age).map(|a| json!(a)),
        ),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect();
    if risk.is_empty() || !(trauma == Some("minor") || c.new_episode) {
        return None;
    }
    let mut matched = risk;
    matched.push(if trauma == Some("minor") {
        ("trauma", json!("minor"))
    } else {
        ("new_episode", json!(true))
    });
    Some(found(&FRAGILITY_FRACTURE, None, matched))
}

/// One-leg sensory symptoms (RF-3), urgent when the first of the last
/// `2 × radicular_urgent_days` is more than `radicular_urgent_days` older.
pub const RADICULAR_SYMPTOMS: Rule = Rule {
    code: "radicular_symptoms",
    version: 1,
    severity: Severity::Routine,
    message: "red-flag-radicular-symptoms",
    clinician_action: "Radicular sensory symptoms: PT review; neuro screen at next contact (urgent if \
                       persisting over 7 days).",
    fields: &["legs_affected", "leg_numbness", "leg_tingling"],
    looks_back: Lookback::Logs {
        days: |t| 2 * t.radicular_urgent_days,
        when: |log, _| radicular(log),
    },
    sources: "NHS; makeitvisible.info",
};

fn radicular(p: &PainFacts) -> bool {
    p.legs_affected.as_deref() == Some("one") && (p.leg_numbness || p.leg_tingling)
}

fn radicular_symptoms(c: &Context<'_>) -> Option<Finding> {
    let log = c.log;
    if !radicular(log) {
        return None;
    }
    let urgent_days = c.t.radicular_urgent_days;
    let since = c
        .within(2 * urgent_days)
        .find(|p| radicular(p))
        .map(|p| p.recorded_at);
    let persists = since.is_some_and(|first| log.recorded_at - first > urgent_days * DAY_MS);
    let mut matched = vec![("legs_affected", json!("one"))];
    if log.leg_numbness {
        matched.push(("leg_numbness", json!(true)));
    }
    if log.leg_tingling {
        matched.push(("leg_tingling", json!(true)));
    }
    if persists {
        matched.push(("persists_days", json!(urgent_days)));
    }
    Some(found(
        &RADICULAR_SYMPTOMS,
        persists.then_some(Severity::Urgent),
        matched,
    ))
}

/// The nights, counting the log's own, over which unrelenting night pain
/// is counted.
const UNRELENTING_WINDOW_NIGHTS: i64 = 7;

/// Night pain not eased by rest on several of the last nights (RF-10).
pub const UNRELENTING_NIGHT_PAIN: Rule = Rule {
    code: "unrelenting_night_pain",
    version: 1,
    severity: Severity::Routine,
    message: "red-flag-unrelenting-night-pain",
    clinician_action: "Night pain unrelieved by rest on 3 of 7 nights: review for systemic features.",
    fields: &["period", "eased_by_rest", "recorded_at", "birth_date"],
    looks_back: Lookback::UnrelentingNights {
        nights: UNRELENTING_WINDOW_NIGHTS,
    },
    sources: "NICE CKS; NHS",
};

fn unrelenting_night_pain(c: &Context<'_>, others: &[Finding]) -> Option<Finding> {
    let log = c.log;
    if !unrelenting(log) {
        return None;
    }
    let this_night = night_of(log.recorded_at, c.tz)?;
    // This log's own night counts even if the index was built without it.
    let first = this_night
        .checked_sub(jiff::Span::new().days(UNRELENTING_WINDOW_NIGHTS - 1))
        .unwrap_or(this_night);
    let mut nights: BTreeSet<Date> = c
        .history
        .unrelenting_nights
        .range(first..=this_night)
        .copied()
        .collect();
    nights.insert(this_night);
    if nights.len() < c.t.unrelenting_nights {
        return None;
    }
    let other_flag = !others.is_empty()
        || c.open_rules
            .iter()
            .any(|code| code != UNRELENTING_NIGHT_PAIN.code);
    let older = c.age.is_some_and(|a| a > c.t.night_pain_urgent_age);
    let severity = (other_flag || older).then_some(Severity::Urgent);
    let mut matched = vec![("unrelenting_nights", json!(nights.len()))];
    if older {
        matched.push(("age", json!(c.age)));
    }
    if other_flag {
        matched.push(("other_flag_open", json!(true)));
    }
    Some(found(&UNRELENTING_NIGHT_PAIN, severity, matched))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::red_flags::RULES;

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
                rule.message.starts_with("red-flag-")
                    && !rule.clinician_action.is_empty()
                    && !rule.sources.is_empty(),
                "{}",
                rule.code
            );
            assert!(rule.version >= 1);
        }
    }
}
