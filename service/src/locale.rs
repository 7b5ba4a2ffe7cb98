//! What a text for a patient is written with (SPEC §12): their language and
//! country as their profile holds them at that moment, and the contact line
//! of their clinic. Read only when a text is about to be written, so a
//! change of language takes effect from the next text and what is already
//! stored keeps its words.

use std::collections::HashMap;

use dorsal_domain::locale::{ClinicLine, Locale};
use dorsal_entity::{care_team, org};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use uuid::Uuid;

use crate::error::ServiceResult;
use crate::sync::rows::{get, live_rows};

/// Patients read per statement.
const CHUNK: usize = 500;

/// Each patient's language and country; a patient without a profile (or
/// with no language set) reads English and is told no country's numbers.
pub async fn locales(
    db: &impl ConnectionTrait,
    patients: &[Uuid],
) -> ServiceResult<HashMap<Uuid, Locale>> {
    let mut out: HashMap<Uuid, Locale> = patients.iter().map(|p| (*p, Locale::default())).collect();
    for chunk in patients.chunks(CHUNK) {
        let mut select = live_rows("profiles", chunk.iter().copied());
        select.columns(["patient_id", "language", "country"].map(Alias::new));
        for row in db.query_all(&select).await? {
            let patient: Uuid = get(&row, "patient_id")?;
            let language: Option<String> = get(&row, "language")?;
            let country: Option<String> = get(&row, "country")?;
            let locale = out.entry(patient).or_default();
            if let Some(language) = language {
                locale.language = language;
            }
            locale.country = country;
        }
    }
    Ok(out)
}

/// One patient's language and country.
pub async fn locale(db: &impl ConnectionTrait, patient: Uuid) -> ServiceResult<Locale> {
    Ok(locales(db, &[patient])
        .await?
        .remove(&patient)
        .unwrap_or_default())
}

/// The contact line each patient's advice adds, for those whose clinic has
/// one. An alert reaches every org caring for the patient; the line named
/// is the one of the org that took the patient on first among those with a
/// line (docs/decisions.md, "Whose contact line").
pub async fn clinic_lines(
    db: &impl ConnectionTrait,
    patients: &[Uuid],
) -> ServiceResult<HashMap<Uuid, ClinicLine>> {
    let mut out = HashMap::new();
    for chunk in patients.chunks(CHUNK) {
        let team = |c: care_team::Column| (care_team::Entity, c);
        let select = Query::select()
            .column(team(care_team::Column::PatientId))
            .columns([
                (org::Entity, org::Column::ContactPhone),
                (org::Entity, org::Column::ContactHours),
            ])
            .from(care_team::Entity)
            .inner_join(
                org::Entity,
                Expr::col((org::Entity, org::Column::Id))
                    .equals((care_team::Entity, care_team::Column::OrgId)),
            )
            .and_where(Expr::col(team(care_team::Column::PatientId)).is_in(chunk.iter().copied()))
            .and_where(Expr::col((org::Entity, org::Column::ContactPhone)).is_not_null())
            .order_by(team(care_team::Column::CreatedAt), Order::Asc)
            .order_by(team(care_team::Column::Id), Order::Asc)
            .take();
        for row in db.query_all(&select).await? {
            let patient: Uuid = get(&row, "patient_id")?;
            let phone: Option<String> = get(&row, "contact_phone")?;
            let hours: Option<String> = get(&row, "contact_hours")?;
            if let Some(phone) = phone {
                out.entry(patient).or_insert(ClinicLine {
                    phone,
                    hours: hours.unwrap_or_default(),
                });
            }
        }
    }
    Ok(out)
}
