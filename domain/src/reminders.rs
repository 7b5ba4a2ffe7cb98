//! When an evening reminder fires, in the patient's own time zone (jiff).
//!
//! An occurrence is identified by its local date; its instant is derived
//! from the date, never the other way round. A local time that does not
//! exist on a date (a DST gap) fires at the first instant after the gap —
//! the transition itself, so 02:30 on a night that jumps from 02:00 to
//! 03:00 fires at 03:00; a time that happens twice (a fold) fires once, at
//! its first instance.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The default evening stretch time when neither plan nor profile sets one.
pub const DEFAULT_REMINDER_TIME: &str = "21:00";

/// `HH:MM` as a local time of day.
pub fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    let two_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// The instant `at` on local `date` in `tz`: in a gap, the first instant
/// after it (the transition); in a fold, the first instance.
pub fn fire_on(tz: &TimeZone, date: Date, at: Time) -> Result<Timestamp, jiff::Error> {
    let ambiguous = tz.to_ambiguous_timestamp(date.to_datetime(at));
    let shifted = ambiguous.compatible()?;
    if !matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. }) {
        return Ok(shifted);
    }
    // `compatible` moves a time in a gap forward by the gap's length; the
    // gap itself ends at the last transition before that instant.
    Ok(tz
        .preceding(shifted.checked_add(jiff::SignedDuration::from_nanos(1))?)
        .next()
        .map_or(shifted, |transition| transition.timestamp()))
}

/// The next occurrence strictly after `after`, on `not_before` or later:
/// its local date and instant.
///
/// `not_before` is the day after the last occurrence that already
/// happened, so a reminder moved later on a day it already fired does not
/// fire twice that day.
pub fn next_fire(
    tz: &TimeZone,
    at: Time,
    after: Timestamp,
    not_before: Option<Date>,
) -> Result<(Date, Timestamp), jiff::Error> {
    let today = after.to_zoned_datetime(tz.clone()).date();
    let mut date = match not_before {
        Some(first) if first > today => first,
        _ => today,
    };
    // A DST change moves an instant by hours, never by a day, so this ends
    // within two iterations; the bound only guards against bad zone data.
    for _ in 0..4 {
        let instant = fire_on(tz, date, at)?;
        if instant > after {
            return Ok((date, instant));
        }
        date = date.tomorrow()?;
    }
    Err(jiff::Error::from_args(format_args!(
        "no occurrence of {at} in {} after {after}",
        tz.iana_name().unwrap_or("the zone")
    )))
}

/// A patient's quiet hours, local wall-clock times; `start == end` is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// When quiet starts.
    pub start: Time,
    /// When it ends (may be on the next day: 22:00–07:00).
    pub end: Time,
}

impl QuietHours {
    /// From the profile's two `HH:MM` columns; absent when either is unset.
    pub fn parse(start: Option<&str>, end: Option<&str>) -> Option<QuietHours> {
        Some(QuietHours {
            start: parse_time(start?)?,
            end: parse_time(end?)?,
        })
    }

    /// Whether local time `t` is inside: `[start, end)`, across midnight
    /// when `end` is earlier than `start`.
    pub fn contains(&self, t: Time) -> bool {
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => self.start <= t && t < self.end,
            std::cmp::Ordering::Greater => t >= self.start || t < self.end,
        }
    }

    /// Whether the instant `now` is inside, in `tz`.
    pub fn contains_instant(&self, tz: &TimeZone, now: Timestamp) -> bool {
        self.contains(now.to_zoned_datetime(tz.clone()).time())
    }
}

/// The last instant an occurrence may still be sent late: the earliest of
/// its due instant plus `grace`, the start of the patient's next local day,
/// and the next start of quiet hours after it is due. A stretch reminder
/// delivered the next morning has no value.
pub fn expires_at(
    tz: &TimeZone,
    date: Date,
    due: Timestamp,
    grace: SignedDuration,
    quiet: Option<QuietHours>,
) -> Result<Timestamp, jiff::Error> {
    let mut end = due.checked_add(grace)?;
    // The midnight after the day it fires on: normally `date`, but a time
    // in a gap that ends at midnight fires at the start of the next day.
    let fires_on = due.to_zoned_datetime(tz.clone()).date().max(date);
    let midnight = tz
        .to_ambiguous_timestamp(fires_on.tomorrow()?.to_datetime(Time::midnight()))
        .compatible()?;
    end = end.min(midnight);
    if let Some(quiet) = quiet
        && quiet.start != quiet.end
    {
        // The first quiet start strictly after `due`.
        let (_, quiet_start) = next_fire(tz, quiet.start, due, None)?;
        end = end.min(quiet_start);
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    #[test]
    fn parses_hh_mm_only() {
        assert_eq!(parse_time("21:00"), Some(Time::constant(21, 0, 0, 0)));
        assert_eq!(parse_time("00:05"), Some(Time::constant(0, 5, 0, 0)));
        for bad in [
            "24:00", "9:00", "21:60", "21-00", "", "21:00:00", "ab:cd", "+1:30", "07:-0",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    /// The cases the design notes list, each with the instant it must fire.
    #[test]
    fn evening_gaps_and_folds() {
        let cases = [
            // zone, local time, search from, expected date, expected instant
            (
                "America/New_York",
                "02:30",
                "2026-03-08T05:00:00Z",
                date(2026, 3, 8),
                "2026-03-08T07:00:00Z", // gap: 03:00 EDT, when it ends
            ),
            (
                "America/New_York",
                "01:30",
                "2026-11-01T04:00:00Z",
                date(2026, 11, 1),
                "2026-11-01T05:30:00Z", // fold: the first 01:30 (EDT)
            ),
            (
                "Pacific/Easter",
                "22:30",
                "2026-09-05T12:00:00Z",
                date(2026, 9, 5),
                "2026-09-06T04:00:00Z", // gap: 23:00 -05, when it ends
            ),
            (
                "America/Santiago",
                "00:15",
                "2026-09-05T12:00:00Z",
                date(2026, 9, 6),
                "2026-09-06T04:00:00Z", // gap: 01:00 -03, when it ends
            ),
            (
                "Europe/Berlin",
                "20:00",
                "2026-03-29T00:00:00Z",
                date(2026, 3, 29),
                "2026-03-29T18:00:00Z", // summer time from that day
            ),
        ];
        for (zone, at, from, want_date, want_at) in cases {
            let (d, instant) = next_fire(&tz(zone), parse_time(at).unwrap(), ts(from), None)
                .unwrap_or_else(|e| panic!("{zone}: {e}"));
            assert_eq!((d, instant), (want_date, ts(want_at)), "{zone} {at}");
        }
    }

    #[test]
    fn not_before_skips_a_day_that_already_fired() {
        let ny = tz("America/New_York");
        let at = parse_time("22:00").unwrap();
        let now = ts("2026-06-01T23:00:00Z"); // 19:00 local
        let (d, _) = next_fire(&ny, at, now, None).unwrap();
        assert_eq!(d, date(2026, 6, 1));
        let (d, i) = next_fire(&ny, at, now, Some(date(2026, 6, 2))).unwrap();
        assert_eq!((d, i), (date(2026, 6, 2), ts("2026-06-03T02:00:00Z")));
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let t = |h, m| Time::constant(h, m, 0, 0);
        let night = QuietHours::parse(Some("22:00"), Some("07:00")).unwrap();
        assert!(night.contains(t(22, 0)));
        assert!(night.contains(t(3, 0)));
        assert!(!night.contains(t(7, 0)));
        assert!(!night.contains(t(21, 59)));
        let day = QuietHours::parse(Some("13:00"), Some("14:00")).unwrap();
        assert!(day.contains(t(13, 30)));
        assert!(!day.contains(t(14, 0)));
        let none = QuietHours::parse(Some("10:00"), Some("10:00")).unwrap();
        assert!(!none.contains(t(10, 0)));
        assert_eq!(QuietHours::parse(None, Some("10:00")), None);
    }

    #[test]
    fn expiry_is_the_earliest_of_grace_midnight_and_quiet() {
        let berlin = tz("Europe/Berlin");
        let d = date(2026, 6, 1);
        let due = fire_on(&berlin, d, parse_time("21:00").unwrap()).unwrap();
        let grace = SignedDuration::from_hours(2);
        assert_eq!(
            expires_at(&berlin, d, due, grace, None).unwrap(),
            ts("2026-06-01T21:00:00Z"), // 23:00 local
        );
        let late = fire_on(&berlin, d, parse_time("23:15").unwrap()).unwrap();
        assert_eq!(
            expires_at(&berlin, d, late, grace, None).unwrap(),
            ts("2026-06-01T22:00:00Z"), // midnight local
        );
        let quiet = QuietHours::parse(Some("22:00"), Some("07:00"));
        assert_eq!(
            expires_at(&berlin, d, due, grace, quiet).unwrap(),
            ts("2026-06-01T20:00:00Z"), // 22:00 local
        );
    }

    #[test]
    fn a_time_swallowed_by_a_gap_at_midnight_fires_then_and_may_be_late() {
        // On 2026-03-28 America/Nuuk skips 23:00-24:00: 23:00 fires at
        // midnight, on the next local date, and grace still applies.
        let nuuk = tz("America/Nuuk");
        let d = date(2026, 3, 28);
        let due = fire_on(&nuuk, d, parse_time("23:00").unwrap()).unwrap();
        let local = due.to_zoned_datetime(nuuk.clone());
        assert_eq!(
            (local.date(), local.time()),
            (date(2026, 3, 29), Time::midnight())
        );
        let grace = SignedDuration::from_hours(2);
        let expires = expires_at(&nuuk, d, due, grace, None).unwrap();
        assert_eq!(expires, due.checked_add(grace).unwrap());
    }

    /// Zones whose DST changes fall in the evening or around midnight.
    const ZONES: &[&str] = &[
        "America/New_York",
        "Europe/Berlin",
        "Europe/London",
        "Pacific/Easter",
        "America/Santiago",
        "Africa/Cairo",
        "Asia/Beirut",
        "America/Nuuk",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/Havana",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Over two years from any start: exactly one occurrence per local
        /// date, instants strictly increasing, and the local clock showing
        /// the requested time except on a day it does not exist, where it
        /// is moved forward by the gap.
        #[test]
        fn one_occurrence_per_local_date(
            zone in prop::sample::select(ZONES),
            quarter in 0i8..96,
            start_day in 0i64..730,
            start_minute in 0i64..1440,
        ) {
            let tz = tz(zone);
            let at = Time::new(quarter / 4, (quarter % 4) * 15, 0, 0).unwrap();
            let mut now = ts("2025-06-01T00:00:00Z")
                .checked_add(SignedDuration::from_mins(start_day * 1440 + start_minute))
                .unwrap();
            let mut last: Option<(Date, Timestamp)> = None;
            for _ in 0..800 {
                let (d, instant) = next_fire(&tz, at, now, last.map(|(d, _)| d.tomorrow().unwrap())).unwrap();
                if let Some((prev_d, prev_i)) = last {
                    prop_assert_eq!(d, prev_d.tomorrow().unwrap(), "a date skipped or repeated");
                    prop_assert!(instant > prev_i, "instants not increasing");
                }
                let local = instant.to_zoned_datetime(tz.clone());
                let wanted = tz.to_ambiguous_timestamp(d.to_datetime(at));
                if wanted.unambiguous().is_ok() || matches!(wanted.offset(), jiff::tz::AmbiguousOffset::Fold { .. }) {
                    // Exists (once or twice): the clock reads the time on
                    // that date, at the first instance.
                    prop_assert_eq!(local.date(), d);
                    prop_assert_eq!(local.time(), at);
                    prop_assert_eq!(instant, wanted.earlier().unwrap());
                } else {
                    // A gap: the first instant after it, which is a
                    // transition whose local clock reads later than asked
                    // (possibly the next day: America/Nuuk skips
                    // 23:00-24:00), and no later than the gap's length.
                    let jiff::tz::AmbiguousOffset::Gap { before, after } = wanted.offset() else {
                        unreachable!()
                    };
                    let transition = tz.preceding(instant.checked_add(SignedDuration::from_nanos(1)).unwrap()).next().unwrap();
                    prop_assert_eq!(transition.timestamp(), instant);
                    prop_assert!(local.datetime() > d.to_datetime(at));
                    let latest = d.to_datetime(at).checked_add(after.duration_since(before)).unwrap();
                    prop_assert!(local.datetime() <= latest);
                }
                last = Some((d, instant));
                now = instant; // the worker fired it
            }
        }
    }
}
