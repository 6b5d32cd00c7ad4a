//! One way to run a statement: on the pool of a [`Db`], or on the connection of an open
//! [`Tx`]. Generated repositories hold an [`Executor`] and never see which.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use repo_sql::{Dialect, Plan, Sql};
use tracing::Instrument;

use crate::telemetry;

use crate::backend::{SqlConnection, SqlPool};
use crate::db::Db;
use crate::entity::{Entity, RowSource};
use crate::error::{FromSqlx, RepoError};
use crate::policy::Tenancy;
use crate::schema::Table;
use crate::statement::{Outcome, Query, Statement};
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

/// A statement running, boxed. Generic repository code awaits these rather than this crate's
/// `async fn`s: rustc compiles a non-generic async body again in every crate that awaits it,
/// so each user crate would rebuild the executor and sqlx's pool on every change.
/// A boxed future of the executor's work, or of a generated hook's.
#[doc(hidden)]
pub type Running<'a, T> = Pin<Box<dyn Future<Output = Result<T, RepoError>> + Send + 'a>>;

/// The choice of a read replica for a read, boxed (see [`Executor::route`]).
type Routing<'a> = Pin<Box<dyn Future<Output = Option<&'a crate::replica::Replica>> + Send + 'a>>;

/// Where a statement runs: a connection (its transaction's, or one lent for the statement),
/// or rusqlite's pool.
enum Target<'a> {
    /// SQLite through rusqlite's pool, where a statement takes its connection as it runs.
    #[cfg_attr(not(feature = "rusqlite"), allow(dead_code))]
    Pool(&'a SqlPool),
    Connection(&'a mut SqlConnection),
}

/// Runs `$body` with `$query` (the backend's query) and `$target` (the pool, or the
/// transaction's connection) of the statement's backend, outside a transaction on `$routed`
/// (a replica's pool) when it is given; the body is type-checked once per
/// backend and target. SQLite through rusqlite runs `$rusqlite` instead, with its query, where
/// it runs (`Place`) and whether it is bounded.
macro_rules! dispatch {
    (
        $executor:expr, $statement:expr, $table:expr, $routed:expr,
        |$query:ident, $target:ident| $body:expr,
        rusqlite |$rquery:ident, $place:ident, $bounded:ident| $rusqlite:expr
    ) => {{
        let mut statement: Statement = $statement;
        statement.check($table)?;
        let executor: &Executor = $executor;
        executor.refuse_write($table, &statement)?;
        let mut guard = match executor {
            Executor::Tx(tx) => Some(tx.lock().await),
            Executor::Db(_) => None,
        };
        // Outside a transaction a statement borrows a connection for itself (on SQLite
        // through rusqlite, the statement takes one from its pool where it runs).
        let mut lent = None;
        let target = match (executor, guard.as_deref_mut()) {
            (Executor::Db(db), _) => {
                let routed: Option<&SqlPool> = $routed;
                let pool = match routed {
                    Some(pool) => pool,
                    None => db.sql_pool()?,
                };
                match pool.lend() {
                    Some(lending) => Target::Connection(
                        lent.insert(
                            lending
                                .await
                                .map_err(|error| RepoError::from_sqlx(error, Some($table)))?,
                        ),
                    ),
                    None => Target::Pool(pool),
                }
            }
            (Executor::Tx(_), Some(TxState::Sql(connection))) => Target::Connection(connection),
            (Executor::Tx(_), Some(TxState::Finished)) => {
                return Err(RepoError::TransactionFinished);
            }
            (Executor::Tx(_), _) => return Err(mismatch()),
        };
        #[cfg(feature = "rusqlite")]
        let $bounded = statement.is_bounded();
        #[cfg(feature = "rusqlite")]
        if let Query::Rusqlite(query) = &mut statement.inner {
            query.timeout = executor.client_timeout();
        }
        // A connection goes back to be reused only after its statement completed: dropped
        // mid-statement (an error returned early, a cancelled future), its state is unknown.
        // (Everything it names is passed in: a local macro's own tokens are hygienic.)
        #[allow(unused_macros)]
        macro_rules! completing {
            ($connection:ident, $bound:ident, $run:expr) => {{
                $connection.in_flight();
                let $bound = &mut **$connection;
                let ran = $run;
                if ran.is_ok() {
                    $connection.completed();
                }
                ran
            }};
        }
        match (statement.inner, target) {
            #[cfg(feature = "rusqlite")]
            (Query::Rusqlite($rquery), Target::Pool(SqlPool::Rusqlite(pool))) => {
                let $place = crate::backend::rusqlite::Place::Pool(pool);
                $rusqlite
            }
            #[cfg(feature = "rusqlite")]
            (Query::Rusqlite($rquery), Target::Connection(SqlConnection::Rusqlite(session))) => {
                let $place = crate::backend::rusqlite::Place::Session(session);
                $rusqlite
            }
            #[cfg(feature = "sqlite")]
            (Query::Sqlite($query), Target::Connection(SqlConnection::Sqlite(connection))) => {
                completing!(connection, $target, $body)
            }
            #[cfg(feature = "postgres")]
            (Query::Postgres($query), Target::Connection(SqlConnection::Postgres(connection))) => {
                completing!(connection, $target, $body)
            }
            #[cfg(feature = "mysql")]
            (Query::MySql($query), Target::Connection(SqlConnection::MySql(connection))) => {
                completing!(connection, $target, $body)
            }
            (Query::Memory(..), _) => Err(RepoError::config(
                "a statement for the in-memory store reached an SQL executor",
            )),
            (Query::Unavailable(dialect), _) => Err(crate::db::not_compiled(dialect)),
            #[allow(unreachable_patterns)]
            _ => Err(mismatch()),
        }
    }};
}

/// A write, reported to the cache when dropped: on a handle at once, inside a transaction
/// when it commits.
#[cfg(feature = "cache")]
struct Reported<'a> {
    executor: &'a Executor,
    table: &'static Table,
    touch: crate::cache::Touch,
}

#[cfg(feature = "cache")]
impl Drop for Reported<'_> {
    fn drop(&mut self) {
        match self.executor {
            Executor::Db(db) => {
                if let Some(cache) = db.cache() {
                    cache.touched(self.table, self.touch);
                }
            }
            Executor::Tx(tx) => tx.defer_touch(self.table, self.touch),
        }
    }
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
        self.start(operation, |dialect| {
            sqlx::SqlStr::from_static(sql.get(dialect))
        })
    }

    /// Starts a statement with the text `sql` gives for the executor's dialect; the in-memory
    /// store takes none.
    #[inline]
    fn start(
        &self,
        operation: &'static str,
        sql: impl FnOnce(Dialect) -> sqlx::SqlStr,
    ) -> Statement {
        let mut statement = self.blank(operation, sql);
        statement.tenancy = self.tenancy().clone();
        #[cfg(feature = "encryption")]
        {
            statement.keyring = self.db().keyring().cloned();
        }
        statement
    }

    /// A statement for the executor's backend, with no handle's state yet.
    #[inline]
    fn blank(
        &self,
        operation: &'static str,
        sql: impl FnOnce(Dialect) -> sqlx::SqlStr,
    ) -> Statement {
        #[cfg(feature = "memory")]
        if self.is_memory() {
            return Statement::memory(operation);
        }
        #[cfg(feature = "rusqlite")]
        if self.db().is_rusqlite() {
            return Statement::rusqlite(operation, sql(Dialect::Sqlite));
        }
        let dialect = self.dialect();
        Statement::new(dialect, operation, sql(dialect))
    }

    /// Which tenant's rows the executor's statements reach.
    pub(crate) fn tenancy(&self) -> &Tenancy {
        self.db().tenancy()
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
        self.start(operation, |_| sqlx::SqlStr::from_static(sql))
    }

    /// Starts a statement assembled at run time from derive-validated identifiers and
    /// placeholders: owned text, or text shared by every call of a cached shape. Never pass
    /// text that contains a value.
    pub(crate) fn assembled<S>(&self, operation: &'static str, sql: S) -> Statement
    where
        sqlx::AssertSqlSafe<S>: sqlx::SqlSafeStr,
    {
        use sqlx::SqlSafeStr;
        self.start(operation, |_| sqlx::AssertSqlSafe(sql).into_sql_str())
    }

    /// Runs `work` as one unit, once: in a transaction of its own on a `Db`, in a savepoint
    /// inside an open `Tx` (a failure undoes the unit's writes and leaves the rest usable).
    pub(crate) async fn unit_once<T>(
        &self,
        work: impl AsyncFnOnce(&Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        match self {
            Executor::Db(db) => {
                db.transaction_once(async |tx| work(&Executor::Tx(tx)).await)
                    .await
            }
            Executor::Tx(tx) => {
                tx.transaction(async |savepoint| work(&Executor::Tx(savepoint)).await)
                    .await
            }
        }
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
                Err(error) if retrier.retry_after(&error).await => db.note_retry(),
                result => return result,
            }
        }
    }

    /// Runs a read of `table` that `build` states (again after transient failures, on a `Db`:
    /// reads are idempotent) and returns its rows undecoded, only the first when `first`: the
    /// part of a repository read that does not depend on the entity, compiled once.
    pub(crate) fn read_rows<'a>(
        &'a self,
        table: &'static Table,
        first: bool,
        build: &'a (dyn Fn() -> Statement + Sync),
    ) -> Running<'a, Rows> {
        Box::pin(async move {
            // The loop of `read`, written out: going through `read` moves the statement's
            // future into one more state machine, about 1,100 instructions per call (get).
            let Executor::Db(db) = self else {
                return self.run_rows(table, build(), first).await;
            };
            let mut retrier = db.options().retry.retrier("read");
            loop {
                match self.run_rows(table, build(), first).await {
                    Err(error) if retrier.retry_after(&error).await => db.note_retry(),
                    result => return result,
                }
            }
        })
    }

    /// Runs a select of `table` that `build` states and hands `sink` each row as the driver
    /// reads it; retried on a `Db` like [`Executor::read_rows`], the sink restarted. The part
    /// of a bulk read that does not depend on the entity, compiled once.
    pub(crate) fn read_into<'a>(
        &'a self,
        table: &'static Table,
        build: &'a (dyn Fn() -> Statement + Sync),
        sink: &'a mut dyn crate::stream::RowSink,
    ) -> Running<'a, ()> {
        Box::pin(async move {
            let Executor::Db(db) = self else {
                return self.run_into(table, build(), sink).await;
            };
            let mut retrier = db.options().retry.retrier("read");
            loop {
                match self.run_into(table, build(), sink).await {
                    Err(error) if retrier.retry_after(&error).await => {
                        db.note_retry();
                        sink.restart();
                    }
                    result => return result,
                }
            }
        })
    }

    async fn run_into(
        &self,
        table: &'static Table,
        mut statement: Statement,
        sink: &mut dyn crate::stream::RowSink,
    ) -> Result<(), RepoError> {
        #[cfg(feature = "memory")]
        if self.is_memory() {
            let (rows, _) = self.in_memory(table, statement).await?;
            for row in rows {
                sink.take(crate::stream::RawRow::Memory(row))?;
            }
            return Ok(());
        }
        let node = self.node();
        let replica = match self.route(&statement) {
            Some(routing) => routing.await,
            None => None,
        };
        let observed = self.observed(table, &mut statement);
        let run = async {
            dispatch!(
                self,
                statement,
                table,
                replica.map(|replica| &replica.pool),
                |query, target| {
                    let mut rows = query.fetch(target);
                    let mut taken = 0;
                    loop {
                        let next = std::future::poll_fn(|cx| {
                            futures_core::Stream::poll_next(rows.as_mut(), cx)
                        })
                        .await;
                        match next {
                            Some(Ok(row)) => {
                                sink.take(crate::stream::RawRow::from(row))?;
                                taken += 1;
                            }
                            Some(Err(error)) => {
                                return Err(RepoError::from_sqlx(error, Some(table)));
                            }
                            None => break,
                        }
                    }
                    Ok(taken)
                },
                rusqlite | query,
                place,
                bounded | place.for_each(table, query, bounded, sink).await
            )
        };
        let result = self.observe(table, observed, run, |taken| *taken).await;
        self.settle(true, replica, node, result).map(drop)
    }

    /// What `statement` may change, reported to the cache when the returned guard drops:
    /// after the statement, whatever came of it (a write that failed or was cancelled may
    /// still have happened). `None` for a read, or without a cache.
    #[cfg(feature = "cache")]
    fn report(
        &self,
        table: &'static Table,
        statement: &Statement,
        executed: bool,
    ) -> Option<Reported<'_>> {
        self.db().cache()?;
        let touch = statement.touch(executed)?;
        Some(Reported {
            executor: self,
            table,
            touch,
        })
    }

    /// The statement timeout the client enforces: SQLite's (the servers enforce their own).
    fn client_timeout(&self) -> Option<std::time::Duration> {
        match self {
            _ if self.dialect() != Dialect::Sqlite || self.is_memory() => None,
            Executor::Db(db) => db.options().statement_timeout,
            Executor::Tx(tx) => tx.statement_timeout(),
        }
    }

    /// How `statement` will be reported: its span (disabled unless a subscriber wants it)
    /// and, for the metrics, its SQL keyword.
    fn observed(&self, table: &'static Table, statement: &mut Statement) -> Observed {
        Observed {
            span: telemetry::statement_span(self.db().peer(), table, statement),
            #[cfg(feature = "metrics")]
            operation: telemetry::operation_name(statement),
            #[cfg(feature = "explain")]
            captured: if self.db().options().explain_slow_statements {
                statement.capture()
            } else {
                None
            },
            #[cfg(feature = "explain")]
            name: statement.operation,
        }
    }

    /// Runs one statement inside its span (OpenTelemetry's database conventions), counting
    /// it, its failure and its slowness, and with feature `metrics` recording its duration.
    /// Bound values are never recorded.
    pub(crate) async fn observe<T>(
        &self,
        table: &'static Table,
        observed: Observed,
        run: impl Future<Output = Result<T, RepoError>>,
        rows: impl FnOnce(&T) -> u64,
    ) -> Result<T, RepoError> {
        let db = self.db();
        let span = observed.span;
        if let Executor::Db(db) = self {
            db.note_pool_pressure();
        }
        let started = Instant::now();
        let client_timeout = self.client_timeout();
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
                    telemetry::finish(&span, Some(rows(value)), None);
                }
            }
            Err(error) => {
                let kind = error.kind().as_str();
                db.note_error(kind);
                telemetry::finish(&span, None, Some(kind));
                tracing::debug!(parent: &span, kind, "statement failed");
            }
        }
        #[cfg(feature = "metrics")]
        db.peer().figures.statement(
            table.name,
            observed.operation,
            elapsed,
            result.as_ref().err().map(|error| error.kind().as_str()),
        );
        if slow {
            let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
            tracing::warn!(parent: &span, elapsed_ms, "slow statement");
            #[cfg(feature = "explain")]
            if let Some(captured) = observed.captured {
                crate::explain::log_plan(db, table, observed.name, captured, span);
            }
        }
        result
    }

    /// Runs a statement that returns rows, keeping them as the backend returned them: the part
    /// of a read that does not depend on the entity, compiled once here rather than in every
    /// user crate for every entity. `optional` stops after the first row.
    pub(crate) fn rows(
        &self,
        table: &'static Table,
        statement: Statement,
        optional: bool,
    ) -> Running<'_, Rows> {
        Box::pin(self.run_rows(table, statement, optional))
    }

    async fn run_rows(
        &self,
        table: &'static Table,
        mut statement: Statement,
        optional: bool,
    ) -> Result<Rows, RepoError> {
        #[cfg(feature = "cache")]
        let _reported = self.report(table, &statement, false);
        #[cfg(feature = "memory")]
        if self.is_memory() {
            let (mut rows, _) = self.in_memory(table, statement).await?;
            if optional {
                rows.truncate(1);
            }
            return Ok(self.keyed(BackendRows::Memory(rows)));
        }
        let reads = statement.is_read();
        let node = self.node();
        let replica = match self.route(&statement) {
            Some(routing) => routing.await,
            None => None,
        };
        let observed = self.observed(table, &mut statement);
        let run = async {
            dispatch!(
                self,
                statement,
                table,
                replica.map(|replica| &replica.pool),
                |query, target| {
                    let fetched = if optional {
                        query
                            .fetch_optional(target)
                            .await
                            .map(|row| row.into_iter().collect::<Vec<_>>())
                    } else {
                        query.fetch_all(target).await
                    };
                    fetched
                        .map(BackendRows::from)
                        .map_err(|error| RepoError::from_sqlx(error, Some(table)))
                },
                rusqlite | query,
                place,
                bounded | {
                    let fetched = if optional {
                        place
                            .run(query, bounded, |c, q| {
                                crate::backend::rusqlite::fetch(c, q, true)
                            })
                            .await
                    } else {
                        place
                            .run(query, bounded, |c, q| {
                                crate::backend::rusqlite::fetch(c, q, false)
                            })
                            .await
                    };
                    fetched
                        .map(BackendRows::Rusqlite)
                        .map_err(|error| RepoError::from_sqlx(error, Some(table)))
                }
            )
        };
        let result = self
            .observe(table, observed, run, |rows| rows.len() as u64)
            .await;
        self.settle(reads, replica, node, result)
            .map(|rows| self.keyed(rows))
    }

    /// Rows with the keys of this executor's handle.
    #[inline]
    fn keyed(&self, backend: BackendRows) -> Rows {
        Rows {
            backend,
            keys: crate::stream::DecodingKeys::of(self),
        }
    }

    /// Runs a statement whose rows a task sends through `sender` as the driver reads them:
    /// the rows held at once stay within the channel's bound, whatever the count. Not
    /// retried: the consumer may have used some rows already.
    pub(crate) fn stream_rows(
        &self,
        table: &'static Table,
        statement: Statement,
    ) -> tokio::sync::mpsc::Receiver<Result<crate::stream::RawRow, RepoError>> {
        let (sender, receiver) = crate::stream::channel();
        let executor = self.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let refused = RepoError::config("a stream of rows is read on a Tokio runtime");
            // Unbounded by one: the receiver is returned with the error already in it.
            let _ = sender.try_send(Err(refused));
            return receiver;
        };
        runtime.spawn(async move {
            if let Err(error) = executor.send_rows(table, statement, &sender).await {
                // The consumer may be gone: then nobody needs the error either.
                let _ = sender.send(Err(error)).await;
            }
        });
        receiver
    }

    async fn send_rows(
        &self,
        table: &'static Table,
        mut statement: Statement,
        sender: &crate::stream::Sender,
    ) -> Result<u64, RepoError> {
        #[cfg(feature = "memory")]
        if self.is_memory() {
            return self.send_memory_rows(table, statement, sender).await;
        }
        let node = self.node();
        let replica = match self.route(&statement) {
            Some(routing) => routing.await,
            None => None,
        };
        let observed = self.observed(table, &mut statement);
        let run = async {
            dispatch!(
                self,
                statement,
                table,
                replica.map(|replica| &replica.pool),
                |query, target| {
                    let mut rows = query.fetch(target);
                    let mut sent = 0;
                    loop {
                        let next = std::future::poll_fn(|cx| {
                            futures_core::Stream::poll_next(rows.as_mut(), cx)
                        })
                        .await;
                        match next {
                            Some(Ok(row)) => {
                                if sender
                                    .send(Ok(crate::stream::RawRow::from(row)))
                                    .await
                                    .is_err()
                                {
                                    break;
                                }
                                sent += 1;
                            }
                            Some(Err(error)) => {
                                return Err(RepoError::from_sqlx(error, Some(table)));
                            }
                            None => break,
                        }
                    }
                    Ok(sent)
                },
                rusqlite | query,
                place,
                _bounded | place.send(table, query, sender).await
            )
        };
        let result = self.observe(table, observed, run, |sent| *sent).await;
        self.settle(true, replica, node, result)
    }

    /// [`Executor::send_rows`] on the in-memory store: a select of a filter's rows (what
    /// `stream` runs), read one row at a time from a snapshot of the tables.
    #[cfg(feature = "memory")]
    async fn send_memory_rows(
        &self,
        table: &'static Table,
        statement: Statement,
        sender: &crate::stream::Sender,
    ) -> Result<u64, RepoError> {
        let streamed = match self {
            Executor::Db(db) => match db.memory_store() {
                Some(store) => store.stream(table, statement)?,
                None => return Err(mismatch()),
            },
            Executor::Tx(tx) => match &*tx.lock().await {
                TxState::Memory(session) => session.stream(table, statement)?,
                TxState::Finished => return Err(RepoError::TransactionFinished),
                _ => return Err(mismatch()),
            },
        };
        let mut sent = 0;
        for row in streamed.into_iter().flatten() {
            if sender
                .send(Ok(crate::stream::RawRow::Memory(row)))
                .await
                .is_err()
            {
                break;
            }
            sent += 1;
        }
        Ok(sent)
    }

    /// Runs a statement on the in-memory store: outside a transaction on the committed tables,
    /// inside one on its copy. Boxed, so that the SQL runners' futures do not grow by it.
    #[cfg(feature = "memory")]
    fn in_memory(
        &self,
        table: &'static Table,
        mut statement: Statement,
    ) -> Running<'_, crate::memory::Ran> {
        Box::pin(async move {
            self.refuse_write(table, &statement)?;
            let observed = self.observed(table, &mut statement);
            let run = async {
                match self {
                    Executor::Db(db) => match db.memory_store() {
                        Some(store) => {
                            let wait = db.options().sqlite_busy_timeout;
                            store.run(table, statement, wait).await
                        }
                        None => Err(mismatch()),
                    },
                    Executor::Tx(tx) => match &mut *tx.lock().await {
                        TxState::Memory(session) => session.run(table, statement),
                        TxState::Finished => Err(RepoError::TransactionFinished),
                        _ => Err(mismatch()),
                    },
                }
            };
            let count = |(rows, outcome): &crate::memory::Ran| {
                (rows.len() as u64).max(outcome.rows_affected)
            };
            self.observe(table, observed, run, count).await
        })
    }

    /// Runs a statement that returns at most one row of `E`.
    pub async fn fetch_optional<E: Entity>(
        &self,
        statement: Statement,
    ) -> Result<Option<E>, RepoError> {
        self.rows(E::TABLE, statement, true).await?.first::<E>()
    }

    /// Runs a hand-written statement whose rows hold `E`'s columns by name, in any order and
    /// among others.
    pub async fn fetch_all_by_name<E: Entity>(
        &self,
        statement: Statement,
    ) -> Result<Vec<E>, RepoError> {
        let rows = self.by_name::<Record<E>>(statement, false).await?;
        Ok(rows.into_iter().map(|Record(record)| record).collect())
    }

    /// Runs a hand-written statement whose rows hold the columns of projection `P` by name:
    /// its columns by their names, its aggregates by its fields' names.
    pub async fn fetch_projections_by_name<P: crate::projection::Projection>(
        &self,
        statement: Statement,
    ) -> Result<Vec<P>, RepoError> {
        let rows = self.by_name::<Projected<P>>(statement, false).await?;
        Ok(rows.into_iter().map(|Projected(row)| row).collect())
    }

    /// Runs a hand-written statement that returns at most one row of projection `P`, by name.
    pub async fn fetch_projection_by_name<P: crate::projection::Projection>(
        &self,
        statement: Statement,
    ) -> Result<Option<P>, RepoError> {
        let mut rows = self.by_name::<Projected<P>>(statement, true).await?;
        Ok(rows.pop().map(|Projected(row)| row))
    }

    /// Runs a hand-written statement that returns at most one row holding `E`'s columns by
    /// name.
    pub async fn fetch_optional_by_name<E: Entity>(
        &self,
        statement: Statement,
    ) -> Result<Option<E>, RepoError> {
        let mut rows = self.by_name::<Record<E>>(statement, true).await?;
        Ok(rows.pop().map(|Record(record)| record))
    }

    /// The rows of a hand-written statement read by column name as `T`; only the first when
    /// `optional`.
    async fn by_name<T: ReadByName>(
        &self,
        statement: Statement,
        optional: bool,
    ) -> Result<Vec<T>, RepoError> {
        #[cfg(feature = "rusqlite")]
        let statement = {
            let mut statement = statement;
            if let Query::Rusqlite(query) = &mut statement.inner {
                query.names = true;
            }
            statement
        };
        self.rows(T::table(), statement, optional)
            .await?
            .decode_by_name::<T>()
    }

    /// Runs a statement that returns rows of `E`.
    pub async fn fetch_all<E: Entity>(&self, statement: Statement) -> Result<Vec<E>, RepoError> {
        self.rows(E::TABLE, statement, false).await?.decode::<E>()
    }

    /// Runs a statement and reports whether it returned any row.
    pub async fn fetch_exists<E: Entity>(&self, statement: Statement) -> Result<bool, RepoError> {
        Ok(self.rows(E::TABLE, statement, true).await?.len() > 0)
    }

    /// Runs a statement whose one row holds one `BIGINT` (a count).
    pub async fn fetch_count<E: Entity>(&self, statement: Statement) -> Result<u64, RepoError> {
        let count = self.integer(E::TABLE, statement, "count").await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Runs a statement whose one row holds one generated key, as `BIGINT`.
    pub async fn fetch_key<E: Entity>(&self, statement: Statement) -> Result<i64, RepoError> {
        self.integer(E::TABLE, statement, "generated key").await
    }

    /// Runs a statement whose rows hold one generated key each, as `BIGINT`.
    pub async fn fetch_keys<E: Entity>(&self, statement: Statement) -> Result<Vec<i64>, RepoError> {
        self.rows(E::TABLE, statement, false)
            .await?
            .integers("generated key")
            .map_err(|error| error.in_entity(E::NAME))
    }

    /// Runs a statement whose first row holds one `BIGINT` in its first column.
    pub(crate) fn integer(
        &self,
        table: &'static Table,
        statement: Statement,
        column: &'static str,
    ) -> Running<'_, i64> {
        Box::pin(async move {
            let rows = self.run_rows(table, statement, true).await?;
            match rows.integers(column)?.first() {
                Some(value) => Ok(*value),
                // What sqlx's `fetch_one` reports for a statement that returned no row.
                None => Err(RepoError::from_sqlx(sqlx::Error::RowNotFound, Some(table))),
            }
            .map_err(|error: RepoError| error.in_entity(table.entity))
        })
    }

    /// Runs a statement that returns no rows.
    pub async fn execute<E: Entity>(&self, statement: Statement) -> Result<Outcome, RepoError> {
        self.execute_in(E::TABLE, statement).await
    }

    /// [`Executor::execute`] on `table`, compiled once.
    pub(crate) fn execute_in(
        &self,
        table: &'static Table,
        statement: Statement,
    ) -> Running<'_, Outcome> {
        Box::pin(self.run_execute(table, statement))
    }

    async fn run_execute(
        &self,
        table: &'static Table,
        mut statement: Statement,
    ) -> Result<Outcome, RepoError> {
        #[cfg(feature = "cache")]
        let _reported = self.report(table, &statement, true);
        #[cfg(feature = "memory")]
        if self.is_memory() {
            return Ok(self.in_memory(table, statement).await?.1);
        }
        let node = self.node();
        let observed = self.observed(table, &mut statement);
        let run = async {
            dispatch!(
                self,
                statement,
                table,
                None,
                |query, target| {
                    match query.execute(target).await {
                        Ok(done) => Ok(done.outcome()),
                        Err(error) => Err(RepoError::from_sqlx(error, Some(table))),
                    }
                },
                rusqlite | query,
                place,
                bounded | {
                    match place
                        .run(query, bounded, crate::backend::rusqlite::execute)
                        .await
                    {
                        Ok((rows_affected, last_insert_id)) => Ok(Outcome {
                            rows_affected,
                            last_insert_id,
                        }),
                        Err(error) => Err(RepoError::from_sqlx(error, Some(table))),
                    }
                }
            )
        };
        let result = self
            .observe(table, observed, run, |outcome| outcome.rows_affected)
            .await;
        self.settle(false, None, node, result)
    }

    /// Where a read replica is chosen for a statement: a read outside a transaction, on a
    /// handle with replicas (`None` otherwise, at no cost but this test). Boxed, so that the
    /// runners' futures grow by a pointer only.
    #[inline]
    fn route(&self, statement: &Statement) -> Option<Routing<'_>> {
        match self {
            Executor::Db(db) if db.has_replicas() && statement.is_read() => {
                Some(Box::pin(db.replica_for_read()))
            }
            _ => None,
        }
    }

    /// Refuses a write outside a transaction on a read-only handle, before the database (a
    /// transaction of such a handle is read-only on the server, which refuses its writes).
    #[inline]
    fn refuse_write(&self, table: &'static Table, statement: &Statement) -> Result<(), RepoError> {
        match self {
            Executor::Db(db) if db.is_read_only() && statement.writes() => {
                Err(RepoError::Forbidden {
                    entity: table.entity,
                    reason: "a write through a read-only handle",
                    source: None,
                })
            }
            _ => Ok(()),
        }
    }

    /// The node of the handle's cluster a statement starts on (see [`Db::node`]).
    #[inline]
    fn node(&self) -> usize {
        match self {
            Executor::Db(db) => db.node(),
            Executor::Tx(tx) => tx.node(),
        }
    }

    /// What a statement's end means for the handle's replicas and nodes: a write outside a
    /// transaction makes the next reads wait for a replica that has it (a failed one too: it
    /// may have applied); a transient failure on a replica takes it out of the rotation, and
    /// the read is retried on the primary; a failure that says `node` is gone moves the
    /// handle to the next node of its cluster.
    #[inline]
    fn settle<T>(
        &self,
        reads: bool,
        replica: Option<&crate::replica::Replica>,
        node: usize,
        result: Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        match (self, &result, replica) {
            (Executor::Db(_), Err(error), Some(replica)) if error.is_transient() => {
                replica.failed();
            }
            (Executor::Db(db), Err(error), None) => {
                db.node_failed(node, error);
                if !reads {
                    db.note_write();
                }
            }
            (Executor::Db(db), _, _) if !reads => db.note_write(),
            (Executor::Tx(tx), Err(error), _) => tx.db().node_failed(node, error),
            _ => {}
        }
        result
    }
}

/// Rows as the backend returned them, before an entity decodes them, with the keys that
/// decrypt their encrypted fields.
pub(crate) struct Rows {
    backend: BackendRows,
    keys: crate::stream::DecodingKeys,
}

/// Rows in the backend's own type.
pub(crate) enum BackendRows {
    #[cfg(feature = "sqlite")]
    Sqlite(Vec<sqlx::sqlite::SqliteRow>),
    #[cfg(feature = "postgres")]
    Postgres(Vec<sqlx::postgres::PgRow>),
    #[cfg(feature = "mysql")]
    MySql(Vec<sqlx::mysql::MySqlRow>),
    #[cfg(feature = "rusqlite")]
    Rusqlite(Vec<crate::backend::rusqlite::RusqliteRow>),
    #[cfg(feature = "memory")]
    Memory(Vec<crate::memory::MemoryRecord>),
}

#[cfg(feature = "sqlite")]
impl From<Vec<sqlx::sqlite::SqliteRow>> for BackendRows {
    fn from(rows: Vec<sqlx::sqlite::SqliteRow>) -> Self {
        BackendRows::Sqlite(rows)
    }
}

#[cfg(feature = "postgres")]
impl From<Vec<sqlx::postgres::PgRow>> for BackendRows {
    fn from(rows: Vec<sqlx::postgres::PgRow>) -> Self {
        BackendRows::Postgres(rows)
    }
}

#[cfg(feature = "mysql")]
impl From<Vec<sqlx::mysql::MySqlRow>> for BackendRows {
    fn from(rows: Vec<sqlx::mysql::MySqlRow>) -> Self {
        BackendRows::MySql(rows)
    }
}

/// Runs `$body` with `$rows` bound to the backend's rows, whichever backend they came from.
macro_rules! each_backend {
    ($rows:expr, |$bound:ident| $body:expr) => {
        match $rows {
            #[cfg(feature = "sqlite")]
            BackendRows::Sqlite($bound) => $body,
            #[cfg(feature = "postgres")]
            BackendRows::Postgres($bound) => $body,
            #[cfg(feature = "mysql")]
            BackendRows::MySql($bound) => $body,
            #[cfg(feature = "rusqlite")]
            BackendRows::Rusqlite($bound) => $body,
            #[cfg(feature = "memory")]
            BackendRows::Memory($bound) => $body,
        }
    };
}

impl BackendRows {
    fn len(&self) -> usize {
        each_backend!(self, |rows| rows.len())
    }
}

impl Rows {
    pub(crate) fn len(&self) -> usize {
        self.backend.len()
    }

    /// While alive, the rows' encrypted fields decrypt with the handle's keys.
    #[inline]
    fn decrypting(&self) -> impl Sized + use<> {
        self.keys.enter()
    }

    /// Every row decoded as an `E`.
    pub(crate) fn decode<E: Entity>(&self) -> Result<Vec<E>, RepoError> {
        let _keys = self.decrypting();
        // Loops rather than iterator adapters: each adapter is one more copy per entity for
        // the user crate to compile.
        let mut decoded = Vec::with_capacity(self.len());
        each_backend!(&self.backend, |rows| for row in rows {
            match E::decode(row) {
                Ok(entity) => decoded.push(entity),
                Err(error) => return Err(error.in_entity(E::NAME)),
            }
        });
        Ok(decoded)
    }

    /// Every row decoded as an `E` with the value of its column at `position` (named
    /// `column`, for errors) as a `K`: a child with the key of its parent.
    pub(crate) fn decode_keyed<E: Entity, K: crate::column::ColumnValue>(
        &self,
        position: usize,
        column: &'static str,
    ) -> Result<Vec<(K, E)>, RepoError> {
        let _keys = self.decrypting();
        let mut decoded = Vec::with_capacity(self.len());
        each_backend!(&self.backend, |rows| for row in rows {
            let key = K::decode(row, position, column).map_err(|e| e.in_entity(E::NAME))?;
            let record = E::decode(row).map_err(|e| e.in_entity(E::NAME))?;
            decoded.push((key, record));
        });
        Ok(decoded)
    }

    /// Every row decoded as a `T` (a projection's row).
    pub(crate) fn decode_rows<T: crate::projection::RowDecode>(&self) -> Result<Vec<T>, RepoError> {
        let _keys = self.decrypting();
        let mut decoded = Vec::with_capacity(self.len());
        each_backend!(&self.backend, |rows| for row in rows {
            decoded.push(T::decode_row(row)?);
        });
        Ok(decoded)
    }

    /// The first row decoded as an `E`, if there is one.
    pub(crate) fn first<E: Entity>(&self) -> Result<Option<E>, RepoError> {
        let _keys = self.decrypting();
        let decoded = each_backend!(&self.backend, |rows| match rows.first() {
            Some(row) => E::decode(row),
            None => return Ok(None),
        });
        match decoded {
            Ok(entity) => Ok(Some(entity)),
            Err(error) => Err(error.in_entity(E::NAME)),
        }
    }

    /// Every row decoded as an `E` whose columns are found by name: a hand-written query's.
    pub(crate) fn decode_by_name<T: ReadByName>(&self) -> Result<Vec<T>, RepoError> {
        #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
        macro_rules! by_name {
            ($rows:expr) => {{
                let Some(first) = $rows.first() else {
                    return Ok(Vec::new());
                };
                let names: Vec<&str> = sqlx::Row::columns(first)
                    .iter()
                    .map(sqlx::Column::name)
                    .collect();
                let positions = positions_by_name::<T>(&names)?;
                $rows
                    .iter()
                    .map(|row| {
                        T::read(&ByName {
                            row,
                            positions: &positions,
                        })
                    })
                    .collect::<Result<Vec<T>, RepoError>>()
            }};
        }
        let _keys = self.decrypting();
        let decoded = match &self.backend {
            #[cfg(feature = "sqlite")]
            BackendRows::Sqlite(rows) => by_name!(rows),
            #[cfg(feature = "postgres")]
            BackendRows::Postgres(rows) => by_name!(rows),
            #[cfg(feature = "mysql")]
            BackendRows::MySql(rows) => by_name!(rows),
            #[cfg(feature = "rusqlite")]
            BackendRows::Rusqlite(rows) => {
                let Some(first) = rows.first() else {
                    return Ok(Vec::new());
                };
                let names: Vec<&str> = first
                    .names
                    .iter()
                    .flat_map(|names| names.iter().map(String::as_str))
                    .collect();
                let positions = positions_by_name::<T>(&names)?;
                rows.iter()
                    .map(|row| {
                        T::read(&ByName {
                            row,
                            positions: &positions,
                        })
                    })
                    .collect::<Result<Vec<T>, RepoError>>()
            }
            // The in-memory store runs no hand-written SQL; its rows are in the wanted order.
            #[cfg(feature = "memory")]
            BackendRows::Memory(rows) => rows.iter().map(T::read).collect(),
        };
        decoded.map_err(|error| error.in_entity(T::table().entity))
    }

    /// What a `SELECT COUNT(*)` on `table` returned; 0 for no row.
    pub(crate) fn count(&self, table: &'static Table) -> Result<u64, RepoError> {
        let counts = self
            .integers("count")
            .map_err(|error| error.in_entity(table.entity))?;
        Ok(counts
            .first()
            .map_or(0, |count| u64::try_from(*count).unwrap_or(0)))
    }

    /// The first column of every row, as `BIGINT`.
    pub(crate) fn integers(&self, column: &'static str) -> Result<Vec<i64>, RepoError> {
        use crate::entity::RowSource;
        each_backend!(&self.backend, |rows| rows
            .iter()
            .map(|row| row.get::<i64>(0, column))
            .collect())
    }
}

/// For each column of `table`, its position among `names`, the columns of a hand-written
/// query's rows.
fn positions_by_name<T: ReadByName>(names: &[&str]) -> Result<Vec<usize>, RepoError> {
    T::names()
        .map(|wanted| {
            names
                .iter()
                .position(|name| *name == wanted)
                .ok_or_else(|| RepoError::Decode {
                    entity: T::table().entity,
                    column: wanted,
                    rust_type: "a column of the query's rows",
                    source: format!("the query returns no column `{wanted}`").into(),
                })
        })
        .collect()
}

/// What a hand-written query's rows are read as, by column name: a record, or a projection.
pub(crate) trait ReadByName: Sized {
    /// The names of the columns read, in the order `read` reads them.
    fn names() -> impl Iterator<Item = &'static str>;
    /// The table the statement reads (its entity names errors).
    fn table() -> &'static Table;
    /// Reads one row whose columns are in the order of `names`.
    fn read<R: RowSource>(row: &R) -> Result<Self, RepoError>;
}

/// A record read by name.
pub(crate) struct Record<E>(pub(crate) E);

impl<E: Entity> ReadByName for Record<E> {
    fn names() -> impl Iterator<Item = &'static str> {
        E::TABLE.columns.iter().map(|column| column.name)
    }

    fn table() -> &'static Table {
        E::TABLE
    }

    fn read<R: RowSource>(row: &R) -> Result<Self, RepoError> {
        E::decode(row).map(Record)
    }
}

/// A projection read by name.
pub(crate) struct Projected<P>(pub(crate) P);

impl<P: crate::projection::Projection> ReadByName for Projected<P> {
    fn names() -> impl Iterator<Item = &'static str> {
        P::NAMES.iter().copied()
    }

    fn table() -> &'static Table {
        <P::Entity as Entity>::TABLE
    }

    fn read<R: RowSource>(row: &R) -> Result<Self, RepoError> {
        P::decode_row(row).map(Projected)
    }
}

/// A row of a hand-written query, read through the positions of the entity's columns in it.
struct ByName<'a, R> {
    row: &'a R,
    positions: &'a [usize],
}

impl<R: RowSource> ByName<'_, R> {
    fn position(&self, index: usize) -> usize {
        self.positions.get(index).copied().unwrap_or(usize::MAX)
    }
}

impl<R: RowSource> RowSource for ByName<'_, R> {
    fn get<T: crate::value::Decodable>(
        &self,
        index: usize,
        column: &'static str,
    ) -> Result<T, RepoError> {
        self.row.get(self.position(index), column)
    }

    fn is_null(&self, index: usize, column: &'static str) -> Result<bool, RepoError> {
        self.row.is_null(self.position(index), column)
    }

    fn get_text_on_sqlite<T>(&self, index: usize, column: &'static str) -> Result<T, RepoError>
    where
        T: crate::value::ServerDecode + std::str::FromStr,
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.row.get_text_on_sqlite(self.position(index), column)
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
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

/// The executor of an in-memory repository: `handle` when its database is in memory, else
/// `Config` naming the repository.
#[cfg(feature = "memory")]
pub fn memory_executor(
    handle: impl Into<Executor>,
    repository: &'static str,
) -> Result<Executor, RepoError> {
    let executor = handle.into();
    if executor.is_memory() {
        Ok(executor)
    } else {
        Err(RepoError::config(format!(
            "{repository} runs on an in-memory database (`Db::memory()`), not on {}",
            executor.db().backend_name()
        )))
    }
}

/// How one statement is reported: see [`Executor::observe`].
pub(crate) struct Observed {
    span: tracing::Span,
    /// `db.operation.name`, for the duration histogram.
    #[cfg(feature = "metrics")]
    operation: &'static str,
    /// The statement's text and values, for its plan if it is slow.
    #[cfg(feature = "explain")]
    captured: Option<Box<crate::explain::Captured>>,
    /// What the statement does (`get`, `find_by_email`), for the plan's log.
    #[cfg(feature = "explain")]
    name: &'static str,
}
