//! Local dates in the patient's own time zone (jiff), so a day, a night and
//! a DST change mean what they mean to the patient.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Longest date range a report covers.
pub const MAX_RANGE_DAYS: i32 = 366;

/// The patient's zone; unknown or missing names fall back to UTC (profiles
/// are validated on the way in, so this is only for patients without one).
pub fn zone(name: Option<&str>) -> TimeZone {
    name.and_then(|n| TimeZone::get(n).ok())
        .unwrap_or(TimeZone::UTC)
}

/// The local date of an instant (milliseconds since the epoch).
pub fn local_date(ms: i64, tz: &TimeZone) -> Option<Date> {
    Some(
        Timestamp::from_millisecond(ms)
            .ok()?
            .to_zoned_datetime(tz.clone())
            .date(),
    )
}

/// The night an instant belongs to: a night runs from noon to noon, local
/// civil time, so 03:00 on the 21st is the night of the 20th.
pub fn night_of(ms: i64, tz: &TimeZone) -> Option<Date> {
    let local = Timestamp::from_millisecond(ms)
        .ok()?
        .to_zoned_datetime(tz.clone())
        .datetime();
    local
        .checked_sub(SignedDuration::from_hours(12))
        .ok()
        .map(|d| d.date())
}

/// When night `date` begins: noon of that date, local civil time, as
/// milliseconds since the epoch. (Noon in a gap resolves later, never
/// earlier.)
pub fn night_start(date: Date, tz: &TimeZone) -> Option<i64> {
    let noon = tz
        .to_ambiguous_timestamp(date.at(12, 0, 0, 0))
        .later()
        .ok()?;
    Some(noon.as_millisecond())
}

/// Instants within one UTC quarter hour always belong to the same night.
/// Every zone's offset, and every change of it, falls on a whole quarter
/// hour, so a local noon (where one night ends and the next begins) is
/// always the edge of a UTC quarter hour. One instant per quarter hour
/// therefore stands for all of them when only nights matter.
pub const NIGHT_BUCKET_MS: i64 = 15 * 60 * 1000;

/// `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    (s.len() == 10).then(|| s.parse().ok()).flatten()
}

/// Every date from `from` to `to`, inclusive; refused when reversed or
/// longer than [`MAX_RANGE_DAYS`].
pub fn days(from: Date, to: Date) -> Result<Vec<Date>, String> {
    if to < from {
        return Err("`to` must not be before `from`".into());
    }
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        if out.len() >= MAX_RANGE_DAYS as usize {
            return Err(format!("a range covers at most {MAX_RANGE_DAYS} days"));
        }
        out.push(day);
        day = day.tomorrow().map_err(|_| "date out of range".to_owned())?;
    }
    Ok(out)
}

/// The first instant of a local date, in milliseconds (a date starting in a
/// DST gap starts when the gap ends).
pub fn start_of(date: Date, tz: &TimeZone) -> Option<i64> {
    date.to_zoned_datetime(tz.clone())
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn local_dates_follow_the_zone_across_the_autumn_change() {
        let ny = zone(Some("America/New_York"));
        // 2026-11-01 01:30 happens twice in New York; both are Nov 1.
        let cases = [
            ("2026-11-01T05:30:00Z", date(2026, 11, 1)),  // 01:30 EDT
            ("2026-11-01T06:30:00Z", date(2026, 11, 1)),  // 01:30 EST
            ("2026-11-02T04:30:00Z", date(2026, 11, 1)),  // 23:30 EST
            ("2026-11-01T03:30:00Z", date(2026, 10, 31)), // 23:30 EDT
        ];
        for (instant, expected) in cases {
            assert_eq!(local_date(ms(instant), &ny), Some(expected), "{instant}");
        }
    }

    #[test]
    fn a_night_runs_from_noon_to_noon() {
        let berlin = zone(Some("Europe/Berlin"));
        let cases = [
            ("2026-03-28T23:00:00Z", date(2026, 3, 28)), // 00:00 CET on the 29th
            ("2026-03-29T02:30:00Z", date(2026, 3, 28)), // 04:30 CEST, after the spring gap
            ("2026-03-29T09:59:00Z", date(2026, 3, 28)), // 11:59 CEST
            ("2026-03-29T10:00:00Z", date(2026, 3, 29)), // 12:00 CEST
        ];
        for (instant, expected) in cases {
            assert_eq!(night_of(ms(instant), &berlin), Some(expected), "{instant}");
        }
    }

    #[test]
    fn ranges_are_inclusive_and_bounded() {
        assert_eq!(days(date(2026, 1, 30), date(2026, 2, 2)).unwrap().len(), 4);
        assert!(days(date(2026, 2, 2), date(2026, 1, 30)).is_err());
        assert!(days(date(2026, 1, 1), date(2027, 12, 31)).is_err());
        assert_eq!(zone(Some("Nowhere/Atlantis")), TimeZone::UTC);
        assert_eq!(parse_date("2026-2-1"), None);
    }

    #[test]
    fn a_night_starts_at_local_noon() {
        let ny = zone(Some("America/New_York"));
        let start = night_start(date(2026, 11, 1), &ny).unwrap();
        assert_eq!(start, ms("2026-11-01T17:00:00Z"));
        assert_eq!(night_of(start, &ny), Some(date(2026, 11, 1)));
        assert_eq!(night_of(start - 1, &ny), Some(date(2026, 10, 31)));
    }

    proptest::proptest! {
        /// Every instant of a UTC quarter hour is in the night of the
        /// quarter hour's start, in zones with half- and three-quarter-hour
        /// offsets and half-hour DST changes too.
        #[test]
        fn a_quarter_hour_lies_within_one_night(
            at in 1_577_836_800_000_i64..1_893_456_000_000,
            zone_name in proptest::sample::select(&[
                "America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu",
                "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns",
                "Australia/Eucla", "Asia/Tehran", "Pacific/Marquesas", "America/Havana",
            ][..]),
        ) {
            let tz = zone(Some(zone_name));
            let start = at - at.rem_euclid(NIGHT_BUCKET_MS);
            proptest::prop_assert_eq!(night_of(at, &tz), night_of(start, &tz));
        }
    }
}
