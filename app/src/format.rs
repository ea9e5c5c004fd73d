//! Formatting shared by server and browser rendering, in the UI language.

use crate::i18n::{Lang, T};
use domain::{Availability, Reason};

/// Replaces each `{}` in `template` with the next value.
pub fn fill(template: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut values = values.iter();
    let mut rest = template;
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        out.push_str(values.next().copied().unwrap_or(""));
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

/// The text key of an availability.
pub fn availability_text(a: Availability) -> T {
    match a {
        Availability::Idle => T::StateIdle,
        Availability::Busy(Reason::Charging) => T::StateCharging,
        Availability::Busy(Reason::Reserved) => T::StateReserved,
        Availability::Busy(Reason::Blocked) => T::StateBlocked,
        Availability::Busy(Reason::Stale) => T::StateStale,
        Availability::Busy(Reason::Faulted) => T::StateFaulted,
        Availability::Busy(Reason::Offline) => T::StateOffline,
        Availability::Busy(Reason::Disabled) => T::StateDisabled,
    }
}

/// "bay seen 20 s ago" in `lang`.
pub fn age(lang: Lang, now_ms: i64, at_ms: Option<i64>) -> String {
    let Some(at) = at_ms else {
        return T::NeverHeard.get(lang).to_owned();
    };
    let secs = ((now_ms - at) / 1000).max(0);
    match secs {
        0..=59 => fill(T::BaySeenSecs.get(lang), &[&secs.to_string()]),
        60..=3599 => fill(T::BaySeenMins.get(lang), &[&(secs / 60).to_string()]),
        _ => fill(T::BaySeenHours.get(lang), &[&(secs / 3600).to_string()]),
    }
}

/// `mm:ss` (or `h:mm:ss`) of a duration in ms, never negative.
pub fn countdown(ms: i64) -> String {
    let s = (ms.max(0) + 999) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// `HH:MM` of a unix-ms time in China Standard Time (UTC+8), the demo city's zone.
pub fn clock_time(ms: i64) -> String {
    let mins = (ms / 60_000 + 8 * 60).rem_euclid(24 * 60);
    format!("{:02}:{:02}", mins / 60, mins % 60)
}

/// `YYYY-MM-DD HH:MM` (UTC+8) of a unix-ms time.
pub fn date_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000) + 8 * 3600;
    let days = secs.div_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {}", clock_time(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders() {
        assert_eq!(fill("{} of {} idle", &["3", "10"]), "3 of 10 idle");
        assert_eq!(fill("no values", &[]), "no values");
    }

    #[test]
    fn ages_read_naturally_in_both_languages() {
        assert_eq!(age(Lang::En, 100_000, Some(80_000)), "bay seen 20 s ago");
        assert_eq!(
            age(Lang::En, 1_000_000, Some(700_000)),
            "bay seen 5 min ago"
        );
        assert_eq!(age(Lang::Zh, 100_000, Some(80_000)), "车位 20 秒前确认");
        assert_eq!(age(Lang::En, 0, None), "never heard");
    }

    #[test]
    fn countdowns_and_clock() {
        assert_eq!(countdown(61_000), "1:01");
        assert_eq!(countdown(-5), "0:00");
        assert_eq!(countdown(3_600_000), "1:00:00");
        assert_eq!(clock_time(0), "08:00");
        assert_eq!(date_time(1_795_593_821_100), "2026-11-25 16:03");
    }

    #[test]
    fn every_reason_has_a_text() {
        for r in Reason::ALL {
            assert!(!availability_text(Availability::Busy(r))
                .get(Lang::Zh)
                .is_empty());
        }
    }
}
