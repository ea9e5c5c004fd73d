//! What a driver searches for: an area (viewport, radius or anywhere), filters, and a page.
//! The store turns a validated [`SearchQuery`] into SQL; the rule that decides "idle now" stays
//! [`crate::classify`].

use crate::{geo::LatLon, pile::ConnectorType};
use serde::{Deserialize, Serialize};

/// Largest radius a search may ask for, in kilometres.
pub const MAX_RADIUS_KM: f64 = 500.0;
/// Largest page size.
pub const MAX_PER_PAGE: u32 = 100;
/// Longest free-text filter, in characters.
pub const MAX_TEXT_CHARS: usize = 100;

/// Where to search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Area {
    /// A map viewport. `west > east` means the box crosses the antimeridian.
    #[serde(rename = "bbox")]
    BBox {
        /// Southern edge (latitude, degrees).
        south: f64,
        /// Western edge (longitude, degrees).
        west: f64,
        /// Northern edge (latitude, degrees).
        north: f64,
        /// Eastern edge (longitude, degrees).
        east: f64,
    },
    /// Everything within `km` (great-circle distance) of `center`.
    Radius {
        /// Centre of the circle.
        center: LatLon,
        /// Radius in kilometres, `0 < km <= 500`.
        km: f64,
    },
    /// No area restriction.
    Anywhere,
}

impl Area {
    /// The natural distance reference of the area: the box's centre (across the antimeridian
    /// when the box crosses it) or the circle's centre; none for `Anywhere`.
    pub fn center(&self) -> Option<LatLon> {
        match *self {
            Area::BBox {
                south,
                west,
                north,
                east,
            } => {
                let width = if west <= east {
                    east - west
                } else {
                    east + 360.0 - west
                };
                let mut lon = west + width / 2.0;
                if lon > 180.0 {
                    lon -= 360.0;
                }
                Some(LatLon {
                    lat: (south + north) / 2.0,
                    lon,
                })
            }
            Area::Radius { center, .. } => Some(center),
            Area::Anywhere => None,
        }
    }
}

/// A pile search: area, distance reference, filters and the page wanted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// Where.
    pub area: Area,
    /// Distance reference for ordering and `distance_km`; defaults to the area's centre.
    pub origin: Option<LatLon>,
    /// Only piles with this connector.
    pub connector: Option<ConnectorType>,
    /// Only piles of at least this power (kW).
    pub min_kw: Option<f64>,
    /// Only piles that are idle now (by the one rule).
    pub idle_only: bool,
    /// Case-insensitive substring of the site's name or address (blank means no filter).
    pub text: Option<String>,
    /// Page number, 0-based.
    pub page: u32,
    /// Results per page, `1..=100`.
    pub per_page: u32,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            area: Area::Anywhere,
            origin: None,
            connector: None,
            min_kw: None,
            idle_only: false,
            text: None,
            page: 0,
            per_page: 20,
        }
    }
}

/// Why a search query is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    /// A latitude or longitude is not a finite number within ±90 / ±180.
    #[error("{0} is out of range: latitude must be within ±90 and longitude within ±180")]
    OutOfRange(&'static str),
    /// The box's southern edge lies north of its northern edge.
    #[error("bounding box south ({south}) must not be north of its north ({north})")]
    InvertedBox {
        /// The southern edge given.
        south: f64,
        /// The northern edge given.
        north: f64,
    },
    /// The radius is not within `0 < km <= 500`.
    #[error("radius must be more than 0 and at most {MAX_RADIUS_KM} km, got {0}")]
    Radius(f64),
    /// The page size is not within `1..=100`.
    #[error("per_page must be between 1 and {MAX_PER_PAGE}, got {0}")]
    PerPage(u32),
    /// The free text is too long.
    #[error("search text must be at most {MAX_TEXT_CHARS} characters, got {0}")]
    TextTooLong(usize),
    /// The minimum power is negative or not a number.
    #[error("minimum power must be a number of kW of 0 or more, got {0}")]
    MinKw(f64),
}

fn check_point(lat: f64, lon: f64, what: &'static str) -> Result<(), SearchError> {
    LatLon::new(lat, lon)
        .map(|_| ())
        .map_err(|_| SearchError::OutOfRange(what))
}

impl SearchQuery {
    /// Checks every bound documented on the fields.
    pub fn validate(&self) -> Result<(), SearchError> {
        match self.area {
            Area::BBox {
                south,
                west,
                north,
                east,
            } => {
                check_point(south, west, "bounding box south-west corner")?;
                check_point(north, east, "bounding box north-east corner")?;
                if south > north {
                    return Err(SearchError::InvertedBox { south, north });
                }
            }
            Area::Radius { center, km } => {
                check_point(center.lat, center.lon, "radius centre")?;
                // NaN fails the range test too.
                if !(km > 0.0 && km <= MAX_RADIUS_KM) {
                    return Err(SearchError::Radius(km));
                }
            }
            Area::Anywhere => {}
        }
        if let Some(o) = self.origin {
            check_point(o.lat, o.lon, "origin")?;
        }
        if let Some(kw) = self.min_kw {
            if !(kw.is_finite() && kw >= 0.0) {
                return Err(SearchError::MinKw(kw));
            }
        }
        if !(1..=MAX_PER_PAGE).contains(&self.per_page) {
            return Err(SearchError::PerPage(self.per_page));
        }
        if let Some(t) = &self.text {
            let n = t.chars().count();
            if n > MAX_TEXT_CHARS {
                return Err(SearchError::TextTooLong(n));
            }
        }
        Ok(())
    }

    /// The distance reference: the explicit origin, else the area's centre.
    pub fn effective_origin(&self) -> Option<LatLon> {
        self.origin.or_else(|| self.area.center())
    }

    /// The free-text filter, trimmed; `None` when absent or blank.
    pub fn text_filter(&self) -> Option<&str> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bbox(south: f64, west: f64, north: f64, east: f64) -> SearchQuery {
        SearchQuery {
            area: Area::BBox {
                south,
                west,
                north,
                east,
            },
            ..SearchQuery::default()
        }
    }

    fn radius(lat: f64, lon: f64, km: f64) -> SearchQuery {
        SearchQuery {
            area: Area::Radius {
                center: LatLon { lat, lon },
                km,
            },
            ..SearchQuery::default()
        }
    }

    #[test]
    fn valid_queries_pass() {
        assert_eq!(SearchQuery::default().validate(), Ok(()));
        assert_eq!(bbox(22.4, 113.9, 22.7, 114.2).validate(), Ok(()));
        // A box across the antimeridian, and a degenerate (point) box.
        assert_eq!(bbox(-20.0, 170.0, -10.0, -170.0).validate(), Ok(()));
        assert_eq!(bbox(1.0, 2.0, 1.0, 2.0).validate(), Ok(()));
        assert_eq!(bbox(-90.0, -180.0, 90.0, 180.0).validate(), Ok(()));
        assert_eq!(radius(22.5, 114.0, 500.0).validate(), Ok(()));
        assert_eq!(radius(22.5, 114.0, 0.001).validate(), Ok(()));
        let q = SearchQuery {
            per_page: 100,
            text: Some("é".repeat(100)),
            min_kw: Some(0.0),
            origin: Some(LatLon { lat: 0.0, lon: 0.0 }),
            ..SearchQuery::default()
        };
        assert_eq!(q.validate(), Ok(()));
    }

    #[test]
    fn coordinates_out_of_range_are_refused() {
        for q in [
            bbox(-91.0, 0.0, 0.0, 1.0),
            bbox(0.0, -181.0, 1.0, 1.0),
            bbox(0.0, 0.0, 90.5, 1.0),
            bbox(0.0, 0.0, 1.0, 180.5),
            bbox(f64::NAN, 0.0, 1.0, 1.0),
            bbox(0.0, 0.0, 1.0, f64::INFINITY),
            radius(95.0, 0.0, 1.0),
            radius(0.0, f64::NAN, 1.0),
        ] {
            assert!(
                matches!(q.validate(), Err(SearchError::OutOfRange(_))),
                "{q:?}"
            );
        }
        let q = SearchQuery {
            origin: Some(LatLon {
                lat: 0.0,
                lon: 200.0,
            }),
            ..SearchQuery::default()
        };
        assert_eq!(q.validate(), Err(SearchError::OutOfRange("origin")));
        assert!(q
            .validate()
            .expect_err("invalid")
            .to_string()
            .contains("origin is out of range"));
    }

    #[test]
    fn inverted_box_is_refused() {
        let err = bbox(23.0, 113.0, 22.0, 114.0).validate();
        assert_eq!(
            err,
            Err(SearchError::InvertedBox {
                south: 23.0,
                north: 22.0
            })
        );
        assert_eq!(
            err.expect_err("inverted").to_string(),
            "bounding box south (23) must not be north of its north (22)"
        );
    }

    #[test]
    fn radius_bounds() {
        for km in [0.0, -1.0, 500.01, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(radius(0.0, 0.0, km).validate(), Err(SearchError::Radius(_))),
                "{km}"
            );
        }
        assert_eq!(
            radius(0.0, 0.0, 600.0)
                .validate()
                .expect_err("too big")
                .to_string(),
            "radius must be more than 0 and at most 500 km, got 600"
        );
    }

    #[test]
    fn page_size_bounds() {
        for per_page in [0, 101, u32::MAX] {
            let q = SearchQuery {
                per_page,
                ..SearchQuery::default()
            };
            assert_eq!(q.validate(), Err(SearchError::PerPage(per_page)));
        }
        let q = SearchQuery {
            per_page: 1,
            page: u32::MAX,
            ..SearchQuery::default()
        };
        assert_eq!(q.validate(), Ok(()));
        assert!(SearchError::PerPage(0)
            .to_string()
            .contains("between 1 and 100"));
    }

    #[test]
    fn text_length_counts_characters() {
        let q = SearchQuery {
            text: Some("深".repeat(101)),
            ..SearchQuery::default()
        };
        assert_eq!(q.validate(), Err(SearchError::TextTooLong(101)));
        let q = SearchQuery {
            text: Some("   ".into()),
            ..SearchQuery::default()
        };
        assert_eq!(q.text_filter(), None);
        let q = SearchQuery {
            text: Some("  Futian ".into()),
            ..SearchQuery::default()
        };
        assert_eq!(q.text_filter(), Some("Futian"));
    }

    #[test]
    fn min_kw_must_be_a_non_negative_number() {
        for kw in [-1.0, f64::NAN, f64::INFINITY] {
            let q = SearchQuery {
                min_kw: Some(kw),
                ..SearchQuery::default()
            };
            assert!(matches!(q.validate(), Err(SearchError::MinKw(_))), "{kw}");
        }
    }

    #[test]
    fn origin_defaults_to_the_area_centre() {
        let c = bbox(22.0, 113.0, 23.0, 115.0)
            .effective_origin()
            .expect("centre");
        assert!((c.lat - 22.5).abs() < 1e-12 && (c.lon - 114.0).abs() < 1e-12);
        // Across the antimeridian: 170E..170W is centred on 180.
        let c = bbox(-1.0, 170.0, 1.0, -170.0)
            .effective_origin()
            .expect("centre");
        assert!((c.lon.abs() - 180.0).abs() < 1e-12, "{c:?}");
        let c = bbox(-1.0, 160.0, 1.0, -170.0)
            .effective_origin()
            .expect("centre");
        assert!((c.lon - 175.0).abs() < 1e-12, "{c:?}");
        assert_eq!(
            radius(1.0, 2.0, 3.0).effective_origin(),
            Some(LatLon { lat: 1.0, lon: 2.0 })
        );
        assert_eq!(SearchQuery::default().effective_origin(), None);
        let o = LatLon { lat: 5.0, lon: 6.0 };
        let q = SearchQuery {
            origin: Some(o),
            ..bbox(0.0, 0.0, 1.0, 1.0)
        };
        assert_eq!(q.effective_origin(), Some(o));
    }

    #[test]
    fn query_round_trips_through_json() {
        let q = SearchQuery {
            connector: Some(ConnectorType::Ccs2),
            idle_only: true,
            ..bbox(22.4, 113.9, 22.7, 114.2)
        };
        let json = serde_json::to_string(&q).expect("json");
        assert!(json.contains(r#""kind":"bbox""#), "{json}");
        let back: SearchQuery = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, q);
        // Missing fields take their defaults.
        let q: SearchQuery =
            serde_json::from_str(r#"{"area":{"kind":"radius","center":{"lat":1,"lon":2},"km":3}}"#)
                .expect("parse");
        assert_eq!(q.per_page, 20);
        assert!(!q.idle_only);
    }
}
