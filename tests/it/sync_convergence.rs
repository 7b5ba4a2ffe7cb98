//! Property: random creates, updates, deletes and syncs from two or three
//! devices converge. After a quiet sync every device's rows equal the
//! server's. The devices follow WatermelonDB's `synchronize()`: pull and
//! merge per column (local changes win), push, then mark synced what was
//! not rejected and not changed meanwhile.

use std::collections::{BTreeMap, BTreeSet};

use dorsal_tests::{Login, TestApp};
use proptest::prelude::*;
use serde_json::{Value, json};

const COLUMNS: [&str; 2] = ["intensity", "note"];

#[derive(Debug, Clone, PartialEq)]
enum Status {
    Synced,
    Created,
    Updated,
    Deleted,
}

#[derive(Debug, Clone)]
struct Local {
    values: BTreeMap<String, Value>,
    status: Status,
    changed: BTreeSet<String>,
}

#[derive(Debug, Default)]
struct Device {
    rows: BTreeMap<String, Local>,
    cursor: Option<i64>,
    made: usize,
}

fn values_of(record: &Value) -> BTreeMap<String, Value> {
    COLUMNS
        .iter()
        .map(|c| ((*c).to_owned(), record[*c].clone()))
        .collect()
}

fn raw(id: &str, local: &Local) -> Value {
    let mut record = json!({"id": id, "recorded_at": 1_763_900_000_000_i64,
        "_changed": local.changed.iter().cloned().collect::<Vec<_>>().join(",")});
    for (column, value) in &local.values {
        record[column] = value.clone();
    }
    record
}

impl Device {
    async fn sync(&mut self, app: &TestApp, who: &Login) {
        // Pull, page by page, merging into local rows.
        loop {
            let since = self.cursor.map_or("null".to_owned(), |c| c.to_string());
            let page = app
                .get(
                    &format!("/v1/sync/pull?last_pulled_at={since}&limit=3"),
                    Some(&who.token),
                    200,
                )
                .await;
            let table = &page["changes"]["pain_logs"];
            for record in table["created"]
                .as_array()
                .unwrap()
                .iter()
                .chain(table["updated"].as_array().unwrap())
            {
                let id = record["id"].as_str().unwrap().to_owned();
                let server = values_of(record);
                match self.rows.get_mut(&id) {
                    None => {
                        self.rows.insert(
                            id,
                            Local {
                                values: server,
                                status: Status::Synced,
                                changed: BTreeSet::new(),
                            },
                        );
                    }
                    Some(local) if local.status == Status::Synced => local.values = server,
                    Some(local) if local.status == Status::Deleted => {}
                    Some(local) => {
                        let mut merged = server;
                        for column in &local.changed {
                            merged.insert(column.clone(), local.values[column].clone());
                        }
                        local.values = merged;
                    }
                }
            }
            for id in table["deleted"].as_array().unwrap() {
                self.rows.remove(id.as_str().unwrap());
            }
            self.cursor = page["timestamp"].as_i64();
            if page["has_more"] == false {
                break;
            }
        }
        // Push local changes.
        let pick = |status: Status| -> Vec<Value> {
            self.rows
                .iter()
                .filter(|(_, l)| l.status == status)
                .map(|(id, l)| raw(id, l))
                .collect()
        };
        let created = pick(Status::Created);
        let updated = pick(Status::Updated);
        let deleted: Vec<String> = self
            .rows
            .iter()
            .filter(|(_, l)| l.status == Status::Deleted)
            .map(|(id, _)| id.clone())
            .collect();
        if created.is_empty() && updated.is_empty() && deleted.is_empty() {
            return;
        }
        let body = json!({"changes": {"pain_logs": {"created": created, "updated": updated, "deleted": deleted}},
            "lastPulledAt": self.cursor});
        let answer = app.post("/v1/sync/push", Some(&who.token), body, 200).await;
        let rejected: BTreeSet<String> = answer["experimentalRejectedIds"]["pain_logs"]
            .as_array()
            .map(|ids| ids.iter().map(|i| i.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        assert!(rejected.is_empty(), "valid records were rejected: {answer}");
        self.rows.retain(|_, l| l.status != Status::Deleted);
        for local in self.rows.values_mut() {
            local.status = Status::Synced;
            local.changed.clear();
        }
    }

    fn create(&mut self, device: usize, a: u8) {
        self.made += 1;
        let id = format!("d{device}-{}", self.made);
        let values = BTreeMap::from([
            ("intensity".to_owned(), json!(a % 11)),
            ("note".to_owned(), Value::Null),
        ]);
        let changed = COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        self.rows.insert(
            id,
            Local {
                values,
                status: Status::Created,
                changed,
            },
        );
    }

    fn live_ids(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|(_, l)| l.status != Status::Deleted)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn update(&mut self, a: u8, b: u8) {
        let ids = self.live_ids();
        if ids.is_empty() {
            return;
        }
        let id = &ids[usize::from(a) % ids.len()];
        let Some(local) = self.rows.get_mut(id) else {
            return;
        };
        let (column, value) = if b.is_multiple_of(2) {
            ("intensity", json!(b % 11))
        } else {
            ("note", json!(format!("n{b}")))
        };
        local.values.insert(column.to_owned(), value);
        local.changed.insert(column.to_owned());
        if local.status == Status::Synced {
            local.status = Status::Updated;
        }
    }

    fn delete(&mut self, a: u8) {
        let ids = self.live_ids();
        if ids.is_empty() {
            return;
        }
        let id = ids[usize::from(a) % ids.len()].clone();
        if self
            .rows
            .get(&id)
            .is_some_and(|l| l.status == Status::Created)
        {
            self.rows.remove(&id); // never pushed: gone locally, nothing to send
        } else if let Some(local) = self.rows.get_mut(&id) {
            local.status = Status::Deleted;
        }
    }
}

async fn run(devices: usize, ops: Vec<(usize, u8, u8, u8)>) {
    let app = TestApp::spawn().await;
    let patient = app.register_patient().await;
    let mut phones: Vec<Device> = (0..devices).map(|_| Device::default()).collect();
    for (device, kind, a, b) in ops {
        let d = device % devices;
        match kind % 4 {
            0 => phones[d].create(d, a),
            1 => phones[d].update(a, b),
            2 => phones[d].delete(a),
            _ => phones[d].sync(&app, &patient).await,
        }
    }
    // Quiet: everyone syncs until nothing moves.
    for _ in 0..3 {
        for phone in &mut phones {
            phone.sync(&app, &patient).await;
        }
    }
    let server = app
        .get("/v1/sync/pull?limit=5000", Some(&patient.token), 200)
        .await;
    let expected: BTreeMap<String, BTreeMap<String, Value>> =
        server["changes"]["pain_logs"]["created"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_str().unwrap().to_owned(), values_of(r)))
            .collect();
    for (n, phone) in phones.iter().enumerate() {
        let rows: BTreeMap<String, BTreeMap<String, Value>> = phone
            .rows
            .iter()
            .map(|(id, l)| (id.clone(), l.values.clone()))
            .collect();
        assert_eq!(rows, expected, "device {n} differs from the server");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn random_edits_on_several_devices_converge_after_a_quiet_sync(
        devices in 2usize..=3,
        ops in proptest::collection::vec((0usize..3, any::<u8>(), any::<u8>(), any::<u8>()), 1..40),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(devices, ops));
    }
}
