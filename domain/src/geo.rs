//! Coordinates, distances and map viewports.

use serde::{Deserialize, Serialize};

/// A WGS84 point.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    /// Latitude in degrees, -90..=90.
    pub lat: f64,
    /// Longitude in degrees, -180..=180.
    pub lon: f64,
}

/// Coordinates outside the valid range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("coordinates out of range: lat must be within ±90 and lon within ±180")]
pub struct OutOfRange;

impl LatLon {
    /// A validated point.
    pub fn new(lat: f64, lon: f64) -> Result<Self, OutOfRange> {
        if lat.is_finite()
            && lon.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lon)
        {
            Ok(LatLon { lat, lon })
        } else {
            Err(OutOfRange)
        }
    }

    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(self, other: LatLon) -> f64 {
        const R: f64 = 6371.0088;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * R * a.sqrt().asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ranges() {
        assert!(LatLon::new(22.5, 114.0).is_ok());
        assert!(LatLon::new(91.0, 0.0).is_err());
        assert!(LatLon::new(0.0, -180.1).is_err());
        assert!(LatLon::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn distance_is_plausible() {
        // Shenzhen Futian to Shenzhen Bao'an airport: about 30 km.
        let a = LatLon {
            lat: 22.5431,
            lon: 114.0579,
        };
        let b = LatLon {
            lat: 22.6393,
            lon: 113.8107,
        };
        let d = a.distance_km(b);
        assert!((25.0..32.0).contains(&d), "{d}");
        assert!(a.distance_km(a) < 1e-9);
    }
}
