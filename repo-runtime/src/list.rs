//! [`ListOptions`]: ordering and pagination for `list`, over an entity's generated column enum.

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// Ordering, limit and offset for a repository's `list`.
///
/// Without an ordering, rows come by primary key. The primary key is also appended as the last
/// sort key unless already present, so that pages never overlap or skip rows.
///
/// ```
/// # use repo_runtime::{ListOptions, Order};
/// # #[derive(Clone, Copy, Debug, PartialEq)] enum UserColumn { Name }
/// let page = ListOptions::new().order_by(UserColumn::Name, Order::Desc).limit(20).offset(40);
/// assert_eq!(page.get_limit(), Some(20));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOptions<C> {
    order: Vec<(C, Order)>,
    limit: Option<u64>,
    offset: u64,
}

impl<C> Default for ListOptions<C> {
    fn default() -> Self {
        ListOptions {
            order: Vec::new(),
            limit: None,
            offset: 0,
        }
    }
}

impl<C> ListOptions<C> {
    /// Every row, by primary key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sort key after those already given.
    pub fn order_by(mut self, column: C, order: Order) -> Self {
        self.order.push((column, order));
        self
    }

    /// Adds an ascending sort key.
    pub fn asc(self, column: C) -> Self {
        self.order_by(column, Order::Asc)
    }

    /// Adds a descending sort key.
    pub fn desc(self, column: C) -> Self {
        self.order_by(column, Order::Desc)
    }

    /// Returns at most `limit` rows.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Skips the first `offset` rows.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// The rows of `page` (its limit and offset), as a port's derived query takes them:
    /// `ListOptions::new().desc(UserColumn::Name).page(Page::number(2, 20))`.
    pub fn page(mut self, page: repo_core::Page) -> Self {
        self.limit = page.limit;
        self.offset = page.offset;
        self
    }

    /// The sort keys, in order.
    pub fn get_order(&self) -> &[(C, Order)] {
        &self.order
    }

    /// The row limit, if any.
    pub fn get_limit(&self) -> Option<u64> {
        self.limit
    }

    /// The number of rows skipped.
    pub fn get_offset(&self) -> u64 {
        self.offset
    }
}

/// The sort keys `options` ask for: column, and whether descending.
pub(crate) fn asked_order<E: crate::entity::Entity>(
    options: &ListOptions<E::Column>,
) -> Vec<(&'static str, bool)> {
    use crate::entity::ColumnName;
    options
        .get_order()
        .iter()
        .map(|(column, order)| (column.name(), *order == Order::Desc))
        .collect()
}

/// The sort keys of `options` (column, descending), then the key's columns not among them: an
/// order in which no two rows tie, so pages neither overlap nor skip rows.
pub(crate) fn order_then_key<E: crate::entity::Entity>(
    options: &ListOptions<E::Column>,
) -> Vec<(&'static str, bool)> {
    let mut order = asked_order::<E>(options);
    for key in E::TABLE.primary_key.columns {
        if !order.iter().any(|(column, _)| column == key) {
            order.push((key, false));
        }
    }
    order
}
