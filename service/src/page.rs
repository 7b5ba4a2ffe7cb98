//! Keyset pagination over time-ordered ids: `{items, next}` where `next` is
//! the last id of the page when more follow.

use uuid::Uuid;

/// Most items one page may hold.
pub const MAX_LIMIT: u64 = 500;
/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: u64 = 100;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Items wanted, already clamped to `1..=MAX_LIMIT`.
    pub limit: u64,
    /// Continue after this id (the previous page's `next`).
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// A request for `limit` items (clamped) after `after`.
    pub fn new(limit: Option<u64>, after: Option<Uuid>) -> Self {
        let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        Self { limit, after }
    }

    /// Rows to fetch: one more than the page, to learn whether more follow.
    pub fn fetch_limit(&self) -> u64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to a page and works out its cursor.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> Page<T> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(usize::MAX));
        let next = if more { rows.last().map(key) } else { None };
        Page { items: rows, next }
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in list order.
    pub items: Vec<T>,
    /// Cursor for the next page, if there is one.
    pub next: Option<Uuid>,
}

impl<T> Page<T> {
    /// Converts every item, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_fetch_has_a_cursor_and_a_short_one_does_not() {
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        let request = PageRequest::new(Some(3), None);
        let page = request.finish(ids.clone(), |id| *id);
        assert_eq!(page.items, ids[..3]);
        assert_eq!(page.next, Some(ids[2]));
        let page = request.finish(ids[..3].to_vec(), |id| *id);
        assert_eq!(page.next, None);
    }

    #[test]
    fn limits_are_clamped() {
        assert_eq!(PageRequest::new(Some(0), None).limit, 1);
        assert_eq!(PageRequest::new(Some(10_000), None).limit, MAX_LIMIT);
        assert_eq!(PageRequest::new(None, None).limit, DEFAULT_LIMIT);
    }
}
