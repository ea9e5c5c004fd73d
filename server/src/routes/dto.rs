//! The REST API's JSON shapes (with OpenAPI schemas), converted from service types.

use domain::{
    Availability, ConnectorType, FiwareStatus, Millis, Occupancy, OcpiStatus, PileId, PileState,
    ReservationId, SiteId, UserId,
};
use serde::{Deserialize, Serialize};
use store::{piles::PileView, reservations::Reservation, sites::Site, users::User};
use utoipa::ToSchema;

/// A pile with its live status.
#[derive(Debug, Serialize, ToSchema)]
pub struct PileDto {
    pub id: PileId,
    pub code: String,
    pub site: SiteId,
    pub site_name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub connector: ConnectorType,
    pub max_kw: f64,
    pub price_text: String,
    pub enabled: bool,
    /// Offered to drivers (`idle`) or `busy` with its reason.
    pub availability: Availability,
    /// OCPI 2.2.1 EVSE status.
    pub ocpi_status: OcpiStatus,
    /// FIWARE ParkingSpot status.
    pub fiware_status: FiwareStatus,
    /// The bay's effective occupancy (`unknown` when stale).
    pub occupancy: Occupancy,
    /// When the pile last reported (unix ms).
    pub reading_at: Option<Millis>,
    /// The pile's own reported state.
    pub pile_state: Option<PileState>,
    pub last_seq: Option<i64>,
    pub battery: Option<u8>,
    pub sensor_quality: Option<u8>,
    pub flapping: bool,
    pub heartbeat_secs: i64,
    pub freshness_secs: i64,
    /// Distance from the search origin, km (search results only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

impl PileDto {
    /// The DTO of `v` at `now`.
    pub fn new(v: PileView, now: Millis, distance_km: Option<f64>) -> Self {
        let availability = v.availability(now);
        let occupancy = v.occupancy(now);
        PileDto {
            ocpi_status: availability.ocpi(),
            fiware_status: availability.fiware(occupancy),
            availability,
            occupancy,
            reading_at: v.telemetry.last_report_at,
            pile_state: v.telemetry.pile_state,
            last_seq: v.telemetry.last_seq,
            battery: v.telemetry.battery,
            sensor_quality: v.telemetry.quality,
            flapping: v.telemetry.flapping,
            id: v.id,
            code: v.code,
            site: v.site,
            site_name: v.site_name,
            address: v.address,
            lat: v.lat,
            lon: v.lon,
            connector: v.connector,
            max_kw: v.max_kw,
            price_text: v.price_text,
            enabled: v.enabled,
            heartbeat_secs: v.heartbeat_secs,
            freshness_secs: v.freshness_secs,
            distance_km,
        }
    }
}

/// A site with its policies.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteDto {
    pub id: SiteId,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub timezone: String,
    pub hold_secs: i64,
    pub grace_secs: i64,
    pub freshness_secs: Option<i64>,
    pub reservations_allowed: bool,
    pub enabled: bool,
}

impl From<Site> for SiteDto {
    fn from(s: Site) -> Self {
        SiteDto {
            id: s.id,
            name: s.name,
            address: s.address,
            lat: s.lat,
            lon: s.lon,
            timezone: s.timezone,
            hold_secs: s.policy.hold_secs,
            grace_secs: s.policy.grace_secs,
            freshness_secs: s.policy.freshness_secs,
            reservations_allowed: s.policy.reservations_allowed,
            enabled: s.enabled,
        }
    }
}

/// A reservation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationDto {
    pub id: ReservationId,
    pub pile: PileId,
    /// `held`, `fulfilled`, `cancelled`, `expired`, `blocked` or `voided`.
    pub status: String,
    pub created_at: Millis,
    /// When the hold ends unless fulfilled.
    pub deadline: Millis,
    pub ended_at: Option<Millis>,
}

impl From<Reservation> for ReservationDto {
    fn from(r: Reservation) -> Self {
        ReservationDto {
            id: r.id,
            pile: r.pile,
            status: r.status.as_str().to_owned(),
            created_at: r.created_at,
            deadline: r.deadline,
            ended_at: r.ended_at,
        }
    }
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: UserId,
    pub email: String,
    pub name: String,
    /// `driver` or `admin`.
    pub role: String,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            id: u.id,
            email: u.email,
            name: u.display_name,
            role: format!("{:?}", u.role).to_lowercase(),
        }
    }
}

/// Sign-up input.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub name: String,
}

/// Sign-in input.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// Reserve input.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReserveRequest {
    pub pile: PileId,
}

/// A shared position.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PositionRequest {
    pub lat: f64,
    pub lon: f64,
}

/// A new API token's name.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    pub name: String,
}

/// A new API token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub token: String,
}

/// What to watch: exactly one of `pile` or `site`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WatchRequest {
    pub pile: Option<PileId>,
    pub site: Option<SiteId>,
}
