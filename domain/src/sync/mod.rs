//! The synced tables and the pure rules of sync: what each table holds, who
//! may write which column, how a pushed record is validated, and how a
//! conflicting record is merged.

pub mod merge;
pub mod page;
pub mod record;
#[cfg(test)]
mod record_props;
pub mod schema;

pub use record::{Cell, Record, RecordError};
pub use schema::{Access, ColumnSpec, Kind, TABLES, TableSpec};

/// The lowest `schema_version` a client may sync with.
pub const MIN_SCHEMA_VERSION: u32 = 1;
/// The cursor of a patient nobody has written for yet. WatermelonDB refuses
/// 0, so the sequence starts at 1 and the first change is 2.
pub const FIRST_CURSOR: i64 = 1;
/// The largest cursor a JavaScript client stores exactly.
pub const MAX_CURSOR: i64 = (1 << 53) - 1;

/// A device's cursor as it arrives.
#[derive(Debug, Clone, Copy)]
pub enum RawCursor<'a> {
    /// A query string's text: empty, `null` or `undefined` before the
    /// first pull.
    Text(&'a str),
    /// A JSON body's value: `null` before the first pull, else a number
    /// (`4.0` too, as JavaScript may send it).
    Json(&'a serde_json::Value),
}

/// A cursor no pull could have returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be a cursor from a pull, or null")]
pub struct InvalidCursor {
    /// The parameter as the client spells it.
    pub field: &'static str,
}

/// Reads a device's cursor: `None` before its first pull, else a whole
/// number from 0 to [`MAX_CURSOR`]. `field` names it in the error.
pub fn parse_cursor(raw: RawCursor<'_>, field: &'static str) -> Result<Option<i64>, InvalidCursor> {
    let number = match raw {
        RawCursor::Text(text) => match text.trim() {
            "" | "null" | "undefined" => return Ok(None),
            text => text.parse::<i64>().ok(),
        },
        RawCursor::Json(serde_json::Value::Null) => return Ok(None),
        RawCursor::Json(value) => record::integer(value),
    };
    number
        .filter(|n| (0..=MAX_CURSOR).contains(n))
        .map(Some)
        .ok_or(InvalidCursor { field })
}

/// Records one push may carry.
pub const MAX_PUSH_RECORDS: usize = 5000;
/// Rows per pull page unless the client asks otherwise, and the most it may.
pub const DEFAULT_PULL_LIMIT: u64 = 1000;
/// See [`DEFAULT_PULL_LIMIT`].
pub const MAX_PULL_LIMIT: u64 = 5000;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{InvalidCursor, MAX_CURSOR, RawCursor, parse_cursor};

    #[test]
    fn a_cursor_reads_the_same_from_a_query_and_a_body_but_for_their_spellings() {
        let field = "c";
        for nothing in ["", " null ", "undefined"] {
            assert_eq!(parse_cursor(RawCursor::Text(nothing), field), Ok(None));
        }
        assert_eq!(parse_cursor(RawCursor::Text(" 4 "), field), Ok(Some(4)));
        assert_eq!(parse_cursor(RawCursor::Json(&json!(null)), field), Ok(None));
        assert_eq!(
            parse_cursor(RawCursor::Json(&json!(4.0)), field),
            Ok(Some(4))
        );
        let refused = Err(InvalidCursor { field });
        assert_eq!(parse_cursor(RawCursor::Text("4.0"), field), refused);
        assert_eq!(parse_cursor(RawCursor::Json(&json!("4")), field), refused);
        assert_eq!(parse_cursor(RawCursor::Json(&json!(-1)), field), refused);
        let past = (MAX_CURSOR + 1).to_string();
        assert_eq!(parse_cursor(RawCursor::Text(&past), field), refused);
        assert_eq!(
            InvalidCursor {
                field: "lastPulledAt"
            }
            .to_string(),
            "lastPulledAt must be a cursor from a pull, or null"
        );
    }
}
