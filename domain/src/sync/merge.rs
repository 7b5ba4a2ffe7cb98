//! What a push writes over an existing row: the whole record, or on a
//! conflict only the columns the device changed (the same result the
//! client's own per-column merge would give).

use super::record::{Cell, Record};
use super::schema::ColumnSpec;

/// How a pushed record arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// In `created`.
    Created,
    /// In `updated`.
    Updated,
}

/// The columns of `record` to write over the stored row.
///
/// Without a conflict the device had the latest row, so its whole record
/// is written. With one (the row changed on the server after the device's
/// last pull), an update writes only its `_changed` columns; a create that
/// collides with an existing row (the same deterministic id from two
/// devices) writes all of them, last write wins.
pub fn columns_to_write(
    record: &Record,
    arrival: Arrival,
    conflict: bool,
) -> Vec<(&'static ColumnSpec, Cell)> {
    let changed = match (&record.changed, arrival, conflict) {
        (Some(changed), Arrival::Updated, true) => changed,
        _ => return record.cells.clone(),
    };
    record
        .cells
        .iter()
        .filter(|(column, _)| changed.iter().any(|c| c == column.name))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::sync::record::parse;
    use crate::sync::schema::table;

    const COLUMNS: [&str; 4] = ["intensity", "note", "fever", "period"];

    fn value(column: &str, seed: u8) -> Value {
        match column {
            "intensity" => json!(seed % 11),
            "note" => json!(format!("note {seed}")),
            "fever" => json!(seed.is_multiple_of(2)),
            _ => json!(["night", "morning", "day", "evening"][usize::from(seed % 4)]),
        }
    }

    proptest! {
        /// The server's merge equals the client's: the stored row, with the
        /// device's changed columns taken from the device.
        #[test]
        fn a_conflicting_update_keeps_server_columns_the_device_did_not_change(
            server in proptest::collection::vec(any::<u8>(), 4),
            device in proptest::collection::vec(any::<u8>(), 4),
            changed in proptest::collection::vec(any::<bool>(), 4),
        ) {
            let spec = table("pain_logs").unwrap();
            let mut raw = Map::new();
            raw.insert("id".into(), json!("p"));
            raw.insert("recorded_at".into(), json!(1));
            let names: Vec<&str> = COLUMNS.iter().zip(&changed).filter(|(_, c)| **c).map(|(n, _)| *n).collect();
            raw.insert("_changed".into(), json!(names.join(",")));
            for (column, seed) in COLUMNS.iter().zip(&device) {
                raw.insert((*column).into(), value(column, *seed));
            }
            let record = parse(spec, &Value::Object(raw)).unwrap();
            let written = columns_to_write(&record, Arrival::Updated, true);
            let mut merged: Vec<(String, Value)> = COLUMNS.iter().zip(&server).map(|(c, s)| ((*c).to_owned(), value(c, *s))).collect();
            for (column, cell) in &written {
                if let Some(slot) = merged.iter_mut().find(|(n, _)| n == column.name) {
                    slot.1 = cell.to_json();
                }
            }
            for ((column, value_now), ((_, d), c)) in merged.iter().zip(COLUMNS.iter().zip(&device).zip(&changed)) {
                let expected = if *c { value(column, *d) } else { value(column, server[COLUMNS.iter().position(|x| x == column).unwrap()]) };
                prop_assert_eq!(value_now, &expected, "{}", column);
            }
        }
    }

    #[test]
    fn without_a_conflict_or_on_a_create_the_whole_record_is_written() {
        let spec = table("pain_logs").unwrap();
        let record = parse(
            spec,
            &json!({"id": "p", "recorded_at": 1, "intensity": 2, "_changed": "note"}),
        )
        .unwrap();
        assert_eq!(
            columns_to_write(&record, Arrival::Updated, false).len(),
            spec.columns.len()
        );
        assert_eq!(
            columns_to_write(&record, Arrival::Created, true).len(),
            spec.columns.len()
        );
        assert_eq!(columns_to_write(&record, Arrival::Updated, true).len(), 1);
    }
}
