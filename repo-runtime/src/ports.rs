//! What generated implementations of repository ports call: parameters bound against their
//! field's type, `LIKE` patterns whose wildcards match themselves, `IN` lists, pages.

use repo_sql::{Dialect, Operator, Plan, Sql};

use crate::column::ColumnValue;
use crate::entity::Entity;
use crate::executor::Executor;
use crate::statement::Statement;

/// The plan `queries` declare for `method`, at compile time: a derived query's body reads
/// its plan from the list the index advice reads, so that it is written once.
pub const fn declared_plan(
    queries: &'static [crate::schema::DeclaredQuery],
    method: &str,
) -> &'static Plan<'static> {
    let mut index = 0;
    while index < queries.len() {
        let name = queries[index].method.as_bytes();
        let wanted = method.as_bytes();
        let mut same = name.len() == wanted.len();
        let mut at = 0;
        while same && at < name.len() {
            same = name[at] == wanted[at];
            at += 1;
        }
        if same {
            return queries[index].plan;
        }
        index += 1;
    }
    // Evaluated in a constant: a compile error, never a run-time panic.
    panic!("a derived query without its declared plan")
}

/// A query method's parameter compared with a field of type `T`: the field's type itself, a
/// reference to it, or `&str` for a `String` field and `&[u8]` for a `Vec<u8>` one.
#[diagnostic::on_unimplemented(
    message = "a `{Self}` parameter cannot be compared with a `{T}` field",
    label = "expected `{T}` or `&{T}`"
)]
pub trait QueryParam<T> {
    /// Binds the value as the field's column would be bound.
    fn bind_param(&self, statement: &mut Statement);
}

impl<T: ColumnValue> QueryParam<T> for T {
    fn bind_param(&self, statement: &mut Statement) {
        ColumnValue::bind(self, statement);
    }
}

impl<T: ColumnValue> QueryParam<T> for &T {
    fn bind_param(&self, statement: &mut Statement) {
        ColumnValue::bind(*self, statement);
    }
}

impl QueryParam<String> for &str {
    fn bind_param(&self, statement: &mut Statement) {
        statement.bind(*self);
    }
}

impl QueryParam<Vec<u8>> for &[u8] {
    fn bind_param(&self, statement: &mut Statement) {
        statement.bind(*self);
    }
}

/// A parameter matched against a text field by `containing`, `starting_with`, `ending_with`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not text: `containing`, `starting_with` and `ending_with` compare strings"
)]
pub trait TextParam {
    /// The text.
    fn text(&self) -> &str;
}

impl TextParam for String {
    fn text(&self) -> &str {
        self
    }
}

impl TextParam for &String {
    fn text(&self) -> &str {
        self
    }
}

impl TextParam for &str {
    fn text(&self) -> &str {
        self
    }
}

/// Binds a text match: on PostgreSQL and MySQL a `LIKE ... ESCAPE '!'` pattern in which the
/// text's `%`, `_` and `!` match themselves; on SQLite (whose `LIKE` ignores case) the text
/// itself, once per placeholder of its `instr` / `substr` comparison.
pub fn bind_text(statement: &mut Statement, operator: Operator, text: &str) {
    // The in-memory store's plan matches the text itself.
    if statement.is_memory() {
        statement.bind(text.to_owned());
        return;
    }
    if statement.dialect() == Dialect::Sqlite {
        for _ in 0..operator.text_binds(Dialect::Sqlite) {
            statement.bind(text.to_owned());
        }
        return;
    }
    let mut pattern = String::with_capacity(text.len() + 2);
    if operator != Operator::StartingWith {
        pattern.push('%');
    }
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    if operator != Operator::EndingWith {
        pattern.push('%');
    }
    statement.bind(pattern);
}

/// Binds the values of an `IN` list: one array on PostgreSQL (`= ANY($n)`), one placeholder
/// each elsewhere (the list the statement was assembled with).
pub fn bind_list<T: ColumnValue>(statement: &mut Statement, values: &[T]) {
    if statement.dialect() == Dialect::Postgres {
        T::bind_array(values.iter().collect(), statement);
    } else {
        for value in values {
            value.bind(statement);
        }
    }
}

/// Binds a page as `LIMIT ? OFFSET ?`.
pub fn bind_page(statement: &mut Statement, page: repo_core::Page) {
    let (limit, offset) = page_bounds(page);
    statement.bind(limit);
    statement.bind(offset);
}

/// A page's `LIMIT` and `OFFSET` as the `BIGINT`s every backend takes: no limit is the largest.
pub(crate) fn page_bounds(page: repo_core::Page) -> (i64, i64) {
    let clamp = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    (page.limit.map_or(i64::MAX, clamp), clamp(page.offset))
}

/// Starts a statement whose `IN` lists have these lengths. PostgreSQL binds each list as one
/// array, so its text is the compile-time one; elsewhere the text is rendered from the
/// statement's plan with one placeholder per value (a constant condition for an empty list),
/// once per shape. The in-memory store runs `plan`, taking each list's values by its length.
///
/// The statement of an entity scoped by tenant starts here too, lists or not: on an unscoped
/// handle its text is rendered without the scope. Its binder calls [`bind_scope`] after the
/// conditions' values.
pub fn statement_with_lists<E: Entity>(
    executor: &Executor,
    operation: &'static str,
    sql: &Sql,
    plan: &'static Plan<'static>,
    lengths: &[usize],
) -> Statement {
    let dialect = executor.dialect();
    let unscoped = plan.scope.is_some() && executor.tenancy().is_unscoped();
    if executor.is_memory() || (dialect == Dialect::Postgres && !unscoped) {
        return executor.statement(operation, sql).with_plan(plan, lengths);
    }
    let text = crate::rendered::with_lists(E::TABLE, dialect, plan, lengths, unscoped);
    executor.assembled(operation, text).with_plan(plan, lengths)
}

/// Binds the tenant of the scope of a statement on `E`, an entity scoped by tenant: after the
/// conditions' values, before a page's.
pub fn bind_scope<E: Entity>(statement: &mut Statement) {
    statement.bind_scope(E::TABLE);
}
