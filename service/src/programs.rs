//! Home exercise programs: the exercise catalog and versioned plans that
//! therapists write and patients receive through sync.

use std::collections::HashMap;

use dorsal_domain::Violations;
use dorsal_domain::programs::{Media, PlanBody, PlanInput, PlanItem, validate_plan};
use dorsal_domain::role::Capability;
use dorsal_domain::sync::schema::table;
use dorsal_domain::sync::{Cell, TableSpec};
use dorsal_entity::{exercise, plan, plan_version, user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::access::{Actor, PatientAccess, patient_access};
use crate::clock::Clock;
use crate::db::{Db, is_unique_violation};
use crate::error::{OrInternal, ServiceError, ServiceResult};
use crate::secret::new_id;
use crate::sync::{CommitHooks, Nudges, PatientWrite};

/// An exercise of the catalog.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// Id.
    pub id: Uuid,
    /// The org that added it; `None` for the built-in stretches.
    pub org_id: Option<Uuid>,
    /// Stable name used in plans, e.g. `cat-cow`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// How to do it, in plain language.
    pub instructions: String,
    /// When to stop.
    pub safety_note: String,
    /// Default sets.
    pub default_sets: i64,
    /// Default repetitions.
    pub default_reps: i64,
    /// Default seconds held.
    pub default_hold_seconds: i64,
    /// The exercise's media.
    pub media: Media,
}

impl From<exercise::Model> for Exercise {
    fn from(m: exercise::Model) -> Self {
        Exercise {
            id: m.id,
            org_id: m.org_id,
            slug: m.slug,
            name: m.name,
            instructions: m.instructions,
            safety_note: m.safety_note,
            default_sets: m.default_sets,
            default_reps: m.default_reps,
            default_hold_seconds: m.default_hold_seconds,
            media: Media {
                image_url: m.image_url,
                image_alt: m.image_alt,
                video_url: m.video_url,
            },
        }
    }
}

/// The exercises `org_id` may prescribe: built-in ones and its own.
pub(crate) fn visible_to(org_id: Option<Uuid>) -> Condition {
    let builtin = exercise::Column::OrgId.is_null();
    match org_id {
        Some(org) => Condition::any()
            .add(builtin)
            .add(exercise::Column::OrgId.eq(org)),
        None => Condition::all().add(builtin),
    }
}

/// The catalog as the caller sees it, built-in exercises first.
pub async fn list_exercises(
    db: &impl ConnectionTrait,
    actor: Actor,
) -> ServiceResult<Vec<Exercise>> {
    let rows = exercise::Entity::find()
        .filter(visible_to(actor.org_id))
        .order_by_asc(exercise::Column::CreatedAt)
        .order_by_asc(exercise::Column::Slug)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Exercise::from).collect())
}

/// A new exercise of the caller's org.
#[derive(Debug, Clone)]
pub struct NewExercise {
    /// `a-z`, `0-9` and `-`, 2–60 characters.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// How to do it.
    pub instructions: String,
    /// When to stop; a default pain-free-range note when absent.
    pub safety_note: Option<String>,
    /// Default sets.
    pub default_sets: i64,
    /// Default repetitions.
    pub default_reps: i64,
    /// Default seconds held.
    pub default_hold_seconds: i64,
    /// Image, alt text and video; see [`check_media`].
    pub media: Media,
}

/// The longest media URL accepted, in characters.
pub const MEDIA_URL_MAX: usize = 2000;
/// The longest image alt text accepted, in characters.
pub const IMAGE_ALT_MAX: usize = 300;

fn check_media_url(raw: &str) -> Result<(), String> {
    let shape = "must be an absolute https:// URL";
    if raw.chars().count() > MEDIA_URL_MAX {
        return Err(format!("must be at most {MEDIA_URL_MAX} characters"));
    }
    // The URL parser silently drops tabs, newlines and edge spaces; a URL
    // that carries them is refused rather than stored as something else.
    if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(shape.into());
    }
    let url = dorsal_domain::webhooks::check_target(raw, true).map_err(|_| shape.to_owned())?;
    if url.scheme() != "https" {
        return Err(shape.into());
    }
    Ok(())
}

/// The host a media URL points at (for a link that says where it goes),
/// or `None` when the URL does not parse.
pub fn media_host(raw: &str) -> Option<String> {
    let url = dorsal_domain::webhooks::check_target(raw, true).ok()?;
    url.host_str().map(str::to_owned)
}

/// Checks an exercise's media: each URL an absolute `https://` URL of at
/// most [`MEDIA_URL_MAX`] characters with no spaces, control characters or
/// credentials; alt text of 1–[`IMAGE_ALT_MAX`] characters exactly when
/// there is an image. Returns the media with the alt text trimmed.
pub fn check_media(media: Media, violations: &mut Violations) -> Media {
    for (pointer, value) in [
        ("/image_url", &media.image_url),
        ("/video_url", &media.video_url),
    ] {
        if let Some(raw) = value {
            violations.check(pointer, check_media_url(raw));
        }
    }
    let alt = media.image_alt.as_deref().map(str::trim);
    match (&media.image_url, alt) {
        (Some(_), None | Some("")) => {
            violations.add("/image_alt", "is required with an image");
        }
        (Some(_), Some(text)) if text.chars().count() > IMAGE_ALT_MAX => {
            violations.add(
                "/image_alt",
                format!("must be at most {IMAGE_ALT_MAX} characters"),
            );
        }
        (None, Some(_)) => violations.add("/image_alt", "must not be given without an image"),
        _ => {}
    }
    Media {
        image_alt: alt.map(str::to_owned),
        ..media
    }
}

const DEFAULT_SAFETY: &str = "Move slowly and stay in a pain-free range.";

/// A therapist adds an exercise to their org's catalog.
pub async fn create_exercise(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    actor: Actor,
    input: NewExercise,
) -> ServiceResult<Exercise> {
    let org_id = actor.staff_org(Capability::WritePlans)?;
    let mut violations = Violations::new();
    let slug_ok = (2..=60).contains(&input.slug.len())
        && input
            .slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !slug_ok {
        violations.add("/slug", "must be 2-60 of a-z, 0-9 and -");
    }
    for (pointer, text, max) in [
        ("/name", &input.name, 100),
        ("/instructions", &input.instructions, 1000),
    ] {
        if text.trim().is_empty() || text.chars().count() > max {
            violations.add(pointer, format!("must be 1-{max} characters"));
        }
    }
    if input
        .safety_note
        .as_ref()
        .is_some_and(|n| n.chars().count() > 1000)
    {
        violations.add("/safety_note", "must be at most 1000 characters");
    }
    for (pointer, value, max) in [
        ("/default_sets", input.default_sets, 20),
        ("/default_reps", input.default_reps, 100),
        ("/default_hold_seconds", input.default_hold_seconds, 600),
    ] {
        if !(0..=max).contains(&value) {
            violations.add(pointer, format!("must be from 0 to {max}"));
        }
    }
    let media = check_media(input.media, &mut violations);
    violations.into_result()?;
    let clash = exercise::Entity::find()
        .filter(visible_to(Some(org_id)))
        .filter(exercise::Column::Slug.eq(&input.slug))
        .one(db)
        .await?;
    let taken = ServiceError::Conflict {
        code: "slug_taken",
        detail: "an exercise with this slug exists",
    };
    if clash.is_some() {
        return Err(taken);
    }
    let inserted = exercise::ActiveModel {
        id: Set(new_id()),
        org_id: Set(Some(org_id)),
        slug: Set(input.slug),
        name: Set(input.name.trim().to_owned()),
        instructions: Set(input.instructions.trim().to_owned()),
        safety_note: Set(input
            .safety_note
            .unwrap_or_else(|| DEFAULT_SAFETY.to_owned())),
        default_sets: Set(input.default_sets),
        default_reps: Set(input.default_reps),
        default_hold_seconds: Set(input.default_hold_seconds),
        image_url: Set(media.image_url),
        image_alt: Set(media.image_alt),
        video_url: Set(media.video_url),
        created_at: Set(clock.now_ms()),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(model) => Ok(model.into()),
        Err(err) if is_unique_violation(&err) => Err(taken),
        Err(err) => Err(err.into()),
    }
}

/// A plan at one version.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Plan id.
    pub id: String,
    /// Whose plan.
    pub patient_id: Uuid,
    /// This version's number (1, 2, ...).
    pub version: i64,
    /// The newest version's number.
    pub latest_version: i64,
    /// `active` or `archived`.
    pub status: &'static str,
    /// When the plan was archived, ms.
    pub archived_at: Option<i64>,
    /// When this version was written, ms.
    pub written_at: i64,
    /// Content.
    pub body: PlanBody,
}

fn spec(name: &str) -> ServiceResult<&'static TableSpec> {
    table(name).or_internal("looking up a synced table")
}

fn text(value: &Option<String>) -> Cell {
    value.clone().map_or(Cell::Null, Cell::Text)
}

fn item_id(plan_id: &str, version: i64, position: i64) -> String {
    format!("{plan_id}.v{version}.{position}")
}

/// Writes the device's copy of a plan version: the plan row and its items.
async fn write_synced(
    write: &PatientWrite,
    plan_id: &str,
    version: i64,
    status: &str,
    body: &PlanBody,
) -> ServiceResult<()> {
    let plans = spec("exercise_plans")?;
    let row = plans.row(vec![
        ("title", Cell::Text(body.title.clone())),
        ("status", Cell::Text(status.to_owned())),
        ("starts_on", Cell::Text(body.starts_on.clone())),
        ("ends_on", text(&body.ends_on)),
        ("reminder_time", text(&body.reminder_time)),
        ("version", Cell::Int(version)),
        ("therapist_name", Cell::Text(body.therapist_name.clone())),
        ("notes", text(&body.notes)),
    ]);
    write.upsert(plans, plan_id, row).await?;
    let items = spec("plan_items")?;
    let rows = body
        .items
        .iter()
        .map(|item| {
            let row = items.row(vec![
                ("plan_id", Cell::Text(plan_id.to_owned())),
                ("position", Cell::Int(item.position)),
                ("exercise_slug", Cell::Text(item.exercise_slug.clone())),
                ("name", Cell::Text(item.name.clone())),
                (
                    "instructions",
                    Cell::Text(format!("{}\n\n{}", item.instructions, item.safety_note)),
                ),
                ("sets", Cell::Int(item.sets)),
                ("reps", Cell::Int(item.reps)),
                ("hold_seconds", Cell::Int(item.hold_seconds)),
                ("times_per_day", Cell::Int(item.times_per_day)),
                ("image_url", text(&item.media.image_url)),
                ("image_alt", text(&item.media.image_alt)),
                ("video_url", text(&item.media.video_url)),
            ]);
            (item_id(plan_id, version, item.position), row)
        })
        .collect::<Vec<_>>();
    write.upsert_many(items, &rows).await
}

/// Checks a plan and snapshots its exercises from the catalog.
async fn build_body(
    db: &impl ConnectionTrait,
    actor: Actor,
    input: PlanInput,
) -> ServiceResult<PlanBody> {
    validate_plan(&input)?;
    let catalog: HashMap<String, exercise::Model> = exercise::Entity::find()
        .filter(visible_to(actor.org_id))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.slug.clone(), e))
        .collect();
    let mut violations = Violations::new();
    let mut items = Vec::with_capacity(input.items.len());
    for (i, item) in input.items.iter().enumerate() {
        let Some(exercise) = catalog.get(&item.exercise_slug) else {
            violations.add(format!("/items/{i}/exercise_slug"), "is not in the catalog");
            continue;
        };
        items.push(PlanItem {
            position: i64::try_from(i).unwrap_or(i64::MAX) + 1,
            exercise_slug: exercise.slug.clone(),
            name: exercise.name.clone(),
            instructions: exercise.instructions.clone(),
            safety_note: exercise.safety_note.clone(),
            sets: item.sets.unwrap_or(exercise.default_sets),
            reps: item.reps.unwrap_or(exercise.default_reps),
            hold_seconds: item.hold_seconds.unwrap_or(exercise.default_hold_seconds),
            times_per_day: item.times_per_day.unwrap_or(1),
            media: Media {
                image_url: exercise.image_url.clone(),
                image_alt: exercise.image_alt.clone(),
                video_url: exercise.video_url.clone(),
            },
        });
    }
    violations.into_result()?;
    let therapist_name = user::Entity::find_by_id(actor.user_id)
        .one(db)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    Ok(PlanBody {
        title: input.title.trim().to_owned(),
        starts_on: input.starts_on,
        ends_on: input.ends_on,
        reminder_time: input.reminder_time,
        notes: input.notes,
        therapist_name,
        items,
    })
}

async fn insert_version(
    write: &PatientWrite,
    plan_id: &str,
    version: i64,
    actor: Actor,
    body: &PlanBody,
    now: i64,
) -> ServiceResult<()> {
    let json = serde_json::to_string(body).or_internal("plan body")?;
    plan_version::ActiveModel {
        id: Set(new_id()),
        plan_id: Set(plan_id.to_owned()),
        patient_id: Set(write.patient_id()),
        version: Set(version),
        body: Set(json),
        author_id: Set(actor.user_id),
        created_at: Set(now),
    }
    .insert(write.txn())
    .await?;
    Ok(())
}

/// Marks a plan archived, on the server and on the patient's devices.
async fn mark_archived(write: &PatientWrite, found: plan::Model, now: i64) -> ServiceResult<()> {
    let id = found.id.clone();
    let mut model: plan::ActiveModel = found.into();
    model.archived_at = Set(Some(now));
    model.update(write.txn()).await?;
    let plans = spec("exercise_plans")?;
    write
        .update(
            plans,
            &id,
            &plans.cells(vec![("status", Cell::Text("archived".into()))]),
        )
        .await
}

/// Archives the patient's active plans inside `write`.
async fn archive_active(write: &PatientWrite, now: i64) -> ServiceResult<()> {
    let active = plan::Entity::find()
        .filter(plan::Column::PatientId.eq(write.patient_id()))
        .filter(plan::Column::ArchivedAt.is_null())
        .all(write.txn())
        .await?;
    for found in active {
        mark_archived(write, found, now).await?;
    }
    Ok(())
}

/// A therapist gives a patient a new plan; the active one is archived in the
/// same transaction, and the patient's devices get both on their next pull.
#[tracing::instrument(skip_all)]
pub async fn create_plan(
    db: &Db,
    hooks: &CommitHooks,
    nudges: &Nudges,
    clock: &dyn Clock,
    access: &PatientAccess,
    input: PlanInput,
) -> ServiceResult<Plan> {
    let actor = access.actor();
    let org_id = actor.staff_org(Capability::WritePlans)?;
    let body = build_body(db, actor, input).await?;
    let now = clock.now_ms();
    let plan_id = new_id().to_string();
    let write = PatientWrite::begin(db, access.patient_id(), now).await?;
    archive_active(&write, now).await?;
    plan::ActiveModel {
        id: Set(plan_id.clone()),
        patient_id: Set(access.patient_id()),
        org_id: Set(org_id),
        author_id: Set(actor.user_id),
        created_at: Set(now),
        archived_at: Set(None),
    }
    .insert(write.txn())
    .await?;
    insert_version(&write, &plan_id, 1, actor, &body, now).await?;
    write_synced(&write, &plan_id, 1, "active", &body).await?;
    write.commit(hooks, nudges).await?;
    Ok(Plan {
        id: plan_id,
        patient_id: access.patient_id(),
        version: 1,
        latest_version: 1,
        status: "active",
        archived_at: None,
        written_at: now,
        body,
    })
}

/// Finds a plan and grants access to its patient; staff reach only plans
/// of their own org.
pub async fn plan_access(
    db: &impl ConnectionTrait,
    actor: Actor,
    plan_id: &str,
    capability: Capability,
    action: &'static str,
    now: i64,
) -> ServiceResult<(plan::Model, PatientAccess)> {
    let not_found = || ServiceError::NotFound("plan");
    actor.may(capability)?;
    let found = plan::Entity::find_by_id(plan_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if actor.role.is_staff() && actor.org_id != Some(found.org_id) {
        return Err(not_found());
    }
    let access = patient_access(db, actor, found.patient_id, capability, action, now)
        .await
        .map_err(|err| match err {
            ServiceError::NotFound(_) => not_found(),
            other => other,
        })?;
    Ok((found, access))
}

async fn latest_version(
    db: &impl ConnectionTrait,
    plan_id: &str,
) -> ServiceResult<plan_version::Model> {
    plan_version::Entity::find()
        .filter(plan_version::Column::PlanId.eq(plan_id))
        .order_by_desc(plan_version::Column::Version)
        .one(db)
        .await?
        .or_internal("a plan without a version")
}

fn to_plan(found: &plan::Model, version: plan_version::Model, latest: i64) -> ServiceResult<Plan> {
    let body: PlanBody = serde_json::from_str(&version.body).or_internal("stored plan body")?;
    Ok(Plan {
        id: found.id.clone(),
        patient_id: found.patient_id,
        version: version.version,
        latest_version: latest,
        status: if found.archived_at.is_some() {
            "archived"
        } else {
            "active"
        },
        archived_at: found.archived_at,
        written_at: version.created_at,
        body,
    })
}

/// A therapist revises a plan: a new version, the old ones kept. The
/// device's items of the old version are deleted and the new ones sent.
#[tracing::instrument(skip_all, fields(plan_id))]
pub async fn revise_plan(
    db: &Db,
    hooks: &CommitHooks,
    nudges: &Nudges,
    clock: &dyn Clock,
    actor: Actor,
    plan_id: &str,
    input: PlanInput,
) -> ServiceResult<Plan> {
    let now = clock.now_ms();
    let (found, access) = plan_access(
        db,
        actor,
        plan_id,
        Capability::WritePlans,
        "plans.revise",
        now,
    )
    .await?;
    if found.archived_at.is_some() {
        return Err(ServiceError::Conflict {
            code: "plan_archived",
            detail: "an archived plan cannot be revised; create a new one",
        });
    }
    let body = build_body(db, actor, input).await?;
    let write = PatientWrite::begin(db, access.patient_id(), now).await?;
    let previous = latest_version(write.txn(), plan_id).await?;
    let old_body: PlanBody =
        serde_json::from_str(&previous.body).or_internal("stored plan body")?;
    let version = previous.version + 1;
    let items = spec("plan_items")?;
    for item in &old_body.items {
        write
            .delete(items, &item_id(plan_id, previous.version, item.position))
            .await?;
    }
    insert_version(&write, plan_id, version, actor, &body, now).await?;
    write_synced(&write, plan_id, version, "active", &body).await?;
    write.commit(hooks, nudges).await?;
    Ok(Plan {
        id: found.id,
        patient_id: found.patient_id,
        version,
        latest_version: version,
        status: "active",
        archived_at: None,
        written_at: now,
        body,
    })
}

/// A therapist archives a plan. Archiving an archived plan changes nothing.
#[tracing::instrument(skip_all, fields(plan_id))]
pub async fn archive_plan(
    db: &Db,
    hooks: &CommitHooks,
    nudges: &Nudges,
    clock: &dyn Clock,
    actor: Actor,
    plan_id: &str,
) -> ServiceResult<Plan> {
    let now = clock.now_ms();
    let (found, access) = plan_access(
        db,
        actor,
        plan_id,
        Capability::WritePlans,
        "plans.archive",
        now,
    )
    .await?;
    if found.archived_at.is_none() {
        let write = PatientWrite::begin(db, access.patient_id(), now).await?;
        let target = plan::Entity::find_by_id(plan_id.to_owned())
            .one(write.txn())
            .await?;
        if let Some(target) = target.filter(|p| p.archived_at.is_none()) {
            mark_archived(&write, target, now).await?;
        }
        write.commit(hooks, nudges).await?;
    }
    get_plan(db, actor, plan_id, None, clock.now_ms()).await
}

/// A plan at its latest version, or at `version`.
pub async fn get_plan(
    db: &impl ConnectionTrait,
    actor: Actor,
    plan_id: &str,
    version: Option<i64>,
    now: i64,
) -> ServiceResult<Plan> {
    let (found, _) = plan_access(
        db,
        actor,
        plan_id,
        Capability::ReadPatients,
        "plans.read",
        now,
    )
    .await?;
    let latest = latest_version(db, plan_id).await?;
    let latest_number = latest.version;
    let chosen = match version {
        None => latest,
        Some(v) => plan_version::Entity::find()
            .filter(plan_version::Column::PlanId.eq(plan_id))
            .filter(plan_version::Column::Version.eq(v))
            .one(db)
            .await?
            .ok_or(ServiceError::NotFound("plan version"))?,
    };
    to_plan(&found, chosen, latest_number)
}

/// Every plan of a patient, newest first, each at its latest version.
pub async fn list_plans(
    db: &impl ConnectionTrait,
    access: &PatientAccess,
) -> ServiceResult<Vec<Plan>> {
    let mut query = plan::Entity::find().filter(plan::Column::PatientId.eq(access.patient_id()));
    if let Some(org_id) = access.actor().org_id {
        query = query.filter(plan::Column::OrgId.eq(org_id));
    }
    let plans = query.order_by_desc(plan::Column::CreatedAt).all(db).await?;
    let mut out = Vec::with_capacity(plans.len());
    for found in plans {
        let latest = latest_version(db, &found.id).await?;
        let number = latest.version;
        out.push(to_plan(&found, latest, number)?);
    }
    Ok(out)
}
