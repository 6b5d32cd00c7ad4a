//! [`Projected`]: a select of some columns, or of aggregates grouped by columns, of the rows
//! a [`Condition`] selects: what projections (`#[derive(Projection)]`) and grouped counts read.
//! The in-memory store evaluates the same description.

use crate::filter::Condition;
use crate::plan::push_order_and_limit;
use crate::{Dialect, PlanAction, PlanLimit, PlanTable};

/// How a sum is computed and returned: every backend widens it to one Rust type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Numeric {
    /// Integers, summed as `BIGINT` (`i64`).
    Integer,
    /// Floating point, summed as `DOUBLE PRECISION` (`f64`).
    Float,
}

/// One column of a projected row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Selected<'a> {
    /// A column's value; with aggregates beside it, a column the rows are grouped by.
    Column(&'a str),
    /// How many rows (`COUNT(*)`).
    Count,
    /// The sum of a column's values, `NULL` when there are none.
    Sum(&'a str, Numeric),
    /// The mean of a column's values as `f64`, `NULL` when there are none.
    Avg(&'a str),
    /// The least of a column's values, `NULL` when there are none.
    Min(&'a str),
    /// The greatest of a column's values, `NULL` when there are none.
    Max(&'a str),
    /// How many rows meet the statement's [`Projected::matching`] condition:
    /// `COUNT(CASE WHEN ... THEN 1 END)`, never `NULL`.
    CountMatching,
}

impl Selected<'_> {
    /// Whether this is an aggregate rather than a column.
    pub fn is_aggregate(&self) -> bool {
        !matches!(self, Selected::Column(_))
    }

    fn push(&self, dialect: Dialect, sql: &mut String) {
        let (function, column) = match self {
            Selected::Column(column) => return dialect.push_ident(sql, column),
            Selected::Count => return sql.push_str("COUNT(*)"),
            // Rendered by `Projected::render`, which holds the condition.
            Selected::CountMatching => return,
            Selected::Sum(column, numeric) => {
                let cast = match (numeric, dialect) {
                    (Numeric::Integer, Dialect::Postgres) => Some("BIGINT"),
                    (Numeric::Integer, Dialect::MySql) => Some("SIGNED"),
                    (Numeric::Float, Dialect::Postgres) => Some("DOUBLE PRECISION"),
                    (Numeric::Float, Dialect::MySql) => Some("DOUBLE"),
                    (Numeric::Float, Dialect::Sqlite) => Some("REAL"),
                    (Numeric::Integer, Dialect::Sqlite) => None,
                };
                return push_cast(sql, dialect, "SUM", column, cast);
            }
            Selected::Avg(column) => {
                let cast = match dialect {
                    Dialect::Postgres => Some("DOUBLE PRECISION"),
                    Dialect::MySql => Some("DOUBLE"),
                    Dialect::Sqlite => None,
                };
                return push_cast(sql, dialect, "AVG", column, cast);
            }
            Selected::Min(column) => ("MIN", column),
            Selected::Max(column) => ("MAX", column),
        };
        push_cast(sql, dialect, function, column, None);
    }
}

/// `FUNCTION("column")`, cast to `cast` when given.
fn push_cast(sql: &mut String, dialect: Dialect, function: &str, column: &str, cast: Option<&str>) {
    if cast.is_some() {
        sql.push_str("CAST(");
    }
    sql.push_str(function);
    sql.push('(');
    dialect.push_ident(sql, column);
    sql.push(')');
    if let Some(cast) = cast {
        sql.push_str(" AS ");
        sql.push_str(cast);
        sql.push(')');
    }
}

/// A select of `items` from the rows `condition` selects: grouped by its columns when it has
/// aggregates, in `order`, limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Projected<'a> {
    /// The columns of a result row, in order.
    pub items: &'a [Selected<'a>],
    /// Which rows.
    pub condition: &'a Condition,
    /// Sort keys: column and whether descending (with aggregates, grouped columns only).
    pub order: &'a [(&'a str, bool)],
    /// How many rows; a page binds its limit and offset last.
    pub limit: PlanLimit,
    /// What [`Selected::CountMatching`] counts; its values are bound first, before the
    /// condition's.
    pub matching: Option<&'a Condition>,
}

impl Projected<'_> {
    /// Whether the rows are grouped: some item is an aggregate.
    pub fn grouped(&self) -> bool {
        self.items.iter().any(Selected::is_aggregate)
    }

    /// The columns the rows are grouped by: every column item, when grouped.
    pub fn group_columns(&self) -> impl Iterator<Item = &str> {
        let grouped = self.grouped();
        self.items.iter().filter_map(move |item| match item {
            Selected::Column(column) if grouped => Some(*column),
            _ => None,
        })
    }

    /// The statement's SQL for `dialect` on `table`: identifiers quoted, every value a
    /// placeholder, numbered in the order the condition takes them, then the page's.
    pub fn render(&self, dialect: Dialect, table: &PlanTable<'_>) -> String {
        let mut next = 0;
        let mut placeholder = || {
            next += 1;
            dialect.placeholder(next)
        };
        let mut sql = String::from("SELECT ");
        for (index, item) in self.items.iter().enumerate() {
            if index > 0 {
                sql.push_str(", ");
            }
            match (item, self.matching) {
                (Selected::CountMatching, Some(matching)) => {
                    sql.push_str("COUNT(CASE WHEN ");
                    sql.push_str(&matching.render(dialect, table.name, &mut placeholder));
                    sql.push_str(" THEN 1 END)");
                }
                (Selected::CountMatching, None) => sql.push_str("COUNT(*)"),
                _ => item.push(dialect, &mut sql),
            }
        }
        sql.push_str(" FROM ");
        dialect.push_ident(&mut sql, table.name);
        if !self.condition.is_always() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.condition.render(dialect, table.name, &mut placeholder));
        }
        let group: Vec<&str> = self.group_columns().collect();
        if !group.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&dialect.quote_list(group.iter().copied()));
        }
        push_order_and_limit(
            &mut sql,
            PlanAction::Select,
            self.order,
            self.limit,
            dialect,
            table,
            &mut placeholder,
        );
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Operator;

    const TABLE: PlanTable<'static> = PlanTable {
        name: "orders",
        columns: &["id", "customer", "total", "rating"],
        key: &["id"],
    };

    #[test]
    fn aggregates_group_by_their_columns_and_cast_to_one_type_per_backend() {
        let condition = Condition::Compare {
            column: "customer",
            operator: Operator::In,
            values: 2,
        };
        let items = [
            Selected::Column("customer"),
            Selected::Count,
            Selected::Sum("total", Numeric::Integer),
            Selected::Avg("rating"),
            Selected::Max("rating"),
        ];
        let projected = Projected {
            items: &items,
            condition: &condition,
            order: &[("customer", false)],
            limit: PlanLimit::All,
            matching: None,
        };
        assert_eq!(
            projected.render(Dialect::Postgres, &TABLE),
            "SELECT \"customer\", COUNT(*), CAST(SUM(\"total\") AS BIGINT), CAST(AVG(\"rating\") \
             AS DOUBLE PRECISION), MAX(\"rating\") FROM \"orders\" WHERE \"customer\" = ANY($1) \
             GROUP BY \"customer\" ORDER BY \"customer\""
        );
        assert_eq!(
            projected.render(Dialect::MySql, &TABLE),
            "SELECT `customer`, COUNT(*), CAST(SUM(`total`) AS SIGNED), CAST(AVG(`rating`) AS \
             DOUBLE), MAX(`rating`) FROM `orders` WHERE `customer` IN (?, ?) GROUP BY \
             `customer` ORDER BY `customer`"
        );
        assert_eq!(
            projected.render(Dialect::Sqlite, &TABLE),
            "SELECT \"customer\", COUNT(*), SUM(\"total\"), AVG(\"rating\"), MAX(\"rating\") FROM \
             \"orders\" WHERE \"customer\" IN (?, ?) GROUP BY \"customer\" ORDER BY \"customer\""
        );
    }

    #[test]
    fn columns_alone_are_a_plain_paged_select() {
        let always = Condition::always();
        let items = [Selected::Column("id"), Selected::Column("total")];
        let projected = Projected {
            items: &items,
            condition: &always,
            order: &[("total", true), ("id", false)],
            limit: PlanLimit::Page,
            matching: None,
        };
        assert!(!projected.grouped());
        assert_eq!(
            projected.render(Dialect::Sqlite, &TABLE),
            "SELECT \"id\", \"total\" FROM \"orders\" ORDER BY \"total\" DESC, \"id\" LIMIT ? \
             OFFSET ?"
        );
    }

    #[test]
    fn a_count_of_matching_rows_takes_its_values_before_the_condition() {
        let condition = Condition::Compare {
            column: "customer",
            operator: Operator::In,
            values: 2,
        };
        let matching = Condition::Compare {
            column: "rating",
            operator: Operator::GreaterThan,
            values: 1,
        };
        let items = [
            Selected::Column("customer"),
            Selected::Count,
            Selected::CountMatching,
        ];
        let projected = Projected {
            items: &items,
            condition: &condition,
            order: &[],
            limit: PlanLimit::All,
            matching: Some(&matching),
        };
        assert_eq!(
            projected.render(Dialect::Postgres, &TABLE),
            "SELECT \"customer\", COUNT(*), COUNT(CASE WHEN \"rating\" > $1 THEN 1 END) FROM \
             \"orders\" WHERE \"customer\" = ANY($2) GROUP BY \"customer\""
        );
        assert_eq!(
            projected.render(Dialect::MySql, &TABLE),
            "SELECT `customer`, COUNT(*), COUNT(CASE WHEN `rating` > ? THEN 1 END) FROM `orders` \
             WHERE `customer` IN (?, ?) GROUP BY `customer`"
        );
    }
}
