//! The sync guarantees of SPEC §4, each tried over HTTP.

use std::collections::BTreeSet;
use std::io::{Read, Write};

use dorsal_tests::sync::push_since;
use dorsal_tests::{Clinic, Login, TestApp, assert_problem};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const T0: i64 = 1_763_900_000_000;

fn pain(id: &str, intensity: i64) -> Value {
    json!({"id": id, "recorded_at": T0, "intensity": intensity, "period": "night",
        "_status": "created", "_changed": ""})
}

fn changes(table: &str, created: Vec<Value>, updated: Vec<Value>, deleted: Vec<&str>) -> Value {
    json!({table: {"created": created, "updated": updated, "deleted": deleted}})
}

async fn pull(app: &TestApp, who: &Login, since: Option<i64>, limit: u64) -> Value {
    let since = since.map_or("null".to_owned(), |s| s.to_string());
    app.get(
        &format!("/v1/sync/pull?last_pulled_at={since}&schema_version=1&limit={limit}"),
        Some(&who.token),
        200,
    )
    .await
}

fn ids(page: &Value, table: &str, kind: &str) -> Vec<String> {
    page["changes"][table][kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_str()
                .map_or_else(|| r["id"].as_str().unwrap().to_owned(), str::to_owned)
        })
        .collect()
}

fn cursor(page: &Value) -> i64 {
    page["timestamp"].as_i64().unwrap()
}

/// Pulls until `has_more` is false; returns the last page's cursor and
/// every page.
async fn pull_all(
    app: &TestApp,
    who: &Login,
    mut since: Option<i64>,
    limit: u64,
) -> (i64, Vec<Value>) {
    let mut pages = Vec::new();
    loop {
        let page = pull(app, who, since, limit).await;
        let more = page["has_more"].as_bool().unwrap();
        since = Some(cursor(&page));
        pages.push(page);
        if !more {
            return (since.unwrap_or_default(), pages);
        }
    }
}

#[tokio::test]
async fn guarantee_1_the_cursor_is_a_per_patient_counter_not_a_clock() {
    let app = TestApp::spawn().await;
    let ana = app.register_patient().await;
    let ben = app.register_patient().await;
    let empty = pull(&app, &ana, None, 1000).await;
    assert_eq!(cursor(&empty), 1);
    assert_eq!(empty["has_more"], false);
    for table in [
        "profiles",
        "sleep_logs",
        "pain_logs",
        "mattresses",
        "exercise_sessions",
        "exercise_plans",
        "plan_items",
        "notifications",
    ] {
        assert_eq!(
            empty["changes"][table],
            json!({"created": [], "updated": [], "deleted": []}),
            "{table}"
        );
    }
    // A device clock decades off, in the data and in lastPulledAt, changes nothing.
    let mut future = pain("p-future", 3);
    future["recorded_at"] = json!(4_102_444_800_000_i64);
    push_since(
        &app,
        &ana,
        changes("pain_logs", vec![future], vec![], vec![]),
        Some(1),
    )
    .await;
    let after = pull(&app, &ana, Some(1), 1000).await;
    assert_eq!(cursor(&after), 2);
    assert_eq!(ids(&after, "pain_logs", "updated"), ["p-future"]);
    push_since(
        &app,
        &ana,
        changes("pain_logs", vec![pain("p2", 1)], vec![], vec![]),
        Some(2),
    )
    .await;
    assert_eq!(cursor(&pull(&app, &ana, Some(2), 1000).await), 3);
    // Another patient's counter is their own.
    assert_eq!(cursor(&pull(&app, &ben, None, 1000).await), 1);
}

#[tokio::test]
async fn guarantee_2_concurrent_pushes_and_pulls_skip_no_change() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let patient = app.register_patient().await;
    let writers: usize = 4;
    let per_writer: usize = 15;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (app, patient) = (app.clone(), patient.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..per_writer {
                let id = format!("w{w}-{n}");
                push_since(
                    &app,
                    &patient,
                    changes(
                        "pain_logs",
                        vec![pain(&id, (n % 10) as i64)],
                        vec![],
                        vec![],
                    ),
                    None,
                )
                .await;
            }
        }));
    }
    let mut pullers = Vec::new();
    for _ in 0..3 {
        let (app, patient) = (app.clone(), patient.clone());
        pullers.push(tokio::spawn(async move {
            let mut seen = BTreeSet::new();
            let mut since = None;
            for _ in 0..400 {
                let page = pull(&app, &patient, since, 7).await;
                for kind in ["created", "updated"] {
                    seen.extend(ids(&page, "pain_logs", kind));
                }
                since = Some(cursor(&page));
                if seen.len() == writers * per_writer {
                    break;
                }
                tokio::task::yield_now().await;
            }
            (seen, since)
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for puller in pullers {
        let (mut seen, since) = puller.await.unwrap();
        // Catch up once the writers are done: a skipped change would never come.
        let (_, pages) = pull_all(&app, &patient, since, 7).await;
        for page in &pages {
            for kind in ["created", "updated"] {
                seen.extend(ids(page, "pain_logs", kind));
            }
        }
        assert_eq!(seen.len(), writers * per_writer);
    }
}

#[tokio::test]
async fn guarantee_3_retries_never_duplicate() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let body = changes("pain_logs", vec![pain("p1", 4)], vec![], vec![]);
    push_since(&app, &patient, body.clone(), None).await;
    // The response was lost; the device sends the same create again.
    let again = push_since(
        &app,
        &patient,
        changes("pain_logs", vec![pain("p1", 5)], vec![], vec![]),
        None,
    )
    .await;
    assert_eq!(again["results"]["pain_logs"]["p1"], "merged");
    assert_eq!(app.count("pain_logs").await, 1);
    let deleted = push_since(
        &app,
        &patient,
        changes("pain_logs", vec![], vec![], vec!["never-existed"]),
        Some(3),
    )
    .await;
    assert_eq!(deleted["results"]["pain_logs"]["never-existed"], "applied");
    assert_eq!(app.count("pain_logs").await, 1);

    // With an Idempotency-Key the retry gets the stored answer and writes nothing.
    let keyed = json!({"changes": changes("pain_logs", vec![pain("p2", 2)], vec![], vec![]), "lastPulledAt": 4});
    let send = || {
        app.client
            .post(app.url("/v1/sync/push"))
            .bearer_auth(&patient.token)
            .header("idempotency-key", "push-7")
            .json(&keyed)
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let cursor_after_first = cursor(&pull(&app, &patient, Some(1), 1000).await);
    let second = send().await.unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    assert_eq!(
        cursor(&pull(&app, &patient, Some(1), 1000).await),
        cursor_after_first,
        "nothing written"
    );
    assert_eq!(app.count("pain_logs").await, 2);
    assert_eq!(app.count("sync_push_receipts").await, 1);
    // The same key for a different push is a client bug, said out loud.
    let other = json!({"changes": changes("pain_logs", vec![pain("p3", 2)], vec![], vec![])});
    let response = app
        .client
        .post(app.url("/v1/sync/push"))
        .bearer_auth(&patient.token)
        .header("idempotency-key", "push-7")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(app.count("pain_logs").await, 2);
}

#[tokio::test]
async fn an_idempotency_key_is_one_to_255_visible_characters_or_the_push_is_refused() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let body = json!({"changes": changes("pain_logs", vec![pain("p1", 2)], vec![], vec![])});
    let send = |key: Vec<u8>| {
        app.client
            .post(app.url("/v1/sync/push"))
            .bearer_auth(&patient.token)
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(&key).unwrap(),
            )
            .json(&body)
            .send()
    };
    for bad in [Vec::new(), vec![b'k'; 256], "schlüssel".as_bytes().to_vec()] {
        let refused = send(bad).await.unwrap();
        assert_eq!(refused.status(), 400);
        let problem: Value = refused.json().await.unwrap();
        assert_problem(&problem, 400, "invalid_idempotency_key");
        assert_eq!(
            problem["detail"],
            "Idempotency-Key must be 1-255 visible ASCII characters"
        );
    }
    assert_eq!(app.count("pain_logs").await, 0);
    assert_eq!(send(vec![b'k'; 255]).await.unwrap().status(), 200);
    assert_eq!(app.count("sync_push_receipts").await, 1);
}

#[tokio::test]
async fn stored_push_answers_expire_after_the_configured_days() {
    let app = TestApp::spawn_with(|c| c.sync.receipt_days = 7).await;
    let patient = app.register_patient().await;
    let keyed = |token: &str, key: &'static str, id: &str| {
        let body = json!({"changes": changes("pain_logs", vec![pain(id, 2)], vec![], vec![])});
        app.client
            .post(app.url("/v1/sync/push"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    assert_eq!(
        keyed(&patient.token, "old", "p1").await.unwrap().status(),
        200
    );
    app.clock
        .advance(std::time::Duration::from_secs(6 * 86_400));
    // Days on, the device signs in again: its access token has expired.
    let patient = app.login(&patient.email).await;
    assert_eq!(
        keyed(&patient.token, "recent", "p2")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(app.count("sync_push_receipts").await, 2);

    // A day later the first is 7 days and some hours old; the second not.
    app.clock
        .advance(std::time::Duration::from_secs(86_400 + 3_600));
    // And again, a day on.
    let patient = app.login(&patient.email).await;
    let ctx = dorsal_worker::JobCtx::from(&app.core);
    let now = dorsal_service::clock::Clock::now(&app.clock);
    let deleted = dorsal_worker::jobs::expire_receipts::run(&ctx, now)
        .await
        .unwrap();
    assert_eq!(deleted, Some(1));
    assert_eq!(app.count("sync_push_receipts").await, 1);
    // Once an hour across workers: the same hour does nothing again.
    let again = dorsal_worker::jobs::expire_receipts::run(&ctx, now)
        .await
        .unwrap();
    assert_eq!(again, None);
    // The expired key is free again: a different push under it applies
    // instead of being refused as a reuse; the recent one still is.
    assert_eq!(
        keyed(&patient.token, "old", "p3").await.unwrap().status(),
        200
    );
    assert_eq!(
        keyed(&patient.token, "recent", "p4")
            .await
            .unwrap()
            .status(),
        409
    );
    assert_eq!(app.count("pain_logs").await, 3);
}

#[tokio::test]
async fn guarantee_4_a_bad_record_is_rejected_alone_and_the_rest_applied() {
    let app = TestApp::spawn().await;
    let ana = app.register_patient().await;
    let ben = app.register_patient().await;
    push_since(
        &app,
        &ben,
        changes("pain_logs", vec![pain("bens", 2)], vec![], vec![]),
        None,
    )
    .await;

    let mut bad = pain("bad", 11);
    bad["note"] = json!("x".repeat(1001));
    let body = json!({
        "pain_logs": {"created": [pain("good", 3), bad, pain("bens", 9)], "updated": [], "deleted": []},
        "profiles": {"created": [{"id": Uuid::new_v4().to_string(), "timezone": "Europe/Berlin"}], "updated": [], "deleted": []},
    });
    let answer = push_since(&app, &ana, body, None).await;
    assert_eq!(answer["results"]["pain_logs"]["good"], "applied");
    assert_eq!(answer["results"]["pain_logs"]["bad"], "rejected");
    assert_eq!(
        answer["results"]["pain_logs"]["bens"], "rejected",
        "another patient's id"
    );
    assert_eq!(
        answer["experimentalRejectedIds"]["pain_logs"],
        json!(["bad", "bens"])
    );
    assert_eq!(
        answer["experimentalRejectedIds"]["profiles"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "profile id must be the user id"
    );
    let pointers: Vec<(&str, &str)> = answer["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["pointer"].as_str().unwrap()))
        .collect();
    assert!(
        pointers.contains(&("bad", "/intensity")) && pointers.contains(&("bad", "/note")),
        "{pointers:?}"
    );
    assert_eq!(answer["advisories"], json!([]));
    // Ben's row is untouched, Ana's good one stored.
    let bens = pull(&app, &ben, None, 1000).await;
    assert_eq!(bens["changes"]["pain_logs"]["created"][0]["intensity"], 2);
    assert_eq!(app.count("pain_logs").await, 2);

    // Whole-push failures: malformed, unknown table, a record without an id. Nothing written.
    for (body, code) in [
        (
            json!({"changes": {"diaries": {"created": [], "updated": [], "deleted": []}}}),
            "unknown_table",
        ),
        (
            json!({"changes": {"pain_logs": {"created": [{"intensity": 3}]}}}),
            "malformed_record",
        ),
        (json!({"changes": 5}), "malformed_body"),
    ] {
        let problem = app.post("/v1/sync/push", Some(&ana.token), body, 400).await;
        assert_eq!(problem["code"], code);
    }
    assert_eq!(app.count("pain_logs").await, 2);
}

#[tokio::test]
async fn guarantee_5_conflicts_merge_per_column_and_a_server_delete_wins() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let mut row = pain("p1", 4);
    row["note"] = json!("first");
    push_since(
        &app,
        &patient,
        changes("pain_logs", vec![row.clone()], vec![], vec![]),
        Some(1),
    )
    .await;
    let both = cursor(&pull(&app, &patient, Some(1), 1000).await); // phone and tablet have pulled
    // Phone edits the note.
    let mut phone = row.clone();
    phone["note"] = json!("woke at 3");
    phone["_status"] = json!("updated");
    phone["_changed"] = json!("note");
    let answer = push_since(
        &app,
        &patient,
        changes("pain_logs", vec![], vec![phone], vec![]),
        Some(both),
    )
    .await;
    assert_eq!(answer["results"]["pain_logs"]["p1"], "applied");
    // Tablet, not having pulled since, edits the intensity.
    let mut tablet = row.clone();
    tablet["intensity"] = json!(7);
    tablet["_status"] = json!("updated");
    tablet["_changed"] = json!("intensity");
    let answer = push_since(
        &app,
        &patient,
        changes("pain_logs", vec![], vec![tablet], vec![]),
        Some(both),
    )
    .await;
    assert_eq!(answer["results"]["pain_logs"]["p1"], "merged");
    let page = pull(&app, &patient, Some(both), 1000).await;
    let merged = &page["changes"]["pain_logs"]["updated"][0];
    assert_eq!(
        (merged["note"].as_str(), merged["intensity"].as_i64()),
        (Some("woke at 3"), Some(7))
    );
    assert_eq!(
        cursor(&page),
        both + 2,
        "the merge took a new change number"
    );

    // Phone deletes; tablet's stale update does not bring the row back.
    let synced = cursor(&page);
    push_since(
        &app,
        &patient,
        changes("pain_logs", vec![], vec![], vec!["p1"]),
        Some(synced),
    )
    .await;
    let mut stale = row.clone();
    stale["_status"] = json!("updated");
    stale["_changed"] = json!("intensity");
    let answer = push_since(
        &app,
        &patient,
        changes("pain_logs", vec![], vec![stale], vec![]),
        Some(synced),
    )
    .await;
    assert_eq!(answer["results"]["pain_logs"]["p1"], "merged");
    let page = pull(&app, &patient, Some(synced), 1000).await;
    assert_eq!(ids(&page, "pain_logs", "deleted"), ["p1"]);
    assert!(ids(&page, "pain_logs", "updated").is_empty());
}

#[tokio::test]
async fn guarantee_6_pulls_are_paged_by_whole_change_numbers() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let batch = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| pain(&format!("{prefix}{i:02}"), 1))
            .collect::<Vec<_>>()
    };
    push_since(
        &app,
        &patient,
        changes("pain_logs", batch("a", 4), vec![], vec![]),
        None,
    )
    .await; // seq 2
    push_since(
        &app,
        &patient,
        changes("pain_logs", batch("b", 12), vec![], vec![]),
        None,
    )
    .await; // seq 3
    push_since(
        &app,
        &patient,
        changes(
            "sleep_logs",
            vec![json!({"id": "s1", "night_of": "2026-11-20"})],
            vec![],
            vec![],
        ),
        None,
    )
    .await; // seq 4

    let (last, pages) = pull_all(&app, &patient, None, 10).await;
    assert_eq!(last, 4);
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| {
            ids(p, "pain_logs", "created").len()
                + ids(p, "pain_logs", "updated").len()
                + ids(p, "sleep_logs", "created").len()
                + ids(p, "sleep_logs", "updated").len()
        })
        .collect();
    assert_eq!(sizes, [4, 12, 1], "a page never splits the 12-record push");
    assert_eq!(
        ids(&pages[0], "pain_logs", "created").len(),
        4,
        "the first pull creates"
    );
    assert_eq!(
        ids(&pages[1], "pain_logs", "updated").len(),
        12,
        "later pages update"
    );
    let cursors: Vec<i64> = pages.iter().map(cursor).collect();
    assert_eq!(cursors, [2, 3, 4]);
    let mut all: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            [
                ids(p, "pain_logs", "created"),
                ids(p, "pain_logs", "updated"),
            ]
            .concat()
        })
        .collect();
    let total = all.len();
    all.dedup();
    assert_eq!((total, all.len()), (16, 16));
    let problem = app
        .get(
            "/v1/sync/pull?last_pulled_at=abc",
            Some(&patient.token),
            400,
        )
        .await;
    assert_eq!(problem["code"], "invalid_query");
}

#[tokio::test]
async fn guarantee_7_deletes_reach_every_device_but_not_a_first_pull() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    push_since(
        &app,
        &patient,
        changes(
            "sleep_logs",
            vec![
                json!({"id": "s1", "night_of": "2026-11-20"}),
                json!({"id": "s2", "night_of": "2026-11-21"}),
            ],
            vec![],
            vec![],
        ),
        Some(1),
    )
    .await;
    // The creating device deletes s1 without having pulled in between.
    push_since(
        &app,
        &patient,
        changes("sleep_logs", vec![], vec![], vec!["s1"]),
        Some(1),
    )
    .await;
    let creator = pull(&app, &patient, Some(1), 1000).await;
    assert_eq!(ids(&creator, "sleep_logs", "deleted"), ["s1"]);
    let fresh = pull(&app, &patient, None, 1000).await;
    assert!(ids(&fresh, "sleep_logs", "deleted").is_empty());
    assert_eq!(ids(&fresh, "sleep_logs", "created"), ["s2"]);
}

#[tokio::test]
async fn guarantee_8_a_patient_syncs_only_their_own_rows_and_cannot_write_read_only_ones() {
    let app = TestApp::spawn().await;
    let org = app.create_org("Clinic").await;
    let ana = app.register_patient().await;
    let ben = app.register_patient().await;
    push_since(
        &app,
        &ben,
        changes("pain_logs", vec![pain("bens", 2)], vec![], vec![]),
        None,
    )
    .await;
    assert!(ids(&pull(&app, &ana, None, 1000).await, "pain_logs", "created").is_empty());
    let body = json!({
        "exercise_plans": {"created": [{"id": "plan1", "title": "mine"}], "updated": [], "deleted": ["plan0"]},
        "notifications": {"created": [{"id": "n1", "title": "fake"}], "updated": [], "deleted": []},
    });
    let answer = push_since(&app, &ana, body, None).await;
    assert_eq!(answer["results"]["exercise_plans"]["plan1"], "rejected");
    assert_eq!(answer["results"]["exercise_plans"]["plan0"], "rejected");
    assert_eq!(answer["results"]["notifications"]["n1"], "rejected");
    assert_eq!(
        app.count("exercise_plans").await + app.count("notifications").await,
        0
    );
    for staff in [&org.admin] {
        app.get("/v1/sync/pull", Some(&staff.token), 403).await;
        app.post(
            "/v1/sync/push",
            Some(&staff.token),
            json!({"changes": {}}),
            403,
        )
        .await;
    }
    app.get("/v1/sync/pull", None, 401).await;
}

#[tokio::test]
async fn guarantee_8_updates_to_a_table_the_care_team_writes_are_rejected_and_change_nothing() {
    let Clinic {
        app,
        therapist,
        patient,
        ..
    } = Clinic::spawn().await;
    let plan = dorsal_tests::reminders::new_plan(&app, &therapist, &patient, None).await;
    let first = pull(&app, &patient, None, 1000).await;
    let item = ids(&first, "plan_items", "created")[0].clone();
    let before = cursor(&first);
    let body = json!({
        "exercise_plans": {"created": [], "deleted": [], "updated": [
            {"id": plan, "title": "my own plan", "status": "archived"}]},
        "plan_items": {"created": [], "deleted": [], "updated": [
            {"id": item, "sets": 99, "_changed": ""}]},
    });
    let answer = push_since(&app, &patient, body, Some(before)).await;
    assert_eq!(
        answer["results"]["exercise_plans"][&plan], "rejected",
        "{answer}"
    );
    assert_eq!(
        answer["results"]["plan_items"][&item], "rejected",
        "{answer}"
    );
    assert_eq!(answer["experimentalRejectedIds"]["exercise_plans"][0], plan);
    // Nothing changed, so there is nothing new to pull.
    let after = pull(&app, &patient, Some(before), 1000).await;
    assert!(
        ids(&after, "exercise_plans", "updated").is_empty(),
        "{after}"
    );
    assert!(ids(&after, "plan_items", "updated").is_empty(), "{after}");
    let plans = app
        .get(
            &format!("/v1/patients/{}/plans", patient.id),
            Some(&therapist.token),
            200,
        )
        .await;
    assert_eq!(plans["items"][0]["status"], "active", "{plans}");
    assert_ne!(plans["items"][0]["title"], "my own plan");
}

#[tokio::test]
async fn guarantee_9_too_old_a_schema_gets_426_with_the_minimum() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let problem = app
        .get("/v1/sync/pull?schema_version=0", Some(&patient.token), 426)
        .await;
    assert_eq!(problem["min_schema_version"], 1);
    let problem = app
        .post(
            "/v1/sync/push?schema_version=0",
            Some(&patient.token),
            json!({"changes": {}}),
            426,
        )
        .await;
    assert_eq!(problem["code"], "upgrade_required");
}

#[tokio::test]
async fn guarantee_10_compressed_bodies_both_ways_and_size_limits() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let rows: Vec<Value> = (0..200)
        .map(|i| pain(&format!("p{i:03}"), i % 10))
        .collect();
    let body = json!({"changes": changes("pain_logs", rows, vec![], vec![]), "lastPulledAt": null})
        .to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    let response = app
        .client
        .post(app.url("/v1/sync/push"))
        .bearer_auth(&patient.token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(app.count("pain_logs").await, 200);

    let response = app
        .client
        .get(app.url("/v1/sync/pull"))
        .bearer_auth(&patient.token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&response.bytes().await.unwrap()[..])
        .read_to_string(&mut text)
        .unwrap();
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        page["changes"]["pain_logs"]["created"]
            .as_array()
            .unwrap()
            .len(),
        200
    );

    let ids: Vec<String> = (0..5001).map(|i| format!("d{i}")).collect();
    let too_many =
        json!({"changes": {"pain_logs": {"created": [], "updated": [], "deleted": ids}}});
    let problem = app
        .post("/v1/sync/push", Some(&patient.token), too_many, 413)
        .await;
    assert_eq!(problem["code"], "payload_too_large");
    let huge = json!({"changes": {}, "padding": "x".repeat(10 * 1024 * 1024)});
    app.call(
        Method::POST,
        "/v1/sync/push",
        Some(&patient.token),
        Some(huge),
        413,
    )
    .await;
    assert_eq!(app.count("pain_logs").await, 200);
}

#[tokio::test]
async fn guarantee_11_a_change_from_another_device_sends_a_pull_now_event() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let other = app.register_patient().await;
    let mut events = app
        .client
        .get(app.url("/v1/sync/events"))
        .bearer_auth(&patient.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    push_since(
        &app,
        &other,
        changes("pain_logs", vec![pain("not-mine", 1)], vec![], vec![]),
        None,
    )
    .await;
    push_since(
        &app,
        &patient,
        changes("pain_logs", vec![pain("mine", 1)], vec![], vec![]),
        None,
    )
    .await;
    let mut received = String::new();
    while !received.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), events.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        received.starts_with("event: sync\ndata: {\"cursor\":2}"),
        "{received:?}"
    );
}

#[tokio::test]
async fn every_synced_column_exists_in_the_database() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    // A pull selects every column of every table; it fails if one is missing.
    let page = pull(&app, &patient, None, 1).await;
    assert_eq!(
        page["changes"].as_object().unwrap().len(),
        dorsal_domain::sync::TABLES.len()
    );
}

#[tokio::test]
async fn the_diary_signals_of_the_tips_round_trip_and_are_checked() {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let night = json!({"id": "n1", "night_of": "2026-11-30", "head_pillow": "flat",
        "knees_bent": true, "lumbar_support": false, "heat_before_bed": true,
        "stretched_before_bed": true, "late_heavy_meal": true, "alcohol_evening": false,
        "caffeine_late": true, "woke_second_half": true});
    let pain = json!({"id": "p1", "recorded_at": 1_793_503_800_000_i64, "intensity": 4,
        "interference": 6});
    // An older app that does not know them: false, and null for the rest.
    let older = json!({"id": "n2", "night_of": "2026-12-01"});
    let answer = push_since(
        &app,
        &patient,
        json!({"sleep_logs": {"created": [night, older]}, "pain_logs": {"created": [pain]}}),
        None,
    )
    .await;
    assert_eq!(answer["rejections"], json!([]), "{answer}");
    let page = pull(&app, &patient, None, 100).await;
    let row = |table: &str, id: &str| {
        page["changes"][table]["created"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    let stored = row("sleep_logs", "n1");
    for (column, value) in night.as_object().unwrap() {
        assert_eq!(&stored[column], value, "{column}");
    }
    let before = row("sleep_logs", "n2");
    assert_eq!(before["head_pillow"], Value::Null);
    assert_eq!(before["woke_second_half"], false);
    assert_eq!(row("pain_logs", "p1")["interference"], 6);

    for (table, record, pointer) in [
        (
            "sleep_logs",
            json!({"id": "n3", "night_of": "2026-12-02", "head_pillow": "huge"}),
            "/head_pillow",
        ),
        (
            "sleep_logs",
            json!({"id": "n3", "night_of": "2026-12-02", "alcohol_evening": "yes"}),
            "/alcohol_evening",
        ),
        (
            "pain_logs",
            json!({"id": "p2", "recorded_at": 1_793_503_900_000_i64, "intensity": 4, "interference": 11}),
            "/interference",
        ),
    ] {
        let answer = push_since(&app, &patient, json!({table: {"created": [record]}}), None).await;
        assert_eq!(answer["rejections"][0]["pointer"], pointer, "{answer}");
    }
    assert_eq!(app.count("sleep_logs").await, 2);
    assert_eq!(app.count("pain_logs").await, 1);
}
