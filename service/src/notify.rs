//! Notifications to patients: a synced `notifications` row (the device
//! pulls it and gets a nudge) plus one push per active device, written in
//! the caller's transaction so a notification and its pushes exist
//! together or not at all.

use std::collections::HashMap;

use dorsal_domain::sync::Cell;
use dorsal_domain::sync::schema::table;
use dorsal_entity::{device, outbox, push_delivery};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{OrInternal, ServiceResult};
use crate::secret::new_id;
use crate::sync::write::upsert_rows;

/// One notification to write.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Whose.
    pub patient_id: Uuid,
    /// Its synced id, derived from what caused it, so writing it again
    /// overwrites rather than duplicates.
    pub id: String,
    /// `stretch_reminder`, `mattress_prompt`, ...
    pub kind: &'static str,
    /// Title shown in the app.
    pub title: String,
    /// Body shown in the app.
    pub body: String,
    /// `info`, `routine`, `urgent` or `emergency`.
    pub severity: &'static str,
    /// The patient's language when it was written: its pushes are worded in
    /// it.
    pub language: String,
    /// After this instant (ms) its pushes are not sent any more: a reminder
    /// retried into the night is worse than none. The notification itself
    /// stays to be pulled.
    pub device_push_until: i64,
}

/// Writes `notices` under the change numbers in `seqs` (one per patient,
/// taken in this transaction) and queues a push to each active device of
/// their patients. Returns how many pushes were queued.
pub async fn write(
    txn: &DatabaseTransaction,
    notices: &[Notice],
    seqs: &HashMap<Uuid, i64>,
    now: i64,
) -> ServiceResult<usize> {
    if notices.is_empty() {
        return Ok(0);
    }
    let spec = table("notifications").or_internal("no notifications table")?;
    let mut rows = Vec::with_capacity(notices.len());
    for notice in notices {
        let seq = *seqs
            .get(&notice.patient_id)
            .or_internal("notification without a change number")?;
        let cells = spec.row(vec![
            ("kind", Cell::Text(notice.kind.into())),
            ("title", Cell::Text(notice.title.clone())),
            ("body", Cell::Text(notice.body.clone())),
            ("severity", Cell::Text(notice.severity.into())),
            ("created_at", Cell::Int(now)),
        ]);
        rows.push((notice.patient_id, seq, notice.id.as_str(), cells));
    }
    upsert_rows(
        txn,
        spec,
        rows.iter()
            .map(|(p, seq, id, cells)| (*p, *seq, *id, cells.as_slice())),
    )
    .await?;
    queue_device_pushes(txn, notices, now).await
}

async fn queue_device_pushes(
    txn: &DatabaseTransaction,
    notices: &[Notice],
    now: i64,
) -> ServiceResult<usize> {
    let patients: Vec<Uuid> = notices.iter().map(|n| n.patient_id).collect();
    let mut devices: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for chunk in patients.chunks(1000) {
        for found in device::Entity::find()
            .filter(device::Column::PatientId.is_in(chunk.iter().copied()))
            .filter(device::Column::Active.eq(true))
            .all(txn)
            .await?
        {
            devices.entry(found.patient_id).or_default().push(found.id);
        }
    }
    let pushes: Vec<(&Notice, Uuid)> = notices
        .iter()
        .flat_map(|n| {
            devices
                .get(&n.patient_id)
                .into_iter()
                .flatten()
                .map(move |d| (n, *d))
        })
        .collect();
    for chunk in pushes.chunks(1000) {
        let mut insert = Query::insert();
        insert.into_table(push_delivery::Entity).columns([
            push_delivery::Column::Id,
            push_delivery::Column::PatientId,
            push_delivery::Column::NotificationId,
            push_delivery::Column::DeviceId,
            push_delivery::Column::Status,
            push_delivery::Column::Attempt,
            push_delivery::Column::NextAttemptAt,
            push_delivery::Column::CreatedAt,
            push_delivery::Column::ExpiresAt,
            push_delivery::Column::Language,
        ]);
        for (notice, device_id) in chunk {
            insert
                .values([
                    new_id().into(),
                    notice.patient_id.into(),
                    notice.id.as_str().into(),
                    (*device_id).into(),
                    outbox::Status::Pending.into(),
                    0i64.into(),
                    now.into(),
                    now.into(),
                    notice.device_push_until.into(),
                    notice.language.as_str().into(),
                ])
                .or_internal("push statement")?;
        }
        // The same notification written again is pushed once per device.
        insert.on_conflict(
            OnConflict::columns([
                push_delivery::Column::PatientId,
                push_delivery::Column::NotificationId,
                push_delivery::Column::DeviceId,
            ])
            .do_nothing()
            .to_owned(),
        );
        txn.execute(&insert).await?;
    }
    Ok(pushes.len())
}
