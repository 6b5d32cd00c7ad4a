//! [`Page`]: which slice of a query's rows a repository port method returns.

/// A page of rows: at most `limit` (all when `None`), after skipping `offset`. The trailing
/// parameter of a derived query method: `find_all_by_status(&self, s: Status, page: Page)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Page {
    /// The most rows to return; `None`: no limit.
    pub limit: Option<u64>,
    /// How many rows to skip first.
    pub offset: u64,
}

impl Page {
    /// The first `size` rows.
    pub fn first(size: u64) -> Page {
        Page {
            limit: Some(size),
            offset: 0,
        }
    }

    /// Page `number` (from 0) of `size` rows.
    pub fn number(number: u64, size: u64) -> Page {
        Page {
            limit: Some(size),
            offset: number.saturating_mul(size),
        }
    }
}
