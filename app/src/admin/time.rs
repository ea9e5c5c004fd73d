//! Times the admin pages read and write: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (what a
//! `datetime-local` input gives) in UTC+8, the operator's zone, like every time the app shows.

const ZONE_MS: i64 = 8 * 3600 * 1000;

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD` (midnight) or `YYYY-MM-DDTHH:MM` (UTC+8) into unix ms.
pub fn parse_local(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, t),
        None => (s, "00:00"),
    };
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min) = (t.next()??, t.next().flatten().unwrap_or(0));
    if !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&h)
        || !(0..60).contains(&min)
        || !(1970..=9999).contains(&y)
    {
        return None;
    }
    Some((days_from_civil(y, m, day) * 86_400 + h * 3600 + min * 60) * 1000 - ZONE_MS)
}

/// `YYYY-MM-DDTHH:MM` (UTC+8) of unix ms, for a `datetime-local` input.
pub fn to_local_input(ms: i64) -> String {
    crate::format::date_time(ms).replacen(' ', "T", 1)
}

/// "3 h 5 min", "12 min", "40 s" of a duration in ms.
pub fn duration(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s / 60) % 60),
        _ => format!("{} d {} h", s / 86_400, (s / 3600) % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_input_format() {
        let ms = 1_795_593_780_000; // 2026-11-25 16:03 UTC+8
        assert_eq!(to_local_input(ms), "2026-11-25T16:03");
        assert_eq!(parse_local("2026-11-25T16:03"), Some(ms));
        assert_eq!(parse_local("2026-11-25"), Some(ms - (16 * 60 + 3) * 60_000));
        assert_eq!(parse_local("1970-01-01T08:00"), Some(0));
        assert_eq!(parse_local("2026-13-01"), None);
        assert_eq!(parse_local("yesterday"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(duration(40_000), "40 s");
        assert_eq!(duration(12 * 60_000), "12 min");
        assert_eq!(duration(3 * 3_600_000 + 5 * 60_000), "3 h 5 min");
        assert_eq!(duration(50 * 3_600_000), "2 d 2 h");
    }
}
