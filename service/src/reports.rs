//! Adherence and pain/sleep trends of one patient, in the patient's own
//! local dates.

use dorsal_domain::Violations;
use dorsal_domain::calendar::{self, days, parse_date, start_of};
use dorsal_domain::programs::{
    BUCKET_MS, DayAdherence, NightTrend, PainPoint, PlanBody, PlanWindow, Session, SleepPoint,
    Tally, adherence, trends,
};
use dorsal_entity::{plan, plan_version};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::access::PatientAccess;
use crate::error::{OrInternal, ServiceError, ServiceResult};
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
            return Err(ServiceError::internal("validated range missing"));
        };
        let mut violations = Violations::new();
        let days = violations.check("/to", days(from, to));
        violations.into_result()?;
        Ok(Range {
            days: days.unwrap_or_default(),
        })
    }

    fn first(&self) -> ServiceResult<Date> {
        self.days.first().copied().or_internal("empty range")
    }

    fn last(&self) -> ServiceResult<Date> {
        self.days.last().copied().or_internal("empty range")
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
            _ => Err(ServiceError::internal("range out of bounds")),
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

/// The quarter hour an instant column falls in (instants are never
/// negative, so integer division floors on both databases).
fn bucket(column: &str) -> SimpleExpr {
    Expr::cust(format!("{column} / {BUCKET_MS}"))
}

/// `SUM(column)` as a whole number on both databases (PostgreSQL sums
/// integers as numeric).
fn sum_of(column: &str) -> SimpleExpr {
    Expr::cust(format!("CAST(SUM({column}) AS BIGINT)"))
}

fn count_of(column: &str) -> SimpleExpr {
    Expr::cust(format!("COUNT({column})"))
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
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
    // Summed per quarter hour in the database, so the rows read are
    // bounded by the range, not by how many sessions were logged.
    let mut select = live_rows("exercise_sessions", patient);
    select
        .expr_as(bucket("performed_at"), Alias::new("q"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("done"))
        .expr_as(count_of("pain_before"), Alias::new("before_n"))
        .expr_as(sum_of("pain_before"), Alias::new("before_sum"))
        .expr_as(count_of("pain_after"), Alias::new("after_n"))
        .expr_as(sum_of("pain_after"), Alias::new("after_sum"))
        .and_where(Expr::col(Alias::new("performed_at")).gte(start))
        .and_where(Expr::col(Alias::new("performed_at")).lt(end))
        .group_by_col(Alias::new("q"));
    let sessions = db
        .query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(Session {
                performed_at: get::<i64>(row, "q")?.saturating_mul(BUCKET_MS),
                done: count(get(row, "done")?),
                pain_before: Tally {
                    count: count(get(row, "before_n")?),
                    sum: get::<Option<i64>>(row, "before_sum")?.unwrap_or(0),
                    max: None,
                },
                pain_after: Tally {
                    count: count(get(row, "after_n")?),
                    sum: get::<Option<i64>>(row, "after_sum")?.unwrap_or(0),
                    max: None,
                },
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
        let body: PlanBody = serde_json::from_str(&latest.body).or_internal("stored plan body")?;
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
    // Night pain summed per quarter hour in the database (see
    // `BUCKET_MS`): at most 96 rows a day, whatever was logged.
    let mut select = live_rows("pain_logs", patient);
    select
        .expr_as(bucket("recorded_at"), Alias::new("q"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .expr_as(sum_of("intensity"), Alias::new("total"))
        .expr_as(Expr::cust("MAX(intensity)"), Alias::new("worst"))
        .and_where(Expr::col(Alias::new("period")).eq("night"))
        .and_where(Expr::col(Alias::new("recorded_at")).gte(start))
        .and_where(Expr::col(Alias::new("recorded_at")).lt(end))
        .group_by_col(Alias::new("q"));
    let pains = db
        .query_all(&select)
        .await?
        .iter()
        .map(|row| {
            Ok(PainPoint {
                recorded_at: get::<i64>(row, "q")?.saturating_mul(BUCKET_MS),
                intensity: Tally {
                    count: count(get(row, "n")?),
                    sum: get::<Option<i64>>(row, "total")?.unwrap_or(0),
                    max: get(row, "worst")?,
                },
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
                night_of: parse_date(&night)
                    .ok_or_else(|| ServiceError::internal("a stored night_of is not a date"))?,
                quality: get(row, "quality")?,
                awakenings: get(row, "awakenings")?,
                woke_from_pain: get(row, "woke_from_pain")?,
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(trends(&tz, &range.days, &pains, &sleeps))
}
