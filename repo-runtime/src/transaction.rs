//! Transactions: [`Tx`], a cheap handle to one open transaction that any number of
//! repositories share (the Unit of Work); [`Db::transaction`], which retries the whole unit on
//! transient failures; [`Db::begin`] for explicit commit; savepoints for nesting.
//!
//! The transaction owns its pooled connection and issues `BEGIN` itself, so that a connection
//! whose transaction did not finish cleanly (a dropped handle, a cancelled future, a failed
//! `COMMIT`) is closed instead of going back to the pool still inside a transaction.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use repo_sql::Dialect;
use tokio::sync::{Mutex, MutexGuard};
use tracing::Instrument;

use crate::backend::SqlConnection;
#[cfg(feature = "mysql")]
use crate::backend::set_mysql_timeout;
use crate::db::Db;
use crate::error::{FromSqlx, NO_ENTITY, RepoError, TransactionError};
use crate::tx_options::begin_statements;
pub use crate::tx_options::{Isolation, TxOptions};
#[cfg(feature = "postgres")]
use crate::{
    policy::Tenancy,
    statement::{Query, Statement},
};

/// An open transaction, or a savepoint inside one. Clones share it; repositories built on it
/// run every statement in it.
///
/// It ends with [`Tx::commit`] or [`Tx::rollback`]. When the last clone is dropped without
/// either, a transaction is rolled back (its connection is closed, which the server treats as a
/// rollback) and a savepoint marks its whole transaction as aborted.
#[derive(Clone)]
pub struct Tx {
    scope: Arc<Scope>,
}

/// One level: the transaction itself, or a savepoint in it.
struct Scope {
    shared: Arc<TxShared>,
    savepoint: Option<String>,
    finished: AtomicBool,
}

struct TxShared {
    db: Db,
    /// The node of the handle's cluster it runs on.
    node: usize,
    /// Whether it only reads (on SQLite, the connection's `query_only` is set for it).
    read_only: bool,
    /// The statement timeout in force, when this transaction overrides the `Db`'s.
    statement_timeout: Option<Duration>,
    state: Mutex<TxState>,
    savepoints: AtomicUsize,
    /// A savepoint was abandoned: its writes cannot be told apart any more, so nothing commits.
    aborted: AtomicBool,
    /// What its writes touched, reported to the cache when it commits.
    #[cfg(feature = "cache")]
    touched: std::sync::Mutex<Vec<(&'static crate::schema::Table, crate::cache::Touch)>>,
}

pub(crate) enum TxState {
    Sql(SqlConnection),
    #[cfg(feature = "memory")]
    Memory(Box<crate::memory::Session>),
    Finished,
}

impl TxState {
    /// Makes the connection close when dropped rather than return to the pool.
    fn discard(&mut self) {
        match self {
            TxState::Sql(conn) => conn.discard(),
            // Dropping the session discards its writes and releases the write lock.
            #[cfg(feature = "memory")]
            TxState::Memory(_) => {}
            TxState::Finished => {}
        }
    }
}

impl Drop for TxShared {
    fn drop(&mut self) {
        // Still open: the closure panicked, the future was cancelled, or nobody finished it.
        self.state.get_mut().discard();
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if self.savepoint.is_some() && !self.finished.load(Ordering::Acquire) {
            self.shared.aborted.store(true, Ordering::Release);
        }
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("dialect", &self.dialect())
            .field("savepoint", &self.scope.savepoint)
            .finish_non_exhaustive()
    }
}

/// Closes a connection that is dropped while `BEGIN` is in flight.
struct Opening(TxState);

impl Drop for Opening {
    fn drop(&mut self) {
        self.0.discard();
    }
}

/// Runs control statements (`BEGIN`, `COMMIT`, `SAVEPOINT` ...) made only of keywords and
/// names this module chose.
async fn control(state: &mut TxState, statements: &[String]) -> Result<(), sqlx::Error> {
    for statement in statements {
        match state {
            TxState::Sql(conn) => conn.script(statement.clone()).await?,
            #[cfg(feature = "memory")]
            TxState::Memory(_) => {
                return Err(sqlx::Error::Configuration(
                    "the in-memory store runs no SQL".into(),
                ));
            }
            TxState::Finished => return Ok(()),
        }
    }
    Ok(())
}

/// Names the tenant of `db`'s handle, if scoped to one, in the PostgreSQL transaction just
/// begun on `state`, for the Row-Level Security policies to read: `set_config(.., true)` lasts
/// until the transaction ends, so nothing stays on the pooled connection.
#[cfg(feature = "postgres")]
async fn name_tenant(db: &Db, state: &mut TxState) -> Result<(), RepoError> {
    let (Tenancy::Scoped(tenant), TxState::Sql(SqlConnection::Postgres(conn))) =
        (db.tenancy(), state)
    else {
        return Ok(());
    };
    let sql = sqlx::SqlStr::from_static(crate::schema::SET_TENANT);
    let mut statement = Statement::new(Dialect::Postgres, "set_tenant", sql);
    tenant.bind_to(&mut statement);
    let Query::Postgres(query) = statement.inner else {
        return Ok(());
    };
    query
        .execute(&mut **conn)
        .await
        .map(drop)
        .map_err(|error| RepoError::from_sqlx(error, None))
}

impl Db {
    /// Opens a transaction with default options. Finish it with [`Tx::commit`]; dropping every
    /// clone of it uncommitted rolls it back.
    pub async fn begin(&self) -> Result<Tx, RepoError> {
        self.begin_with(&TxOptions::default()).await
    }

    /// Opens a transaction with `options` (isolation, read-only).
    pub async fn begin_with(&self, options: &TxOptions) -> Result<Tx, RepoError> {
        let forced;
        let options = if self.is_read_only() && !options.read_only {
            forced = TxOptions {
                read_only: true,
                ..*options
            };
            &forced
        } else {
            options
        };
        #[cfg(feature = "memory")]
        if let Some(store) = self.memory_store() {
            let session = store
                .begin(self.options().sqlite_busy_timeout, options.read_only)
                .await
                .map_err(|e| self.observe_error(e))?;
            return Ok(self.open(options, 0, TxState::Memory(Box::new(session))));
        }
        self.note_pool_pressure();
        let node = self.node();
        // A failure to begin that says the node is gone moves the handle to the next.
        let failed = |error: RepoError| {
            self.node_failed(node, &error);
            self.observe_error(error)
        };
        let pool = self.sql_pool()?;
        let acquired = pool.acquire_for(options.read_only).await.map(TxState::Sql);
        let mut opening = Opening(acquired.map_err(|e| failed(RepoError::from_sqlx(e, None)))?);
        #[cfg(feature = "mysql")]
        if let (TxState::Sql(SqlConnection::MySql(conn)), Some(timeout)) =
            (&mut opening.0, options.statement_timeout)
        {
            set_mysql_timeout(conn, Some(timeout))
                .await
                .map_err(|e| failed(RepoError::from_sqlx(e, None)))?;
        }
        let statements = begin_statements(self.dialect(), options);
        let begin = control(&mut opening.0, &statements);
        let sqlite_timeout = match self.dialect() {
            // SQLite waits for the write lock inside BEGIN IMMEDIATE: bound it on the client.
            Dialect::Sqlite => options
                .statement_timeout
                .or(self.options().statement_timeout),
            Dialect::Postgres | Dialect::MySql => None,
        };
        let begun = match sqlite_timeout {
            Some(limit) => match tokio::time::timeout(limit, begin).await {
                Ok(result) => result.map_err(|e| RepoError::from_sqlx(e, None)),
                Err(_) => Err(RepoError::Timeout {
                    entity: NO_ENTITY,
                    source: None,
                }),
            },
            None => begin.await.map_err(|e| RepoError::from_sqlx(e, None)),
        };
        begun.map_err(failed)?;
        #[cfg(feature = "postgres")]
        if self.options().row_level_security {
            name_tenant(self, &mut opening.0).await.map_err(failed)?;
        }
        let state = std::mem::replace(&mut opening.0, TxState::Finished);
        Ok(self.open(options, node, state))
    }

    /// The handle of a transaction that has begun on `node`.
    fn open(&self, options: &TxOptions, node: usize, state: TxState) -> Tx {
        Tx {
            scope: Arc::new(Scope {
                shared: Arc::new(TxShared {
                    db: self.clone(),
                    node,
                    read_only: options.read_only,
                    statement_timeout: options.statement_timeout,
                    state: Mutex::new(state),
                    savepoints: AtomicUsize::new(0),
                    aborted: AtomicBool::new(false),
                    #[cfg(feature = "cache")]
                    touched: std::sync::Mutex::default(),
                }),
                savepoint: None,
                finished: AtomicBool::new(false),
            }),
        }
    }

    /// Runs `work` in one transaction: commits when it returns `Ok`, rolls back when it
    /// returns `Err`, panics, or is dropped before finishing. On a transient failure
    /// (deadlock, serialization failure, busy database, lost connection before commit) the
    /// whole of `work` runs again in a new transaction, under the `Db`'s
    /// [`RetryPolicy`](crate::RetryPolicy).
    ///
    /// `work` may run more than once, so it should have no effects outside the database. A
    /// read-modify-write (read a row, write a value computed from it) needs
    /// [`Isolation::Serializable`] through [`Db::transaction_with`]: at the servers' default
    /// levels two such units can both read the old value and one update is lost.
    ///
    /// ```no_run
    /// # use repo_runtime::prelude::*;
    /// # async fn demo(db: &Db) -> Result<(), RepoError> {
    /// let total = db.transaction(async |tx| {
    ///     // E::repository(&tx) for every entity written here
    ///     let _ = tx;
    ///     Ok(42)
    /// }).await?;
    /// # let _ = total; Ok(()) }
    /// ```
    pub async fn transaction<T, F, Fut>(&self, work: F) -> Result<T, RepoError>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, RepoError>>,
    {
        self.transaction_with(&TxOptions::default(), work).await
    }

    /// [`Db::transaction`] with options: isolation, read-only, retry policy.
    pub async fn transaction_with<T, F, Fut>(
        &self,
        options: &TxOptions,
        work: F,
    ) -> Result<T, RepoError>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, RepoError>>,
    {
        self.unit_of_work_with(options, work).await
    }

    /// [`Db::transaction`] for work that fails with the application's own error type `E`
    /// (see [`TransactionError`]): it rolls back on any `Err`, and retries the whole unit when
    /// the `RepoError` inside `E` is transient.
    ///
    /// ```no_run
    /// # use repo_runtime::prelude::*;
    /// # #[derive(Debug)] enum AppError { Forbidden, Store(RepoError) }
    /// # impl From<RepoError> for AppError { fn from(e: RepoError) -> Self { AppError::Store(e) } }
    /// # impl TransactionError for AppError {
    /// #     fn repo_error(&self) -> Option<&RepoError> {
    /// #         match self { AppError::Store(e) => Some(e), _ => None }
    /// #     }
    /// # }
    /// async fn close(db: &Db, allowed: bool) -> Result<(), AppError> {
    ///     db.unit_of_work(async |tx| {
    ///         let _ = tx; // E::repository(&tx) for every entity written here
    ///         if !allowed {
    ///             return Err(AppError::Forbidden); // rolled back, not retried
    ///         }
    ///         Ok(())
    ///     })
    ///     .await
    /// }
    /// ```
    pub async fn unit_of_work<T, E, F, Fut>(&self, work: F) -> Result<T, E>
    where
        E: TransactionError,
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.unit_of_work_with(&TxOptions::default(), work).await
    }

    /// [`Db::unit_of_work`] with options: isolation, read-only, retry policy.
    pub async fn unit_of_work_with<T, E, F, Fut>(
        &self,
        options: &TxOptions,
        work: F,
    ) -> Result<T, E>
    where
        E: TransactionError,
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let span = crate::telemetry::transaction_span(self.peer());
        if span.is_disabled() {
            return self.run_units(options, work).await;
        }
        let result = self.run_units(options, work).instrument(span.clone()).await;
        if let Err(error) = &result {
            let kind = error
                .repo_error()
                .map_or("application", |cause| cause.kind().as_str());
            crate::telemetry::finish(&span, None, Some(kind));
        }
        result
    }

    /// The attempts of a unit of work, each in a transaction of its own.
    async fn run_units<T, E, F, Fut>(&self, options: &TxOptions, mut work: F) -> Result<T, E>
    where
        E: TransactionError,
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let policy = options.retry.unwrap_or(self.options().retry);
        let mut retrier = policy.retrier("transaction");
        loop {
            let result = match self.begin_with(options).await {
                Ok(tx) => tx.finish(work(tx.clone()).await).await,
                Err(error) => Err(E::from(error)),
            };
            let error = match result {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let retry = match error.repo_error() {
                Some(cause) => retrier.retry_after(cause).await,
                None => false,
            };
            if !retry {
                return Err(error);
            }
            self.note_retry();
        }
    }

    /// Runs `work` once in a transaction, without retries: for work that consumes its input.
    pub(crate) async fn transaction_once<T, Fut>(
        &self,
        work: impl FnOnce(Tx) -> Fut,
    ) -> Result<T, RepoError>
    where
        Fut: Future<Output = Result<T, RepoError>>,
    {
        let tx = self.begin().await?;
        tx.finish(work(tx.clone()).await).await
    }
}

impl Tx {
    /// The dialect of the underlying database.
    pub fn dialect(&self) -> Dialect {
        self.scope.shared.db.dialect()
    }

    /// The database this transaction runs on.
    pub fn db(&self) -> &Db {
        &self.scope.shared.db
    }

    /// The node of the handle's cluster it runs on.
    pub(crate) fn node(&self) -> usize {
        self.scope.shared.node
    }

    pub(crate) async fn lock(&self) -> MutexGuard<'_, TxState> {
        self.scope.shared.state.lock().await
    }

    /// Runs SQL text (one or more statements) in this transaction: for seed files, which are
    /// SQL by definition.
    #[cfg(feature = "migrate")]
    pub(crate) async fn execute_script(&self, sql: &str) -> Result<(), RepoError> {
        let mut state = self.lock().await;
        match &*state {
            TxState::Finished => return Err(RepoError::TransactionFinished),
            #[cfg(feature = "memory")]
            TxState::Memory(_) => return Err(crate::db::no_sql()),
            _ => {}
        }
        control(&mut state, &[sql.to_owned()])
            .await
            .map_err(|error| RepoError::from_sqlx(error, None))
    }

    /// The statement timeout in force inside this transaction.
    pub(crate) fn statement_timeout(&self) -> Option<Duration> {
        self.scope
            .shared
            .statement_timeout
            .or(self.db().options().statement_timeout)
    }

    /// Marks the transaction so that it can only roll back: a statement's outcome is unknown.
    pub(crate) fn abort(&self) {
        self.scope.shared.aborted.store(true, Ordering::Release);
    }

    /// Puts back the `Db`'s session timeout on MySQL after a transaction that overrode it, so
    /// the connection returns to the pool as it left.
    async fn restore_session(&self, state: &mut TxState) {
        if self.scope.shared.read_only
            && self.dialect() == Dialect::Sqlite
            && control(state, &[String::from("PRAGMA query_only = OFF")])
                .await
                .is_err()
        {
            state.discard();
        }
        #[cfg(feature = "mysql")]
        if let (TxState::Sql(SqlConnection::MySql(conn)), Some(_)) =
            (&mut *state, self.scope.shared.statement_timeout)
            && set_mysql_timeout(conn, self.db().options().statement_timeout)
                .await
                .is_err()
        {
            state.discard();
        }
        #[cfg(not(feature = "mysql"))]
        let _ = state;
    }

    /// Commits on `Ok`, rolls back on `Err`, and passes the result on.
    async fn finish<T, E: TransactionError>(&self, result: Result<T, E>) -> Result<T, E> {
        match result {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = self.rollback().await {
                    tracing::warn!(
                        kind = rollback.kind().as_str(),
                        "rollback after a failed transaction failed"
                    );
                }
                Err(error)
            }
        }
    }

    fn claim_finish(&self) -> Result<(), RepoError> {
        if self.scope.finished.swap(true, Ordering::AcqRel) {
            return Err(RepoError::TransactionFinished);
        }
        Ok(())
    }

    /// Commits the transaction, or releases the savepoint. Every clone of this handle is
    /// finished afterwards.
    ///
    /// A failure while the `COMMIT` itself was in flight is [`RepoError::CommitUnknown`]: the
    /// transaction may or may not have been applied, and it is never retried.
    pub async fn commit(&self) -> Result<(), RepoError> {
        self.claim_finish()?;
        let shared = &self.scope.shared;
        let mut state = self.lock().await;
        #[cfg(feature = "memory")]
        if let TxState::Memory(session) = &mut *state {
            match &self.scope.savepoint {
                Some(name) => session.release(name),
                None => {
                    let finished = std::mem::replace(&mut *state, TxState::Finished);
                    if shared.aborted.load(Ordering::Acquire) {
                        return Err(RepoError::TransactionAborted);
                    }
                    if let TxState::Memory(session) = finished {
                        session.commit();
                    }
                    self.report_touched();
                }
            }
            return Ok(());
        }
        if let Some(name) = &self.scope.savepoint {
            return control(&mut state, &[format!("RELEASE SAVEPOINT {name}")])
                .await
                .map_err(|e| RepoError::from_sqlx(e, None));
        }
        if shared.aborted.load(Ordering::Acquire) {
            let _ = control(&mut state, &[String::from("ROLLBACK")]).await;
            state.discard();
            *state = TxState::Finished;
            return Err(RepoError::TransactionAborted);
        }
        let result = control(&mut state, &[String::from("COMMIT")]).await;
        // Even a COMMIT that failed in flight may have applied.
        self.report_touched();
        self.db().note_write();
        if result.is_ok() {
            self.restore_session(&mut state).await;
        }
        let mut finished = std::mem::replace(&mut *state, TxState::Finished);
        match result {
            Ok(()) => Ok(()),
            Err(error) => {
                finished.discard();
                let error = RepoError::from_commit(error);
                self.db().node_failed(shared.node, &error);
                Err(self.db().observe_error(error))
            }
        }
    }

    /// Keeps what a write inside the transaction touched, for the cache when it commits.
    #[cfg(feature = "cache")]
    pub(crate) fn defer_touch(
        &self,
        table: &'static crate::schema::Table,
        touch: crate::cache::Touch,
    ) {
        self.scope
            .shared
            .touched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((table, touch));
    }

    /// Reports to the cache what the committed transaction's writes touched.
    fn report_touched(&self) {
        #[cfg(feature = "cache")]
        {
            let shared = &self.scope.shared;
            let touched = std::mem::take(
                &mut *shared
                    .touched
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            if let Some(cache) = shared.db.cache() {
                for (table, touch) in touched {
                    cache.touched(table, touch);
                }
            }
        }
    }

    /// Rolls back the transaction, or to the savepoint. Every clone of this handle is finished
    /// afterwards.
    pub async fn rollback(&self) -> Result<(), RepoError> {
        self.claim_finish()?;
        let mut state = self.lock().await;
        #[cfg(feature = "memory")]
        if let TxState::Memory(session) = &mut *state {
            match &self.scope.savepoint {
                Some(name) => session.rollback_to(name),
                None => *state = TxState::Finished,
            }
            return Ok(());
        }
        if let Some(name) = &self.scope.savepoint {
            let statements = [
                format!("ROLLBACK TO SAVEPOINT {name}"),
                format!("RELEASE SAVEPOINT {name}"),
            ];
            return control(&mut state, &statements)
                .await
                .map_err(|e| RepoError::from_sqlx(e, None));
        }
        let result = control(&mut state, &[String::from("ROLLBACK")]).await;
        if result.is_ok() {
            self.restore_session(&mut state).await;
        }
        let mut finished = std::mem::replace(&mut *state, TxState::Finished);
        if result.is_err() {
            // The server rolls back a transaction whose connection closes.
            finished.discard();
        }
        Ok(())
    }

    /// Opens a savepoint: a nested transaction whose commit releases it and whose rollback
    /// undoes only its writes.
    pub async fn begin_nested(&self) -> Result<Tx, RepoError> {
        let shared = Arc::clone(&self.scope.shared);
        let n = shared.savepoints.fetch_add(1, Ordering::Relaxed);
        let name = format!("repo_savepoint_{n}");
        {
            let mut state = self.lock().await;
            #[cfg(feature = "memory")]
            if let TxState::Memory(session) = &mut *state {
                session.savepoint(&name);
                return Ok(Tx::nested(shared, name));
            }
            if matches!(*state, TxState::Finished) {
                return Err(RepoError::TransactionFinished);
            }
            control(&mut state, &[format!("SAVEPOINT {name}")])
                .await
                .map_err(|e| RepoError::from_sqlx(e, None))?;
        }
        Ok(Tx::nested(shared, name))
    }

    fn nested(shared: Arc<TxShared>, name: String) -> Tx {
        Tx {
            scope: Arc::new(Scope {
                shared,
                savepoint: Some(name),
                finished: AtomicBool::new(false),
            }),
        }
    }

    /// Runs `work` in a savepoint of this transaction: released on `Ok`, rolled back to on
    /// `Err`, so a failed part leaves the rest of the transaction usable.
    pub async fn transaction<T, F, Fut>(&self, work: F) -> Result<T, RepoError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<T, RepoError>>,
    {
        self.unit_of_work(work).await
    }

    /// [`Tx::transaction`] for work that fails with the application's own error type (see
    /// [`TransactionError`]).
    pub async fn unit_of_work<T, E, F, Fut>(&self, work: F) -> Result<T, E>
    where
        E: TransactionError,
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let nested = self.begin_nested().await?;
        nested.finish(work(nested.clone()).await).await
    }
}
