//! Operator admin use cases: sites, piles, device credentials, fleet health, reservations,
//! users and analytics. Every action takes the acting admin's id (the caller has checked,
//! with [`Chargebay::admin_user`], that it is a current admin) and is written to the audit
//! log (`audit` table: who, what, to what, details, when).

pub mod analytics;
pub mod forms;
pub mod health;
pub mod import;

use crate::{Chargebay, ServiceError};
use domain::{Outcome, PileId, ReservationId, SiteId, UserId};
pub use forms::{FieldError, FormError, PileInput, SiteInput};
use serde_json::json;
use store::{
    admin::{
        fleet::PileSettings, reservations::ReservationQuery, users::UserSummary, AuditEntry,
        AuditRecord,
    },
    credentials::{CredentialInfo, IssuedCredential},
    reservations::Reservation,
    sites::Site,
    users::{Role, User},
};

/// A site with how many piles it has.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSummary {
    /// The site.
    pub site: Site,
    /// Its piles.
    pub piles: usize,
}

impl Chargebay {
    /// The user `id` if they are an admin right now (role re-read from the database, so a
    /// demoted or disabled admin loses access at once); `None` otherwise.
    pub async fn admin_user(&self, id: UserId) -> Result<Option<User>, ServiceError> {
        match self.store.user(id).await {
            Ok(u) if u.role == Role::Admin && !u.disabled => Ok(Some(u)),
            Ok(_) | Err(store::StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every site (enabled or not) with its pile count.
    pub async fn admin_sites(&self) -> Result<Vec<SiteSummary>, ServiceError> {
        let sites = self.store.list_sites().await?;
        let piles = self.store.list_piles().await?;
        Ok(sites
            .into_iter()
            .map(|site| SiteSummary {
                piles: piles.iter().filter(|p| p.site == site.id).count(),
                site,
            })
            .collect())
    }

    /// Creates (`id` = `None`) or edits a site from the form's raw input.
    pub async fn save_site(
        &self,
        admin: UserId,
        id: Option<SiteId>,
        input: &SiteInput,
    ) -> Result<SiteId, FormError> {
        let site = input.validate()?;
        let detail = json!({
            "name": site.name, "address": site.address, "lat": site.position.lat,
            "lon": site.position.lon, "timezone": site.timezone, "policy": site.policy,
        });
        match id {
            None => Ok(self
                .store
                .admin_create_site(
                    &site,
                    &AuditEntry::new(admin, "site_created", "site").with(detail),
                )
                .await
                .map_err(ServiceError::from)?),
            Some(id) => {
                self.store
                    .admin_update_site(
                        id,
                        &site,
                        &AuditEntry::new(admin, "site_updated", format!("site:{}", id.0))
                            .with(detail),
                    )
                    .await
                    .map_err(ServiceError::from)?;
                // Policies (freshness) change what the piles there show.
                let piles: Vec<PileId> = self
                    .store
                    .piles_at_site(id)
                    .await
                    .map_err(ServiceError::from)?
                    .iter()
                    .map(|p| p.id)
                    .collect();
                self.publish_piles(&piles).await?;
                self.evaluate_holds(Some(&piles)).await?;
                Ok(id)
            }
        }
    }

    /// Enables or disables a site. Disabling makes its piles `disabled`, which voids their
    /// active holds through the hold state machine (drivers are alerted).
    pub async fn set_site_enabled(
        &self,
        admin: UserId,
        id: SiteId,
        enabled: bool,
    ) -> Result<(), ServiceError> {
        let action = if enabled {
            "site_enabled"
        } else {
            "site_disabled"
        };
        self.store
            .admin_set_site_enabled(
                id,
                enabled,
                &AuditEntry::new(admin, action, format!("site:{}", id.0)),
            )
            .await?;
        let piles: Vec<PileId> = self
            .store
            .piles_at_site(id)
            .await?
            .iter()
            .map(|p| p.id)
            .collect();
        self.publish_piles(&piles).await?;
        self.evaluate_holds(Some(&piles)).await
    }

    /// Creates (`id` = `None`) or edits a pile from the form's raw input.
    pub async fn save_pile(
        &self,
        admin: UserId,
        id: Option<PileId>,
        input: &PileInput,
    ) -> Result<PileId, FormError> {
        let p = input.validate(id.is_none())?;
        let detail = json!({
            "site": p.site.0, "code": p.code, "connector": p.connector.as_str(),
            "max_kw": p.max_kw, "price_text": p.price_text,
            "heartbeat_secs": p.heartbeat_secs, "sensor": p.sensor,
        });
        let taken = |e: store::StoreError| match e {
            store::StoreError::Conflict(_) => {
                FormError::Fields(vec![FieldError::new("code", "taken")])
            }
            store::StoreError::NotFound("site") => {
                FormError::Fields(vec![FieldError::new("site", "unknown_site")])
            }
            e => FormError::Service(e.into()),
        };
        let id = match id {
            None => self
                .store
                .admin_create_pile(
                    &p,
                    &AuditEntry::new(admin, "pile_created", "pile").with(detail),
                )
                .await
                .map_err(taken)?,
            Some(id) => {
                self.store
                    .admin_update_pile(
                        id,
                        &PileSettings {
                            site: p.site,
                            connector: p.connector,
                            max_kw: p.max_kw,
                            price_text: p.price_text.clone(),
                            heartbeat_secs: p.heartbeat_secs,
                            sensor: p.sensor.clone(),
                        },
                        &AuditEntry::new(admin, "pile_updated", format!("pile:{}", id.0))
                            .with(detail),
                    )
                    .await
                    .map_err(taken)?;
                id
            }
        };
        self.publish_piles(&[id]).await?;
        Ok(id)
    }

    /// Enables or disables a pile. Disabling voids an active hold on it through the hold
    /// state machine (`voided`), which alerts the driver with an alternative.
    pub async fn set_pile_enabled(
        &self,
        admin: UserId,
        id: PileId,
        enabled: bool,
    ) -> Result<(), ServiceError> {
        let action = if enabled {
            "pile_enabled"
        } else {
            "pile_disabled"
        };
        self.store
            .admin_set_pile_enabled(
                id,
                enabled,
                &AuditEntry::new(admin, action, format!("pile:{}", id.0)),
            )
            .await?;
        self.publish_piles(&[id]).await?;
        self.evaluate_holds(Some(&[id])).await
    }

    /// Issues (or rotates) a pile's device credential. The secret is in the result only.
    pub async fn admin_issue_credential(
        &self,
        admin: UserId,
        pile: PileId,
    ) -> Result<IssuedCredential, ServiceError> {
        let rotated = self.store.credential_info(pile).await.is_ok();
        let issued = self.store.issue_credential(pile).await?;
        self.store
            .audit(
                &AuditEntry::new(
                    admin,
                    if rotated {
                        "credential_rotated"
                    } else {
                        "credential_issued"
                    },
                    format!("pile:{}", pile.0),
                )
                .with(json!({ "fingerprint": issued.fingerprint })),
            )
            .await?;
        Ok(issued)
    }

    /// Revokes a pile's device credential: its reports are refused from then on.
    pub async fn admin_revoke_credential(
        &self,
        admin: UserId,
        pile: PileId,
    ) -> Result<(), ServiceError> {
        self.store.revoke_credential(pile).await?;
        self.store
            .audit(&AuditEntry::new(
                admin,
                "credential_revoked",
                format!("pile:{}", pile.0),
            ))
            .await?;
        Ok(())
    }

    /// What an admin may see of a pile's credential (`None` when it never had one).
    pub async fn credential(&self, pile: PileId) -> Result<Option<CredentialInfo>, ServiceError> {
        match self.store.credential_info(pile).await {
            Ok(c) => Ok(Some(c)),
            Err(store::StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Reservations matching `q`, newest first.
    pub async fn admin_reservations(
        &self,
        q: &ReservationQuery,
    ) -> Result<Vec<store::admin::reservations::ReservationRow>, ServiceError> {
        Ok(self.store.search_reservations(q).await?)
    }

    /// An admin cancels a driver's active hold with a reason; the driver is alerted on the
    /// live feed.
    pub async fn admin_cancel(
        &self,
        admin: UserId,
        id: ReservationId,
        reason: &str,
    ) -> Result<Reservation, ServiceError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(ServiceError::Invalid(
                "give a reason of 1 to 200 characters".into(),
            ));
        }
        let res = self
            .end_hold(
                id,
                None,
                Outcome::Cancelled,
                &format!("admin:{}: {reason}", admin.0),
            )
            .await?;
        self.store
            .audit(
                &AuditEntry::new(
                    admin,
                    "reservation_cancelled",
                    format!("reservation:{}", id.0),
                )
                .with(json!({ "reason": reason, "pile": res.pile.0, "driver": res.user.0 })),
            )
            .await?;
        Ok(res)
    }

    /// Users whose email or name contains `text`.
    pub async fn admin_users(&self, text: &str) -> Result<Vec<UserSummary>, ServiceError> {
        Ok(self.store.search_users(text, 200).await?)
    }

    /// Promotes a user to admin or demotes them to driver. Admins cannot change themselves.
    pub async fn set_user_role(
        &self,
        admin: UserId,
        id: UserId,
        role: Role,
    ) -> Result<(), ServiceError> {
        if admin == id {
            return Err(ServiceError::Invalid(
                "you cannot change your own role".into(),
            ));
        }
        let action = match role {
            Role::Admin => "user_promoted",
            Role::Driver => "user_demoted",
        };
        Ok(self
            .store
            .admin_set_role(
                id,
                role,
                &AuditEntry::new(admin, action, format!("user:{}", id.0)),
            )
            .await?)
    }

    /// Disables (no sign-in) or re-enables a user. Admins cannot disable themselves.
    pub async fn set_user_disabled(
        &self,
        admin: UserId,
        id: UserId,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        if admin == id {
            return Err(ServiceError::Invalid("you cannot disable yourself".into()));
        }
        let action = if disabled {
            "user_disabled"
        } else {
            "user_enabled"
        };
        Ok(self
            .store
            .admin_set_user_disabled(
                id,
                disabled,
                &AuditEntry::new(admin, action, format!("user:{}", id.0)),
            )
            .await?)
    }

    /// The newest audit entries (optionally about one target, e.g. `pile:17`).
    pub async fn audit_log(
        &self,
        target: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, ServiceError> {
        Ok(self.store.audit_log(target, limit.clamp(1, 1000)).await?)
    }
}
