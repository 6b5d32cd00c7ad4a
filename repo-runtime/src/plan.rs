//! [`Plan`]: a finder or derived query as data. The derive writes one beside each such
//! statement's SQL; the in-memory store (feature `memory`) evaluates it in place of the SQL.

/// What a planned statement does with the rows its conditions select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanAction {
    /// Returns them.
    Select,
    /// Counts them.
    Count,
    /// Reports whether there is any.
    Exists,
    /// Deletes them.
    Delete,
}

/// How one condition compares its column with the statement's next parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanOperator {
    /// `= ?`
    Equal,
    /// `<> ?`
    NotEqual,
    /// `IS NULL`, no parameter.
    IsNull,
    /// `IS NOT NULL`, no parameter.
    IsNotNull,
    /// `IN (...)`: as many parameters as the list the statement was started with.
    In,
    /// `NOT IN (...)`.
    NotIn,
    /// The text contains the parameter.
    Containing,
    /// The text starts with the parameter.
    StartingWith,
    /// The text ends with the parameter.
    EndingWith,
    /// `> ?`
    GreaterThan,
    /// `>= ?`
    GreaterThanEqual,
    /// `< ?`
    LessThan,
    /// `<= ?`
    LessThanEqual,
    /// `BETWEEN ? AND ?`
    Between,
}

/// One comparison of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanCondition {
    /// The column's name.
    pub column: &'static str,
    /// The comparison.
    pub operator: PlanOperator,
}

/// How many rows a planned `Select` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanLimit {
    /// All of them.
    All,
    /// At most this many (`top` / `first` in the method's name).
    Fixed(u64),
    /// A page: the last two parameters are its limit and offset.
    Page,
}

/// A statement as data: rows matching any group of conditions (each group all of its
/// conditions), in order, limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// What is done with the selected rows.
    pub action: PlanAction,
    /// Groups of conditions, any of which selects a row.
    pub any_of: &'static [&'static [PlanCondition]],
    /// Sort keys: column and whether descending. The primary key breaks ties.
    pub order: &'static [(&'static str, bool)],
    /// How many rows a `Select` returns.
    pub limit: PlanLimit,
}
