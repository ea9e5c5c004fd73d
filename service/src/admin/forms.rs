//! The admin forms' raw input (as typed) and its validation into store values. Errors name
//! the field and a code the UI translates (`required`, `too_long`, `number`, `range`,
//! `timezone`, `connector`, `code_format`, `sensor`, `taken`, `unknown_site`, ...).

use crate::ServiceError;
use domain::{geo::LatLon, ConnectorType, SiteId};
use store::{
    piles::NewPile,
    sites::{NewSite, SitePolicy},
};

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field (or CSV column).
    pub field: String,
    /// What is wrong, as a code.
    pub code: String,
}

impl FieldError {
    /// `field` is wrong because of `code`.
    pub fn new(field: &str, code: &str) -> Self {
        FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
        }
    }
}

/// A form that could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// Some fields are invalid.
    #[error("invalid fields: {0:?}")]
    Fields(Vec<FieldError>),
    /// Anything else.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A site form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteInput {
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Latitude, decimal degrees.
    pub lat: String,
    /// Longitude, decimal degrees.
    pub lon: String,
    /// IANA timezone (`Asia/Shanghai`, `UTC`).
    pub timezone: String,
    /// Hold time, seconds.
    pub hold_secs: String,
    /// Arrival grace, seconds.
    pub grace_secs: String,
    /// Sensor freshness limit, seconds (empty: derived from each pile's heartbeat).
    pub freshness_secs: String,
    /// Whether drivers may reserve here.
    pub reservations_allowed: bool,
}

/// A pile form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PileInput {
    /// Site id.
    pub site: String,
    /// Operator code (only used when creating).
    pub code: String,
    /// Connector (`CCS2`, `Type2`, `GBT`, `CHAdeMO`).
    pub connector: String,
    /// Maximum power, kW.
    pub max_kw: String,
    /// Tariff text.
    pub price_text: String,
    /// Heartbeat, seconds (empty: 60).
    pub heartbeat_secs: String,
    /// Bay sensor kind (empty: magnetometer).
    pub sensor: String,
}

/// Continents and oceans of the IANA timezone database.
const TZ_AREAS: [&str; 10] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// Whether `tz` looks like an IANA timezone name (`UTC`, `Etc/GMT+8`, `Asia/Shanghai`,
/// `America/Argentina/Buenos_Aires`).
pub fn valid_timezone(tz: &str) -> bool {
    if tz == "UTC" {
        return true;
    }
    let mut parts = tz.split('/');
    let area = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    (TZ_AREAS.contains(&area) || area == "Etc")
        && !rest.is_empty()
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 30
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

/// Collects field errors while parsing.
#[derive(Default)]
struct Check(Vec<FieldError>);

impl Check {
    fn fail(&mut self, field: &str, code: &str) {
        self.0.push(FieldError::new(field, code));
    }

    fn text(&mut self, field: &str, v: &str, max: usize, required: bool) -> String {
        let v = v.trim();
        if required && v.is_empty() {
            self.fail(field, "required");
        } else if v.chars().count() > max {
            self.fail(field, "too_long");
        }
        v.to_owned()
    }

    fn number(&mut self, field: &str, v: &str, min: f64, max: f64) -> Option<f64> {
        let v = v.trim();
        if v.is_empty() {
            self.fail(field, "required");
            return None;
        }
        match v.parse::<f64>() {
            Ok(n) if !n.is_finite() => {
                self.fail(field, "number");
                None
            }
            Ok(n) if n < min || n > max => {
                self.fail(field, "range");
                None
            }
            Ok(n) => Some(n),
            Err(_) => {
                self.fail(field, "number");
                None
            }
        }
    }

    fn whole(&mut self, field: &str, v: &str, min: i64, max: i64, default: i64) -> Option<i64> {
        let v = v.trim();
        if v.is_empty() {
            return Some(default);
        }
        match v.parse::<i64>() {
            Ok(n) if n < min || n > max => {
                self.fail(field, "range");
                None
            }
            Ok(n) => Some(n),
            Err(_) => {
                self.fail(field, "number");
                None
            }
        }
    }

    fn done<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => Err(self.0),
        }
    }
}

impl SiteInput {
    /// The site to store, or every field that is wrong.
    pub fn validate(&self) -> Result<NewSite, FormError> {
        self.parse().map_err(FormError::Fields)
    }

    pub(crate) fn parse(&self) -> Result<NewSite, Vec<FieldError>> {
        let mut c = Check::default();
        let name = c.text("name", &self.name, 100, true);
        let address = c.text("address", &self.address, 200, true);
        let lat = c.number("lat", &self.lat, -90.0, 90.0);
        let lon = c.number("lon", &self.lon, -180.0, 180.0);
        let timezone = self.timezone.trim();
        let timezone = if timezone.is_empty() { "UTC" } else { timezone };
        if !valid_timezone(timezone) {
            c.fail("timezone", "timezone");
        }
        let hold = c.whole("hold_secs", &self.hold_secs, 60, 86_400, 900);
        let grace = c.whole("grace_secs", &self.grace_secs, 0, 3_600, 120);
        let freshness = if self.freshness_secs.trim().is_empty() {
            Some(None)
        } else {
            c.whole("freshness_secs", &self.freshness_secs, 5, 86_400, 0)
                .map(Some)
        };
        let position = match (lat, lon) {
            (Some(lat), Some(lon)) => LatLon::new(lat, lon).ok(),
            _ => None,
        };
        let site = match (position, hold, grace, freshness) {
            (Some(position), Some(hold_secs), Some(grace_secs), Some(freshness_secs)) => {
                Some(NewSite {
                    name,
                    address,
                    position,
                    timezone: timezone.to_owned(),
                    policy: SitePolicy {
                        hold_secs,
                        grace_secs,
                        freshness_secs,
                        reservations_allowed: self.reservations_allowed,
                    },
                })
            }
            _ => None,
        };
        c.done(site)
    }
}

/// Whether `code` is a valid pile code: 1–40 of letters, digits, `-`, `_`, `.`.
pub fn valid_pile_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 40
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl PileInput {
    /// The pile to store, or every field that is wrong. `creating` checks the code too.
    pub fn validate(&self, creating: bool) -> Result<NewPile, FormError> {
        let site = match self.site.trim().parse::<i64>() {
            Ok(id) => Some(SiteId(id)),
            Err(_) => None,
        };
        let mut errors = Vec::new();
        if site.is_none() {
            errors.push(FieldError::new("site", "required"));
        }
        match self.parse(site.unwrap_or(SiteId(0)), creating) {
            Ok(p) if errors.is_empty() => Ok(p),
            Ok(_) => Err(FormError::Fields(errors)),
            Err(mut e) => {
                errors.append(&mut e);
                Err(FormError::Fields(errors))
            }
        }
    }

    pub(crate) fn parse(&self, site: SiteId, creating: bool) -> Result<NewPile, Vec<FieldError>> {
        let mut c = Check::default();
        let code = self.code.trim().to_owned();
        if creating && code.is_empty() {
            c.fail("code", "required");
        } else if creating && !valid_pile_code(&code) {
            c.fail("code", "code_format");
        }
        let connector = match self.connector.trim().parse::<ConnectorType>() {
            Ok(k) => Some(k),
            Err(_) => {
                c.fail("connector", "connector");
                None
            }
        };
        let max_kw = c.number("max_kw", &self.max_kw, 0.1, 1000.0);
        let price_text = c.text("price_text", &self.price_text, 100, false);
        let heartbeat_secs = c.whole("heartbeat_secs", &self.heartbeat_secs, 5, 3_600, 60);
        let sensor = match self.sensor.trim() {
            "" => "magnetometer".to_owned(),
            s if s.len() <= 30 && s.chars().all(|c| c.is_ascii_lowercase() || c == '_') => {
                s.to_owned()
            }
            _ => {
                c.fail("sensor", "sensor");
                String::new()
            }
        };
        let pile = match (connector, max_kw, heartbeat_secs) {
            (Some(connector), Some(max_kw), Some(heartbeat_secs)) => Some(NewPile {
                site,
                code,
                connector,
                max_kw,
                price_text,
                heartbeat_secs,
                sensor,
            }),
            _ => None,
        };
        c.done(pile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SiteInput {
        SiteInput {
            name: "Depot".into(),
            address: "1 Road".into(),
            lat: "22.5".into(),
            lon: "114.05".into(),
            timezone: "Asia/Shanghai".into(),
            reservations_allowed: true,
            ..SiteInput::default()
        }
    }

    #[test]
    fn a_good_site_takes_defaults() {
        let s = site().parse().expect("valid");
        assert_eq!(s.policy.hold_secs, 900);
        assert_eq!(s.policy.grace_secs, 120);
        assert_eq!(s.policy.freshness_secs, None);
    }

    #[test]
    fn bad_site_fields_are_all_named() {
        let s = SiteInput {
            name: " ".into(),
            lat: "91".into(),
            lon: "east".into(),
            timezone: "Mars/Olympus".into(),
            hold_secs: "5".into(),
            freshness_secs: "x".into(),
            ..site()
        };
        let errs = s.parse().expect_err("invalid");
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("name", "required"),
                ("lat", "range"),
                ("lon", "number"),
                ("timezone", "timezone"),
                ("hold_secs", "range"),
                ("freshness_secs", "number"),
            ]
        );
    }

    #[test]
    fn timezones() {
        for ok in [
            "UTC",
            "Asia/Shanghai",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+8",
        ] {
            assert!(valid_timezone(ok), "{ok}");
        }
        for bad in ["", "Asia", "Mars/Base", "Asia/Shang hai", "asia/shanghai"] {
            assert!(!valid_timezone(bad), "{bad}");
        }
    }

    #[test]
    fn pile_fields() {
        let p = PileInput {
            site: "3".into(),
            code: "A-1".into(),
            connector: "ccs2".into(),
            max_kw: "120".into(),
            ..PileInput::default()
        };
        let n = p.validate(true).expect("valid");
        assert_eq!(n.connector, ConnectorType::Ccs2);
        assert_eq!((n.heartbeat_secs, n.sensor.as_str()), (60, "magnetometer"));
        let bad = PileInput {
            site: "x".into(),
            code: "has space".into(),
            connector: "Tesla".into(),
            max_kw: "0".into(),
            ..PileInput::default()
        };
        let Err(FormError::Fields(errs)) = bad.validate(true) else {
            panic!("invalid expected")
        };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["site", "code", "connector", "max_kw"]);
    }
}
