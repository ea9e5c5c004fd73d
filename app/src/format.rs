//! Small formatting helpers shared by server and browser rendering.

use domain::{Availability, Reason};

/// Human label of an availability.
pub fn availability_label(a: Availability) -> &'static str {
    match a {
        Availability::Idle => "Idle — bay free",
        Availability::Busy(Reason::Charging) => "Charging",
        Availability::Busy(Reason::Reserved) => "Reserved",
        Availability::Busy(Reason::Blocked) => "Blocked — bay occupied",
        Availability::Busy(Reason::Stale) => "Sensor silent",
        Availability::Busy(Reason::Faulted) => "Faulted",
        Availability::Busy(Reason::Offline) => "Offline",
        Availability::Busy(Reason::Disabled) => "Disabled",
    }
}

/// "seen 20 s ago" style age of a reading.
pub fn age(now_ms: i64, at_ms: Option<i64>) -> String {
    let Some(at) = at_ms else {
        return "never heard".into();
    };
    let secs = ((now_ms - at) / 1000).max(0);
    match secs {
        0..=59 => format!("bay seen {secs} s ago"),
        60..=3599 => format!("bay seen {} min ago", secs / 60),
        _ => format!("bay seen {} h ago", secs / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(100_000, Some(80_000)), "bay seen 20 s ago");
        assert_eq!(age(1_000_000, Some(700_000)), "bay seen 5 min ago");
        assert_eq!(age(10_000_000, Some(0)), "bay seen 2 h ago");
        assert_eq!(age(0, None), "never heard");
        assert_eq!(age(0, Some(5_000)), "bay seen 0 s ago");
    }

    #[test]
    fn every_reason_has_a_label() {
        for r in Reason::ALL {
            assert!(!availability_label(Availability::Busy(r)).is_empty());
        }
    }
}
