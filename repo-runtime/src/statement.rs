//! [`Statement`]: a statement's text for one dialect and its values, bound as generated code
//! asks; a value that cannot be encoded or converted fails the statement before it is sent.

use repo_sql::{Dialect, Plan, PlanAction, PlanLimit};

use crate::error::{NO_ENTITY, RepoError};
use crate::policy::Tenancy;
use crate::schema::Table;
use crate::value::{Encodable, PgArrayElement, ServerEncode};

/// What a statement without rows reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Rows inserted, updated or deleted (on MySQL: rows matched).
    pub rows_affected: u64,
    /// The auto-increment value of the last inserted row (MySQL and SQLite), else 0.
    pub last_insert_id: i64,
}

/// A statement being built: its text for the executor's dialect and the values bound so far.
pub struct Statement {
    /// What the statement does, for tracing: `get`, `insert_many`, `find_by_email`, ...
    pub(crate) operation: &'static str,
    /// Its text, for tracing (the driver's query owns another handle on it).
    text: Option<sqlx::SqlStr>,
    pub(crate) inner: Query,
    /// The first value that failed to encode; reported when the statement runs.
    encode_error: Option<String>,
    /// The first field whose conversion to its column failed; reported when the statement runs.
    conversion_error: Option<RepoError>,
    /// What the statement does, as the in-memory store runs it.
    pub(crate) shape: Shape,
    /// The lengths of the `IN` lists the statement was started with, in order.
    lists: Vec<usize>,
    /// Which tenant's rows the handle that started the statement reaches: what
    /// [`Statement::bind_scope`] binds.
    pub(crate) tenancy: Tenancy,
    /// The cache's stripe of the one row a write changes, when it names it by key: the cache
    /// forgets only the rows of that stripe (else the whole table).
    pub(crate) touches: Option<usize>,
    /// Whether its text is a `SELECT`: a statement of text only (a `#[query]`'s) that is not
    /// counts as a write.
    selects: bool,
    /// The keys of the handle that started it, for the values of encrypted fields.
    #[cfg(feature = "encryption")]
    pub(crate) keyring: Option<std::sync::Arc<crate::encryption::Keyring>>,
}

/// What a statement does, stated as data: the in-memory store runs this with the values bound
/// in the order the statement's SQL takes them. The SQL backends run the text and ignore it.
#[derive(Debug, Clone, Default)]
#[cfg_attr(not(feature = "memory"), allow(dead_code))] // Read by the in-memory store only.
pub(crate) enum Shape {
    /// Text only (a `#[query]` method's): the in-memory store cannot run it.
    #[default]
    Sql,
    /// What a finder or a derived query selects, counts, tests or deletes.
    Plan(&'static Plan<'static>),
    /// What a filter built at run time selects, counts, tests or deletes: `list`,
    /// `find_where`, `count_where`, ... (boxed: every statement carries a shape).
    Filtered(Box<FilteredShape>),
    /// The row whose key columns are bound.
    ByKey(PlanAction),
    /// The rows whose keys are bound one after another (`get_many`).
    ByKeys,
    /// Some columns, or aggregates grouped by some, of the rows a condition selects.
    Projected(Box<ProjectedShape>),
    /// The values of some columns, then a condition's: those columns of the rows it selects
    /// are overwritten (a patch); returns the rows.
    Patch(Box<PatchShape>),
    /// The rows of the statement's table a link table ties to the parents whose keys are
    /// bound, each with its parent's key (a many-to-many relation's load).
    Linked(repo_sql::Linked<'static>),
    /// The number of rows.
    Count,
    /// `rows` new rows of every column but a generated key, which the store assigns.
    Insert { rows: usize },
    /// One new row of every column.
    InsertAll,
    /// The columns outside the key, then the key of the row they overwrite; returns the row.
    Update,
    /// Every column: a new row, or the one with that key overwritten; returns the row.
    Upsert,
    /// `rows` new rows as [`Shape::Insert`] binds them; a row whose unique key `key` (`None`:
    /// the primary key) holds a stored row's values is skipped or written into that row, as
    /// `action` says. Returns the rows written.
    Conditional {
        rows: usize,
        key: Option<usize>,
        action: repo_sql::OnConflict,
    },
}

/// A filter's statement, as [`Shape::Filtered`] states it.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "memory"), allow(dead_code))] // Read by the in-memory store only.
pub(crate) struct FilteredShape {
    pub(crate) action: PlanAction,
    pub(crate) condition: std::sync::Arc<repo_sql::Condition>,
    /// Sort keys of a `Select`.
    pub(crate) order: std::sync::Arc<[(&'static str, bool)]>,
    /// How many rows a `Select` returns; a page binds its limit and offset last.
    pub(crate) limit: PlanLimit,
}

/// A patch's statement, as [`Shape::Patch`] states it.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "memory"), allow(dead_code))] // Read by the in-memory store only.
pub(crate) struct PatchShape {
    /// The columns written, bound first.
    pub(crate) set: Vec<&'static str>,
    pub(crate) condition: std::sync::Arc<repo_sql::Condition>,
}

/// A projection's statement, as [`Shape::Projected`] states it.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "memory"), allow(dead_code))] // Read by the in-memory store only.
pub(crate) struct ProjectedShape {
    pub(crate) items: std::sync::Arc<[repo_sql::Selected<'static>]>,
    pub(crate) condition: std::sync::Arc<repo_sql::Condition>,
    /// Sort keys; with aggregates, grouped columns only.
    pub(crate) order: std::sync::Arc<[(&'static str, bool)]>,
    /// How many rows (groups, with aggregates); a page binds its limit and offset last.
    pub(crate) limit: PlanLimit,
    /// What `Selected::CountMatching` counts; its values are bound first.
    pub(crate) matching: Option<std::sync::Arc<repo_sql::Condition>>,
}

/// What the in-memory store runs of a statement: its shape and the values bound.
#[cfg(feature = "memory")]
pub(crate) struct MemoryStatement {
    pub(crate) operation: &'static str,
    pub(crate) shape: Shape,
    pub(crate) values: Vec<crate::memory_value::Value>,
    pub(crate) lists: Vec<usize>,
    /// Whether the statement's scope conditions were kept, and their tenant bound: a plan's
    /// scope takes a value only then.
    pub(crate) scoped: bool,
}

pub(crate) enum Query {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::query::Query<'static, sqlx::MySql, sqlx::mysql::MySqlArguments>),
    #[cfg(feature = "rusqlite")]
    Rusqlite(crate::backend::RusqliteQuery),
    /// The in-memory store's values (those a cursor captures, too), run through the
    /// statement's plan.
    /// The positions of the values the `time` crate's types bound, for a cursor.
    Memory(Vec<crate::memory_value::Value>, Vec<usize>),
    /// The dialect's backend is not compiled in; running the statement reports it.
    #[allow(dead_code)]
    Unavailable(Dialect),
}

impl Statement {
    pub(crate) fn new(dialect: Dialect, operation: &'static str, sql: sqlx::SqlStr) -> Statement {
        let selects = is_select(sql.as_str());
        let text = sql.clone();
        let inner = match dialect {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => Query::Sqlite(sqlx::query(sql)),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Query::Postgres(sqlx::query(sql)),
            #[cfg(feature = "mysql")]
            Dialect::MySql => Query::MySql(sqlx::query(sql)),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = sql;
                Query::Unavailable(dialect)
            }
        };
        Statement::of(operation, inner, selects, Some(text))
    }

    /// A statement for SQLite through rusqlite.
    #[cfg(feature = "rusqlite")]
    pub(crate) fn rusqlite(operation: &'static str, sql: sqlx::SqlStr) -> Statement {
        let selects = is_select(sql.as_str());
        let text = sql.clone();
        Statement::of(
            operation,
            Query::Rusqlite(crate::backend::RusqliteQuery::new(sql)),
            selects,
            Some(text),
        )
    }

    /// A statement of `inner`, nothing bound or stated yet.
    fn of(
        operation: &'static str,
        inner: Query,
        selects: bool,
        text: Option<sqlx::SqlStr>,
    ) -> Statement {
        Statement {
            operation,
            text,
            inner,
            encode_error: None,
            conversion_error: None,
            shape: Shape::Sql,
            lists: Vec::new(),
            tenancy: Tenancy::Unset,
            touches: None,
            selects,
            #[cfg(feature = "encryption")]
            keyring: None,
        }
    }

    /// The keys of the handle that started the statement.
    #[cfg(feature = "encryption")]
    pub(crate) fn keyring(&self) -> Option<&std::sync::Arc<crate::encryption::Keyring>> {
        self.keyring.as_ref()
    }

    /// What the statement may change, as the cache sees it: `None` for a read. `executed`:
    /// run for its outcome rather than its rows.
    #[cfg_attr(not(feature = "cache"), allow(dead_code))]
    pub(crate) fn touch(&self, executed: bool) -> Option<crate::cache::Touch> {
        use crate::cache::Touch;
        // New rows only: what changes is that they are no longer absent.
        if let Shape::Insert { .. } | Shape::InsertAll = self.shape {
            return Some(Touch::New);
        }
        let writes = self.shape_writes().unwrap_or(executed || !self.selects);
        writes.then(|| self.touches.map_or(Touch::Table, Touch::Row))
    }

    /// Whether the statement may change rows: what a read-only handle refuses. Its text says
    /// so (a `SELECT` or not); the in-memory store's statements, which have none, their shape.
    pub(crate) fn writes(&self) -> bool {
        match self.inner {
            Query::Memory(..) => self.shape_writes().unwrap_or(false),
            _ => !self.selects,
        }
    }

    /// Whether the statement's shape changes rows; `None` for text alone.
    fn shape_writes(&self) -> Option<bool> {
        Some(match &self.shape {
            Shape::Sql => return None,
            Shape::Plan(plan) => plan.action == PlanAction::Delete,
            Shape::Filtered(filtered) => filtered.action == PlanAction::Delete,
            Shape::ByKey(action) => *action == PlanAction::Delete,
            Shape::ByKeys | Shape::Projected(_) | Shape::Linked(_) | Shape::Count => false,
            Shape::Insert { .. }
            | Shape::InsertAll
            | Shape::Patch(_)
            | Shape::Update
            | Shape::Upsert
            | Shape::Conditional { .. } => true,
        })
    }

    /// Whether the statement touches a bounded number of rows, found by key or written one by
    /// one: SQLite through rusqlite runs it on the calling thread.
    #[cfg(feature = "rusqlite")]
    pub(crate) fn is_bounded(&self) -> bool {
        /// Rows of a batch still written on the calling thread.
        const SMALL_BATCH: usize = 64;
        match &self.shape {
            Shape::ByKey(_) | Shape::InsertAll | Shape::Update | Shape::Upsert => true,
            Shape::Insert { rows } | Shape::Conditional { rows, .. } => *rows <= SMALL_BATCH,
            _ => false,
        }
    }

    /// A statement for the in-memory store, which runs its plan instead of SQL text.
    pub(crate) fn memory(operation: &'static str) -> Statement {
        // The store runs no text: its statements are what their shape says.
        Statement::of(operation, Query::Memory(Vec::new(), Vec::new()), true, None)
    }

    /// Whether its text is a `SELECT`: what a read replica may run.
    #[inline]
    pub(crate) fn is_read(&self) -> bool {
        self.selects
    }

    /// The statement's text, with placeholders where values are bound; `None` on the
    /// in-memory store, which runs a plan.
    pub(crate) fn sql(&self) -> Option<&str> {
        self.text.as_ref().map(sqlx::SqlStr::as_str)
    }

    /// Its text and a copy of its values, for its plan if it turns out slow: `None` on the
    /// in-memory store, or when a value failed to bind (the statement fails with that).
    #[cfg(feature = "explain")]
    pub(crate) fn capture(&mut self) -> Option<Box<crate::explain::Captured>> {
        let text = self.text.as_ref()?;
        match crate::explain::capture(&mut self.inner, text) {
            Ok(captured) => captured.map(Box::new),
            Err(error) => {
                self.encode_error.get_or_insert(error);
                None
            }
        }
    }

    /// Attaches the statement's plan: what the in-memory store runs in place of its SQL.
    pub(crate) fn with_plan(mut self, plan: &'static Plan<'static>, lists: &[usize]) -> Statement {
        self.shape = Shape::Plan(plan);
        self.lists = lists.to_vec();
        self
    }

    /// States what the statement does, for the in-memory store.
    #[inline]
    pub(crate) fn shaped(mut self, shape: Shape) -> Statement {
        self.shape = shape;
        self
    }

    /// Whether the statement is for the in-memory store.
    pub fn is_memory(&self) -> bool {
        if let Query::Memory(..) = self.inner {
            return true;
        }
        false
    }

    /// The plan and values of a statement for the in-memory store, once checked.
    #[cfg(feature = "memory")]
    pub(crate) fn into_memory(
        mut self,
        table: &'static Table,
    ) -> Result<MemoryStatement, RepoError> {
        self.check(table)?;
        match self.inner {
            Query::Memory(values, _) => Ok(MemoryStatement {
                operation: self.operation,
                shape: self.shape,
                values,
                lists: self.lists,
                scoped: !self.tenancy.is_unscoped(),
            }),
            _ => Err(RepoError::config(
                "statement built for another backend than the in-memory store",
            )),
        }
    }

    /// Binds the tenant the statement's scope on `table` selects, if `table` has a tenant
    /// column: the handle's; nothing on an unscoped handle, whose statements were built
    /// without the scope; a handle that names none fails the statement.
    pub(crate) fn bind_scope(&mut self, table: &'static Table) {
        if let Some(column) = table.tenant_column() {
            let tenancy = std::mem::take(&mut self.tenancy);
            tenancy.bind(table, column, self);
            self.tenancy = tenancy;
        }
    }

    /// Out of line: `bind` is inlined into every entity's binders, and SQL statements never
    /// come here.
    #[inline(never)]
    fn push_memory<T: crate::value::MemoryEncode + ?Sized>(&mut self, value: &T) {
        let converted = value.to_memory();
        match (&mut self.inner, converted) {
            (Query::Memory(values, time_crate), Ok(value)) => {
                if T::TIME_CRATE {
                    time_crate.push(values.len());
                }
                values.push(value);
            }
            (_, Ok(_)) => {}
            (_, Err(error)) => {
                self.encode_error.get_or_insert_with(|| error.to_string());
            }
        }
    }

    /// Appends a value as the in-memory store keeps it (a cursor's, for that store).
    pub(crate) fn push_value(&mut self, value: crate::memory_value::Value) {
        if let Query::Memory(values, _) = &mut self.inner {
            values.push(value);
        }
    }

    /// The values a statement for the in-memory store captured, once checked: a record's
    /// columns, bound by `bind_all`, for a cursor.
    /// With them, the positions of those the `time` crate's types bound.
    pub(crate) fn into_values(
        mut self,
        table: &'static Table,
    ) -> Result<(Vec<crate::memory_value::Value>, Vec<usize>), RepoError> {
        self.check(table)?;
        match self.inner {
            Query::Memory(values, time_crate) => Ok((values, time_crate)),
            _ => Err(RepoError::config("values captured from an SQL statement")),
        }
    }

    /// Binds the next parameter.
    #[inline]
    pub fn bind<'q, T: Encodable<'q>>(&mut self, value: T) {
        let result: Result<(), sqlx::error::BoxDynError> = match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Query::Sqlite(query) => query.try_bind(value),
            #[cfg(feature = "postgres")]
            Query::Postgres(query) => query.try_bind(value),
            #[cfg(feature = "mysql")]
            Query::MySql(query) => query.try_bind(value),
            #[cfg(feature = "rusqlite")]
            Query::Rusqlite(query) => crate::rusqlite_value::ToSqlite::to_sqlite(&value)
                .map(|value| query.values.push(value))
                .map_err(|error| error.to_string().into()),
            Query::Memory(..) => {
                self.push_memory(&value);
                Ok(())
            }
            Query::Unavailable(_) => Ok(()),
        };
        if let Err(error) = result {
            self.encode_error.get_or_insert_with(|| error.to_string());
        }
    }

    /// Binds one column of a batch as a PostgreSQL array (for `UNNEST`). Other backends have no
    /// arrays: binding one there makes the statement fail with `InvalidInput` when it runs.
    pub fn bind_array<'q, T: PgArrayElement<'q>>(&mut self, values: Vec<T>) {
        #[cfg(not(feature = "postgres"))]
        let _ = values;
        let result: Result<(), sqlx::error::BoxDynError> = match &mut self.inner {
            #[cfg(feature = "postgres")]
            Query::Postgres(query) => query.try_bind(values),
            _ => Err("arrays can only be bound on PostgreSQL".into()),
        };
        if let Err(error) = result {
            self.encode_error.get_or_insert_with(|| error.to_string());
        }
    }

    /// Binds a value the servers take natively and SQLite as its text (decimals).
    #[doc(hidden)]
    pub fn bind_text_on_sqlite<'q, T: ServerEncode<'q> + std::fmt::Display>(&mut self, value: T) {
        match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Query::Sqlite(_) => self.bind(value.to_string()),
            #[cfg(feature = "rusqlite")]
            Query::Rusqlite(_) => self.bind(value.to_string()),
            Query::Memory(..) => self.push_memory(&value),
            _ => self.bind_on_server(value),
        }
    }

    /// Binds a `NULL` typed as `T` on the servers and as text on SQLite.
    #[doc(hidden)]
    pub fn bind_null_text_on_sqlite<T: ServerEncode<'static> + 'static>(&mut self) {
        match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Query::Sqlite(_) => self.bind(None::<String>),
            #[cfg(feature = "rusqlite")]
            Query::Rusqlite(_) => self.bind(None::<String>),
            Query::Memory(values, _) => values.push(crate::memory_value::Value::Null),
            _ => self.bind_on_server(None::<T>),
        }
    }

    fn bind_on_server<'q, T: ServerEncode<'q>>(&mut self, value: T) {
        #[cfg(not(any(feature = "postgres", feature = "mysql")))]
        let _ = value;
        let result: Result<(), sqlx::error::BoxDynError> = match &mut self.inner {
            #[cfg(feature = "postgres")]
            Query::Postgres(query) => query.try_bind(value),
            #[cfg(feature = "mysql")]
            Query::MySql(query) => query.try_bind(value),
            _ => Ok(()),
        };
        if let Err(error) = result {
            self.encode_error.get_or_insert_with(|| error.to_string());
        }
    }

    /// The dialect the statement is written in (SQLite's for the in-memory store, whose
    /// semantics it follows).
    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            Query::Memory(..) => Dialect::Sqlite,
            #[cfg(feature = "sqlite")]
            Query::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "rusqlite")]
            Query::Rusqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Query::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Query::MySql(_) => Dialect::MySql,
            Query::Unavailable(dialect) => *dialect,
        }
    }

    /// Whether the statement is for MySQL/MariaDB, where some values bind differently.
    #[doc(hidden)]
    pub fn is_mysql(&self) -> bool {
        #[cfg(feature = "mysql")]
        if let Query::MySql(_) = self.inner {
            return true;
        }
        false
    }

    /// Makes the statement fail with `error` when it runs, before anything is sent: a field's
    /// conversion to its column failed while binding.
    #[doc(hidden)]
    pub fn fail(&mut self, error: RepoError) {
        self.conversion_error.get_or_insert(error);
    }

    pub(crate) fn check(&mut self, table: &'static Table) -> Result<(), RepoError> {
        if let Some(error) = self.conversion_error.take() {
            // Values do not know their entity; the statement does.
            return Err(match error {
                RepoError::InvalidInput { entity, message } if entity == NO_ENTITY => {
                    RepoError::InvalidInput {
                        entity: table.entity,
                        message,
                    }
                }
                other => other,
            });
        }
        match &self.encode_error {
            // The encoder's message describes the type, not the value.
            Some(message) => Err(RepoError::invalid_input(
                table.entity,
                format!("a parameter could not be encoded: {message}"),
            )),
            None => Ok(()),
        }
    }
}

/// Whether `sql` is a `SELECT` (what a read of text only may be): anything else may write.
fn is_select(sql: &str) -> bool {
    let text = sql.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
    text.get(..6)
        .is_some_and(|word| word.eq_ignore_ascii_case("select"))
}
