//! Prompts to the patient (SPEC §7): mattress replacement, sleep-position
//! tips, a PT referral, and adherence nudges. Pure: the facts come in, the
//! prompts that are due come out; how often each may repeat is part of it.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::locale::{Locale, Text};
use crate::messages::FluentValue;

/// One night of the sleep diary, as far as prompts care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Night {
    /// The local date the night began.
    pub night_of: Date,
    /// Pain woke the patient.
    pub woke_from_pain: bool,
    /// `back`, `side`, `stomach` or `mixed`.
    pub position: Option<String>,
    /// A pillow between the knees (side sleeping).
    pub pillow_between_knees: bool,
    /// A pillow under the knees (back sleeping).
    pub pillow_under_knees: bool,
    /// A pillow under the hips (stomach sleeping).
    pub pillow_under_hips: bool,
    /// The mattress sagged.
    pub mattress_sagging: bool,
    /// Pressure points.
    pub pressure_points: bool,
}

/// The mattress the patient sleeps on now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mattress {
    /// Its record id.
    pub id: String,
    /// When it was bought.
    pub purchased_on: Date,
}

/// What the rules look at for one patient.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The patient's local date now.
    pub today: Date,
    /// Nights logged in the last 14 days (any order).
    pub nights: Vec<Night>,
    /// The current mattress, if one is logged.
    pub mattress: Option<Mattress>,
    /// An open `not_improving` alert.
    pub not_improving: bool,
    /// Since when a plan is active, if one is.
    pub plan_since: Option<Timestamp>,
    /// The last exercise session.
    pub last_session: Option<Timestamp>,
}

/// Tunable limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Age in years from which a mattress is due for replacement (7–10).
    pub mattress_years: i16,
}

impl Default for Limits {
    fn default() -> Self {
        Self { mattress_years: 8 }
    }
}

/// A prompt that is due, unless one like it was sent within `every`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// Notification kind (`mattress_prompt`, `sleep_tip`, `pt_referral`,
    /// `adherence_nudge`).
    pub kind: &'static str,
    /// What the repeat limit applies to: the mattress, the tip, or "".
    pub subject: String,
    /// At most one per this period per (kind, subject).
    pub every: SignedDuration,
    /// The catalog messages of its notification: `{message}-title` and
    /// `{message}-body` ([`crate::locale::text`]).
    pub message: &'static str,
    /// The whole numbers its message reads.
    pub args: Vec<(&'static str, i64)>,
}

impl Due {
    /// Its notification's title and body for a patient of `locale`; `None`
    /// only if no catalog has its message (a test renders every prompt).
    pub fn text(&self, locale: &Locale) -> Option<Text> {
        let args: Vec<(&str, FluentValue<'_>)> = self
            .args
            .iter()
            .map(|(name, value)| (*name, FluentValue::from(*value)))
            .collect();
        crate::locale::text(self.message, locale, &args)
    }
}

const DAY: SignedDuration = SignedDuration::from_hours(24);
/// How long warmth on the lower back before bed is advised for (minutes).
const WARMTH_MINUTES: (i64, i64) = (15, 20);
/// No session for this long while a plan is active earns a nudge.
pub const NUDGE_AFTER: SignedDuration = SignedDuration::from_hours(49);
/// No session for this long puts the patient on the therapist's digest.
pub const DIGEST_AFTER: SignedDuration = SignedDuration::from_hours(14 * 24);

fn within(facts: &Facts, days: i64) -> impl Iterator<Item = &Night> {
    let first = facts
        .today
        .checked_sub(SignedDuration::from_hours(24 * (days - 1)))
        .ok();
    facts
        .nights
        .iter()
        .filter(move |n| first.is_some_and(|f| n.night_of >= f) && n.night_of <= facts.today)
}

fn mattress(facts: &Facts, limits: Limits) -> Option<Due> {
    let old = facts.mattress.as_ref().is_some_and(|m| {
        m.purchased_on
            .checked_add(jiff::Span::new().years(limits.mattress_years))
            .is_ok_and(|due| due <= facts.today)
    });
    // Nights before the current mattress was bought say nothing about it.
    let bought = facts.mattress.as_ref().map(|m| m.purchased_on);
    let uncomfortable = within(facts, 14)
        .filter(|n| bought.is_none_or(|b| n.night_of >= b))
        .filter(|n| n.mattress_sagging || n.pressure_points)
        .count()
        >= 3;
    (old || uncomfortable).then(|| Due {
        kind: "mattress_prompt",
        subject: facts
            .mattress
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |m| m.id.clone()),
        every: DAY * 90,
        message: "mattress-prompt",
        args: Vec::new(),
    })
}

fn sleep_tip(facts: &Facts) -> Option<Due> {
    let mut woke: Vec<&Night> = within(facts, 7).filter(|n| n.woke_from_pain).collect();
    if woke.len() < 3 {
        return None;
    }
    woke.sort_by_key(|n| n.night_of);
    let latest = woke.last()?;
    let (subject, message, args) = match latest.position.as_deref() {
        Some("stomach") if !latest.pillow_under_hips => ("stomach", "tip-stomach", vec![]),
        Some("side") if !latest.pillow_between_knees => ("side_knees", "tip-side-knees", vec![]),
        Some("back") if !latest.pillow_under_knees => ("back_knees", "tip-back-knees", vec![]),
        _ => (
            "warmth",
            "tip-warmth",
            vec![
                ("minutes_from", WARMTH_MINUTES.0),
                ("minutes_to", WARMTH_MINUTES.1),
            ],
        ),
    };
    Some(Due {
        kind: "sleep_tip",
        subject: subject.to_owned(),
        every: DAY * 14,
        message,
        args,
    })
}

fn pt_referral(facts: &Facts) -> Option<Due> {
    // Pain woke the patient on most of the last 14 nights.
    let waking = within(facts, 14).filter(|n| n.woke_from_pain).count() > 7;
    (facts.not_improving || waking).then(|| Due {
        kind: "pt_referral",
        subject: String::new(),
        every: DAY * 30,
        message: "pt-referral",
        args: Vec::new(),
    })
}

fn adherence(facts: &Facts, now: Timestamp) -> Option<Due> {
    let since = facts.plan_since?;
    let last = facts.last_session.map_or(since, |s| s.max(since));
    (now.duration_since(last) >= NUDGE_AFTER).then(|| Due {
        kind: "adherence_nudge",
        subject: String::new(),
        every: DAY,
        message: "adherence-nudge",
        args: vec![("days", now.duration_since(last).as_hours() / 24)],
    })
}

/// Every prompt whose condition holds for `facts` at `now`.
pub fn due(facts: &Facts, now: Timestamp, limits: Limits) -> Vec<Due> {
    [
        mattress(facts, limits),
        sleep_tip(facts),
        pt_referral(facts),
        adherence(facts, now),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Whether a prompt last sent at `last` may be sent again at `now`.
pub fn may_repeat(due: &Due, last: Option<Timestamp>, now: Timestamp) -> bool {
    last.is_none_or(|last| now.duration_since(last) >= due.every)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::languages;
    use jiff::civil::date;

    const NOW: &str = "2026-06-15T12:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().unwrap()
    }

    fn night(day: i8, f: impl FnOnce(&mut Night)) -> Night {
        let mut n = Night {
            night_of: date(2026, 6, day),
            ..Night::default()
        };
        f(&mut n);
        n
    }

    fn facts(nights: Vec<Night>) -> Facts {
        Facts {
            today: date(2026, 6, 15),
            nights,
            ..Facts::default()
        }
    }

    /// The prompts due, each checked to render in every language with
    /// every variable its message reads.
    fn kinds(facts: &Facts) -> Vec<(&'static str, String)> {
        due(facts, now(), Limits::default())
            .into_iter()
            .inspect(|d| {
                for language in languages() {
                    let locale = Locale {
                        language: language.to_owned(),
                        country: None,
                    };
                    let text = d.text(&locale);
                    assert!(
                        text.is_some_and(|t| !t.title.is_empty() && !t.body.is_empty()),
                        "{language}: {} does not render",
                        d.message
                    );
                }
            })
            .map(|d| (d.kind, d.subject))
            .collect()
    }

    #[test]
    fn mattress_by_age_and_by_nights() {
        let mut f = facts(vec![]);
        f.mattress = Some(Mattress {
            id: "m1".into(),
            purchased_on: date(2018, 6, 15),
        });
        assert_eq!(kinds(&f), [("mattress_prompt", "m1".to_owned())]);
        f.mattress = Some(Mattress {
            id: "m1".into(),
            purchased_on: date(2018, 6, 16),
        });
        assert!(kinds(&f).is_empty(), "one day short of eight years");
        let seven = Limits { mattress_years: 7 };
        assert_eq!(due(&f, now(), seven).len(), 1);

        let sagging = |d| night(d, |n| n.mattress_sagging = true);
        let pressure = |d| night(d, |n| n.pressure_points = true);
        let mut f = facts(vec![sagging(2), pressure(9), sagging(15)]);
        assert_eq!(kinds(&f), [("mattress_prompt", "unknown".to_owned())]);
        f.nights[0] = sagging(1); // 15 days ago: outside the 14
        assert!(kinds(&f).is_empty());
        // A new mattress bought on the 10th: older nights do not count.
        let mut f = facts(vec![sagging(2), pressure(9), sagging(15)]);
        f.mattress = Some(Mattress {
            id: "new".into(),
            purchased_on: date(2026, 6, 10),
        });
        assert!(kinds(&f).is_empty());
    }

    #[test]
    fn sleep_tip_matches_the_position() {
        let woke = |d, position: &str, pillow: bool| {
            night(d, |n| {
                n.woke_from_pain = true;
                n.position = Some(position.to_owned());
                n.pillow_between_knees = pillow;
                n.pillow_under_knees = pillow;
                n.pillow_under_hips = pillow;
            })
        };
        let cases = [
            ("stomach", false, "stomach"),
            ("side", false, "side_knees"),
            ("back", false, "back_knees"),
            ("side", true, "warmth"),
            ("back", true, "warmth"),
            ("mixed", false, "warmth"),
        ];
        for (position, pillow, tip) in cases {
            let f = facts(vec![
                woke(9, "back", false),
                woke(12, "back", false),
                woke(14, position, pillow),
            ]);
            assert_eq!(kinds(&f), [("sleep_tip", tip.to_owned())], "{position}");
        }
        // Two nights in seven are not enough; the third is 8 days back.
        let f = facts(vec![
            woke(8, "back", false),
            woke(12, "back", false),
            woke(14, "back", false),
        ]);
        assert!(kinds(&f).is_empty());
    }

    #[test]
    fn pt_referral_from_not_improving_or_most_nights() {
        let mut f = facts(vec![]);
        f.not_improving = true;
        assert_eq!(kinds(&f), [("pt_referral", String::new())]);
        let woke = |d| night(d, |n| n.woke_from_pain = true);
        // 8 of 14 nights wake the patient (spread out: no tip).
        let f = facts([2, 3, 4, 5, 6, 7, 9, 15].map(woke).to_vec());
        assert!(kinds(&f).contains(&("pt_referral", String::new())));
        let f = facts([2, 3, 4, 5, 6, 7, 9].map(woke).to_vec());
        assert!(!kinds(&f).contains(&("pt_referral", String::new())));
    }

    #[test]
    fn adherence_after_49_hours_without_a_session() {
        let at = |s: &str| Some(s.parse::<Timestamp>().unwrap());
        let mut f = facts(vec![]);
        f.plan_since = at("2026-06-01T00:00:00Z");
        f.last_session = at("2026-06-13T11:00:00Z"); // 49 h ago
        assert_eq!(kinds(&f), [("adherence_nudge", String::new())]);
        f.last_session = at("2026-06-13T11:00:01Z");
        assert!(kinds(&f).is_empty());
        // A plan given yesterday is not yet neglected.
        f.plan_since = at("2026-06-14T12:00:00Z");
        f.last_session = None;
        assert!(kinds(&f).is_empty());
        f.plan_since = None;
        assert!(kinds(&f).is_empty(), "no plan, no nudge");
    }

    #[test]
    fn repeat_limits() {
        let f = {
            let mut f = facts(vec![]);
            f.not_improving = true;
            f
        };
        let referral = &due(&f, now(), Limits::default())[0];
        let days_ago = |d: i32| now().checked_sub(DAY * d).ok();
        assert!(may_repeat(referral, None, now()));
        assert!(!may_repeat(referral, days_ago(29), now()));
        assert!(may_repeat(referral, days_ago(30), now()));
    }
}
