//! Request and response bodies. Entities never cross the wire directly.

pub mod accounts;
pub mod care_team;
pub mod orgs;
pub mod programs;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A page of a list: `{items, next}`; pass `next` as `cursor` for more.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Cursor of the next page; null on the last page.
    pub next: Option<Uuid>,
}

impl<T> List<T> {
    /// Converts a service page.
    pub fn from_page<U>(page: dorsal_service::page::Page<U>, f: impl FnMut(U) -> T) -> Self {
        let next = page.next;
        List {
            items: page.items.into_iter().map(f).collect(),
            next,
        }
    }
}

/// Milliseconds since the epoch as RFC 3339 (`2026-11-23T21:00:00Z`).
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
