//! Properties of the push decoder (`record::parse`) over arbitrary input:
//! it never panics, answers a record or per-field errors with JSON
//! pointers, takes every valid value of every column kind back unchanged,
//! and refuses each kind of bad value at its column.

use std::collections::BTreeSet;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::MAX_CURSOR;
use super::record::{Cell, ID_MAX_LEN, Record, RecordError, TEXT_MAX_CHARS, check_id, parse};
use super::schema::{ColumnSpec, Kind, TABLES, TableSpec};
use crate::care_routes::ALPHA2;
use crate::locale::LANGUAGES;

/// Zones every tz database has.
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
];

fn writable(table: &TableSpec) -> Vec<&'static ColumnSpec> {
    table
        .columns
        .iter()
        .filter(|c| table.patient_writes_column(c.name))
        .collect()
}

fn any_table() -> impl Strategy<Value = &'static TableSpec> {
    select(TABLES.iter().collect::<Vec<_>>())
}

fn tables_with_writable_columns() -> impl Strategy<Value = &'static TableSpec> {
    select(
        TABLES
            .iter()
            .filter(|t| !writable(t).is_empty())
            .collect::<Vec<_>>(),
    )
}

fn valid_id() -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9_.-]{{1,{ID_MAX_LEN}}}"))
        .expect("a valid regex")
}

/// Any JSON at all, nested a little.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        "[0-9:+ T-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("\\PC{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A value the column accepts, and the cell it must become.
fn valid_value(column: &'static ColumnSpec) -> BoxedStrategy<(Value, Cell)> {
    let value: BoxedStrategy<(Value, Cell)> = match column.kind {
        Kind::Bool => any::<bool>()
            .prop_map(|b| (json!(b), Cell::Bool(b)))
            .boxed(),
        Kind::Int { min, max } => (min..=max, any::<bool>())
            .prop_map(|(n, as_float)| {
                // A whole number sent as 3.0 is still 3.
                let value = if as_float && n.abs() < 1 << 50 {
                    json!(n as f64)
                } else {
                    json!(n)
                };
                (value, Cell::Int(n))
            })
            .boxed(),
        Kind::Instant => (0..=MAX_CURSOR)
            .prop_map(|n| (json!(n), Cell::Int(n)))
            .boxed(),
        Kind::Float { min, max } => (min..=max).prop_map(|f| (json!(f), Cell::Float(f))).boxed(),
        Kind::Text => prop_oneof![
            "\\PC{0,40}",
            // Exactly the limit, in characters of up to four bytes (any
            // but NUL, which PostgreSQL cannot store).
            vec(
                any::<char>().prop_map(|c| if c == '\0' { ' ' } else { c }),
                TEXT_MAX_CHARS
            )
            .prop_map(String::from_iter),
        ]
        .prop_map(|s| (json!(s), Cell::Text(s)))
        .boxed(),
        Kind::Date => (1i32..=9999, 1u8..=12)
            .prop_flat_map(|(y, m)| (Just(y), Just(m), 1..=days_in_month(y, m)))
            .prop_map(|(y, m, d)| {
                let s = format!("{y:04}-{m:02}-{d:02}");
                (json!(s), Cell::Text(s))
            })
            .boxed(),
        Kind::LocalTime => (0u8..24, 0u8..60)
            .prop_map(|(h, m)| {
                let s = format!("{h:02}:{m:02}");
                (json!(s), Cell::Text(s))
            })
            .boxed(),
        Kind::Enum(words) => select(words)
            .prop_map(|w| (json!(w), Cell::Text(w.to_owned())))
            .boxed(),
        Kind::TimeZone => select(ZONES)
            .prop_map(|z| (json!(z), Cell::Text(z.to_owned())))
            .boxed(),
        Kind::Ref => valid_id().prop_map(|s| (json!(s), Cell::Text(s))).boxed(),
        Kind::Language => select(LANGUAGES)
            .prop_map(|l| (json!(l), Cell::Text(l.to_owned())))
            .boxed(),
        Kind::Country => select(ALPHA2)
            .prop_map(|c| (json!(c), Cell::Text(c.to_owned())))
            .boxed(),
    };
    if column.required {
        return value;
    }
    prop_oneof![4 => value, 1 => Just((Value::Null, column.kind.null_cell()))].boxed()
}

/// A value the column must refuse.
fn invalid_value(column: &'static ColumnSpec) -> BoxedStrategy<Value> {
    let wrong_type = prop_oneof![
        Just(json!([])),
        Just(json!({})),
        Just(json!(true)),
        Just(json!("7")),
    ];
    let bad: BoxedStrategy<Value> = match column.kind {
        Kind::Bool => prop_oneof![
            Just(json!(0)),
            Just(json!(1)),
            Just(json!("true")),
            Just(json!([])),
        ]
        .boxed(),
        Kind::Int { min, max } => prop_oneof![
            (1..=1_000_000i64).prop_map(move |d| json!(min.saturating_sub(d))),
            (1..=1_000_000i64).prop_map(move |d| json!(max.saturating_add(d))),
            (min..max).prop_map(|n| json!(n as f64 + 0.5)),
            wrong_type,
        ]
        .prop_filter("outside the range", move |v| {
            v.as_i64().is_none_or(|n| !(min..=max).contains(&n))
        })
        .boxed(),
        Kind::Instant => prop_oneof![
            (i64::MIN..0).prop_map(|n| json!(n)),
            (MAX_CURSOR + 1..=i64::MAX).prop_map(|n| json!(n)),
            Just(json!(u64::MAX)),
            Just(json!(1.5)),
            wrong_type,
        ]
        .boxed(),
        Kind::Float { min, max } => prop_oneof![
            (1.0e-3..1.0e6f64).prop_map(move |d| json!(min - d)),
            (1.0e-3..1.0e6f64).prop_map(move |d| json!(max + d)),
            wrong_type,
        ]
        .boxed(),
        Kind::Text => prop_oneof![
            (TEXT_MAX_CHARS + 1..TEXT_MAX_CHARS + 40)
                .prop_flat_map(|n| vec(any::<char>(), n))
                .prop_map(|chars| json!(String::from_iter(chars))),
            Just(json!("before\u{0}after")),
            Just(json!(5)),
            Just(json!(false)),
            Just(json!(["text"])),
        ]
        .boxed(),
        Kind::Date => prop_oneof![
            // Days no month has, months no year has.
            (1i32..=9999, 1u8..=12)
                .prop_map(|(y, m)| json!(format!("{y:04}-{m:02}-{:02}", days_in_month(y, m) + 1))),
            (1i32..=9999, 13u8..=99).prop_map(|(y, m)| json!(format!("{y:04}-{m:02}-01"))),
            // Unpadded, with a time, in other orders.
            (1i32..=9999, 1u8..=9, 1u8..=9).prop_map(|(y, m, d)| json!(format!("{y}-{m}-{d}"))),
            (1i32..=9999, 1u8..=12).prop_map(|(y, m)| json!(format!("{y:04}-{m:02}-01T00:00"))),
            (1u8..=12, 1u8..=28, 1000i32..=9999)
                .prop_map(|(m, d, y)| json!(format!("{d:02}.{m:02}.{y:04}"))),
            "[0-9T:+-]{0,12}".prop_map(|s| json!(s)),
            Just(json!(20_240_101)),
        ]
        .prop_filter("not a YYYY-MM-DD date", |v| {
            v.as_str().is_none_or(|s| !is_iso_date(s))
        })
        .boxed(),
        Kind::LocalTime => prop_oneof![
            (24u8..=99, 0u8..60).prop_map(|(h, m)| json!(format!("{h:02}:{m:02}"))),
            (0u8..24, 60u8..=99).prop_map(|(h, m)| json!(format!("{h:02}:{m:02}"))),
            (0u8..10, 0u8..60).prop_map(|(h, m)| json!(format!("{h}:{m:02}"))),
            (0u8..10, 0u8..60).prop_map(|(h, m)| json!(format!("+{h}:{m:02}"))),
            (0u8..10, 0u8..10).prop_map(|(h, m)| json!(format!("{h:02}:-{m}"))),
            (0u8..24, 0u8..60).prop_map(|(h, m)| json!(format!("{h:02}:{m:02}:00"))),
            "[0-9:+ -]{0,6}".prop_map(|s| json!(s)),
            Just(json!(2100)),
        ]
        .prop_filter("not an HH:MM time", |v| {
            v.as_str().is_none_or(|s| !is_hh_mm(s))
        })
        .boxed(),
        Kind::Enum(words) => prop_oneof![
            "[a-z_]{0,12}".prop_map(|s| json!(s)),
            select(words).prop_map(|w| json!(w.to_uppercase())),
            select(words).prop_map(|w| json!(format!(" {w}"))),
            wrong_type,
        ]
        .prop_filter("not one of the words", move |v| {
            v.as_str().is_none_or(|s| !words.contains(&s))
        })
        .boxed(),
        Kind::TimeZone => prop_oneof![
            "Nowhere/[A-Za-z_]{1,12}".prop_map(|s| json!(s)),
            select(ZONES).prop_map(|z| json!(format!("{z}/Nowhere"))),
            Just(json!("")),
            Just(json!("../../../etc/passwd")),
            Just(json!(1)),
        ]
        .boxed(),
        Kind::Ref => prop_oneof![
            Just(json!("")),
            "[A-Za-z0-9]{0,8}[ /#~é][A-Za-z0-9]{0,8}".prop_map(|s| json!(s)),
            "[a-z]{65,80}".prop_map(|s| json!(s)),
            Just(json!(42)),
        ]
        .boxed(),
        Kind::Language => prop_oneof![
            "[a-z]{0,1}|[a-z]{3,8}".prop_map(|s| json!(s)),
            select(LANGUAGES).prop_map(|l| json!(l.to_uppercase())),
            select(LANGUAGES).prop_map(|l| json!(format!("{l}-US"))),
            Just(json!("qq")),
            wrong_type,
        ]
        .prop_filter("not a language code", |v| {
            v.as_str().is_none_or(|s| !LANGUAGES.contains(&s))
        })
        .boxed(),
        Kind::Country => prop_oneof![
            "[A-Z]{0,1}|[A-Z]{3,6}".prop_map(|s| json!(s)),
            select(ALPHA2).prop_map(|c| json!(c.to_lowercase())),
            Just(json!("UK")),
            Just(json!("XK")),
            wrong_type,
        ]
        .prop_filter("not a country code", |v| {
            v.as_str().is_none_or(|s| !ALPHA2.contains(&s))
        })
        .boxed(),
    };
    if column.required {
        prop_oneof![4 => bad, 1 => Just(Value::Null)].boxed()
    } else {
        bad
    }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

fn is_hh_mm(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && [b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit)
        && s[..2] < *"24"
        && s[3..] < *"60"
}

/// A valid record of `table`: its id, the raw object, and the cell each
/// writable column must hold.
fn valid_record(
    table: &'static TableSpec,
) -> impl Strategy<Value = (Value, Vec<(&'static str, Cell)>)> {
    let columns = writable(table);
    let values: Vec<_> = columns.iter().map(|c| valid_value(c)).collect();
    (valid_id(), values, any::<bool>()).prop_map(move |(id, values, explicit_nulls)| {
        let mut raw = Map::new();
        raw.insert("id".into(), json!(id));
        raw.insert("_status".into(), json!("created"));
        let mut expected = Vec::new();
        for (column, (value, cell)) in columns.iter().zip(values) {
            if !value.is_null() || explicit_nulls {
                raw.insert(column.name.into(), value);
            }
            expected.push((column.name, cell));
        }
        (Value::Object(raw), expected)
    })
}

fn cells_of(record: &Record) -> Vec<(&'static str, Cell)> {
    record
        .cells
        .iter()
        .map(|(c, v)| (c.name, v.clone()))
        .collect()
}

/// Every error names the whole record, the id, or a column of the table,
/// once; a record comes back only when nothing is wrong.
fn check_answer(
    table: &TableSpec,
    answer: &Result<Record, Vec<RecordError>>,
) -> Result<(), TestCaseError> {
    match answer {
        Ok(record) => {
            prop_assert!(check_id(&record.id).is_ok());
            let names: Vec<&str> = record.cells.iter().map(|(c, _)| c.name).collect();
            let expected: Vec<&str> = writable(table).iter().map(|c| c.name).collect();
            prop_assert_eq!(names, expected, "cells are the writable columns in order");
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            let mut seen = BTreeSet::new();
            for error in errors {
                prop_assert!(!error.reason.is_empty());
                if error.pointer.is_empty() {
                    prop_assert_eq!(errors.len(), 1, "a whole-record error stands alone");
                    continue;
                }
                let name = error.pointer.strip_prefix('/').ok_or_else(|| {
                    TestCaseError::fail(format!("not a pointer: {}", error.pointer))
                })?;
                prop_assert!(
                    name == "id" || table.column(name).is_some(),
                    "{} names no column of {}",
                    error.pointer,
                    table.name
                );
                prop_assert!(seen.insert(name.to_owned()), "{} twice", error.pointer);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_json_gets_a_record_or_pointed_errors(table in any_table(), raw in any_json()) {
        let answer = parse(table, &raw);
        check_answer(table, &answer)?;
        if !raw.is_object() {
            prop_assert_eq!(answer, Err(vec![RecordError::record("must be an object")]));
        }
    }

    #[test]
    fn any_record_of_a_table_gets_a_record_or_pointed_errors(
        table in any_table(),
        id in prop_oneof![valid_id().prop_map(Value::String), any_json()],
        fields in btree_map(
            prop_oneof![
                select(TABLES.iter().flat_map(|t| t.columns).map(|c| c.name).collect::<Vec<_>>())
                    .prop_map(str::to_owned),
                "[a-z_]{1,10}",
            ],
            prop_oneof![any_json(), select(ZONES).prop_map(|z| json!(z)), (0i64..100).prop_map(Value::from)],
            0..12,
        ),
        changed in proptest::option::of("[a-z_,]{0,40}"),
        junk in btree_map("x_[a-z]{1,8}", any_json(), 0..3),
    ) {
        let mut raw: Map<String, Value> = fields.into_iter().collect();
        raw.insert("id".into(), id);
        if let Some(changed) = changed {
            raw.insert("_changed".into(), json!(changed));
        }
        let answer = parse(table, &Value::Object(raw.clone()));
        check_answer(table, &answer)?;
        // Unknown columns and `_status` change nothing.
        raw.extend(junk);
        raw.insert("_status".into(), json!("updated"));
        prop_assert_eq!(parse(table, &Value::Object(raw)), answer);
    }

    #[test]
    fn every_valid_record_is_accepted_and_its_cells_round_trip(
        (table, (raw, expected)) in any_table().prop_flat_map(|t| (Just(t), valid_record(t))),
    ) {
        let record = match parse(table, &raw) {
            Ok(record) => record,
            Err(errors) => return Err(TestCaseError::fail(format!("{raw} refused: {errors:?}"))),
        };
        prop_assert_eq!(Some(record.id.as_str()), raw["id"].as_str());
        prop_assert_eq!(&cells_of(&record), &expected);
        prop_assert_eq!(&record.changed, &None);
        // What a pull sends back of the record parses to the same record.
        let mut pulled = Map::new();
        pulled.insert("id".into(), json!(record.id));
        for (column, cell) in &record.cells {
            pulled.insert(column.name.into(), cell.to_json());
        }
        prop_assert_eq!(parse(table, &Value::Object(pulled)), Ok(record));
    }

    #[test]
    fn one_bad_value_is_refused_at_its_column_alone(
        (table, (raw, _), column, bad) in tables_with_writable_columns().prop_flat_map(|t| {
            (Just(t), valid_record(t), select(writable(t)))
                .prop_flat_map(|(t, record, column)| {
                    (Just(t), Just(record), Just(column), invalid_value(column))
                })
        }),
    ) {
        let mut raw = raw;
        raw[column.name] = bad.clone();
        let answer = parse(table, &raw);
        let pointers: Vec<String> = answer
            .as_ref()
            .err()
            .map(|errors| errors.iter().map(|e| e.pointer.clone()).collect())
            .unwrap_or_default();
        prop_assert_eq!(pointers, vec![format!("/{}", column.name)], "{} = {}", column.name, bad);
    }

    #[test]
    fn naming_a_read_only_column_as_changed_is_refused(
        (table, column) in select(
            TABLES
                .iter()
                .flat_map(|t| t.columns.iter().filter(|c| !t.patient_writes_column(c.name)).map(move |c| (t, c)))
                .collect::<Vec<_>>(),
        ),
        id in valid_id(),
    ) {
        let raw = json!({"id": id, "_changed": format!(" {} ,", column.name)});
        let errors = parse(table, &raw).err().unwrap_or_default();
        let pointer = format!("/{}", column.name);
        prop_assert!(errors.iter().any(|e| e.pointer == pointer), "{:?}", errors);
    }

    #[test]
    fn ids_are_one_to_64_plain_characters(
        id in prop_oneof!["[A-Za-z0-9_.-]{0,70}", "[A-Za-z0-9_.-]{0,30}\\PC[A-Za-z0-9_.-]{0,30}"],
    ) {
        let plain = (1..=ID_MAX_LEN).contains(&id.len())
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        prop_assert_eq!(check_id(&id).is_ok(), plain);
    }
}
