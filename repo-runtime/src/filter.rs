//! [`Filter`]: which rows of an entity, decided at run time. The derive gives each column a
//! typed [`Field`] (`User::EMAIL`), whose comparisons make filters; filters combine with
//! [`Filter::and`], [`Filter::or`] and `!`, and a `None` given to `and` / `or` drops out, so a
//! search form's optional fields make one expression. A filter is a `repo_sql::Condition`
//! (the statement's shape, whose SQL is rendered once per shape) and the values it binds.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use repo_sql::{Condition, Dialect, Operator, PlanAction, PlanLimit};

use crate::column::ColumnValue;
use crate::error::RepoError;
use crate::executor::Executor;
use crate::list::ListOptions;
use crate::schema::{IndexAdvice, Table};
use crate::statement::{FilteredShape, PatchShape, Shape, Statement};

/// A value given for a column of type `T`: `T` itself, a reference to one, or `&str` for a
/// `String` column and `&[u8]` for a `Vec<u8>` one.
#[diagnostic::on_unimplemented(
    message = "a `{Self}` value cannot be compared with a `{T}` column",
    label = "expected `{T}` or `&{T}`"
)]
pub trait IntoValue<T> {
    /// The value, owned: a filter outlives the call that built it.
    fn into_value(self) -> T;
}

impl<T> IntoValue<T> for T {
    fn into_value(self) -> T {
        self
    }
}

impl<T: Clone> IntoValue<T> for &T {
    fn into_value(self) -> T {
        self.clone()
    }
}

impl IntoValue<String> for &str {
    fn into_value(self) -> String {
        self.to_owned()
    }
}

impl IntoValue<Vec<u8>> for &[u8] {
    fn into_value(self) -> Vec<u8> {
        self.to_vec()
    }
}

/// A column of `E` whose values are `T` (for a nullable column, `T` is the value inside the
/// `Option`; `is_null` tests for `NULL`). The derive writes one per column, as an associated
/// constant of the entity: `User::EMAIL: Field<User, String>`.
pub struct Field<E, T> {
    column: &'static str,
    types: PhantomData<fn() -> (E, T)>,
}

impl<E, T> Clone for Field<E, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, T> Copy for Field<E, T> {}

impl<E, T> fmt::Debug for Field<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Field").field(&self.column).finish()
    }
}

impl<E, T> Field<E, T> {
    /// The field of the column called `column`. Written by the derive, whose column names
    /// are validated: never call it with a name of your own.
    #[doc(hidden)]
    pub const fn new(column: &'static str) -> Self {
        Field {
            column,
            types: PhantomData,
        }
    }

    /// The column's name.
    pub const fn column(self) -> &'static str {
        self.column
    }

    /// The column's name hashed (FNV-1a): what tells an entity's foreign key fields apart in
    /// [`ForeignKeyField`](crate::ForeignKeyField), which a relation names it by.
    #[doc(hidden)]
    pub const fn key(self) -> u64 {
        column_key(self.column)
    }

    fn compare(self, operator: Operator, values: Vec<Arc<dyn Bound>>) -> Filter<E> {
        Filter::compare(self.column, operator, values)
    }

    /// The column is `NULL`.
    pub fn is_null(self) -> Filter<E> {
        self.compare(Operator::IsNull, Vec::new())
    }

    /// The column is not `NULL`.
    pub fn is_not_null(self) -> Filter<E> {
        self.compare(Operator::IsNotNull, Vec::new())
    }

    /// Some row of `C` holds this column's value in its `link` column and meets `filter`:
    /// a filter through a relation, in one statement (`EXISTS`). The articles Ann favourited:
    /// `Article::ID.exists_in(Favorite::ARTICLE_ID, Favorite::AUTHOR_ID.eq(ann))`; the
    /// articles by an author named Jake: `Article::AUTHOR_ID.exists_in(Author::ID,
    /// Author::USERNAME.eq("jake"))`. Never unknown: a row no row links to meets its negation.
    pub fn exists_in<C: crate::entity::Entity>(
        self,
        link: Field<C, T>,
        filter: Filter<C>,
    ) -> Filter<E> {
        // The rows of `C` a soft delete marked link to nothing, unless `filter` asks for them;
        // those of another tenant, to nothing at all.
        let condition = filter.scoped(C::TABLE);
        let mut values = filter.values;
        if C::TABLE.tenant_column().is_some() {
            values.push(Arc::new(ScopeOf(C::TABLE)));
        }
        Filter::new(
            Condition::Exists {
                table: C::TABLE_NAME,
                link: link.column,
                column: self.column,
                condition: Box::new(Arc::unwrap_or_clone(condition)),
            },
            values,
        )
    }
}

impl<E, T: ColumnValue> Field<E, T> {
    fn scalar(self, operator: Operator, value: impl IntoValue<T>) -> Filter<E> {
        self.compare(operator, vec![Arc::new(Scalar(value.into_value()))])
    }

    /// The column equals `value` (a `NULL` column equals nothing: use [`Field::is_null`]).
    pub fn eq(self, value: impl IntoValue<T>) -> Filter<E> {
        self.scalar(Operator::Equal, value)
    }

    /// The column is not `NULL` and differs from `value`.
    pub fn ne(self, value: impl IntoValue<T>) -> Filter<E> {
        self.scalar(Operator::NotEqual, value)
    }

    /// The column is greater than `value`.
    pub fn gt(self, value: impl IntoValue<T>) -> Filter<E> {
        self.scalar(Operator::GreaterThan, value)
    }

    /// The column is greater than or equal to `value`.
    pub fn ge(self, value: impl IntoValue<T>) -> Filter<E> {
        self.scalar(Operator::GreaterThanEqual, value)
    }

    /// The column is less than `value`.
    pub fn lt(self, value: impl IntoValue<T>) -> Filter<E> {
        self.scalar(Operator::LessThan, value)
    }

    /// The column is less than or equal to `value`.
    pub fn le(self, value: impl IntoValue<T>) -> Filter<E> {
        self.scalar(Operator::LessThanEqual, value)
    }

    /// The column lies between `low` and `high`, both included.
    pub fn between(self, low: impl IntoValue<T>, high: impl IntoValue<T>) -> Filter<E> {
        let bounds: Vec<Arc<dyn Bound>> = vec![
            Arc::new(Scalar(low.into_value())),
            Arc::new(Scalar(high.into_value())),
        ];
        self.compare(Operator::Between, bounds)
    }

    /// The column is one of `values`; nothing is in an empty list.
    pub fn is_in<V: IntoValue<T>>(self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        let list = List(values.into_iter().map(IntoValue::into_value).collect());
        self.compare(Operator::In, vec![Arc::new(list)])
    }

    /// The column is not `NULL` and none of `values`; everything is outside an empty list.
    pub fn not_in<V: IntoValue<T>>(self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        let list = List(values.into_iter().map(IntoValue::into_value).collect());
        self.compare(Operator::NotIn, vec![Arc::new(list)])
    }
}

impl<E> Field<E, String> {
    fn text(self, operator: Operator, text: impl Into<String>) -> Filter<E> {
        let text = Text {
            operator,
            text: text.into(),
        };
        self.compare(operator, vec![Arc::new(text)])
    }

    /// The text contains `text`, literally (`%` and `_` match themselves) and case-sensitively.
    pub fn contains(self, text: impl Into<String>) -> Filter<E> {
        self.text(Operator::Containing, text)
    }

    /// The text starts with `text`, literally and case-sensitively.
    pub fn starts_with(self, text: impl Into<String>) -> Filter<E> {
        self.text(Operator::StartingWith, text)
    }

    /// The text ends with `text`, literally and case-sensitively.
    pub fn ends_with(self, text: impl Into<String>) -> Filter<E> {
        self.text(Operator::EndingWith, text)
    }
}

/// What [`Filter::and`] and [`Filter::or`] take: a filter on the same entity, or an optional
/// one (a search form's empty field is `None` and drops out).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be combined with a `Filter<{E}>`",
    label = "expected a `Filter<{E}>` or an `Option<Filter<{E}>>`",
    note = "filters combine only on the rows of one entity"
)]
pub trait OptionalFilter<E> {
    /// The filter, if there is one.
    fn into_filter(self) -> Option<Filter<E>>;
}

impl<E> OptionalFilter<E> for Filter<E> {
    fn into_filter(self) -> Option<Filter<E>> {
        Some(self)
    }
}

impl<E> OptionalFilter<E> for Option<Filter<E>> {
    fn into_filter(self) -> Option<Filter<E>> {
        self
    }
}

/// Which rows of `E`: a condition built from [`Field`]s, and the values it binds. Cheap to
/// clone, so one filter serves a page and its total.
pub struct Filter<E> {
    condition: Arc<Condition>,
    values: Vec<Arc<dyn Bound>>,
    /// Whether the rows a soft delete marked are selected too ([`Filter::with_deleted`]).
    with_deleted: bool,
    entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Filter<E> {
    fn clone(&self) -> Self {
        Filter {
            condition: Arc::clone(&self.condition),
            values: self.values.clone(),
            with_deleted: self.with_deleted,
            entity: PhantomData,
        }
    }
}

/// The condition only: a filter's values may be anything the user searched for.
impl<E> fmt::Debug for Filter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("condition", &self.condition)
            .field("values", &self.values.len())
            .field("with_deleted", &self.with_deleted)
            .finish()
    }
}

impl<E> Default for Filter<E> {
    fn default() -> Self {
        Filter::all()
    }
}

impl<E> Filter<E> {
    /// `column` compared by `operator` with `values` (one list, for `IN`).
    pub(crate) fn compare(
        column: &'static str,
        operator: Operator,
        values: Vec<Arc<dyn Bound>>,
    ) -> Self {
        let count = if operator.takes_list() {
            values.first().map_or(0, |list| list.len())
        } else {
            values.len()
        };
        Filter::new(
            Condition::Compare {
                column,
                operator,
                values: count,
            },
            values,
        )
    }

    fn new(condition: Condition, values: Vec<Arc<dyn Bound>>) -> Self {
        Filter {
            condition: Arc::new(condition),
            values,
            with_deleted: false,
            entity: PhantomData,
        }
    }

    /// The same filter, selecting the rows a soft delete marked (`#[repo(deleted_at)]`) as
    /// well, which every read leaves out otherwise: to list a bin, or audit. Combined with
    /// `and` / `or`, a filter that asks for them makes the whole one see them. No effect on
    /// an entity without soft delete.
    pub fn with_deleted(mut self) -> Self {
        self.with_deleted = true;
        self
    }

    /// The condition as a statement on `table` applies it: with the rows a soft delete marked
    /// left out, unless the filter asks for them, and those of other tenants, always (a
    /// [`Condition::Scope`] last, whose tenant the statement binds after the filter's values).
    pub(crate) fn scoped(&self, table: &'static Table) -> Arc<Condition> {
        scoped(&self.condition, self.with_deleted, table)
    }

    /// The values the condition binds, in order.
    pub(crate) fn values(&self) -> &[Arc<dyn Bound>] {
        &self.values
    }

    /// A filter of `condition`, taking `values` in order.
    pub(crate) fn from_parts(condition: Condition, values: Vec<Arc<dyn Bound>>) -> Self {
        Filter::new(condition, values)
    }

    /// Every row: the start of a filter built condition by condition.
    pub fn all() -> Self {
        Filter::new(Condition::always(), Vec::new())
    }

    /// No row.
    pub fn none() -> Self {
        Filter::new(Condition::Any(Vec::new()), Vec::new())
    }

    /// Rows that meet every one of `filters` (every row when there is none).
    pub fn all_of(filters: impl IntoIterator<Item = Filter<E>>) -> Self {
        filters.into_iter().fold(Filter::all(), Filter::and)
    }

    /// Rows that meet any of `filters` (no row when there is none).
    pub fn any_of(filters: impl IntoIterator<Item = Filter<E>>) -> Self {
        filters.into_iter().fold(Filter::none(), Filter::or)
    }

    /// Rows that meet this filter and `other`; a `None` leaves this filter as it is.
    pub fn and(self, other: impl OptionalFilter<E>) -> Self {
        match other.into_filter() {
            None => self,
            Some(other) => self.join(other, true),
        }
    }

    /// Rows that meet this filter or `other`; a `None` leaves this filter as it is.
    pub fn or(self, other: impl OptionalFilter<E>) -> Self {
        match other.into_filter() {
            None => self,
            Some(other) => self.join(other, false),
        }
    }

    fn join(mut self, mut other: Filter<E>, all: bool) -> Self {
        let identity = |condition: &Condition| match condition {
            Condition::All(items) => all && items.is_empty(),
            Condition::Any(items) => !all && items.is_empty(),
            _ => false,
        };
        if identity(&self.condition) {
            other.with_deleted |= self.with_deleted;
            return other;
        }
        if identity(&other.condition) {
            self.with_deleted |= other.with_deleted;
            return self;
        }
        // Values stay in the order the condition takes them: this filter's, then the other's.
        self.values.append(&mut other.values);
        self.with_deleted |= other.with_deleted;
        let other = Arc::unwrap_or_clone(other.condition);
        let condition = Arc::make_mut(&mut self.condition);
        match (condition, all) {
            (Condition::All(items), true) | (Condition::Any(items), false) => match other {
                Condition::All(more) if all => items.extend(more),
                Condition::Any(more) if !all => items.extend(more),
                other => items.push(other),
            },
            (condition, _) => {
                let first = std::mem::replace(condition, Condition::always());
                *condition = if all {
                    Condition::All(vec![first, other])
                } else {
                    Condition::Any(vec![first, other])
                };
            }
        }
        self
    }

    /// The condition, without its values.
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// Whether an index of `E`'s table serves this filter, read in `options`' order (see
    /// [`Table::index_advice`]): `None` when one does, else what reads every row and the
    /// attribute that would fix it. `name` names the filter in the advice. For a test of the
    /// filters an application builds: `assert_eq!(filter.index_advice("search", &options), None)`.
    pub fn index_advice(&self, name: &str, options: &ListOptions<E::Column>) -> Option<IndexAdvice>
    where
        E: crate::entity::Entity,
    {
        let limited = options.get_limit().is_some();
        let order = crate::list::asked_order::<E>(options);
        E::TABLE.filter_advice(name, &self.scoped(E::TABLE), &order, limited)
    }

    /// The condition, shared: what a statement's shape keeps.
    pub(crate) fn shared_condition(&self) -> &Arc<Condition> {
        &self.condition
    }

    /// Binds the filter's values, in the order its condition takes them.
    pub(crate) fn bind_values(&self, statement: &mut Statement) {
        for value in &self.values {
            value.bind(statement);
        }
    }

    /// The statement that does `action` with the rows this filter selects on `table`, in
    /// `order`, limited to a page (limit, offset) when one is given.
    pub(crate) fn statement(
        &self,
        executor: &Executor,
        table: &'static Table,
        operation: &'static str,
        selection: &Selection,
    ) -> Statement {
        let condition = self.scoped(table);
        selection.statement(executor, table, operation, &condition, |statement| {
            self.bind_values(statement);
        })
    }

    /// Binds the filter's values, then the tenant of the scope [`Filter::scoped`] gave the
    /// condition on `table`, if it has one.
    pub(crate) fn bind_scoped_values(&self, table: &'static Table, statement: &mut Statement) {
        self.bind_values(statement);
        statement.bind_scope(table);
    }

    /// The statement that writes the `set` columns of the rows this filter selects on `table`,
    /// their values bound by `bind_set`, returning the rows when `returning`.
    pub(crate) fn patch_statement(
        &self,
        executor: &Executor,
        table: &'static Table,
        operation: &'static str,
        set: Vec<&'static str>,
        returning: bool,
        bind_set: impl FnOnce(&mut Statement),
    ) -> Statement {
        let condition = self.scoped(table);
        let mut statement = patch_statement(executor, table, operation, set, &condition, returning);
        bind_set(&mut statement);
        self.bind_scoped_values(table, &mut statement);
        statement
    }
}

/// `condition` as `executor`'s handle applies it: without its scopes on an unscoped handle,
/// which reaches every tenant's rows.
pub(crate) fn for_handle(executor: &Executor, condition: &Arc<Condition>) -> Arc<Condition> {
    if executor.tenancy().is_unscoped() && condition.has_scope() {
        return Arc::new(condition.without_scope());
    }
    Arc::clone(condition)
}

/// The statement that writes the `set` columns of the rows `condition` selects on `table`, yet
/// to bind their values and then the condition's.
pub(crate) fn patch_statement(
    executor: &Executor,
    table: &'static Table,
    operation: &'static str,
    set: Vec<&'static str>,
    condition: &Arc<Condition>,
    returning: bool,
) -> Statement {
    let condition = &for_handle(executor, condition);
    let sql = crate::rendered::patched(table, executor.dialect(), &set, condition, returning);
    let shape = PatchShape {
        set,
        condition: Arc::clone(condition),
    };
    executor
        .assembled(operation, sql)
        .shaped(Shape::Patch(Box::new(shape)))
}

impl<E: crate::entity::Entity> Filter<E> {
    /// Whether `record` meets the filter, as a database would decide it (a `NULL` compared
    /// meets neither the filter nor its negation): for a hand-written repository or a check
    /// in memory. A value that fails to convert to its column is `InvalidInput`.
    #[cfg(feature = "memory")]
    pub fn matches(&self, record: &E) -> Result<bool, RepoError> {
        let mut row = Statement::memory("matches");
        record.bind_all(&mut row);
        let row = row.into_memory(E::TABLE)?.values;
        let mut values = Statement::memory("matches");
        for value in &self.values {
            value.bind(&mut values);
        }
        let values = values.into_memory(E::TABLE)?.values;
        crate::memory::matches(E::TABLE, &self.condition, &row, values)
    }
}

/// What a statement does with the rows a filter selects: the part of it that does not depend
/// on the entity, so that it is compiled once.
pub(crate) struct Selection {
    pub(crate) action: PlanAction,
    /// Sort keys of a `Select`, the key's columns last.
    pub(crate) order: Arc<[(&'static str, bool)]>,
    /// A page's limit and offset.
    pub(crate) page: Option<(i64, i64)>,
    /// Whether a `Select` locks the rows it reads until the transaction ends (`FOR UPDATE`).
    pub(crate) locking: bool,
}

impl Selection {
    /// Counts, tests or deletes the rows, in no order.
    pub(crate) fn of(action: PlanAction) -> Selection {
        Selection {
            action,
            order: Arc::new([]),
            page: None,
            locking: false,
        }
    }

    /// The statement on the rows `condition` selects on `table`, whose values `bind` binds;
    /// the tenant of its scope, if any, follows them, then the page.
    pub(crate) fn statement(
        &self,
        executor: &Executor,
        table: &'static Table,
        operation: &'static str,
        condition: &Arc<Condition>,
        bind: impl FnOnce(&mut Statement),
    ) -> Statement {
        let limit = match self.page {
            Some(_) => PlanLimit::Page,
            None => PlanLimit::All,
        };
        let condition = &for_handle(executor, condition);
        let dialect = executor.dialect();
        let sql =
            crate::rendered::filtered(table, dialect, self.action, condition, &self.order, limit);
        // The in-memory store locks by its write lock; SQLite by its own.
        let sql: Arc<str> = if self.locking && matches!(dialect, Dialect::Postgres | Dialect::MySql)
        {
            format!("{sql} FOR UPDATE").into()
        } else {
            sql
        };
        let shape = FilteredShape {
            action: self.action,
            condition: Arc::clone(condition),
            order: Arc::clone(&self.order),
            limit,
        };
        let mut statement = executor
            .assembled(operation, sql)
            .shaped(Shape::Filtered(Box::new(shape)));
        bind(&mut statement);
        statement.bind_scope(table);
        if let Some((limit, offset)) = self.page {
            statement.bind(limit);
            statement.bind(offset);
        }
        statement
    }
}

/// Rows that do not meet the filter; a row whose column is `NULL` where the filter compares it
/// meets neither the filter nor its negation, as in SQL.
impl<E> std::ops::Not for Filter<E> {
    type Output = Filter<E>;

    fn not(mut self) -> Filter<E> {
        let condition = Arc::unwrap_or_clone(self.condition);
        self.condition = Arc::new(match condition {
            Condition::Not(inner) => *inner,
            condition => Condition::Not(Box::new(condition)),
        });
        self
    }
}

/// The FNV-1a hash of a column's name: [`Field::key`], and what the derive names a foreign key
/// field's [`ForeignKeyField`](crate::ForeignKeyField) by.
#[doc(hidden)]
pub const fn column_key(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut index = 0;
    while index < bytes.len() {
        hash ^= bytes[index] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        index += 1;
    }
    hash
}

/// The rows of `E` whose keys are among `ids`: for each key, its columns equal to its values,
/// bound as the entity binds a key (a composite key too).
pub(crate) fn keys_filter<E: crate::entity::Entity>(ids: &[E::Id]) -> Filter<E> {
    // A loop, not an iterator chain: this is compiled once per entity.
    let mut values: Vec<Arc<dyn Bound>> = Vec::with_capacity(ids.len());
    for id in ids {
        values.push(Arc::new(Key::<E>(id.clone())));
    }
    Filter::new(keys_condition(E::KEY_COLUMNS, ids.len()), values)
}

/// Any of `count` keys: for each, every `key` column equal to a bound value.
fn keys_condition(key: &'static [&'static str], count: usize) -> Condition {
    let one = Condition::All(
        key.iter()
            .map(|column| Condition::Compare {
                column,
                operator: Operator::Equal,
                values: 1,
            })
            .collect(),
    );
    Condition::Any(vec![one; count])
}

/// [`Filter::scoped`], compiled once rather than per entity.
fn scoped(condition: &Arc<Condition>, with_deleted: bool, table: &'static Table) -> Arc<Condition> {
    let live = match table.deleted_column() {
        Some(deleted) if !with_deleted => live_only(condition, deleted),
        _ => Arc::clone(condition),
    };
    match table.tenant_column() {
        Some(tenant) => Arc::new(and_last(
            &live,
            Condition::Scope {
                column: tenant.name,
            },
        )),
        None => live,
    }
}

/// `condition` on `table` as every statement applies it: with the rows a soft delete marked
/// left out where it has soft delete, and those of other tenants where it has a tenant (the
/// caller binds the tenant after the condition's values: [`Statement::bind_scope`]).
pub(crate) fn live_in(table: &'static Table, condition: Condition) -> Arc<Condition> {
    scoped(&Arc::new(condition), false, table)
}

/// `condition` and `last`, which takes its values after the condition's.
fn and_last(condition: &Condition, last: Condition) -> Condition {
    match condition {
        Condition::All(items) => {
            let mut items = items.clone();
            items.push(last);
            Condition::All(items)
        }
        other => Condition::All(vec![other.clone(), last]),
    }
}

/// `condition`, and the row lives: its `deleted` column is `NULL`.
fn live_only(condition: &Condition, deleted: &'static str) -> Arc<Condition> {
    let live = Condition::Compare {
        column: deleted,
        operator: Operator::IsNull,
        values: 0,
    };
    Arc::new(and_last(condition, live))
}

/// The rows of `E` at `version` (`#[repo(version)]`); every row when `E` has no version.
pub(crate) fn at_version<E: crate::entity::Entity>(version: i64) -> Filter<E> {
    match E::TABLE.policy_column(repo_sql::Policy::Version) {
        Some(column) => Filter::new(
            Condition::Compare {
                column: column.name,
                operator: Operator::Equal,
                values: 1,
            },
            vec![Arc::new(Scalar(version))],
        ),
        None => Filter::all(),
    }
}

/// A key of `E`, bound column by column as the entity binds it.
struct Key<E: crate::entity::Entity>(E::Id);

impl<E: crate::entity::Entity> Bound for Key<E> {
    fn bind(&self, statement: &mut Statement) {
        E::bind_id(&self.0, statement);
    }
}

/// The tenant of a scope on `table` inside a condition (an `EXISTS` on a scoped table): the
/// handle's, bound when the statement is.
struct ScopeOf(&'static Table);

impl Bound for ScopeOf {
    fn bind(&self, statement: &mut Statement) {
        statement.bind_scope(self.0);
    }
}

/// One value of a filter, bound as its column binds it.
pub(crate) trait Bound: Send + Sync {
    fn bind(&self, statement: &mut Statement);

    /// How many values a list holds; 1 for anything else.
    fn len(&self) -> usize {
        1
    }
}

/// Text with a NUL character fails the statement on every backend: PostgreSQL can neither
/// store nor take one, and a filter must mean the same everywhere.
fn refuse_nul(value: &dyn std::any::Any, statement: &mut Statement) -> bool {
    let Some(text) = value.downcast_ref::<String>() else {
        return false;
    };
    if !text.contains('\0') {
        return false;
    }
    statement.fail(RepoError::invalid_input(
        crate::error::NO_ENTITY,
        "a filter's text holds a NUL character, which no column can hold on every backend",
    ));
    true
}

struct Scalar<T>(T);

impl<T: ColumnValue> Bound for Scalar<T> {
    fn bind(&self, statement: &mut Statement) {
        if !refuse_nul(&self.0, statement) {
            self.0.bind(statement);
        }
    }
}

struct List<T>(Vec<T>);

impl<T: ColumnValue> Bound for List<T> {
    fn bind(&self, statement: &mut Statement) {
        let mut refused = false;
        for value in &self.0 {
            refused |= refuse_nul(value, statement);
        }
        if !refused {
            crate::ports::bind_list(statement, &self.0);
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

struct Text {
    operator: Operator,
    text: String,
}

impl Bound for Text {
    fn bind(&self, statement: &mut Statement) {
        if !refuse_nul(&self.text, statement) {
            crate::ports::bind_text(statement, self.operator, &self.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Article;
    const TITLE: Field<Article, String> = Field::new("title");
    const AUTHOR: Field<Article, i64> = Field::new("author_id");

    fn compare(column: &'static str, operator: Operator, values: usize) -> Condition {
        Condition::Compare {
            column,
            operator,
            values,
        }
    }

    #[test]
    fn optional_conditions_drop_out_and_groups_flatten() {
        let tag: Option<&str> = None;
        let filter = Filter::all()
            .and(AUTHOR.is_in([1, 2, 3]))
            .and(tag.map(|tag| TITLE.contains(tag)))
            .and(TITLE.is_not_null());
        assert_eq!(
            *filter.condition(),
            Condition::All(vec![
                compare("author_id", Operator::In, 3),
                compare("title", Operator::IsNotNull, 0),
            ])
        );
        assert_eq!(filter.values.len(), 1);
        let either = AUTHOR.eq(1).or(AUTHOR.eq(2)).or(None).or(AUTHOR.eq(3));
        assert!(matches!(either.condition(), Condition::Any(items) if items.len() == 3));
        assert_eq!(either.values.len(), 3);
    }

    #[test]
    fn not_wraps_and_unwraps() {
        let filter = !TITLE.starts_with("a");
        assert!(matches!(filter.condition(), Condition::Not(_)));
        let twice = !filter;
        assert_eq!(
            *twice.condition(),
            compare("title", Operator::StartingWith, 1)
        );
        assert!(Filter::<Article>::all().condition().is_always());
        assert_eq!(
            *Filter::<Article>::any_of([]).condition(),
            Condition::Any(Vec::new())
        );
    }
}
