//! Demo mode: a deterministic demo city in Shenzhen (32 sites, 160+ simulated piles, and a
//! "lab" site whose piles are left for you to drive with `coap-client-notls`), a demo admin,
//! and the built-in pile simulator speaking real CoAP to the bridge.

use domain::{geo::LatLon, ConnectorType};
use rand::{rngs::StdRng, Rng, SeedableRng};
use simulator::{SimPile, WorldConfig};
use std::{net::SocketAddr, time::Duration};
use store::{
    piles::NewPile,
    sites::{NewSite, SitePolicy},
    users::Role,
    Store, StoreError,
};

/// Meta key marking the demo seed as done (so a restart never duplicates it).
const SEED_TAG: &str = "demo_seed_v1";
/// Meta key holding the demo admin's password (demo databases only).
const ADMIN_PASSWORD_KEY: &str = "demo_admin_password";
/// The demo admin's email.
pub const ADMIN_EMAIL: &str = "admin@chargebay.local";
/// Code prefix of the piles the simulator leaves alone.
pub const LAB_PREFIX: &str = "LAB-";
/// Heartbeat of demo piles, seconds.
const DEMO_HEARTBEAT: i64 = 30;

/// (name, address, lat, lon) of the demo sites.
const SITES: [(&str, &str, f64, f64); 32] = [
    (
        "Futian CBD Car Park",
        "Fuhua 3rd Rd, Futian",
        22.5375,
        114.0550,
    ),
    (
        "Civic Center P2",
        "Fuzhong 3rd Rd, Futian",
        22.5431,
        114.0579,
    ),
    (
        "Huaqiangbei Garage",
        "Huaqiang N Rd, Futian",
        22.5465,
        114.0856,
    ),
    (
        "Xiangmihu Park & Charge",
        "Qiaoxiang Rd, Futian",
        22.5396,
        114.0201,
    ),
    (
        "Chegongmiao Hub",
        "Shennan Blvd 6009, Futian",
        22.5377,
        114.0260,
    ),
    (
        "Shenzhen North Station P3",
        "Zhiyuan Middle Rd, Longhua",
        22.6100,
        114.0290,
    ),
    ("Longhua Metro P+R", "Renmin Rd, Longhua", 22.6556, 114.0277),
    ("Minzhi Depot", "Minkang Rd, Longhua", 22.6175, 114.0433),
    (
        "Nanshan Science Park South",
        "Keji S 12th Rd, Nanshan",
        22.5344,
        113.9530,
    ),
    (
        "Nanshan Science Park North",
        "Gaoxin N 6th Rd, Nanshan",
        22.5520,
        113.9460,
    ),
    (
        "Shenzhen Bay Sports Center",
        "Binhai Blvd 3001, Nanshan",
        22.5152,
        113.9515,
    ),
    ("Sea World Shekou", "Wanghai Rd, Shekou", 22.4836, 113.9140),
    (
        "Shekou Ferry Terminal",
        "Gangwan Ave, Shekou",
        22.4793,
        113.9080,
    ),
    (
        "Qianhai Free Trade Plaza",
        "Qianwan 1st Rd, Qianhai",
        22.5280,
        113.8960,
    ),
    ("OCT Harbour", "Baishi Rd, Nanshan", 22.5266, 113.9836),
    (
        "Window of the World",
        "Shennan Blvd 9037, Nanshan",
        22.5360,
        113.9740,
    ),
    ("University Town", "Lishui Rd, Nanshan", 22.5880, 113.9700),
    (
        "Bao'an Airport P4",
        "Airport 8th Rd, Bao'an",
        22.6393,
        113.8107,
    ),
    ("Bao'an Center", "Xin'an 6th Rd, Bao'an", 22.5550, 113.8830),
    ("Xixiang Plaza", "Qianjin 2nd Rd, Bao'an", 22.5780, 113.8650),
    ("Shajing Market", "Shajing Rd, Bao'an", 22.7280, 113.8320),
    (
        "Guangming Science City",
        "Guangqiao Rd, Guangming",
        22.7780,
        113.9400,
    ),
    (
        "Luohu Dongmen Garage",
        "Dongmen Middle Rd, Luohu",
        22.5460,
        114.1200,
    ),
    (
        "Luohu Railway Station",
        "Jianshe Rd, Luohu",
        22.5320,
        114.1170,
    ),
    (
        "Sungang Logistics Park",
        "Baoan N Rd, Luohu",
        22.5700,
        114.1000,
    ),
    (
        "Lianhuashan Park East",
        "Hongli Rd, Futian",
        22.5560,
        114.0630,
    ),
    (
        "Longgang Universiade",
        "Longxiang Ave, Longgang",
        22.6970,
        114.2140,
    ),
    (
        "Longgang Center",
        "Longcheng Rd, Longgang",
        22.7200,
        114.2470,
    ),
    ("Buji Station", "Buji Rd, Longgang", 22.6050, 114.1140),
    (
        "Bantian Huawei Base",
        "Bantian Huawei Rd, Longgang",
        22.6520,
        114.0600,
    ),
    (
        "Yantian Port Gate",
        "Yantian Rd, Yantian",
        22.5790,
        114.2630,
    ),
    ("Dameisha Beach", "Yanmei Rd, Yantian", 22.5960, 114.3050),
];

/// The demo city: deterministic, the same on every machine.
fn city() -> Vec<(NewSite, Vec<NewPile>)> {
    let mut rng = StdRng::seed_from_u64(20_261_125);
    let mut out = Vec::new();
    for (i, (name, address, lat, lon)) in SITES.iter().enumerate() {
        let n = rng.gen_range(4..=7);
        // Fast DC sites and slow AC sites, like a real city.
        let dc = rng.gen_bool(0.6);
        let piles = (1..=n)
            .map(|k| {
                let (connector, kw) = if dc {
                    match rng.gen_range(0..10) {
                        0..=4 => (
                            ConnectorType::GbT,
                            [60.0, 120.0, 160.0][rng.gen_range(0..3)],
                        ),
                        5..=8 => (
                            ConnectorType::Ccs2,
                            [50.0, 150.0, 350.0][rng.gen_range(0..3)],
                        ),
                        _ => (ConnectorType::Chademo, 50.0),
                    }
                } else {
                    match rng.gen_range(0..10) {
                        0..=5 => (ConnectorType::GbT, [7.0, 11.0][rng.gen_range(0..2)]),
                        _ => (ConnectorType::Type2, [7.0, 11.0, 22.0][rng.gen_range(0..3)]),
                    }
                };
                let energy = if kw >= 50.0 { 0.85 } else { 0.65 };
                NewPile {
                    site: domain::SiteId(0),
                    code: format!("SZ{:02}-{k}", i + 1),
                    connector,
                    max_kw: kw,
                    price_text: format!("¥{energy:.2}/kWh + ¥0.80/kWh service"),
                    heartbeat_secs: DEMO_HEARTBEAT,
                    sensor: ["magnetometer", "radar", "camera"][rng.gen_range(0..3)].into(),
                }
            })
            .collect();
        out.push((
            NewSite {
                name: (*name).into(),
                address: format!("{address}, Shenzhen"),
                position: LatLon {
                    lat: *lat,
                    lon: *lon,
                },
                timezone: "Asia/Shanghai".into(),
                policy: SitePolicy::default(),
            },
            piles,
        ));
    }
    let lab = (1..=3)
        .map(|k| NewPile {
            site: domain::SiteId(0),
            code: format!("{LAB_PREFIX}{k}"),
            connector: ConnectorType::Ccs2,
            max_kw: 120.0,
            price_text: "free while testing".into(),
            heartbeat_secs: 60,
            sensor: "magnetometer".into(),
        })
        .collect();
    out.push((
        NewSite {
            name: "chargebay Lab (not simulated)".into(),
            address: "Shenzhen Bay Science Park, Nanshan, Shenzhen".into(),
            position: LatLon {
                lat: 22.5230,
                lon: 113.9420,
            },
            timezone: "Asia/Shanghai".into(),
            policy: SitePolicy::default(),
        },
        lab,
    ));
    out
}

/// A random 16-character password.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// Seeds the demo city and admin once; returns the admin's email and password.
pub async fn seed(store: &Store) -> Result<(String, String), StoreError> {
    if store.seed_once(SEED_TAG, &city()).await? {
        tracing::info!("demo city seeded");
    }
    let password = match store.meta(ADMIN_PASSWORD_KEY).await? {
        Some(p) => p,
        None => {
            let p = random_password();
            store
                .create_user(ADMIN_EMAIL, "Demo admin", &p, Role::Admin)
                .await?;
            store.set_meta(ADMIN_PASSWORD_KEY, &p).await?;
            p
        }
    };
    Ok((ADMIN_EMAIL.into(), password))
}

/// Issues fresh credentials to every simulated pile (before the bridge loads credentials,
/// so the simulator's first reports are accepted).
pub async fn prepare_simulator(store: &Store) -> Result<Vec<SimPile>, StoreError> {
    let mut sims = Vec::new();
    for p in store
        .list_piles()
        .await?
        .iter()
        .filter(|p| !p.code.starts_with(LAB_PREFIX))
    {
        let cred = store.issue_credential(p.id).await?;
        sims.push(SimPile {
            id: p.id,
            key: cred.secret,
            heartbeat: Duration::from_secs(p.heartbeat_secs.unsigned_abs()),
        });
    }
    Ok(sims)
}

/// Starts one simulated pile per task, talking CoAP to the bridge at `target`.
pub fn start_simulator(sims: Vec<SimPile>, target: SocketAddr, speed: f64) {
    let world = WorldConfig {
        target,
        seed: 7,
        speed,
    };
    tracing::info!(piles = sims.len(), "pile simulator started");
    for pile in sims {
        tokio::spawn(simulator::run_pile(pile, world.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_city_is_big_enough_and_deterministic() {
        let a = city();
        let b = city();
        assert!(a.len() > 30);
        let piles: usize = a.iter().map(|(_, p)| p.len()).sum();
        assert!(piles >= 150, "{piles}");
        let codes = |c: &Vec<(NewSite, Vec<NewPile>)>| {
            c.iter()
                .flat_map(|(_, p)| p.iter().map(|p| (p.code.clone(), p.max_kw)))
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&a), codes(&b));
        let kinds: std::collections::HashSet<_> = a
            .iter()
            .flat_map(|(_, p)| p.iter().map(|p| p.connector))
            .collect();
        assert_eq!(kinds.len(), 4, "every connector type appears");
        assert!(a
            .iter()
            .flat_map(|(_, p)| p.iter())
            .all(|p| (7.0..=350.0).contains(&p.max_kw)));
    }
}
