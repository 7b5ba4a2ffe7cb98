//! `dorsal demo`: a clinic to look around in. An org with an admin, a
//! therapist and a clinician; three patients on its care team with two
//! weeks of sleep and pain diaries, a home program each, and one red flag
//! (an emergency alert in the clinician's inbox). Every account gets the
//! same freshly generated password; nothing secret is built in.

use dorsal_domain::Role;
use dorsal_domain::programs::{ItemInput, PlanInput};
use dorsal_domain::role::Capability;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Core;
use crate::access::{Actor, patient_access};
use crate::error::{ServiceError, ServiceResult};
use crate::secret::random_bytes;
use crate::sync::push::{PushMeta, push};
use crate::users::{NewAccount, create_org_with_admin, create_staff, register_patient};

/// One account the demo made.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// `admin`, `therapist`, `clinician` or `patient`.
    pub role: &'static str,
    /// Email to sign in with.
    pub email: String,
    /// Name shown.
    pub display_name: String,
}

/// What the demo made.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The clinic.
    pub org_id: Uuid,
    /// The password of every demo account.
    pub password: String,
    /// The accounts.
    pub logins: Vec<DemoLogin>,
}

const DAY: SignedDuration = SignedDuration::from_hours(24);

fn password() -> ServiceResult<String> {
    const LETTERS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes = random_bytes::<15>()?;
    let word: String = bytes
        .iter()
        .map(|b| char::from(LETTERS[usize::from(*b) % LETTERS.len()]))
        .collect();
    Ok(format!("{}-{}-{}", &word[..5], &word[5..10], &word[10..]))
}

/// Two weeks of diary for one patient, ending last night; `worst` shifts
/// the pain up, and `red_flag` adds a log with saddle numbness today.
fn diary(patient: Uuid, now: Timestamp, tz: &TimeZone, worst: i64, red_flag: bool) -> Value {
    let mut sleep = Vec::new();
    let mut pain = Vec::new();
    let mut sessions = Vec::new();
    for days_back in (1..=14i32).rev() {
        let Ok(at) = now.checked_sub(DAY * days_back) else {
            continue;
        };
        let day = i64::from(days_back);
        let local = at.to_zoned_datetime(tz.clone());
        let date = local.date();
        let wave = (day * 7 + worst * 3) % 5; // a little variety, day to day
        let position = ["side", "back", "stomach"][usize::try_from(day % 3).unwrap_or(0)];
        sleep.push(json!({
            "id": format!("demo-sleep-{patient}-{day}"),
            "night_of": date.to_string(),
            "quality": 1 + (wave + 1) % 5,
            "awakenings": wave,
            "woke_from_pain": wave >= 3,
            "position": position,
            "pillow_between_knees": day % 2 == 0,
        }));
        for (slot, hour) in [("morning", 7), ("night", 2)] {
            let intensity = (worst - 2 + wave - day / 5).clamp(0, 10);
            let recorded = date
                .at(hour, 30, 0, 0)
                .to_zoned_datetime(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(at.as_millisecond());
            pain.push(json!({
                "id": format!("demo-pain-{patient}-{day}-{slot}"),
                "recorded_at": recorded,
                "intensity": intensity,
                "location": "lower_back",
                "period": slot,
                "eased_by_rest": true,
            }));
        }
        if day % 2 == 0 {
            let evening = date
                .at(20, 45, 0, 0)
                .to_zoned_datetime(tz.clone())
                .map(|z| z.timestamp().as_millisecond())
                .unwrap_or(at.as_millisecond());
            sessions.push(json!({
                "id": format!("demo-session-{patient}-{day}"),
                "performed_at": evening,
                "completed_items": 3,
                "duration_minutes": 12,
                "pain_before": worst,
                "pain_after": (worst - 2).max(0),
            }));
        }
    }
    if red_flag {
        pain.push(json!({
            "id": format!("demo-pain-{patient}-red-flag"),
            "recorded_at": now.as_millisecond(),
            "intensity": 8,
            "location": "lower_back",
            "period": "day",
            "saddle_numbness": true,
            "bladder_control_loss": true,
        }));
    }
    json!({"changes": {
        "profiles": {"created": [{"id": patient.to_string(), "timezone": tz.iana_name().unwrap_or("UTC"),
            "reminders_enabled": true, "stretch_reminder_time": "21:00",
            "quiet_start": "23:00", "quiet_end": "07:00"}]},
        "sleep_logs": {"created": sleep},
        "pain_logs": {"created": pain},
        "exercise_sessions": {"created": sessions},
        "mattresses": {"created": [{"id": format!("demo-mattress-{patient}"), "purchased_on": "2016-05-01",
            "kind": "innerspring", "firmness": "medium"}]},
    }})
}

fn plan(now: Timestamp, tz: &TimeZone) -> PlanInput {
    let starts = now
        .checked_sub(DAY * 14)
        .unwrap_or(now)
        .to_zoned_datetime(tz.clone())
        .date();
    let item = |slug: &str| ItemInput {
        exercise_slug: slug.to_owned(),
        sets: None,
        reps: None,
        hold_seconds: None,
        times_per_day: None,
    };
    PlanInput {
        title: "Evening stretches for the lower back".to_owned(),
        starts_on: starts.to_string(),
        ends_on: None,
        reminder_time: Some("21:00".to_owned()),
        notes: Some("Slowly, within comfort; stop if pain runs down a leg.".to_owned()),
        items: vec![item("childs-pose"), item("cat-cow"), item("knees-to-chest")],
    }
}

/// Seeds the demo clinic into the database `core` points at.
pub async fn seed(core: &Core) -> ServiceResult<Demo> {
    let (db, auth) = (&core.db, core.auth.as_ref());
    let clock = core.clock.as_ref();
    let now = clock.now();
    let password = password()?;
    let tag = hex(&random_bytes::<3>()?);
    let account = |who: &str, name: &str| NewAccount {
        email: format!("{who}.{tag}@dorsal.demo"),
        password: password.clone(),
        display_name: name.to_owned(),
    };
    let mut logins = Vec::new();
    let mut note = |role: &'static str, account: &crate::users::Account| {
        logins.push(DemoLogin {
            role,
            email: account.email.clone(),
            display_name: account.display_name.clone(),
        });
    };
    let (org_id, admin) = create_org_with_admin(
        db,
        auth,
        &format!("Demo Spine Clinic {tag}"),
        account("admin", "Alex Admin"),
    )
    .await?;
    note("admin", &admin);
    let admin_actor = Actor {
        user_id: admin.id,
        role: Role::Admin,
        org_id: Some(org_id),
        totp_enrolment_required: false,
    };
    let therapist = create_staff(
        db,
        auth,
        admin_actor,
        account("therapist", "Tess Therapist"),
        Role::Therapist,
    )
    .await?;
    note("therapist", &therapist);
    let clinician = create_staff(
        db,
        auth,
        admin_actor,
        account("clinician", "Dr. Chris Clinician"),
        Role::Clinician,
    )
    .await?;
    note("clinician", &clinician);
    let therapist_actor = Actor {
        user_id: therapist.id,
        role: Role::Therapist,
        org_id: Some(org_id),
        totp_enrolment_required: false,
    };
    let tz = TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC);
    let patients = [
        ("pat", "Pat Patient", 7, true),
        ("sam", "Sam Sleepless", 5, false),
        ("robin", "Robin Recovering", 3, false),
    ];
    for (who, name, worst, red_flag) in patients {
        let patient = register_patient(db, auth, account(who, name), None).await?;
        note("patient", &patient);
        let patient_actor = Actor {
            user_id: patient.id,
            role: Role::Patient,
            org_id: None,
            totp_enrolment_required: false,
        };
        let invite = crate::care_team::create_invite(
            db,
            clock,
            therapist_actor,
            core.config.auth.invite_ttl_hours,
        )
        .await?;
        crate::care_team::join(db, clock, patient_actor, &invite.code).await?;
        let own = patient_access(
            db,
            patient_actor,
            patient.id,
            Capability::SyncDiary,
            "sync.push",
            now.as_millisecond(),
        )
        .await?;
        let outcome = push(
            db,
            &core.commit_hooks,
            &core.nudges,
            &own,
            diary(patient.id, now, &tz, worst, red_flag),
            PushMeta {
                schema_version: None,
                idempotency_key: None,
                now_ms: now.as_millisecond(),
            },
            &core.config.red_flags,
        )
        .await?;
        if !outcome.rejections.is_empty() {
            return Err(ServiceError::internal("the demo diary was rejected"));
        }
        let access = patient_access(
            db,
            therapist_actor,
            patient.id,
            Capability::WritePlans,
            "plans.create",
            now.as_millisecond(),
        )
        .await?;
        crate::programs::create_plan(
            db,
            &core.commit_hooks,
            &core.nudges,
            clock,
            &access,
            plan(now, &tz),
        )
        .await?;
    }
    Ok(Demo {
        org_id,
        password,
        logins,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
