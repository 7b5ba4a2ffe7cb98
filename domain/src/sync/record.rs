//! A pushed record, checked against its table: every value typed and in
//! range, so the database only ever holds what the wire format allows.

use serde_json::{Map, Value};

use super::MAX_CURSOR;
use super::schema::{ColumnSpec, Kind, TableSpec};

/// Longest free text accepted, in characters.
pub const TEXT_MAX_CHARS: usize = 1000;
/// Longest record id accepted.
pub const ID_MAX_LEN: usize = 64;

/// One typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number (also instants).
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// Text (also dates, times, enums, zones and ids).
    Text(String),
}

/// Serialized as [`Cell::to_json`] renders it, without building a value.
impl serde::Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => serializer.serialize_none(),
            Cell::Bool(b) => serializer.serialize_bool(*b),
            Cell::Int(i) => serializer.serialize_i64(*i),
            Cell::Float(f) if f.is_finite() => serializer.serialize_f64(*f),
            Cell::Float(_) => serializer.serialize_none(),
            Cell::Text(s) => serializer.serialize_str(s),
        }
    }
}

impl Cell {
    /// The value as JSON, as a pull sends it.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Int(i) => Value::from(*i),
            Cell::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Cell::Text(s) => Value::String(s.clone()),
        }
    }
}

/// Why a record, or one of its fields, was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// JSON pointer inside the record, e.g. `/intensity`; empty for the
    /// whole record.
    pub pointer: String,
    /// What is wrong, for a person; never the value itself.
    pub reason: String,
}

impl RecordError {
    /// An error about the whole record.
    pub fn record(reason: impl Into<String>) -> Self {
        Self {
            pointer: String::new(),
            reason: reason.into(),
        }
    }

    fn field(column: &str, reason: impl Into<String>) -> Self {
        Self {
            pointer: format!("/{column}"),
            reason: reason.into(),
        }
    }
}

/// A validated record: every column of its table a device may write, in
/// table order, and the columns the device says it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The client-made id.
    pub id: String,
    /// Each writable column with its value (absent columns are null, or
    /// `false` for booleans).
    pub cells: Vec<(&'static ColumnSpec, Cell)>,
    /// Columns named in `_changed`; `None` when the client sent none.
    pub changed: Option<Vec<String>>,
}

/// Whether `id` can name a synced record: 1–64 of `A-Z a-z 0-9 _ . -`.
pub fn check_id(id: &str) -> Result<(), RecordError> {
    let ok = !id.is_empty()
        && id.len() <= ID_MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(RecordError::field(
            "id",
            "must be 1-64 of A-Z, a-z, 0-9, _ . -",
        ))
    }
}

/// The id of a raw record, if it has a usable one.
pub fn record_id(raw: &Value) -> Option<&str> {
    raw.get("id").and_then(Value::as_str)
}

/// A whole number, also when a JavaScript client sends it as `3.0`.
pub fn integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let f = value.as_f64()?;
        // Whole numbers sent as 3.0 are still whole numbers.
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

fn cell(column: &ColumnSpec, value: &Value) -> Result<Cell, RecordError> {
    let fail = |reason: &str| Err(RecordError::field(column.name, reason));
    if value.is_null() {
        return match column.kind {
            _ if column.required => fail("is required"),
            kind => Ok(kind.null_cell()),
        };
    }
    match column.kind {
        Kind::Bool => value
            .as_bool()
            .map(Cell::Bool)
            .map_or_else(|| fail("must be true or false"), Ok),
        Kind::Int { min, max } => match integer(value) {
            Some(n) if (min..=max).contains(&n) => Ok(Cell::Int(n)),
            Some(_) => Err(RecordError::field(
                column.name,
                format!("must be from {min} to {max}"),
            )),
            None => fail("must be a whole number"),
        },
        Kind::Instant => match integer(value) {
            Some(n) if (0..=MAX_CURSOR).contains(&n) => Ok(Cell::Int(n)),
            _ => fail("must be milliseconds since 1970-01-01T00:00:00Z"),
        },
        Kind::Float { min, max } => match value.as_f64() {
            Some(f) if f.is_finite() && (min..=max).contains(&f) => Ok(Cell::Float(f)),
            _ => Err(RecordError::field(
                column.name,
                format!("must be a number from {min} to {max}"),
            )),
        },
        Kind::Text => match value.as_str() {
            // PostgreSQL cannot store a NUL in text.
            Some(s) if s.contains('\0') => fail("must not contain the NUL character"),
            Some(s) if s.chars().count() <= TEXT_MAX_CHARS => Ok(Cell::Text(s.to_owned())),
            Some(_) => fail("must be at most 1000 characters"),
            None => fail("must be text"),
        },
        Kind::Date => match value.as_str() {
            Some(s) if s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok() => {
                Ok(Cell::Text(s.to_owned()))
            }
            _ => fail("must be a date, YYYY-MM-DD"),
        },
        Kind::LocalTime => match value.as_str() {
            Some(s) if parse_local_time(s).is_some() => Ok(Cell::Text(s.to_owned())),
            _ => fail("must be a local time, HH:MM"),
        },
        Kind::Enum(words) => match value.as_str() {
            Some(s) if words.contains(&s) => Ok(Cell::Text(s.to_owned())),
            _ => Err(RecordError::field(
                column.name,
                format!("must be one of {}", words.join(", ")),
            )),
        },
        Kind::TimeZone => match value.as_str() {
            Some(s) if jiff::tz::TimeZone::get(s).is_ok() => Ok(Cell::Text(s.to_owned())),
            _ => fail("must be an IANA time zone, e.g. Europe/Berlin"),
        },
        Kind::Ref => match value.as_str() {
            Some(s) if check_id(s).is_ok() => Ok(Cell::Text(s.to_owned())),
            _ => fail("must be a record id"),
        },
        Kind::Language => match value.as_str() {
            Some(s) if crate::locale::is_language(s) => Ok(Cell::Text(s.to_owned())),
            _ => fail("must be an ISO 639-1 language code in lower case, e.g. en or es"),
        },
        Kind::Country => match value.as_str() {
            Some(s) if crate::care_routes::is_country(s) => Ok(Cell::Text(s.to_owned())),
            _ => fail("must be an ISO 3166-1 alpha-2 country code in upper case, e.g. US or DE"),
        },
    }
}

/// `HH:MM` as (hour, minute).
pub fn parse_local_time(s: &str) -> Option<(i8, i8)> {
    let (h, m) = s.split_once(':')?;
    // Digits only: `parse` alone would take "+1" and "-0".
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some((h, m))
}

/// Checks a raw pushed record against `table`. Only the columns a device
/// may write are read; `_status` is ignored and `_changed` kept as a hint.
pub fn parse(table: &TableSpec, raw: &Value) -> Result<Record, Vec<RecordError>> {
    let Some(object) = raw.as_object() else {
        return Err(vec![RecordError::record("must be an object")]);
    };
    let id = match object.get("id").and_then(Value::as_str) {
        Some(id) => id,
        None => return Err(vec![RecordError::field("id", "must be a string")]),
    };
    check_id(id).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut cells = Vec::with_capacity(table.columns.len());
    for column in table
        .columns
        .iter()
        .filter(|c| table.patient_writes_column(c.name))
    {
        match cell(column, object.get(column.name).unwrap_or(&Value::Null)) {
            Ok(value) => cells.push((column, value)),
            Err(error) => errors.push(error),
        }
    }
    let changed = changed_columns(object);
    if let Some(changed) = &changed {
        for name in changed {
            if table.column(name).is_some() && !table.patient_writes_column(name) {
                errors.push(RecordError::field(name, "is read-only"));
            }
        }
    }
    if errors.is_empty() {
        Ok(Record {
            id: id.to_owned(),
            cells,
            changed,
        })
    } else {
        Err(errors)
    }
}

fn changed_columns(object: &Map<String, Value>) -> Option<Vec<String>> {
    let list = object.get("_changed")?.as_str()?;
    Some(
        list.split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sync::schema::table;

    fn pain(overrides: Value) -> Value {
        let mut base = json!({"id": "p1", "recorded_at": 1_700_000_000_000_i64, "intensity": 4,
            "_status": "created", "_changed": ""});
        if let (Some(base), Some(extra)) = (base.as_object_mut(), overrides.as_object()) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        base
    }

    fn errors(raw: Value) -> Vec<String> {
        match parse(table("pain_logs").unwrap(), &raw) {
            Ok(_) => vec![],
            Err(errors) => errors.into_iter().map(|e| e.pointer).collect(),
        }
    }

    #[test]
    fn a_valid_record_fills_defaults_and_keeps_its_changed_hint() {
        let record = parse(
            table("pain_logs").unwrap(),
            &pain(json!({"_changed": "intensity,note"})),
        )
        .unwrap();
        assert_eq!(record.id, "p1");
        let value = |name: &str| {
            record
                .cells
                .iter()
                .find(|(c, _)| c.name == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(value("intensity"), Some(Cell::Int(4)));
        assert_eq!(value("fever"), Some(Cell::Bool(false)));
        assert_eq!(value("note"), Some(Cell::Null));
        assert_eq!(
            record.changed,
            Some(vec!["intensity".to_owned(), "note".to_owned()])
        );
    }

    #[test]
    fn every_kind_is_checked_at_its_boundaries() {
        let cases = [
            (json!({"intensity": 10}), vec![]),
            (json!({"intensity": 11}), vec!["/intensity"]),
            (json!({"intensity": -1}), vec!["/intensity"]),
            (json!({"intensity": 3.0}), vec![]),
            (json!({"intensity": 3.5}), vec!["/intensity"]),
            (json!({"intensity": "3"}), vec!["/intensity"]),
            (json!({"intensity": null}), vec!["/intensity"]),
            (json!({"recorded_at": -1}), vec!["/recorded_at"]),
            (
                json!({"recorded_at": 9_007_199_254_740_992_i64}),
                vec!["/recorded_at"],
            ),
            (json!({"temperature_c": 38.0}), vec![]),
            (json!({"temperature_c": 60}), vec!["/temperature_c"]),
            (json!({"fever": "yes"}), vec!["/fever"]),
            (json!({"fever": null}), vec![]),
            (json!({"legs_affected": "both"}), vec![]),
            (json!({"legs_affected": "three"}), vec!["/legs_affected"]),
            (json!({"note": "x".repeat(1000)}), vec![]),
            (json!({"note": "x".repeat(1001)}), vec!["/note"]),
            (
                json!({"note": 5, "trauma": "huge"}),
                vec!["/trauma", "/note"],
            ),
            (json!({"unknown_column": "ignored"}), vec![]),
            (json!({"id": "has space"}), vec!["/id"]),
            (json!({"id": 7}), vec!["/id"]),
            (json!({"id": "x".repeat(65)}), vec!["/id"]),
        ];
        for (overrides, expected) in cases {
            assert_eq!(errors(pain(overrides.clone())), expected, "{overrides}");
        }
        assert_eq!(errors(json!([1])), vec![""]);
    }

    #[test]
    fn dates_times_and_zones() {
        let profiles = table("profiles").unwrap();
        let profile = |v: Value| {
            parse(profiles, &v)
                .map(|_| ())
                .map_err(|e| e[0].pointer.clone())
        };
        assert!(
            profile(
                json!({"id": "u", "timezone": "Europe/Berlin", "stretch_reminder_time": "21:00",
            "birth_date": "1950-02-28"})
            )
            .is_ok()
        );
        assert_eq!(
            profile(json!({"id": "u", "timezone": "Mars/Olympus"})),
            Err("/timezone".into())
        );
        assert_eq!(profile(json!({"id": "u"})), Err("/timezone".into()));
        assert_eq!(
            profile(json!({"id": "u", "timezone": "UTC", "quiet_start": "24:00"})),
            Err("/quiet_start".into())
        );
        assert_eq!(
            profile(json!({"id": "u", "timezone": "UTC", "quiet_end": "7:00"})),
            Err("/quiet_end".into())
        );
        for signed in ["+1:30", "-0:00", "07:+5"] {
            assert_eq!(
                profile(json!({"id": "u", "timezone": "UTC", "quiet_end": signed})),
                Err("/quiet_end".into()),
                "{signed}"
            );
        }
        assert_eq!(
            profile(json!({"id": "u", "timezone": "UTC", "birth_date": "1950-02-30"})),
            Err("/birth_date".into())
        );
        assert_eq!(
            profile(json!({"id": "u", "timezone": "UTC", "birth_date": "1950-2-3"})),
            Err("/birth_date".into())
        );
    }

    #[test]
    fn read_only_columns_cannot_be_changed() {
        let notifications = table("notifications").unwrap();
        let read = json!({"id": "n1", "title": "anything", "read_at": 5, "_changed": "read_at"});
        let record = parse(notifications, &read).unwrap();
        assert_eq!(record.cells.len(), 1, "only read_at is taken");
        let edit = json!({"id": "n1", "title": "mine now", "_changed": "title,read_at"});
        let refused = parse(notifications, &edit).unwrap_err();
        assert_eq!(refused[0].pointer, "/title");
    }
}
