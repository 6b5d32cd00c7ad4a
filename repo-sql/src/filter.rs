//! [`Condition`]: a `WHERE` clause built at run time (a search form's optional filters), as
//! data: comparisons of columns with bound values, combined with and / or / not. It renders
//! per dialect with the same [`Operator`]s as a [`Plan`](crate::Plan), and the in-memory store
//! evaluates the same value. [`Filtered`] is the statement around it: what is done with the
//! rows it selects, in which order, how many.

use std::hash::{Hash, Hasher};

use crate::plan::{push_order_and_limit, statement_head};
use crate::{Dialect, Operator, PlanAction, PlanLimit, PlanTable};

/// A condition on a table's rows. Values are never part of it: each comparison takes the
/// statement's next bound values, in the order the tree is written (left to right).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    /// `column` compared by `operator` with the next `values` bound values: the operator's
    /// arity, or the list's length for `In` / `NotIn`.
    Compare {
        /// The column's name, from the derive.
        column: &'static str,
        /// The comparison.
        operator: Operator,
        /// How many values the caller binds for it.
        values: usize,
    },
    /// Every condition holds; `TRUE` when there is none.
    All(Vec<Condition>),
    /// Any condition holds; `FALSE` when there is none.
    Any(Vec<Condition>),
    /// The condition does not hold (and is not unknown, as SQL's three-valued logic has it).
    Not(Box<Condition>),
    /// Some row of `table` holds this row's `column` in its `link` column and meets
    /// `condition` (whose columns are `table`'s): `EXISTS (SELECT 1 FROM table WHERE
    /// table.link = outer.column AND condition)`. Never unknown.
    Exists {
        /// The other table, from the derive.
        table: &'static str,
        /// Its column that holds this row's `column`.
        link: &'static str,
        /// This row's column.
        column: &'static str,
        /// What its linked rows must meet.
        condition: Box<Condition>,
    },
    /// The row belongs to the tenant the statement binds for it: `column = ?`. What a handle
    /// scoped to a tenant adds to every condition on a table with a `#[repo(tenant)]` column
    /// (and to an `EXISTS` on one); an unscoped handle's statements drop it
    /// ([`Condition::without_scope`]).
    Scope {
        /// The tenant column, from the derive.
        column: &'static str,
    },
}

impl Condition {
    /// The condition that every row meets.
    pub const fn always() -> Condition {
        Condition::All(Vec::new())
    }

    /// Whether this is the condition every row meets: a statement renders no `WHERE` for it.
    pub fn is_always(&self) -> bool {
        matches!(self, Condition::All(conditions) if conditions.is_empty())
    }

    /// Whether the condition holds a [`Condition::Scope`]: a tenant's rows only.
    pub fn has_scope(&self) -> bool {
        match self {
            Condition::Scope { .. } => true,
            Condition::All(items) | Condition::Any(items) => items.iter().any(Condition::has_scope),
            Condition::Not(condition) | Condition::Exists { condition, .. } => {
                condition.has_scope()
            }
            Condition::Compare { .. } => false,
        }
    }

    /// The condition with every [`Condition::Scope`] dropped: the rows of every tenant, for a
    /// handle that asked for them (`Db::unscoped`).
    pub fn without_scope(&self) -> Condition {
        match self {
            Condition::Scope { .. } => Condition::always(),
            Condition::All(items) => {
                let mut kept: Vec<Condition> = items
                    .iter()
                    .map(Condition::without_scope)
                    .filter(|item| !item.is_always())
                    .collect();
                match kept.len() {
                    1 => kept.remove(0),
                    _ => Condition::All(kept),
                }
            }
            Condition::Any(items) => {
                Condition::Any(items.iter().map(Condition::without_scope).collect())
            }
            Condition::Not(condition) => Condition::Not(Box::new(condition.without_scope())),
            Condition::Exists {
                table,
                link,
                column,
                condition,
            } => Condition::Exists {
                table,
                link,
                column,
                condition: Box::new(condition.without_scope()),
            },
            Condition::Compare { .. } => self.clone(),
        }
    }

    /// The condition on the rows of `table` in `dialect`, taking its placeholders from
    /// `placeholder` in order. `In` / `NotIn` render for their list's length
    /// ([`Operator::render_list`]).
    pub fn render(
        &self,
        dialect: Dialect,
        table: &str,
        placeholder: &mut impl FnMut() -> String,
    ) -> String {
        let mut sql = String::new();
        self.push(dialect, table, &mut sql, placeholder);
        sql
    }

    /// `table` names the rows the condition is on: the statement's table, or an `EXISTS`'s
    /// alias (`e1`, `e2`, ... by depth, so that a table linked to itself is told apart).
    fn push(
        &self,
        dialect: Dialect,
        table: &str,
        sql: &mut String,
        placeholder: &mut impl FnMut() -> String,
    ) {
        match self {
            Condition::Compare {
                column,
                operator,
                values,
            } => {
                let column = dialect.quote(column);
                sql.push_str(&operator.render_list(dialect, &column, *values, placeholder));
            }
            Condition::Scope { column } => {
                let column = dialect.quote(column);
                sql.push_str(&Operator::Equal.render(dialect, &column, placeholder));
            }
            Condition::All(conditions) if conditions.is_empty() => sql.push_str("1 = 1"),
            Condition::Any(conditions) if conditions.is_empty() => sql.push_str("1 = 0"),
            Condition::All(conditions) | Condition::Any(conditions) => {
                let joint = if matches!(self, Condition::All(_)) {
                    " AND "
                } else {
                    " OR "
                };
                for (index, condition) in conditions.iter().enumerate() {
                    if index > 0 {
                        sql.push_str(joint);
                    }
                    condition.push_nested(dialect, table, sql, placeholder);
                }
            }
            Condition::Not(condition) => {
                sql.push_str("NOT (");
                condition.push(dialect, table, sql, placeholder);
                sql.push(')');
            }
            Condition::Exists {
                table: other,
                link,
                column,
                condition,
            } => {
                let depth = table
                    .strip_prefix('e')
                    .and_then(|depth| depth.parse::<usize>().ok())
                    .unwrap_or(0);
                let alias = format!("e{}", depth + 1);
                sql.push_str("EXISTS (SELECT 1 FROM ");
                dialect.push_ident(sql, other);
                sql.push(' ');
                dialect.push_ident(sql, &alias);
                sql.push_str(" WHERE ");
                dialect.push_ident(sql, &alias);
                sql.push('.');
                dialect.push_ident(sql, link);
                sql.push_str(" = ");
                dialect.push_ident(sql, table);
                sql.push('.');
                dialect.push_ident(sql, column);
                if !condition.is_always() {
                    sql.push_str(" AND ");
                    condition.push_nested(dialect, &alias, sql, placeholder);
                }
                sql.push(')');
            }
        }
    }

    /// The condition as an operand: in parentheses unless it is one comparison or a negation,
    /// whose renderings are operands already.
    fn push_nested(
        &self,
        dialect: Dialect,
        table: &str,
        sql: &mut String,
        placeholder: &mut impl FnMut() -> String,
    ) {
        if let Condition::Compare { .. }
        | Condition::Not(_)
        | Condition::Exists { .. }
        | Condition::Scope { .. } = self
        {
            return self.push(dialect, table, sql, placeholder);
        }
        sql.push('(');
        self.push(dialect, table, sql, placeholder);
        sql.push(')');
    }

    /// Hashes what decides the condition's text in `dialect`: on PostgreSQL a list is one
    /// array whatever its length, so its length does not count there.
    pub fn hash_shape<H: Hasher>(&self, dialect: Dialect, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Condition::Compare {
                column,
                operator,
                values,
            } => {
                column.hash(state);
                operator.hash(state);
                if !(dialect == Dialect::Postgres && operator.takes_list()) {
                    values.hash(state);
                }
            }
            Condition::All(conditions) | Condition::Any(conditions) => {
                conditions.len().hash(state);
                for condition in conditions {
                    condition.hash_shape(dialect, state);
                }
            }
            Condition::Not(condition) => condition.hash_shape(dialect, state),
            Condition::Scope { column } => column.hash(state),
            Condition::Exists {
                table,
                link,
                column,
                condition,
            } => {
                (table, link, column).hash(state);
                condition.hash_shape(dialect, state);
            }
        }
    }

    /// Whether `self` and `other` render the same text in `dialect` (see
    /// [`Condition::hash_shape`]).
    pub fn same_shape(&self, other: &Condition, dialect: Dialect) -> bool {
        match (self, other) {
            (
                Condition::Compare {
                    column,
                    operator,
                    values,
                },
                Condition::Compare {
                    column: other_column,
                    operator: other_operator,
                    values: other_values,
                },
            ) => {
                column == other_column
                    && operator == other_operator
                    && (values == other_values
                        || (dialect == Dialect::Postgres && operator.takes_list()))
            }
            (Condition::All(a), Condition::All(b)) | (Condition::Any(a), Condition::Any(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.same_shape(b, dialect))
            }
            (Condition::Not(a), Condition::Not(b)) => a.same_shape(b, dialect),
            (Condition::Scope { column }, Condition::Scope { column: other }) => column == other,
            (
                Condition::Exists {
                    table,
                    link,
                    column,
                    condition,
                },
                Condition::Exists {
                    table: other_table,
                    link: other_link,
                    column: other_column,
                    condition: other_condition,
                },
            ) => {
                table == other_table
                    && link == other_link
                    && column == other_column
                    && condition.same_shape(other_condition, dialect)
            }
            _ => false,
        }
    }
}

/// A statement on the rows a [`Condition`] selects: returned in `order` and limited, counted,
/// tested or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filtered<'a> {
    /// What is done with the selected rows.
    pub action: PlanAction,
    /// Which rows.
    pub condition: &'a Condition,
    /// Sort keys of a `Select`: column and whether descending. The primary key breaks ties.
    pub order: &'a [(&'a str, bool)],
    /// How many rows a `Select` returns; a page binds its limit and offset last.
    pub limit: PlanLimit,
}

impl Filtered<'_> {
    /// The statement's SQL for `dialect`, reading `table`: identifiers quoted, every value a
    /// placeholder, numbered in the order the condition takes them, then the page's.
    pub fn render(&self, dialect: Dialect, table: &PlanTable<'_>) -> String {
        let mut next = 0;
        let mut placeholder = || {
            next += 1;
            dialect.placeholder(next)
        };
        let mut sql = statement_head(self.action, dialect, table);
        if !self.condition.is_always() {
            sql.push_str(" WHERE ");
            self.condition
                .push(dialect, table.name, &mut sql, &mut placeholder);
        }
        push_order_and_limit(
            &mut sql,
            self.action,
            self.order,
            self.limit,
            dialect,
            table,
            &mut placeholder,
        );
        sql
    }
}

/// An `UPDATE` of the rows a [`Condition`] selects (a patch): the `set` columns take the first
/// bound values, in order, then the condition takes its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patched<'a> {
    /// The columns written from bound values: at least one, or a version to move.
    pub set: &'a [&'a str],
    /// Which rows.
    pub condition: &'a Condition,
    /// Whether the statement returns the updated rows (`RETURNING`; MySQL has none on an
    /// update).
    pub returning: bool,
    /// The version column every written row's version moves on in, if the table has one.
    pub version: Option<&'a str>,
}

impl Patched<'_> {
    /// The statement's SQL for `dialect` on `table`: identifiers quoted, every value a
    /// placeholder.
    pub fn render(&self, dialect: Dialect, table: &PlanTable<'_>) -> String {
        let mut next = 0;
        let mut placeholder = || {
            next += 1;
            dialect.placeholder(next)
        };
        let mut sql = String::from("UPDATE ");
        dialect.push_ident(&mut sql, table.name);
        sql.push_str(" SET ");
        for (index, column) in self.set.iter().enumerate() {
            if index > 0 {
                sql.push_str(", ");
            }
            dialect.push_ident(&mut sql, column);
            sql.push_str(" = ");
            sql.push_str(&placeholder());
        }
        if let Some(moved) = crate::write::incremented(dialect, table.name, self.version) {
            if !self.set.is_empty() {
                sql.push_str(", ");
            }
            sql.push_str(&moved);
        }
        if !self.condition.is_always() {
            sql.push_str(" WHERE ");
            self.condition
                .push(dialect, table.name, &mut sql, &mut placeholder);
        }
        if self.returning {
            sql.push_str(" RETURNING ");
            sql.push_str(&dialect.quote_list(table.columns.iter().copied()));
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: PlanTable<'static> = PlanTable {
        name: "articles",
        columns: &["id", "title", "author_id"],
        key: &["id"],
    };

    fn compare(column: &'static str, operator: Operator, values: usize) -> Condition {
        Condition::Compare {
            column,
            operator,
            values,
        }
    }

    #[test]
    fn a_tree_renders_with_parentheses_around_every_group() {
        let condition = Condition::All(vec![
            compare("author_id", Operator::In, 2),
            Condition::Any(vec![
                compare("title", Operator::Containing, 1),
                Condition::Not(Box::new(compare("title", Operator::IsNull, 0))),
            ]),
        ]);
        let select = Filtered {
            action: PlanAction::Select,
            condition: &condition,
            order: &[("title", true)],
            limit: PlanLimit::Page,
        };
        assert_eq!(
            select.render(Dialect::MySql, &TABLE),
            "SELECT `id`, `title`, `author_id` FROM `articles` WHERE `author_id` IN (?, ?) AND \
             (`title` LIKE ? ESCAPE '!' OR NOT (`title` IS NULL)) ORDER BY `title` DESC \
             LIMIT ? OFFSET ?"
        );
        assert_eq!(
            select.render(Dialect::Postgres, &TABLE),
            "SELECT \"id\", \"title\", \"author_id\" FROM \"articles\" WHERE \"author_id\" = \
             ANY($1) AND (\"title\" LIKE $2 ESCAPE '!' OR NOT (\"title\" IS NULL)) ORDER BY \
             \"title\" DESC LIMIT $3 OFFSET $4"
        );
    }

    #[test]
    fn no_condition_is_no_where_and_empty_groups_are_constants() {
        let always = Condition::always();
        let count = Filtered {
            action: PlanAction::Count,
            condition: &always,
            order: &[],
            limit: PlanLimit::All,
        };
        assert_eq!(
            count.render(Dialect::Sqlite, &TABLE),
            "SELECT COUNT(*) FROM \"articles\""
        );
        let never = Condition::All(vec![
            Condition::Any(Vec::new()),
            compare("id", Operator::NotIn, 0),
        ]);
        let delete = Filtered {
            action: PlanAction::Delete,
            condition: &never,
            order: &[],
            limit: PlanLimit::All,
        };
        assert_eq!(
            delete.render(Dialect::Sqlite, &TABLE),
            "DELETE FROM \"articles\" WHERE (1 = 0) AND 1 = 1"
        );
    }

    #[test]
    fn list_lengths_shape_the_text_except_on_postgres() {
        let two = compare("id", Operator::In, 2);
        let three = compare("id", Operator::In, 3);
        assert!(two.same_shape(&three, Dialect::Postgres));
        assert!(!two.same_shape(&three, Dialect::MySql));
        let hash = |condition: &Condition, dialect| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            condition.hash_shape(dialect, &mut hasher);
            hasher.finish()
        };
        assert_eq!(
            hash(&two, Dialect::Postgres),
            hash(&three, Dialect::Postgres)
        );
        assert_ne!(hash(&two, Dialect::Sqlite), hash(&three, Dialect::Sqlite));
    }

    #[test]
    fn a_patch_sets_its_columns_before_the_condition_takes_its_values() {
        let condition = Condition::All(vec![compare("author_id", Operator::In, 2)]);
        let patch = Patched {
            set: &["title"],
            condition: &condition,
            returning: true,
            version: None,
        };
        assert_eq!(
            patch.render(Dialect::Postgres, &TABLE),
            "UPDATE \"articles\" SET \"title\" = $1 WHERE \"author_id\" = ANY($2) RETURNING \
             \"id\", \"title\", \"author_id\""
        );
        let everywhere = Condition::always();
        let patch = Patched {
            set: &["title", "author_id"],
            condition: &everywhere,
            returning: false,
            version: Some("version"),
        };
        assert_eq!(
            patch.render(Dialect::MySql, &TABLE),
            "UPDATE `articles` SET `title` = ?, `author_id` = ?, `version` = `articles`.`version` + 1"
        );
    }
}
