//! Adherence and pain/sleep trends of one patient, in the patient's own
//! local dates.

use dorsal_domain::Violations;
use dorsal_domain::calendar::{self, days, parse_date, start_of};
use dorsal_domain::programs::{
    DayAdherence, NightTrend, PainPoint, PlanWindow, Session, SleepPoint, adherence, trends,
};
use dorsal_entity::{plan, plan_version};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::access::PatientAccess;
use crate::error::{ServiceError, ServiceResult};
use crate::programs::PlanBody;
use crate::sync::rows::get;

/// The dates a report covers.
#[derive(Debug, Clone)]
pub struct Range {
    /// Every date from `from` to `to`.
    pub days: Vec<Date>,
}

impl Range {
    /// Parses `from` and `to` (`YYYY-MM-DD`, inclusive).
    pub fn parse(from: &str, to: &str) -> ServiceResult<Range> {
        let mut violations = Violations::new();
        let from = violations.check(
            "/from",
            parse_date(from).ok_or_else(|| "must be a date, YYYY-MM-DD".to_owned()),
        );
        let to = violations.check(
            "/to",
            parse_date(to).ok_or_else(|| "must be a date, YYYY-MM-DD".to_owned()),
        );
        violations.into_result()?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(ServiceError::Internal("validated range missing".into()));
        };
        let mut violations = Violations::new();
        let days = violations.check("/to", days(from, to));
        violations.into_result()?;
        Ok(Range {
            days: days.unwrap_or_default(),
        })
    }

    fn first(&self) -> ServiceResult<Date> {
        self.days
            .first()
            .copied()
            .ok_or_else(|| ServiceError::Internal("empty range".into()))
    }

    fn last(&self) -> ServiceResult<Date> {
        self.days
            .last()
            .copied()
            .ok_or_else(|| ServiceError::Internal("empty range".into()))
    }

    /// Instants wide enough to hold every entry of the range's local days
    /// and nights, whatever the zone: a day of slack on each side.
    fn window(&self, tz: &TimeZone) -> ServiceResult<(i64, i64)> {
        let before = self.first()?.yesterday().ok();
        let after = self.last()?.checked_add(jiff::Span::new().days(3)).ok();
        match (
            before.and_then(|d| start_of(d, tz)),
            after.and_then(|d| start_of(d, tz)),
        ) {
            (Some(start), Some(end)) => Ok((start, end)),
            _ => Err(ServiceError::Internal("range out of bounds".into())),
        }
    }
}

fn live_rows(table: &str, patient: &PatientAccess) -> SelectStatement {
    Query::select()
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("patient_id")).eq(patient.patient_id()))
        .and_where(Expr::col(Alias::new("deleted")).eq(false))
        .take()
}

async fn patient_zone(
    db: &impl ConnectionTrait,
    patient: &PatientAccess,
) -> ServiceResult<TimeZone> {
    let mut select = live_rows("profiles", patient);
    select.column(Alias::new("timezone"));
    let name: Option<String> = match db.query_one(&select).await? {
        Some(row) => row.try_get("", "timezone")?,
        None => None,
    };
    Ok(calendar::zone(name.as_deref()))
}

/// Sessions done against sessions prescribed, per local day.
pub async fn adherence_report(
    db: &impl ConnectionTrait,
    patient: &PatientAccess,
    range: &Range,
) -> ServiceResult<Vec<DayAdherence>> {
    let tz = patient_zone(db, patient).await?;
    let (start, end) = range.window(&tz)?;
    let mut select = live_rows("exercise_sessions", patient);
    select
        .columns(["performed_at", "pain_before", "pain_after"].map(Alias::new))
        .and_where(Expr::col(Alias::new("performed_at")).gte(start))
        .and_where(Expr::col(Alias::new("performed_at")).lt(end));
    let sessions = db
        .query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(Session {
                performed_at: get(row, "performed_at")?,
                pain_before: get(row, "pain_before")?,
                pain_after: get(row, "pain_after")?,
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    let mut windows = Vec::new();
    let plans = plan::Entity::find()
        .filter(plan::Column::PatientId.eq(patient.patient_id()))
        .all(db)
        .await?;
    for found in plans {
        let Some(latest) = plan_version::Entity::find()
            .filter(plan_version::Column::PlanId.eq(&found.id))
            .order_by_desc(plan_version::Column::Version)
            .one(db)
            .await?
        else {
            continue;
        };
        let body: PlanBody = serde_json::from_str(&latest.body)
            .map_err(|err| ServiceError::Internal(format!("stored plan body: {err}")))?;
        let Some(starts_on) = parse_date(&body.starts_on) else {
            continue;
        };
        windows.push(PlanWindow {
            starts_on,
            ends_on: body.ends_on.as_deref().and_then(parse_date),
            archived_on: found
                .archived_at
                .and_then(|at| calendar::local_date(at, &tz)),
            sessions_per_day: body
                .items
                .iter()
                .map(|i| u32::try_from(i.times_per_day).unwrap_or(1))
                .max()
                .unwrap_or(1),
        });
    }
    Ok(adherence(&tz, &range.days, &windows, &sessions))
}

/// Nightly pain and sleep per night of the range.
pub async fn trends_report(
    db: &impl ConnectionTrait,
    patient: &PatientAccess,
    range: &Range,
) -> ServiceResult<Vec<NightTrend>> {
    let tz = patient_zone(db, patient).await?;
    let (start, end) = range.window(&tz)?;
    let mut select = live_rows("pain_logs", patient);
    select
        .columns(["recorded_at", "intensity", "period"].map(Alias::new))
        .and_where(Expr::col(Alias::new("recorded_at")).gte(start))
        .and_where(Expr::col(Alias::new("recorded_at")).lt(end));
    let pains = db
        .query_all(&select)
        .await?
        .iter()
        .map(|row| {
            let period: Option<String> = get(row, "period")?;
            Ok(PainPoint {
                recorded_at: get(row, "recorded_at")?,
                intensity: get(row, "intensity")?,
                at_night: period.as_deref() == Some("night"),
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    let mut select = live_rows("sleep_logs", patient);
    select
        .columns(["night_of", "quality", "awakenings", "woke_from_pain"].map(Alias::new))
        .and_where(Expr::col(Alias::new("night_of")).gte(range.first()?.to_string()))
        .and_where(Expr::col(Alias::new("night_of")).lte(range.last()?.to_string()));
    let sleeps = db
        .query_all(&select)
        .await?
        .iter()
        .map(|row| {
            let night: String = get(row, "night_of")?;
            Ok(SleepPoint {
                night_of: parse_date(&night).ok_or_else(|| {
                    ServiceError::Internal("a stored night_of is not a date".into())
                })?,
                quality: get(row, "quality")?,
                awakenings: get(row, "awakenings")?,
                woke_from_pain: get(row, "woke_from_pain")?,
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(trends(&tz, &range.days, &pains, &sleeps))
}
