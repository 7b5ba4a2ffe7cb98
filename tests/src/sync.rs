//! A patient's device in tests: pushes that assert their status, the
//! profile it writes, and the notifications a first pull finds.

use serde_json::{Value, json};

use crate::{Login, TestApp};

/// The device pushes `changes` (`{table: {created, updated, deleted}}`)
/// with no cursor, asserting 200; the answer.
pub async fn push(app: &TestApp, who: &Login, changes: Value) -> Value {
    push_since(app, who, changes, None).await
}

/// The device pushes `changes` with the cursor of its last pull, asserting
/// 200; the answer.
pub async fn push_since(
    app: &TestApp,
    who: &Login,
    changes: Value,
    last_pulled_at: Option<i64>,
) -> Value {
    let body = json!({"changes": changes, "lastPulledAt": last_pulled_at});
    app.post("/v1/sync/push", Some(&who.token), body, 200).await
}

/// The device creates `rows` in `table`, asserting that none was rejected.
pub async fn push_rows(app: &TestApp, who: &Login, table: &str, rows: Vec<Value>) {
    let answer = push(app, who, json!({table: {"created": rows}})).await;
    let results = answer["results"][table]
        .as_object()
        .expect("a result per pushed row");
    for (id, outcome) in results {
        assert_ne!(outcome, "rejected", "{table} {id}: {answer}");
    }
}

/// The device writes `fields` into the patient's profile.
pub async fn profile(app: &TestApp, who: &Login, fields: Value) {
    let mut row = serde_json::Map::new();
    row.insert("id".to_owned(), json!(who.id.to_string()));
    row.extend(
        fields
            .as_object()
            .expect("profile fields as an object")
            .clone(),
    );
    push_rows(app, who, "profiles", vec![Value::Object(row)]).await;
}

/// The patient's notifications of `kind`, from a first pull.
pub async fn notifications(app: &TestApp, who: &Login, kind: &str) -> Vec<Value> {
    let page = app
        .get("/v1/sync/pull?last_pulled_at=null", Some(&who.token), 200)
        .await;
    let changes = &page["changes"]["notifications"];
    changes["created"]
        .as_array()
        .into_iter()
        .chain(changes["updated"].as_array())
        .flatten()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}
