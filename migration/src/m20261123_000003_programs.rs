//! Home exercise programs: the exercise catalog (seeded with the evening
//! stretches), plans and every version of them. What a patient's device
//! sees of a plan lives in the synced `exercise_plans` and `plan_items`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SAFETY: &str = "Move slowly and stay in a pain-free range. Stop and tell your care team \
                      if pain spreads down a leg, or if you feel numbness or weakness.";

/// (id, slug, name, instructions, sets, reps, hold seconds)
const STRETCHES: &[(&str, &str, &str, &str, i64, i64, i64)] = &[
    (
        "00000000-0000-7000-8000-000000000001",
        "childs-pose",
        "Child's pose",
        "Kneel, sit back towards your heels and reach your arms forward along the floor, \
         forehead resting down. Breathe slowly into your lower back.",
        1,
        3,
        30,
    ),
    (
        "00000000-0000-7000-8000-000000000002",
        "knees-to-chest",
        "Knees to chest",
        "Lie on your back with knees bent. Bring one knee, or both, towards your chest and \
         hold it gently with your hands.",
        1,
        3,
        20,
    ),
    (
        "00000000-0000-7000-8000-000000000003",
        "cat-cow",
        "Cat-cow",
        "On hands and knees, slowly round your back up towards the ceiling, then let it sink \
         gently while you lift your head. Move with your breath.",
        1,
        10,
        3,
    ),
    (
        "00000000-0000-7000-8000-000000000004",
        "pelvic-tilt",
        "Pelvic tilt",
        "Lie on your back with knees bent. Tighten your stomach and press your lower back \
         flat into the floor, hold, then relax.",
        2,
        10,
        5,
    ),
    (
        "00000000-0000-7000-8000-000000000005",
        "supine-twist",
        "Supine twist",
        "Lie on your back with knees bent. Let both knees fall slowly to one side while your \
         shoulders stay on the floor, hold, then turn to the other side.",
        1,
        5,
        20,
    ),
    (
        "00000000-0000-7000-8000-000000000006",
        "hamstring-stretch",
        "Hamstring stretch",
        "Lie on your back, loop a towel around one foot and raise the straight leg until you \
         feel a gentle stretch behind the thigh. Change legs.",
        1,
        3,
        30,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("exercises")
                    .col(pk_uuid("id"))
                    .col(uuid_null("org_id"))
                    .col(text("slug"))
                    .col(text("name"))
                    .col(text("instructions"))
                    .col(text("safety_note"))
                    .col(big_integer("default_sets"))
                    .col(big_integer("default_reps"))
                    .col(big_integer("default_hold_seconds"))
                    .col(big_integer("created_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("exercises_org_slug")
                    .table("exercises")
                    .col("org_id")
                    .col("slug")
                    .unique()
                    .take(),
            )
            .await?;
        let mut seed = Query::insert();
        seed.into_table("exercises").columns([
            "id",
            "org_id",
            "slug",
            "name",
            "instructions",
            "safety_note",
            "default_sets",
            "default_reps",
            "default_hold_seconds",
            "created_at",
        ]);
        for (id, slug, name, instructions, sets, reps, hold) in STRETCHES {
            let id = uuid::Uuid::parse_str(id).map_err(|e| DbErr::Migration(e.to_string()))?;
            seed.values([
                id.into(),
                Option::<uuid::Uuid>::None.into(),
                (*slug).into(),
                (*name).into(),
                (*instructions).into(),
                SAFETY.into(),
                (*sets).into(),
                (*reps).into(),
                (*hold).into(),
                0i64.into(),
            ])
            .map_err(|e| DbErr::Migration(e.to_string()))?;
        }
        manager.exec_stmt(seed).await?;

        manager
            .create_table(
                Table::create()
                    .table("plans")
                    .col(text("id").primary_key())
                    .col(uuid("patient_id"))
                    .col(uuid("org_id"))
                    .col(uuid("author_id"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("archived_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plans_patient")
                    .table("plans")
                    .col("patient_id")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("plan_versions")
                    .col(pk_uuid("id"))
                    .col(text("plan_id"))
                    .col(uuid("patient_id"))
                    .col(big_integer("version"))
                    .col(text("body"))
                    .col(uuid("author_id"))
                    .col(big_integer("created_at"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("plan_versions_plan_version")
                    .table("plan_versions")
                    .col("plan_id")
                    .col("version")
                    .unique()
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["plan_versions", "plans", "exercises"] {
            manager
                .drop_table(Table::drop().table(table).take())
                .await?;
        }
        Ok(())
    }
}
