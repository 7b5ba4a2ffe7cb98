//! Where a pull page ends. Rows are fetched per table in change-number
//! order, at most `limit + 1` each; the page must never split one change
//! number (one transaction) across pages, and must always make progress.

/// Which of the fetched rows form the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Every fetched row; the pull is complete.
    All,
    /// Rows with a change number below this one; the page's cursor is one
    /// less, and more follow.
    Below(i64),
    /// Only the rows of this one change number (a transaction larger than
    /// the page), which must be fetched whole; the cursor is this number.
    Only(i64),
}

/// Decides the page from the change numbers of every fetched row (in any
/// order), each table having been fetched with `LIMIT limit + 1`.
pub fn cut(mut seqs: Vec<i64>, limit: usize) -> Cut {
    let limit = limit.max(1);
    if seqs.len() <= limit {
        return Cut::All;
    }
    seqs.sort_unstable();
    // Every row below the limit-th smallest change number was fetched: a
    // table cut short by its LIMIT has a row at or above it.
    let boundary = seqs[limit - 1];
    if seqs[0] < boundary {
        Cut::Below(boundary)
    } else {
        Cut::Only(boundary)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn small_pulls_are_whole_and_large_ones_stop_before_a_transaction() {
        assert_eq!(cut(vec![2, 3, 3], 3), Cut::All);
        assert_eq!(cut(vec![2, 3, 3, 4], 3), Cut::Below(3));
        assert_eq!(cut(vec![5, 5, 5, 5], 2), Cut::Only(5));
    }

    /// Pages through rows spread over tables the way the server does and
    /// returns the pages' row sets.
    fn pull_all(tables: &[Vec<i64>], limit: usize) -> Vec<Vec<(usize, i64)>> {
        let mut since = 0;
        let mut pages = Vec::new();
        for _ in 0..10_000 {
            let fetched: Vec<(usize, i64)> = tables
                .iter()
                .enumerate()
                .flat_map(|(t, rows)| {
                    rows.iter()
                        .filter(|s| **s > since)
                        .take(limit + 1)
                        .map(move |s| (t, *s))
                })
                .collect();
            let (page, next, more) = match cut(fetched.iter().map(|r| r.1).collect(), limit) {
                Cut::All => (fetched, since, false),
                Cut::Below(b) => (
                    fetched.into_iter().filter(|r| r.1 < b).collect(),
                    b - 1,
                    true,
                ),
                Cut::Only(b) => {
                    let whole = tables
                        .iter()
                        .enumerate()
                        .flat_map(|(t, rows)| {
                            rows.iter().filter(|s| **s == b).map(move |s| (t, *s))
                        })
                        .collect();
                    (whole, b, true)
                }
            };
            pages.push(page);
            if !more {
                return pages;
            }
            assert!(next > since, "no progress");
            since = next;
        }
        panic!("did not finish");
    }

    proptest! {
        #[test]
        fn paging_delivers_every_row_once_and_never_splits_a_change_number(
            raw in proptest::collection::vec(proptest::collection::vec(1i64..40, 0..30), 1..5),
            limit in 1usize..12,
        ) {
            let tables: Vec<Vec<i64>> = raw.into_iter().map(|mut t| { t.sort_unstable(); t }).collect();
            let pages = pull_all(&tables, limit);
            let mut delivered: Vec<(usize, i64)> = pages.iter().flatten().copied().collect();
            delivered.sort_unstable();
            let mut expected: Vec<(usize, i64)> = tables.iter().enumerate().flat_map(|(t, rows)| rows.iter().map(move |s| (t, *s))).collect();
            expected.sort_unstable();
            prop_assert_eq!(delivered, expected);
            let mut page_of: BTreeMap<i64, usize> = BTreeMap::new();
            for (index, page) in pages.iter().enumerate() {
                for (_, seq) in page {
                    let first = *page_of.entry(*seq).or_insert(index);
                    prop_assert_eq!(first, index, "change {} split across pages", seq);
                }
            }
        }
    }
}
