//! Device pushes (to patients' phones and browsers, not the sync upload):
//! the devices patients register, the push gateway each org configures,
//! and the push outbox the worker drains.
//!
//! A push says only that something new is waiting (no health details);
//! the app pulls the notification itself.

use std::collections::HashMap;

use dorsal_domain::Violations;
use dorsal_domain::role::Capability;
use dorsal_domain::webhooks::{check_target, format_secret};
use dorsal_entity::{care_team, device, push_delivery, push_gateway};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, LoaderTrait,
    QueryFilter, QueryOrder, Set,
};
use secrecy::SecretString;
use uuid::Uuid;

use crate::access::Actor;
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::outbox::{self, Attempt};
use crate::sealed::{DataKeys, Row, SealError};
use crate::secret::{new_id, random_bytes};

/// Push providers a device may register with.
pub const PROVIDERS: &[&str] = &["fcm", "gateway"];
/// Platforms a device may say it is.
pub const PLATFORMS: &[&str] = &["android", "ios", "web"];
/// Longest token accepted.
pub const MAX_TOKEN_LEN: usize = 4096;

/// A registered device.
pub use dorsal_entity::device::Model as Device;

/// A device to register.
#[derive(Debug, Clone)]
pub struct NewDevice {
    /// `fcm` or `gateway`.
    pub provider: String,
    /// The provider's token for the device.
    pub token: String,
    /// `android`, `ios` or `web`.
    pub platform: Option<String>,
}

/// A patient registers a device for push. The same token registered again
/// (by this or another account: a phone changes hands) moves to the caller
/// and is active again. Returns the device and whether it is new.
pub async fn register_device(
    db: &DatabaseConnection,
    actor: Actor,
    input: NewDevice,
    now: i64,
) -> ServiceResult<(Device, bool)> {
    actor.require(Capability::SyncDiary)?;
    let mut violations = Violations::new();
    if !PROVIDERS.contains(&input.provider.as_str()) {
        violations.add("/provider", "must be fcm or gateway");
    }
    let token = input.token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        violations.add("/token", format!("must be 1 to {MAX_TOKEN_LEN} characters"));
    }
    if let Some(platform) = &input.platform
        && !PLATFORMS.contains(&platform.as_str())
    {
        violations.add("/platform", "must be android, ios or web");
    }
    violations.into_result()?;
    let existing = device::Entity::find()
        .filter(device::Column::Provider.eq(input.provider.as_str()))
        .filter(device::Column::Token.eq(token))
        .one(db)
        .await?;
    match existing {
        Some(found) => {
            let mut model: device::ActiveModel = found.into();
            model.patient_id = Set(actor.user_id);
            model.platform = Set(input.platform);
            model.active = Set(true);
            model.updated_at = Set(now);
            model.deactivated_at = Set(None);
            model.deactivated_reason = Set(None);
            Ok((model.update(db).await?, false))
        }
        None => {
            let created = device::ActiveModel {
                id: Set(new_id()),
                patient_id: Set(actor.user_id),
                provider: Set(input.provider),
                token: Set(token.to_owned()),
                platform: Set(input.platform),
                active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                deactivated_at: Set(None),
                deactivated_reason: Set(None),
            }
            .insert(db)
            .await?;
            Ok((created, true))
        }
    }
}

/// The caller's devices.
pub async fn list_devices(db: &DatabaseConnection, actor: Actor) -> ServiceResult<Vec<Device>> {
    actor.require(Capability::SyncDiary)?;
    Ok(device::Entity::find()
        .filter(device::Column::PatientId.eq(actor.user_id))
        .order_by_asc(device::Column::Id)
        .all(db)
        .await?)
}

/// Removes one of the caller's devices; its pending pushes are not sent.
pub async fn remove_device(db: &DatabaseConnection, actor: Actor, id: Uuid) -> ServiceResult<()> {
    actor.require(Capability::SyncDiary)?;
    let removed = device::Entity::delete_many()
        .filter(device::Column::Id.eq(id))
        .filter(device::Column::PatientId.eq(actor.user_id))
        .exec(db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(ServiceError::NotFound("device"));
    }
    Ok(())
}

/// An org's push gateway, as stored, its secret sealed (see
/// [`crate::sealed`]); the secret is shown only when set.
pub use dorsal_entity::push_gateway::Model as Gateway;

/// The gateway's signing secret, decrypted to sign a push.
pub fn signing_secret(keys: &DataKeys, gateway: &Gateway) -> Result<SecretString, SealError> {
    keys.open(
        Row::of(push_gateway::Entity, gateway.org_id),
        &gateway.secret,
    )
}

/// An admin sets (or replaces) the org's push gateway; a new signing
/// secret is made each time and returned in plain text, to be shown this
/// once.
pub async fn set_gateway(
    db: &DatabaseConnection,
    keys: &DataKeys,
    actor: Actor,
    url: &str,
    allow_private: bool,
    now: i64,
) -> ServiceResult<(Gateway, SecretString)> {
    let org_id = actor.staff_org(Capability::Administer)?;
    let mut violations = Violations::new();
    let url = violations.check("/url", check_target(url, allow_private));
    violations.into_result()?;
    let url = url.or_internal("validated url missing")?;
    let secret = SecretString::from(format_secret(&random_bytes::<24>()?));
    let existing = push_gateway::Entity::find_by_id(org_id).one(db).await?;
    let model = push_gateway::ActiveModel {
        org_id: Set(org_id),
        url: Set(url.to_string()),
        secret: Set(keys.seal(Row::of(push_gateway::Entity, org_id), &secret)?),
        created_at: Set(existing.as_ref().map_or(now, |g| g.created_at)),
        updated_at: Set(now),
    };
    let set = if existing.is_some() {
        model.update(db).await?
    } else {
        model.insert(db).await?
    };
    Ok((set, secret))
}

/// The org's push gateway.
pub async fn get_gateway(db: &DatabaseConnection, actor: Actor) -> ServiceResult<Gateway> {
    let org_id = actor.staff_org(Capability::Administer)?;
    push_gateway::Entity::find_by_id(org_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("push gateway"))
}

/// Removes the org's push gateway.
pub async fn delete_gateway(db: &DatabaseConnection, actor: Actor) -> ServiceResult<()> {
    let org_id = actor.staff_org(Capability::Administer)?;
    let removed = push_gateway::Entity::delete_by_id(org_id).exec(db).await?;
    if removed.rows_affected == 0 {
        return Err(ServiceError::NotFound("push gateway"));
    }
    Ok(())
}

/// The device-push outbox, for [`crate::outbox`]'s renewal.
pub type Outbox = push_delivery::Entity;

/// A claimed push with where it goes.
#[derive(Debug, Clone)]
pub struct ClaimedDevicePush {
    /// The push (its `attempt` is this attempt's number).
    pub delivery: push_delivery::Model,
    /// The device, if it still exists and is active.
    pub device: Option<Device>,
    /// For `gateway` devices, the gateway of an org caring for the patient.
    pub gateway: Option<Gateway>,
}

/// Claims up to `limit` due pushes for `worker` (see [`crate::outbox`]).
pub async fn claim(
    db: &DatabaseConnection,
    worker: Uuid,
    now: i64,
    lease_ms: i64,
    limit: u64,
) -> ServiceResult<Vec<ClaimedDevicePush>> {
    let claimed = outbox::claim::<push_delivery::Entity>(db, worker, now, lease_ms, limit).await?;
    // The devices in one query, the gateways in one more.
    let devices: Vec<Option<Device>> = claimed
        .load_one(device::Entity, db)
        .await?
        .into_iter()
        .zip(&claimed)
        .map(|(device, delivery)| {
            device.filter(|d| d.active && d.patient_id == delivery.patient_id)
        })
        .collect();
    let gateways = gateways_for(
        db,
        devices
            .iter()
            .flatten()
            .filter(|d| d.provider == "gateway")
            .map(|d| d.patient_id),
    )
    .await?;
    Ok(claimed
        .into_iter()
        .zip(devices)
        .map(|(delivery, device)| {
            let gateway = device
                .as_ref()
                .filter(|d| d.provider == "gateway")
                .and_then(|d| gateways.get(&d.patient_id).cloned());
            ClaimedDevicePush {
                delivery,
                device,
                gateway,
            }
        })
        .collect())
}

/// For each of `patients`, the push gateway of the first org that took
/// the patient into care and has one.
async fn gateways_for(
    db: &impl ConnectionTrait,
    patients: impl Iterator<Item = Uuid>,
) -> ServiceResult<HashMap<Uuid, Gateway>> {
    let patients: Vec<Uuid> = patients.collect();
    let mut gateways = HashMap::new();
    if patients.is_empty() {
        return Ok(gateways);
    }
    let teams = care_team::Entity::find()
        .find_also_related(push_gateway::Entity)
        .filter(care_team::Column::PatientId.is_in(patients))
        .filter(push_gateway::Column::OrgId.is_not_null())
        .order_by_asc(care_team::Column::CreatedAt)
        .all(db)
        .await?;
    for (team, gateway) in teams {
        if let Some(gateway) = gateway {
            gateways.entry(team.patient_id).or_insert(gateway);
        }
    }
    Ok(gateways)
}

/// Records how a push attempt ended; a token the provider says is gone
/// deactivates the device. Fenced like every outbox write.
pub async fn finish(
    db: &DatabaseConnection,
    claimed: &push_delivery::Model,
    worker: Uuid,
    attempt: Attempt,
    now: i64,
    jitter: f64,
) -> ServiceResult<bool> {
    let recorded = outbox::finish::<push_delivery::Entity>(
        db,
        claimed.id,
        worker,
        claimed.attempt,
        &attempt,
        now,
        jitter,
    )
    .await?;
    if recorded && matches!(attempt, Attempt::Gone) {
        device::Entity::update_many()
            .col_expr(device::Column::Active, Expr::value(false))
            .col_expr(device::Column::DeactivatedAt, Expr::value(now))
            .col_expr(
                device::Column::DeactivatedReason,
                Expr::value("the push service says the token is no longer registered"),
            )
            .filter(device::Column::Id.eq(claimed.device_id))
            .exec(db)
            .await?;
        tracing::info!(device_id = %claimed.device_id, "device token unregistered; deactivated");
    }
    Ok(recorded)
}
