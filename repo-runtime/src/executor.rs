//! One way to run a statement: on the pool of a [`Db`], or on the connection of an open
//! [`Tx`]. Generated repositories hold an [`Executor`] and never see which.

use std::future::Future;
use std::time::Instant;

use repo_sql::{Dialect, Plan, Sql};
use tracing::Instrument;

use crate::db::{Db, Pool};
use crate::entity::Entity;
use crate::error::{FromSqlx, RepoError};
use crate::schema::Table;
use crate::statement::{Query, Statement};
use crate::transaction::{Tx, TxState};

/// Where a repository runs its statements: a database handle or an open transaction.
///
/// Build one with `From`: `&Db`, `Db`, `&Tx` and `Tx` all convert. Cloning is cheap.
#[derive(Debug, Clone)]
pub enum Executor {
    /// Each statement on a pooled connection, in autocommit.
    Db(Db),
    /// Every statement inside one transaction.
    Tx(Tx),
}

impl From<&Db> for Executor {
    fn from(db: &Db) -> Self {
        Executor::Db(db.clone())
    }
}

impl From<Db> for Executor {
    fn from(db: Db) -> Self {
        Executor::Db(db)
    }
}

impl From<&Tx> for Executor {
    fn from(tx: &Tx) -> Self {
        Executor::Tx(tx.clone())
    }
}

impl From<Tx> for Executor {
    fn from(tx: Tx) -> Self {
        Executor::Tx(tx)
    }
}

impl From<&Executor> for Executor {
    fn from(executor: &Executor) -> Self {
        executor.clone()
    }
}

/// What a statement without rows reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Rows inserted, updated or deleted (on MySQL: rows matched).
    pub rows_affected: u64,
    /// The auto-increment value of the last inserted row (MySQL and SQLite), else 0.
    pub last_insert_id: i64,
}

/// Runs `$body` with `$query` (the backend's query) and `$target` (the pool, or the
/// transaction's connection); the body is type-checked once per backend.
macro_rules! dispatch {
    ($executor:expr, $statement:expr, $table:expr, |$query:ident, $target:ident| $body:expr) => {{
        let mut statement: Statement = $statement;
        statement.check($table)?;
        match statement.inner {
            #[cfg(feature = "sqlite")]
            Query::Sqlite($query) => match $executor {
                Executor::Db(db) => {
                    let $target = match db.pool() {
                        Pool::Sqlite(pool) => pool,
                        #[allow(unreachable_patterns)]
                        _ => return Err(mismatch()),
                    };
                    $body
                }
                Executor::Tx(tx) => {
                    let mut guard = tx.lock().await;
                    let $target = match &mut *guard {
                        TxState::Sqlite(tx) => &mut **tx,
                        TxState::Finished => return Err(RepoError::TransactionFinished),
                        #[allow(unreachable_patterns)]
                        _ => return Err(mismatch()),
                    };
                    $body
                }
            },
            #[cfg(feature = "postgres")]
            Query::Postgres($query) => match $executor {
                Executor::Db(db) => {
                    let $target = match db.pool() {
                        Pool::Postgres(pool) => pool,
                        #[allow(unreachable_patterns)]
                        _ => return Err(mismatch()),
                    };
                    $body
                }
                Executor::Tx(tx) => {
                    let mut guard = tx.lock().await;
                    let $target = match &mut *guard {
                        TxState::Postgres(tx) => &mut **tx,
                        TxState::Finished => return Err(RepoError::TransactionFinished),
                        #[allow(unreachable_patterns)]
                        _ => return Err(mismatch()),
                    };
                    $body
                }
            },
            #[cfg(feature = "mysql")]
            Query::MySql($query) => match $executor {
                Executor::Db(db) => {
                    let $target = match db.pool() {
                        Pool::MySql(pool) => pool,
                        #[allow(unreachable_patterns)]
                        _ => return Err(mismatch()),
                    };
                    $body
                }
                Executor::Tx(tx) => {
                    let mut guard = tx.lock().await;
                    let $target = match &mut *guard {
                        TxState::MySql(tx) => &mut **tx,
                        TxState::Finished => return Err(RepoError::TransactionFinished),
                        #[allow(unreachable_patterns)]
                        _ => return Err(mismatch()),
                    };
                    $body
                }
            },
            #[cfg(feature = "memory")]
            Query::Memory(_) => Err(RepoError::config(
                "a statement for the in-memory store reached an SQL executor",
            )),
            Query::Unavailable(dialect) => Err(crate::db::not_compiled(dialect)),
        }
    }};
}

fn mismatch() -> RepoError {
    RepoError::config("statement built for another backend than the handle's")
}

impl Executor {
    /// The dialect statements must be written in.
    #[inline]
    pub fn dialect(&self) -> Dialect {
        match self {
            Executor::Db(db) => db.dialect(),
            Executor::Tx(tx) => tx.dialect(),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        match self {
            Executor::Db(db) => db,
            Executor::Tx(tx) => tx.db(),
        }
    }

    /// Whether statements run on the in-memory store (feature `memory`).
    #[inline]
    pub fn is_memory(&self) -> bool {
        self.db().is_memory()
    }

    /// Starts a statement from compile-time text; `operation` names it in traces.
    #[inline]
    pub fn statement(&self, operation: &'static str, sql: &Sql) -> Statement {
        #[cfg(feature = "memory")]
        if self.is_memory() {
            return Statement::memory(operation);
        }
        let dialect = self.dialect();
        Statement::new(
            dialect,
            operation,
            sqlx::SqlStr::from_static(sql.get(dialect)),
        )
    }

    /// Starts a finder's or derived query's statement: its SQL, and its plan for the
    /// in-memory store.
    #[inline]
    pub fn statement_with_plan(
        &self,
        operation: &'static str,
        sql: &Sql,
        plan: &'static Plan<'static>,
    ) -> Statement {
        self.statement(operation, sql).with_plan(plan, &[])
    }

    /// Starts a statement from compile-time text already chosen for this executor's dialect.
    pub(crate) fn static_statement(&self, operation: &'static str, sql: &'static str) -> Statement {
        Statement::new(self.dialect(), operation, sqlx::SqlStr::from_static(sql))
    }

    /// Starts a statement assembled at run time from derive-validated identifiers and
    /// placeholders. Never pass text that contains a value.
    pub(crate) fn assembled(&self, operation: &'static str, sql: String) -> Statement {
        use sqlx::SqlSafeStr;
        Statement::new(
            self.dialect(),
            operation,
            sqlx::AssertSqlSafe(sql).into_sql_str(),
        )
    }

    /// Starts a statement from text rendered at run time and shared (a cached shape).
    pub(crate) fn assembled_shared(
        &self,
        operation: &'static str,
        sql: std::sync::Arc<str>,
    ) -> Statement {
        use sqlx::SqlSafeStr;
        Statement::new(
            self.dialect(),
            operation,
            sqlx::AssertSqlSafe(sql).into_sql_str(),
        )
    }

    /// Runs a read: once inside a transaction; on a `Db`, again after transient failures
    /// under its retry policy (reads are idempotent). `attempt` builds the statement anew.
    pub async fn read<T, F, Fut>(&self, mut attempt: F) -> Result<T, RepoError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RepoError>>,
    {
        let Executor::Db(db) = self else {
            return attempt().await;
        };
        let mut retrier = db.options().retry.retrier("read");
        loop {
            match attempt().await {
                Err(error) if retrier.retry_after(&error).await => db.counters().retried(),
                result => return result,
            }
        }
    }

    /// Runs one statement inside a tracing span (backend, table, operation, rows), counting it,
    /// its failure and its slowness. Bound values are never recorded.
    pub(crate) async fn observe<T>(
        &self,
        table: &'static Table,
        operation: &'static str,
        run: impl Future<Output = Result<T, RepoError>>,
        rows: impl FnOnce(&T) -> u64,
    ) -> Result<T, RepoError> {
        let db = self.db();
        let span = tracing::debug_span!(
            "repo.statement",
            backend = db.backend_name(),
            table = table.name,
            operation,
            rows = tracing::field::Empty,
        );
        if let Executor::Db(db) = self {
            db.note_pool_pressure();
        }
        let started = Instant::now();
        let client_timeout = match self {
            // The servers enforce their own statement timeouts; SQLite's is the client's.
            _ if db.dialect() != Dialect::Sqlite || db.is_memory() => None,
            Executor::Db(db) => db.options().statement_timeout,
            Executor::Tx(tx) => tx.statement_timeout(),
        };
        let result = match (client_timeout, span.is_disabled()) {
            // The common case pays for neither a timer nor a span nobody listens to.
            (None, true) => run.await,
            (None, false) => run.instrument(span.clone()).await,
            (Some(limit), _) => {
                match tokio::time::timeout(limit, run.instrument(span.clone())).await {
                    Ok(result) => result,
                    Err(_) => {
                        if let Executor::Tx(tx) = self {
                            tx.abort();
                        }
                        Err(RepoError::Timeout {
                            entity: table.entity,
                            source: None,
                        })
                    }
                }
            }
        };
        let elapsed = started.elapsed();
        let slow = elapsed >= db.options().slow_statement_threshold;
        db.counters().statement(slow);
        match &result {
            Ok(value) => {
                if !span.is_disabled() {
                    span.record("rows", rows(value));
                }
            }
            Err(error) => {
                db.counters().error(error.kind().as_str());
                tracing::debug!(parent: &span, kind = error.kind().as_str(), "statement failed");
            }
        }
        if slow {
            let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
            tracing::warn!(parent: &span, elapsed_ms, "slow statement");
        }
        result
    }

    /// Runs a statement that returns at most one row of `E`.
    async fn fetch_optional_raw<E: Entity>(
        &self,
        statement: Statement,
    ) -> Result<Option<E>, RepoError> {
        dispatch!(self, statement, E::TABLE, |query, target| {
            match query.fetch_optional(target).await {
                Ok(Some(row)) => E::decode(&row).map(Some).map_err(|e| e.in_entity(E::NAME)),
                Ok(None) => Ok(None),
                Err(error) => Err(RepoError::from_sqlx(error, Some(E::TABLE))),
            }
        })
    }

    /// Runs a statement that returns rows of `E`.
    async fn fetch_all_raw<E: Entity>(&self, statement: Statement) -> Result<Vec<E>, RepoError> {
        dispatch!(self, statement, E::TABLE, |query, target| {
            match query.fetch_all(target).await {
                Ok(rows) => rows
                    .iter()
                    .map(|row| E::decode(row))
                    .collect::<Result<Vec<E>, RepoError>>()
                    .map_err(|e| e.in_entity(E::NAME)),
                Err(error) => Err(RepoError::from_sqlx(error, Some(E::TABLE))),
            }
        })
    }

    /// Runs a statement and reports whether it returned any row.
    async fn fetch_exists_raw<E: Entity>(&self, statement: Statement) -> Result<bool, RepoError> {
        dispatch!(self, statement, E::TABLE, |query, target| {
            match query.fetch_optional(target).await {
                Ok(row) => Ok(row.is_some()),
                Err(error) => Err(RepoError::from_sqlx(error, Some(E::TABLE))),
            }
        })
    }

    /// Runs a statement whose one row holds one `BIGINT` (a count).
    async fn fetch_count_raw<E: Entity>(&self, statement: Statement) -> Result<u64, RepoError> {
        use crate::entity::RowSource;
        dispatch!(self, statement, E::TABLE, |query, target| {
            match query.fetch_one(target).await {
                Ok(row) => {
                    let count: i64 = row.get(0, "count").map_err(|e| e.in_entity(E::NAME))?;
                    Ok(u64::try_from(count).unwrap_or(0))
                }
                Err(error) => Err(RepoError::from_sqlx(error, Some(E::TABLE))),
            }
        })
    }

    /// Runs a statement whose rows hold one generated key each, as `BIGINT`.
    async fn fetch_key_raw<E: Entity>(&self, statement: Statement) -> Result<i64, RepoError> {
        use crate::entity::RowSource;
        dispatch!(self, statement, E::TABLE, |query, target| {
            match query.fetch_one(target).await {
                Ok(row) => row
                    .get::<i64>(0, "generated key")
                    .map_err(|e| e.in_entity(E::NAME)),
                Err(error) => Err(RepoError::from_sqlx(error, Some(E::TABLE))),
            }
        })
    }

    async fn fetch_keys_raw<E: Entity>(&self, statement: Statement) -> Result<Vec<i64>, RepoError> {
        use crate::entity::RowSource;
        dispatch!(self, statement, E::TABLE, |query, target| {
            match query.fetch_all(target).await {
                Ok(rows) => rows
                    .iter()
                    .map(|row| row.get::<i64>(0, "generated key"))
                    .collect::<Result<Vec<i64>, RepoError>>()
                    .map_err(|e| e.in_entity(E::NAME)),
                Err(error) => Err(RepoError::from_sqlx(error, Some(E::TABLE))),
            }
        })
    }

    /// Runs a statement that returns no rows.
    async fn execute_raw<E: Entity>(&self, statement: Statement) -> Result<Outcome, RepoError> {
        dispatch!(self, statement, E::TABLE, |query, target| {
            match query.execute(target).await {
                Ok(done) => Ok(done.outcome()),
                Err(error) => Err(RepoError::from_sqlx(error, Some(E::TABLE))),
            }
        })
    }

    /// Runs a statement that returns at most one row of `E`.
    pub async fn fetch_optional<E: Entity>(
        &self,
        statement: Statement,
    ) -> Result<Option<E>, RepoError> {
        #[cfg(feature = "memory")]
        if statement.is_memory() {
            let rows = crate::memory::fetch_rows::<E>(self, statement).await?;
            return Ok(rows.into_iter().next());
        }
        let operation = statement.operation;
        let run = self.fetch_optional_raw::<E>(statement);
        self.observe(E::TABLE, operation, run, |row| u64::from(row.is_some()))
            .await
    }

    /// Runs a statement that returns rows of `E`.
    pub async fn fetch_all<E: Entity>(&self, statement: Statement) -> Result<Vec<E>, RepoError> {
        #[cfg(feature = "memory")]
        if statement.is_memory() {
            return crate::memory::fetch_rows::<E>(self, statement).await;
        }
        let operation = statement.operation;
        let run = self.fetch_all_raw::<E>(statement);
        self.observe(E::TABLE, operation, run, |rows| rows.len() as u64)
            .await
    }

    /// Runs a statement and reports whether it returned any row.
    pub async fn fetch_exists<E: Entity>(&self, statement: Statement) -> Result<bool, RepoError> {
        #[cfg(feature = "memory")]
        if statement.is_memory() {
            return crate::memory::fetch_exists::<E>(self, statement).await;
        }
        let operation = statement.operation;
        let run = self.fetch_exists_raw::<E>(statement);
        self.observe(E::TABLE, operation, run, |found| u64::from(*found))
            .await
    }

    /// Runs a statement whose one row holds one `BIGINT` (a count).
    pub async fn fetch_count<E: Entity>(&self, statement: Statement) -> Result<u64, RepoError> {
        #[cfg(feature = "memory")]
        if statement.is_memory() {
            return crate::memory::fetch_count::<E>(self, statement).await;
        }
        let operation = statement.operation;
        let run = self.fetch_count_raw::<E>(statement);
        self.observe(E::TABLE, operation, run, |_| 1).await
    }

    /// Runs a statement whose one row holds one generated key, as `BIGINT`.
    pub async fn fetch_key<E: Entity>(&self, statement: Statement) -> Result<i64, RepoError> {
        let operation = statement.operation;
        let run = self.fetch_key_raw::<E>(statement);
        self.observe(E::TABLE, operation, run, |_| 1).await
    }

    /// Runs a statement whose rows hold one generated key each, as `BIGINT`.
    pub async fn fetch_keys<E: Entity>(&self, statement: Statement) -> Result<Vec<i64>, RepoError> {
        let operation = statement.operation;
        let run = self.fetch_keys_raw::<E>(statement);
        self.observe(E::TABLE, operation, run, |keys| keys.len() as u64)
            .await
    }

    /// Runs a statement that returns no rows.
    pub async fn execute<E: Entity>(&self, statement: Statement) -> Result<Outcome, RepoError> {
        #[cfg(feature = "memory")]
        if statement.is_memory() {
            return crate::memory::execute_plan::<E>(self, statement).await;
        }
        let operation = statement.operation;
        let run = self.execute_raw::<E>(statement);
        self.observe(E::TABLE, operation, run, |outcome| outcome.rows_affected)
            .await
    }
}

trait QueryOutcome {
    fn outcome(&self) -> Outcome;
}

#[cfg(feature = "sqlite")]
impl QueryOutcome for sqlx::sqlite::SqliteQueryResult {
    fn outcome(&self) -> Outcome {
        Outcome {
            rows_affected: self.rows_affected(),
            last_insert_id: self.last_insert_rowid(),
        }
    }
}

#[cfg(feature = "postgres")]
impl QueryOutcome for sqlx::postgres::PgQueryResult {
    fn outcome(&self) -> Outcome {
        Outcome {
            rows_affected: self.rows_affected(),
            last_insert_id: 0,
        }
    }
}

#[cfg(feature = "mysql")]
impl QueryOutcome for sqlx::mysql::MySqlQueryResult {
    fn outcome(&self) -> Outcome {
        Outcome {
            rows_affected: self.rows_affected(),
            last_insert_id: i64::try_from(self.last_insert_id()).unwrap_or(i64::MAX),
        }
    }
}
