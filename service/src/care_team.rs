//! Care teams: invites made by staff, patients joining with a code, and the
//! org's view of its patients.

use dorsal_domain::invite::{format_code, normalize_code};
use dorsal_domain::role::Capability;
use dorsal_entity::{care_team, care_team_member, delivery, invite, org, outbox, user, webhook};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    JoinType, QueryFilter, QueryOrder, QuerySelect, RelationDef, Select, Set,
};
use uuid::Uuid;

use crate::access::{Actor, PatientAccess};
use crate::audit;
use crate::clock::Clock;
use crate::db::{Db, begin_write};
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::page::{Page, PageRequest};
use crate::secret::{digest, new_id, random_bytes};

/// A fresh invite code; the code itself is shown once and stored as a digest.
#[derive(Debug, Clone)]
pub struct NewInvite {
    /// `XXXX-XXXX-XXXX`.
    pub code: String,
    /// Milliseconds since the epoch after which the code no longer works.
    pub expires_at: i64,
}

/// Staff make a single-use code a patient joins the org's care team with.
pub async fn create_invite(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    actor: Actor,
    ttl_hours: u64,
) -> ServiceResult<NewInvite> {
    let org_id = actor.staff_org(Capability::InvitePatients)?;
    let now = clock.now_ms();
    let ttl_ms = i64::try_from(ttl_hours)
        .unwrap_or(i64::MAX)
        .saturating_mul(3_600_000);
    let code = format_code(u64::from_le_bytes(random_bytes::<8>()?));
    let canonical = normalize_code(&code).or_internal("generated invite code does not parse")?;
    let expires_at = now.saturating_add(ttl_ms);
    invite::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        created_by: Set(actor.user_id),
        code_hash: Set(digest(&canonical)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        used_by: Set(None),
    }
    .insert(db)
    .await?;
    Ok(NewInvite { code, expires_at })
}

/// The care team a patient is on.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The org.
    pub org_id: Uuid,
    /// Its name.
    pub org_name: String,
    /// When the patient first joined this org's care team.
    pub joined_at: i64,
}

const INVITE_GONE: ServiceError = ServiceError::Gone {
    code: "invite_expired",
    detail: "this invite code has expired or was already used; ask for a new one",
};

/// A patient joins the care team of the org that made `code`; the staff
/// member who made it joins the team too. Repeating the same join (a retry
/// after a lost response) answers the same membership again.
#[tracing::instrument(skip_all)]
pub async fn join(
    db: &Db,
    clock: &dyn Clock,
    actor: Actor,
    code: &str,
) -> ServiceResult<Membership> {
    actor.require(Capability::JoinCareTeam)?;
    let not_found = ServiceError::NotFound("invite");
    let canonical = normalize_code(code).ok_or(ServiceError::NotFound("invite"))?;
    let now = clock.now_ms();
    let txn = begin_write(db).await?;
    let found = invite::Entity::find()
        .filter(invite::Column::CodeHash.eq(digest(&canonical)))
        .one(&txn)
        .await?
        .ok_or(not_found)?;
    let retry = found.used_by == Some(actor.user_id);
    if !retry {
        if found.expires_at <= now {
            return Err(INVITE_GONE);
        }
        let claimed = invite::Entity::update_many()
            .col_expr(invite::Column::UsedAt, Expr::value(now))
            .col_expr(invite::Column::UsedBy, Expr::value(actor.user_id))
            .filter(invite::Column::Id.eq(found.id))
            .filter(invite::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 {
            return Err(INVITE_GONE);
        }
    }
    care_team::Entity::insert(care_team::ActiveModel {
        id: Set(new_id()),
        org_id: Set(found.org_id),
        patient_id: Set(actor.user_id),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([care_team::Column::OrgId, care_team::Column::PatientId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let team = care_team::Entity::find()
        .filter(care_team::Column::OrgId.eq(found.org_id))
        .filter(care_team::Column::PatientId.eq(actor.user_id))
        .one(&txn)
        .await?
        .or_internal("care team vanished after insert")?;
    care_team_member::Entity::insert(care_team_member::ActiveModel {
        id: Set(new_id()),
        care_team_id: Set(team.id),
        patient_id: Set(actor.user_id),
        staff_id: Set(found.created_by),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            care_team_member::Column::CareTeamId,
            care_team_member::Column::StaffId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let org_name = org::Entity::find_by_id(found.org_id)
        .one(&txn)
        .await?
        .map(|org| org.name)
        .or_internal("invite names a missing org")?;
    txn.commit().await?;
    Ok(Membership {
        org_id: found.org_id,
        org_name,
        joined_at: team.created_at,
    })
}

/// The clinics whose care teams the patient is on, in the order joined.
pub async fn memberships(
    db: &impl ConnectionTrait,
    actor: Actor,
) -> ServiceResult<Vec<Membership>> {
    actor.require(Capability::JoinCareTeam)?;
    let rows: Vec<(Uuid, String, i64)> = care_team::Entity::find()
        .select_only()
        .column(care_team::Column::OrgId)
        .column(org::Column::Name)
        .column(care_team::Column::CreatedAt)
        .join(
            JoinType::InnerJoin,
            care_team::Entity::belongs_to(org::Entity)
                .from(care_team::Column::OrgId)
                .to(org::Column::Id)
                .into(),
        )
        .filter(care_team::Column::PatientId.eq(actor.user_id))
        .order_by_asc(care_team::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(org_id, org_name, joined_at)| Membership {
            org_id,
            org_name,
            joined_at,
        })
        .collect())
}

/// A patient leaves an org's care team. From this commit on the org's
/// staff cannot reach the patient (every read goes through the care team,
/// [`crate::access::patient_access`]), no new alert or webhook message goes
/// to the org, and messages still waiting for its endpoints about the
/// patient are dropped. The leaving is in the org's audit log. The invite
/// the patient joined with stays spent: joining again needs a new one.
pub async fn leave(db: &Db, clock: &dyn Clock, actor: Actor, org_id: Uuid) -> ServiceResult<()> {
    actor.require(Capability::JoinCareTeam)?;
    let now = clock.now_ms();
    let txn = begin_write(db).await?;
    let team = care_team::Entity::find()
        .filter(care_team::Column::OrgId.eq(org_id))
        .filter(care_team::Column::PatientId.eq(actor.user_id))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("care team"))?;
    care_team_member::Entity::delete_many()
        .filter(care_team_member::Column::CareTeamId.eq(team.id))
        .exec(&txn)
        .await?;
    care_team::Entity::delete_by_id(team.id).exec(&txn).await?;
    // A retried join with the old code must not bring the patient back:
    // the code stays used, but by no one.
    invite::Entity::update_many()
        .col_expr(invite::Column::UsedBy, Expr::value(Option::<Uuid>::None))
        .filter(invite::Column::OrgId.eq(org_id))
        .filter(invite::Column::UsedBy.eq(actor.user_id))
        .exec(&txn)
        .await?;
    let endpoints = Query::select()
        .column(webhook::Column::Id)
        .from(webhook::Entity)
        .and_where(Expr::col(webhook::Column::OrgId).eq(org_id))
        .take();
    delivery::Entity::delete_many()
        .filter(delivery::Column::PatientId.eq(actor.user_id))
        .filter(delivery::Column::WebhookId.in_subquery(endpoints))
        .filter(delivery::Column::Status.eq(outbox::Status::Pending))
        .exec(&txn)
        .await?;
    audit::record_in_org(&txn, org_id, actor, "care_team.left", now).await?;
    txn.commit().await?;
    tracing::info!(patient_id = %actor.user_id, %org_id, "patient left a care team");
    Ok(())
}

/// A patient as their care team sees them.
#[derive(Debug, Clone)]
pub struct PatientSummary {
    /// User id.
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// When the patient joined this org's care team.
    pub joined_at: i64,
}

fn team_patient() -> RelationDef {
    care_team::Entity::belongs_to(user::Entity)
        .from(care_team::Column::PatientId)
        .to(user::Column::Id)
        .into()
}

type SummaryRow = (Uuid, Uuid, String, String, i64);

/// Care-team rows joined with their patient, selecting a [`SummaryRow`].
fn summaries() -> Select<care_team::Entity> {
    care_team::Entity::find()
        .select_only()
        .column(care_team::Column::Id)
        .column(care_team::Column::PatientId)
        .column(user::Column::Email)
        .column(user::Column::DisplayName)
        .column(care_team::Column::CreatedAt)
        .join(JoinType::InnerJoin, team_patient())
}

fn summary(row: SummaryRow) -> PatientSummary {
    let (_, id, email, display_name, joined_at) = row;
    PatientSummary {
        id,
        email,
        display_name,
        joined_at,
    }
}

/// Longest patient search, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// A patient search: what [`list_patients`] matches names and emails
/// against.
#[derive(Debug, Clone)]
struct Search {
    /// The query, lower-cased.
    lower: String,
    /// A LIKE pattern (escape `\`) every match also satisfies: the
    /// query's ASCII runs, lower-cased and escaped, in order, joined by `%`.
    /// Lower-casing beyond ASCII differs between SQLite (ASCII only) and
    /// PostgreSQL (the database's locale), so the exact test is made here.
    pattern: String,
}

impl Search {
    /// `None` for a blank query; too long a query is malformed.
    fn parse(query: Option<&str>) -> ServiceResult<Option<Search>> {
        if query.is_some_and(|q| q.chars().count() > MAX_SEARCH_CHARS) {
            return Err(ServiceError::Malformed {
                code: "invalid_query",
                detail: format!("q must be at most {MAX_SEARCH_CHARS} characters"),
            });
        }
        let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) else {
            return Ok(None);
        };
        let lower = query.to_lowercase();
        // `open` says whether the pattern ends in a wildcard of its own.
        let mut pattern = String::from("%");
        let mut open = true;
        for c in lower.chars() {
            if c.is_ascii() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
                open = false;
            } else if !open {
                pattern.push('%');
                open = true;
            }
        }
        if !open {
            pattern.push('%');
        }
        Ok(Some(Search { lower, pattern }))
    }

    fn condition(&self) -> Condition {
        let like = |column: user::Column| {
            Expr::expr(Func::lower(Expr::col((user::Entity, column))))
                .like(LikeExpr::new(self.pattern.clone()).escape('\\'))
        };
        Condition::any()
            .add(like(user::Column::DisplayName))
            .add(like(user::Column::Email))
    }

    fn matches(&self, row: &SummaryRow) -> bool {
        let (_, _, email, display_name, _) = row;
        display_name.to_lowercase().contains(&self.lower)
            || email.to_lowercase().contains(&self.lower)
    }
}

/// The org's patients, in the order they joined; with `search`, only those
/// whose display name or email contains it (case-insensitive, every
/// character literal). Every listed patient is audited as read.
pub async fn list_patients(
    db: &impl ConnectionTrait,
    actor: Actor,
    search: Option<&str>,
    page: PageRequest,
    now_ms: i64,
) -> ServiceResult<Page<PatientSummary>> {
    let org_id = actor.staff_org(Capability::ReadPatients)?;
    let search = Search::parse(search)?;
    let mut query = summaries()
        .filter(care_team::Column::OrgId.eq(org_id))
        .order_by_asc(care_team::Column::Id)
        .limit(page.fetch_limit());
    if let Some(search) = &search {
        query = query.filter(search.condition());
    }
    // The pattern is exact for ASCII queries, so this loops only when a
    // query's other letters leave rows the exact test turns down.
    let mut rows = Vec::new();
    let mut after = page.after;
    loop {
        let mut batch = query.clone();
        if let Some(after) = after {
            batch = batch.filter(care_team::Column::Id.gt(after));
        }
        let fetched = batch.into_tuple::<SummaryRow>().all(db).await?;
        let exhausted = (fetched.len() as u64) < page.fetch_limit();
        after = fetched.last().map(|row| row.0).or(after);
        rows.extend(
            fetched
                .into_iter()
                .filter(|row| search.as_ref().is_none_or(|s| s.matches(row))),
        );
        if exhausted || rows.len() as u64 >= page.fetch_limit() {
            break;
        }
    }
    rows.truncate(usize::try_from(page.fetch_limit()).unwrap_or(usize::MAX));
    let page = page.finish(rows, |row| row.0).map(summary);
    let ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
    audit::record(db, actor, &ids, "patients.list", now_ms).await?;
    Ok(page)
}

/// One patient's summary, for whoever was granted access.
pub async fn get_patient(
    db: &impl ConnectionTrait,
    access: &PatientAccess,
) -> ServiceResult<PatientSummary> {
    let actor = access.actor();
    let mut query = summaries().filter(care_team::Column::PatientId.eq(access.patient_id()));
    if let Some(org_id) = actor.org_id {
        query = query.filter(care_team::Column::OrgId.eq(org_id));
    }
    query
        .order_by_asc(care_team::Column::Id)
        .into_tuple::<SummaryRow>()
        .one(db)
        .await?
        .map(summary)
        .ok_or(ServiceError::NotFound("patient"))
}

#[cfg(test)]
mod tests {
    use super::Search;

    fn pattern(query: &str) -> String {
        match Search::parse(Some(query)) {
            Ok(Some(search)) => search.pattern,
            other => panic!("{query:?}: {other:?}"),
        }
    }

    #[test]
    fn wildcards_and_the_escape_character_are_matched_literally() {
        assert_eq!(pattern("50%_Off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn letters_beyond_ascii_are_left_to_the_exact_test() {
        assert_eq!(pattern("Zoë Ärzte"), "%zo% %rzte%");
        assert_eq!(pattern("Ør"), "%r%");
        assert_eq!(pattern("ØÅ"), "%");
    }

    #[test]
    fn a_blank_query_is_no_search_and_a_long_one_is_refused() {
        assert!(matches!(Search::parse(Some("  ")), Ok(None)));
        assert!(matches!(Search::parse(Some(&"a".repeat(200))), Ok(Some(_))));
        assert!(Search::parse(Some(&"a".repeat(201))).is_err());
    }
}
