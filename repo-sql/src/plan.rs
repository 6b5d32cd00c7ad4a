//! [`Plan`]: a read or delete by conditions as data (finders, derived queries, `get`, `count`,
//! `exists`, `delete`). It is the one description of such a statement: [`Plan::render`] writes
//! its SQL for a dialect (the derive at compile time, the runtime at run time), and the
//! in-memory store (feature `memory`) evaluates the same value in place of the SQL.

use crate::{Dialect, Operator};

/// What a planned statement does with the rows its conditions select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// One comparison of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanCondition<'a> {
    /// The column's name.
    pub column: &'a str,
    /// The comparison.
    pub operator: Operator,
}

/// How many rows a planned `Select` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanLimit {
    /// All of them.
    All,
    /// At most this many (`top` / `first` in the method's name).
    Fixed(u64),
    /// A page: the last two parameters are its limit and offset.
    Page,
}

/// A statement as data: rows matching any group of conditions (each group all of its
/// conditions; no group: every row), in order, limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Plan<'a> {
    /// What is done with the selected rows.
    pub action: PlanAction,
    /// Groups of conditions, any of which selects a row.
    pub any_of: &'a [&'a [PlanCondition<'a>]],
    /// Sort keys: column and whether descending. The primary key breaks ties.
    pub order: &'a [(&'a str, bool)],
    /// How many rows a `Select` returns.
    pub limit: PlanLimit,
    /// The tenant column of a table with `#[repo(tenant)]`: the rows of the tenant bound after
    /// the groups' values (before a page's) only, whichever group selects them.
    pub scope: Option<&'a str>,
}

/// The table a [`Plan`] reads: its name, the columns of a row in order, and its primary key
/// (which orders a page or a top-N of an otherwise unordered query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTable<'a> {
    /// The table's name.
    pub name: &'a str,
    /// The columns a `Select` returns.
    pub columns: &'a [&'a str],
    /// The primary key's columns.
    pub key: &'a [&'a str],
}

impl PlanTable<'_> {
    /// The rows whose keys are among `keys` key values: `WHERE "id" IN ($1, $2)`, or for a
    /// key of several columns `WHERE ("a", "b") IN (($1, $2), ($3, $4))` (SQLite takes a list
    /// of row values only from a subquery: `IN (VALUES (?, ?), ...)`).
    pub fn select_by_keys(&self, dialect: Dialect, keys: usize) -> String {
        let width = self.key.len();
        let mut sql = format!(
            "SELECT {} FROM {} WHERE ",
            dialect.quote_list(self.columns.iter().copied()),
            dialect.quote(self.name)
        );
        if width == 1 {
            sql.push_str(&dialect.quote_list(self.key.iter().copied()));
            sql.push_str(" IN (");
        } else {
            sql.push('(');
            sql.push_str(&dialect.quote_list(self.key.iter().copied()));
            sql.push_str(if dialect == Dialect::Sqlite {
                ") IN (VALUES "
            } else {
                ") IN ("
            });
        }
        dialect.push_placeholder_groups(&mut sql, keys, width, 1, true);
        sql.push(')');
        sql
    }
}

/// What a statement on `table` starts with, for `action`: its select list, or `DELETE FROM`.
pub(crate) fn statement_head(
    action: PlanAction,
    dialect: Dialect,
    table: &PlanTable<'_>,
) -> String {
    let name = dialect.quote(table.name);
    match action {
        PlanAction::Select => format!(
            "SELECT {} FROM {name}",
            dialect.quote_list(table.columns.iter().copied())
        ),
        PlanAction::Count => format!("SELECT COUNT(*) FROM {name}"),
        PlanAction::Exists => format!("SELECT 1 FROM {name}"),
        PlanAction::Delete => format!("DELETE FROM {name}"),
    }
}

/// What a statement on `table` ends with, after its conditions: a `Select`'s order (the key
/// when a page or a top-N would otherwise be arbitrary) and limit, an `Exists`'s `LIMIT 1`.
pub(crate) fn push_order_and_limit(
    sql: &mut String,
    action: PlanAction,
    order: &[(&str, bool)],
    limit: PlanLimit,
    dialect: Dialect,
    table: &PlanTable<'_>,
    placeholder: &mut impl FnMut() -> String,
) {
    match action {
        PlanAction::Select => {}
        PlanAction::Exists => {
            sql.push_str(" LIMIT 1");
            return;
        }
        PlanAction::Count | PlanAction::Delete => return,
    }
    let mut order: Vec<String> = order
        .iter()
        .map(|(column, descending)| {
            let direction = if *descending { " DESC" } else { "" };
            format!("{}{direction}", dialect.quote(column))
        })
        .collect();
    let ordered_limit = matches!(limit, PlanLimit::Page | PlanLimit::Fixed(2..));
    if order.is_empty() && ordered_limit {
        order = table
            .key
            .iter()
            .map(|column| dialect.quote(column))
            .collect();
    }
    if !order.is_empty() {
        sql.push_str(" ORDER BY ");
        sql.push_str(&order.join(", "));
    }
    match limit {
        PlanLimit::All => {}
        PlanLimit::Fixed(limit) => sql.push_str(&format!(" LIMIT {limit}")),
        PlanLimit::Page => {
            let (limit, offset) = (placeholder(), placeholder());
            sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
        }
    }
}

impl Plan<'_> {
    /// The statement's SQL for `dialect`, reading `table`. Identifiers are quoted; every value
    /// is a placeholder, numbered in the order the conditions take them, then the page's
    /// limit and offset.
    pub fn render(&self, dialect: Dialect, table: &PlanTable<'_>) -> String {
        self.render_with_lists(dialect, table, None)
    }

    /// [`Plan::render`] once the lengths of the `In` / `NotIn` lists are known, in the order
    /// the conditions take them: each list becomes its placeholders (see
    /// [`Operator::render_list`]). Without lengths, lists render as markers, which only
    /// PostgreSQL's form (one array) does not need.
    pub fn render_with_lists(
        &self,
        dialect: Dialect,
        table: &PlanTable<'_>,
        lists: Option<&[usize]>,
    ) -> String {
        let mut next = 0;
        let mut placeholder = || {
            next += 1;
            dialect.placeholder(next)
        };
        let mut sql = statement_head(self.action, dialect, table);
        match (self.any_of, self.scope) {
            ([], None) => {}
            (_, None) => {
                sql.push_str(" WHERE ");
                sql.push_str(&self.where_clause(dialect, lists, &mut placeholder));
            }
            (groups, Some(tenant)) => {
                sql.push_str(" WHERE ");
                match groups {
                    [] => {}
                    [_] => {
                        sql.push_str(&self.where_clause(dialect, lists, &mut placeholder));
                        sql.push_str(" AND ");
                    }
                    _ => {
                        sql.push('(');
                        sql.push_str(&self.where_clause(dialect, lists, &mut placeholder));
                        sql.push_str(") AND ");
                    }
                }
                let column = dialect.quote(tenant);
                sql.push_str(&Operator::Equal.render(dialect, &column, &mut placeholder));
            }
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

    /// The conditions: groups joined by `OR`, each in parentheses when there are several.
    fn where_clause(
        &self,
        dialect: Dialect,
        lists: Option<&[usize]>,
        placeholder: &mut impl FnMut() -> String,
    ) -> String {
        let mut lengths = lists.map(|lists| lists.iter().copied());
        let groups: Vec<String> = self
            .any_of
            .iter()
            .map(|all| {
                all.iter()
                    .map(|condition| {
                        let column = dialect.quote(condition.column);
                        let operator = condition.operator;
                        match lengths.as_mut() {
                            Some(lengths) if operator.takes_list() => {
                                let length = lengths.next().unwrap_or(0);
                                operator.render_list(dialect, &column, length, placeholder)
                            }
                            _ => operator.render(dialect, &column, placeholder),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" AND ")
            })
            .collect();
        match groups.as_slice() {
            [one] => one.clone(),
            _ => groups
                .iter()
                .map(|group| format!("({group})"))
                .collect::<Vec<_>>()
                .join(" OR "),
        }
    }
}

#[cfg(feature = "tokens")]
mod tokens {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::{Plan, PlanAction, PlanLimit};

    impl PlanAction {
        /// The action as a Rust path under `root` (the runtime's re-export of this crate).
        pub fn to_tokens_under(self, root: &TokenStream) -> TokenStream {
            match self {
                PlanAction::Select => quote! { #root::PlanAction::Select },
                PlanAction::Count => quote! { #root::PlanAction::Count },
                PlanAction::Exists => quote! { #root::PlanAction::Exists },
                PlanAction::Delete => quote! { #root::PlanAction::Delete },
            }
        }
    }

    impl PlanLimit {
        /// The limit as a Rust expression under `root`.
        pub fn to_tokens_under(self, root: &TokenStream) -> TokenStream {
            match self {
                PlanLimit::All => quote! { #root::PlanLimit::All },
                PlanLimit::Fixed(n) => quote! { #root::PlanLimit::Fixed(#n) },
                PlanLimit::Page => quote! { #root::PlanLimit::Page },
            }
        }
    }

    impl Plan<'_> {
        /// The plan as a `'static` Rust constant expression under `root`: what the derive
        /// writes beside the SQL it rendered from the same plan.
        pub fn to_tokens_under(&self, root: &TokenStream) -> TokenStream {
            let action = self.action.to_tokens_under(root);
            let groups = self.any_of.iter().map(|all| {
                let conditions = all.iter().map(|condition| {
                    let column = condition.column;
                    let operator = condition.operator.to_tokens_under(root);
                    quote! { #root::PlanCondition { column: #column, operator: #operator } }
                });
                quote! { &[#(#conditions),*] }
            });
            let order = self
                .order
                .iter()
                .map(|(column, descending)| quote! { (#column, #descending) });
            let limit = self.limit.to_tokens_under(root);
            let scope = match self.scope {
                Some(column) => quote! { ::core::option::Option::Some(#column) },
                None => quote! { ::core::option::Option::None },
            };
            quote! {
                #root::Plan {
                    action: #action,
                    any_of: &[#(#groups),*],
                    order: &[#(#order),*],
                    limit: #limit,
                    scope: #scope,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: PlanTable<'static> = PlanTable {
        name: "users",
        columns: &["id", "email"],
        key: &["id"],
    };

    #[test]
    fn rows_by_keys_use_row_values_for_a_key_of_several_columns() {
        assert_eq!(
            TABLE.select_by_keys(Dialect::Postgres, 2),
            "SELECT \"id\", \"email\" FROM \"users\" WHERE \"id\" IN ($1, $2)"
        );
        let pairs = PlanTable {
            name: "follows",
            columns: &["a", "b"],
            key: &["a", "b"],
        };
        assert_eq!(
            pairs.select_by_keys(Dialect::MySql, 2),
            "SELECT `a`, `b` FROM `follows` WHERE (`a`, `b`) IN ((?, ?), (?, ?))"
        );
        assert_eq!(
            pairs.select_by_keys(Dialect::Sqlite, 1),
            "SELECT \"a\", \"b\" FROM \"follows\" WHERE (\"a\", \"b\") IN (VALUES (?, ?))"
        );
    }

    #[test]
    fn a_finder_renders_its_conditions_order_and_page() {
        let plan = Plan {
            action: PlanAction::Select,
            any_of: &[
                &[
                    PlanCondition {
                        column: "email",
                        operator: Operator::Equal,
                    },
                    PlanCondition {
                        column: "id",
                        operator: Operator::Between,
                    },
                ],
                &[PlanCondition {
                    column: "email",
                    operator: Operator::IsNull,
                }],
            ],
            order: &[],
            limit: PlanLimit::Page,
            scope: None,
        };
        assert_eq!(
            plan.render(Dialect::Postgres, &TABLE),
            "SELECT \"id\", \"email\" FROM \"users\" WHERE (\"email\" = $1 AND \"id\" BETWEEN $2 \
             AND $3) OR (\"email\" IS NULL) ORDER BY \"id\" LIMIT $4 OFFSET $5"
        );
    }

    #[test]
    fn count_exists_and_delete_take_no_order() {
        let by_key: &[&[PlanCondition<'_>]] = &[&[PlanCondition {
            column: "id",
            operator: Operator::Equal,
        }]];
        let plan = |action| Plan {
            action,
            any_of: by_key,
            order: &[("email", true)],
            limit: PlanLimit::All,
            scope: None,
        };
        assert_eq!(
            plan(PlanAction::Count).render(Dialect::MySql, &TABLE),
            "SELECT COUNT(*) FROM `users` WHERE `id` = ?"
        );
        assert_eq!(
            plan(PlanAction::Exists).render(Dialect::Sqlite, &TABLE),
            "SELECT 1 FROM \"users\" WHERE \"id\" = ? LIMIT 1"
        );
        assert_eq!(
            plan(PlanAction::Delete).render(Dialect::Postgres, &TABLE),
            "DELETE FROM \"users\" WHERE \"id\" = $1"
        );
    }

    #[test]
    fn a_scoped_plan_selects_its_tenants_rows_whichever_group_does() {
        let groups: &[&[PlanCondition<'_>]] = &[
            &[PlanCondition {
                column: "email",
                operator: Operator::Equal,
            }],
            &[PlanCondition {
                column: "id",
                operator: Operator::Equal,
            }],
        ];
        let plan = |any_of, limit| Plan {
            action: PlanAction::Select,
            any_of,
            order: &[],
            limit,
            scope: Some("org"),
        };
        assert_eq!(
            plan(groups, PlanLimit::Page).render(Dialect::Postgres, &TABLE),
            "SELECT \"id\", \"email\" FROM \"users\" WHERE ((\"email\" = $1) OR (\"id\" = $2)) \
             AND \"org\" = $3 ORDER BY \"id\" LIMIT $4 OFFSET $5"
        );
        assert_eq!(
            plan(&groups[..1], PlanLimit::All).render(Dialect::MySql, &TABLE),
            "SELECT `id`, `email` FROM `users` WHERE `email` = ? AND `org` = ?"
        );
        assert_eq!(
            plan(&[], PlanLimit::All).render(Dialect::Sqlite, &TABLE),
            "SELECT \"id\", \"email\" FROM \"users\" WHERE \"org\" = ?"
        );
    }
}
