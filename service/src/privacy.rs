//! A patient's rights over their data (SPEC §3): a full export, and
//! erasure of the account.
//!
//! Erasure removes the account, every diary row, notification, device,
//! token, reminder and prompt, in one transaction. Alerts stay for the
//! clinic's record (a care record the clinic must keep), de-identified:
//! their patient id is replaced by a fresh random id that links to nothing,
//! and the webhook messages naming the patient are deleted. The audit log
//! keeps its entries (who read which record when), whose patient id now
//! resolves to no one, plus an entry for the erasure itself in the log of
//! each clinic that cared for the patient.

use dorsal_domain::Role;
use dorsal_domain::sync::schema::TABLES;
use dorsal_entity::{
    alert, alert_evidence, audit_log, care_team, care_team_member, device, org, reminder_schedule,
    user,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Set, Statement,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::access::Actor;
use crate::auth::Auth;
use crate::db::{Db, begin_write};
use crate::error::{AuthFailure, OrInternal, ServiceError, ServiceResult};
use crate::secret::new_id;
use crate::sync::rows::{fetch_rows, select_rows};
use crate::sync::write::take_change_numbers;

fn instant(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| Value::String(t.to_string()))
        .unwrap_or(Value::Null)
}

fn patient_only(actor: Actor) -> ServiceResult<()> {
    if actor.role == Role::Patient {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// Everything dorsal holds about the calling patient, as one JSON
/// document: the account, care teams, every synced table (live rows), the
/// alerts raised about them, registered devices (without their tokens) and
/// the reminder schedule.
#[tracing::instrument(skip_all)]
pub async fn export(db: &DatabaseConnection, actor: Actor, now_ms: i64) -> ServiceResult<Value> {
    patient_only(actor)?;
    let patient_id = actor.user_id;
    let account = user::Entity::find_by_id(patient_id)
        .one(db)
        .await?
        .ok_or(ServiceError::Unauthenticated(AuthFailure::AccountGone))?;

    let mut diary = Map::new();
    for table in TABLES {
        let rows = fetch_rows(db, table, &select_rows(table, patient_id)).await?;
        let live: Vec<Value> = rows
            .into_iter()
            .filter(|r| !r.deleted)
            .map(|r| serde_json::from_str(r.record.get()))
            .collect::<Result<_, _>>()
            .or_internal("stored row")?;
        diary.insert(table.name.to_owned(), Value::Array(live));
    }

    let mut care_teams = Vec::new();
    for team in care_team::Entity::find()
        .filter(care_team::Column::PatientId.eq(patient_id))
        .order_by_asc(care_team::Column::CreatedAt)
        .all(db)
        .await?
    {
        let clinic = org::Entity::find_by_id(team.org_id).one(db).await?;
        care_teams.push(json!({
            "org_id": team.org_id,
            "org_name": clinic.map(|o| o.name),
            "joined_at": instant(team.created_at),
        }));
    }

    let mut alerts = Vec::new();
    for found in alert::Entity::find()
        .filter(alert::Column::PatientId.eq(patient_id))
        .order_by_asc(alert::Column::CreatedAt)
        .all(db)
        .await?
    {
        let evidence: Vec<Value> = alert_evidence::Entity::find()
            .filter(alert_evidence::Column::AlertId.eq(found.id))
            .order_by_asc(alert_evidence::Column::AttachedAt)
            .all(db)
            .await?
            .into_iter()
            .map(|e| {
                json!({
                    "log_id": e.log_id,
                    "matched": serde_json::from_str::<Value>(&e.matched).unwrap_or(Value::Null),
                    "recorded_at": instant(e.recorded_at),
                })
            })
            .collect();
        alerts.push(json!({
            "id": found.id,
            "rule": format!("{}@{}", found.rule, found.rule_version),
            "severity": found.severity.to_value(),
            "status": found.status.to_value(),
            "created_at": instant(found.created_at),
            "acknowledged_at": found.acknowledged_at.map(instant),
            "resolved_at": found.resolved_at.map(instant),
            "evidence": evidence,
        }));
    }

    let devices: Vec<Value> = device::Entity::find()
        .filter(device::Column::PatientId.eq(patient_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| {
            json!({
                "id": d.id, "provider": d.provider, "platform": d.platform,
                "active": d.active, "created_at": instant(d.created_at),
            })
        })
        .collect();
    let reminders: Vec<Value> = reminder_schedule::Entity::find()
        .filter(reminder_schedule::Column::PatientId.eq(patient_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "kind": s.kind, "local_time": s.local_time, "timezone": s.timezone,
                "enabled": s.enabled, "next_fire_at": s.next_fire_at.map(instant),
            })
        })
        .collect();

    Ok(json!({
        "exported_at": instant(now_ms),
        "account": {
            "id": account.id,
            "email": account.email,
            "display_name": account.display_name,
            "role": account.role,
            "created_at": instant(account.created_at),
        },
        "care_teams": care_teams,
        "diary": diary,
        "alerts": alerts,
        "devices": devices,
        "reminders": reminders,
    }))
}

/// Tables with a `patient_id` column that erasure does not empty by that
/// column; every other such table is emptied of the patient's rows.
pub const KEPT_ON_ERASURE: &[&str] = &[
    // The clinic's record of the alerts it raised: kept, pseudonymised.
    "alerts",
    "alert_evidence",
    // The record of who read which record when: it outlives the account.
    "audit_log",
    // Deleted explicitly, members by team, once the erasure is written
    // into the audit log of each clinic the teams name.
    "care_teams",
    "care_team_members",
];

/// Names of the tables that have a column called `column`, read from the
/// database's catalog, sorted.
pub async fn tables_with_column(
    db: &impl ConnectionTrait,
    column: &str,
) -> ServiceResult<Vec<String>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = $1 ORDER BY 1"
        }
        // SQLite; dorsal runs on no third backend.
        _ => {
            "SELECT m.name AS name FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = ? ORDER BY 1"
        }
    };
    let statement = Statement::from_sql_and_values(backend, sql, [column.into()]);
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "name").map_err(Into::into))
        .collect()
}

/// The foreign keys between tables, as (referencing, referenced) names,
/// read from the database's catalog.
async fn foreign_keys(db: &impl ConnectionTrait) -> ServiceResult<Vec<(String, String)>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT c.relname::text AS child, p.relname::text AS parent FROM pg_constraint k \
             JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid \
             WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace"
        }
        _ => {
            "SELECT m.name AS child, f.\"table\" AS parent \
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"
        }
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await?
        .iter()
        .map(|row| Ok((row.try_get("", "child")?, row.try_get("", "parent")?)))
        .collect()
}

/// `tables` in an order to delete from: a table before any it references,
/// so no foreign key is ever left pointing at a deleted row. Ties keep
/// their order; a cycle (which dorsal's schema has not) keeps its tables'.
fn deletion_order(mut tables: Vec<String>, keys: &[(String, String)]) -> Vec<String> {
    let mut ordered = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        // A table no remaining other table references can go now.
        let free = tables.iter().position(|t| {
            !keys
                .iter()
                .any(|(child, parent)| parent == t && child != t && tables.contains(child))
        });
        ordered.push(tables.remove(free.unwrap_or(0)));
    }
    ordered
}

/// The tables erasure empties of a patient's rows by `patient_id`: every
/// table with that column, found in the schema so a new one can't be
/// forgotten, except those [`KEPT_ON_ERASURE`]; in an order that respects
/// their foreign keys.
pub async fn patient_tables(db: &impl ConnectionTrait) -> ServiceResult<Vec<String>> {
    let mut tables = tables_with_column(db, "patient_id").await?;
    tables.retain(|t| !KEPT_ON_ERASURE.contains(&t.as_str()));
    Ok(deletion_order(tables, &foreign_keys(db).await?))
}

/// Erases the calling patient's account after checking their password.
#[tracing::instrument(skip_all)]
pub async fn erase(
    db: &Db,
    auth: &Auth,
    actor: Actor,
    password: &str,
    now_ms: i64,
) -> ServiceResult<()> {
    patient_only(actor)?;
    let patient_id = actor.user_id;
    let account = user::Entity::find_by_id(patient_id)
        .one(db)
        .await?
        .ok_or(ServiceError::Unauthenticated(AuthFailure::AccountGone))?;
    if !auth.verify_password(&account, password).await? {
        return Err(ServiceError::Unauthenticated(
            AuthFailure::InvalidCredentials,
        ));
    }
    let txn = begin_write(db).await?;
    // The patient's change counter first: a push in flight holds it, so
    // erasure waits for that push to commit and then deletes what it
    // wrote; a push that starts later finds no account under the lock.
    take_change_numbers(&txn, &[patient_id]).await?;
    for table in patient_tables(&txn).await? {
        let delete = Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new("patient_id")).eq(patient_id))
            .to_owned();
        txn.execute(&delete).await?;
    }
    // The clinic's record of its alerts stays, under an id that links to
    // no one.
    let pseudonym = new_id();
    alert::Entity::update_many()
        .col_expr(alert::Column::PatientId, Expr::value(pseudonym))
        .filter(alert::Column::PatientId.eq(patient_id))
        .exec(&txn)
        .await?;
    alert_evidence::Entity::update_many()
        .col_expr(alert_evidence::Column::PatientId, Expr::value(pseudonym))
        .filter(alert_evidence::Column::PatientId.eq(patient_id))
        .exec(&txn)
        .await?;
    let found_teams = care_team::Entity::find()
        .filter(care_team::Column::PatientId.eq(patient_id))
        .all(&txn)
        .await?;
    let teams: Vec<Uuid> = found_teams.iter().map(|t| t.id).collect();
    // Each clinic that cared for the patient sees, in its audit log, that
    // the account was erased (and nothing of what it held).
    let mut entries: Vec<Option<Uuid>> = found_teams.iter().map(|t| Some(t.org_id)).collect();
    entries.push(None);
    audit_log::Entity::insert_many(entries.into_iter().map(|org_id| audit_log::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        actor_id: Set(patient_id),
        actor_role: Set(actor.role.as_str().to_owned()),
        patient_id: Set(Some(patient_id)),
        subject_id: Set(None),
        action: Set("account.erased".to_owned()),
        at: Set(now_ms),
    }))
    .exec_without_returning(&txn)
    .await?;
    care_team_member::Entity::delete_many()
        .filter(care_team_member::Column::CareTeamId.is_in(teams.clone()))
        .exec(&txn)
        .await?;
    care_team::Entity::delete_many()
        .filter(care_team::Column::Id.is_in(teams))
        .exec(&txn)
        .await?;
    // The account's own rows (sessions, resets, recovery codes).
    let owned = tables_with_column(&txn, "user_id").await?;
    for table in deletion_order(owned, &foreign_keys(&txn).await?) {
        let delete = Query::delete()
            .from_table(Alias::new(table))
            .and_where(Expr::col(Alias::new("user_id")).eq(patient_id))
            .to_owned();
        txn.execute(&delete).await?;
    }
    user::Entity::delete_by_id(patient_id).exec(&txn).await?;
    txn.commit().await?;
    tracing::info!(%patient_id, "account erased");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::deletion_order;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_table_is_emptied_before_the_tables_it_references() {
        let keys = [
            ("plan_versions", "plans"),
            ("plans", "users"),
            ("devices", "devices"),
        ]
        .map(|(c, p)| (c.to_owned(), p.to_owned()));
        let order = deletion_order(
            names(&["devices", "plans", "plan_versions", "prompts"]),
            &keys,
        );
        assert_eq!(
            order,
            names(&["devices", "plan_versions", "plans", "prompts"])
        );
    }
}
