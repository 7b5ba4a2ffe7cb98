//! The single-log rules: one pain log against the patient's recent diary
//! and profile, evaluated in the push transaction.

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::history::unrelenting;
use super::{DAY_MS, History, PainFacts, ProfileFacts, Rule, Severity, Thresholds, rule};
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
