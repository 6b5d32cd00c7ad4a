//! SQLite through rusqlite (feature `rusqlite`): the connections of one database file, and how
//! a statement runs on one.
//!
//! One writer and several readers: every write and every read-write transaction takes the one
//! writer connection (callers queue for it here, asynchronously, instead of blocking a thread
//! on SQLite's busy timeout), reads outside a transaction take any reader (WAL lets them run
//! beside the writer). An in-memory database is one connection, the writer.
//!
//! Where a statement runs is decided from the statement: a bounded one (by key, a single row
//! written) runs on the calling thread, which is cheaper than any hand-off; a read that may scan
//! starts there within a budget, past which it moves to a blocking thread (`block_in_place` on a
//! multi-thread runtime, which keeps decoding rows where they are; `spawn_blocking` on a
//! current-thread runtime, with owned rows); a write that may touch many rows goes to a blocking
//! thread at once.
//!
//! SQLite's errors become `sqlx::Error::Database` through [`SqliteFailure`], so that the
//! classification by extended code in `sqlite.rs` is the one both drivers share.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{PoolSettings, SqliteSynchronous};
use crate::error::{FromSqlx, RepoError};
use crate::schema::Table;

/// Prepared statements kept per connection: every entity's statements, a few shapes each.
const STATEMENT_CACHE: usize = 256;

/// How long a read that may scan runs on the calling thread: most reads end well within it. Past
/// it, on a multi-thread runtime, the rest of the rows are read in `block_in_place`, where they
/// are; on a current-thread runtime the read starts again on a blocking thread. No other task on
/// the thread waits longer than this for one (or for SQLite to find a first row).
const INLINE_BUDGET: Duration = Duration::from_micros(200);

/// Rows decoded on a current-thread runtime between two yields to its other tasks (about a
/// hundred microseconds of decoding).
const DECODED_BETWEEN_YIELDS: usize = 512;

/// The connections of one SQLite database.
#[derive(Clone)]
pub(crate) struct RusqlitePool {
    shared: Arc<Shared>,
}

struct Shared {
    target: Target,
    synchronous: SqliteSynchronous,
    busy_timeout: Duration,
    acquire_timeout: Duration,
    writer: Slots,
    /// `None` for an in-memory database: its one connection is the writer.
    readers: Option<Slots>,
}

/// What a connection opens.
enum Target {
    File { path: PathBuf, flags: OpenFlags },
    Memory,
}

/// Connections of one role: the idle ones, and a permit for each that may be open.
struct Slots {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    /// How many connections the slots allow.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    size: usize,
}

impl Slots {
    fn new(size: usize) -> Slots {
        Slots {
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size)),
            size,
        }
    }
}

/// Which connections a statement or session may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Writer,
    Reader,
}

/// A connection taken from a [`RusqlitePool`]; it goes back when dropped, rolled back first if
/// it was left inside a transaction, or is closed when discarded.
pub(crate) struct Lease {
    connection: Option<Connection>,
    shared: Arc<Shared>,
    role: Role,
    discard: bool,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Lease {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.connection
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        let mut clean = !self.discard;
        if !connection.is_autocommit() {
            // Left inside a transaction (cancelled, dropped): undo it, or close the connection.
            clean = connection.execute_batch("ROLLBACK").is_ok() && clean;
        }
        // An in-memory database lives in its one connection: it is never closed.
        if clean || matches!(self.shared.target, Target::Memory) {
            let slots = match self.role {
                Role::Writer => &self.shared.writer,
                Role::Reader => self.shared.readers.as_ref().unwrap_or(&self.shared.writer),
            };
            if let Ok(mut idle) = slots.idle.lock() {
                idle.push(connection);
            }
        }
    }
}

impl Lease {
    /// Makes the connection close instead of going back, when its session state may not have
    /// been reset.
    pub(crate) fn discard(&mut self) {
        self.discard = true;
    }
}

/// A database error of SQLite's, as sqlx reports one: its extended result code and message.
#[derive(Debug)]
pub(crate) struct SqliteFailure {
    code: String,
    message: String,
}

impl std::fmt::Display for SqliteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteFailure {}

impl sqlx::error::DatabaseError for SqliteFailure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(std::borrow::Cow::Borrowed(&self.code))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use super::Kind;
        match super::sqlite::classify(&self.code) {
            Kind::Unique => sqlx::error::ErrorKind::UniqueViolation,
            Kind::ForeignKey => sqlx::error::ErrorKind::ForeignKeyViolation,
            Kind::NotNull => sqlx::error::ErrorKind::NotNullViolation,
            Kind::Check => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

/// SQLITE_BUSY, as SQLite reports a write lock it waited for in vain.
fn busy() -> sqlx::Error {
    sqlx::Error::Database(Box::new(SqliteFailure {
        code: String::from("5"),
        message: String::from("database is locked"),
    }))
}

/// A rusqlite error as the rest of the runtime reads errors.
pub(crate) fn to_sqlx(error: rusqlite::Error) -> sqlx::Error {
    match error {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let message = message.unwrap_or_else(|| failure.to_string());
            sqlx::Error::Database(Box::new(SqliteFailure {
                code: failure.extended_code.to_string(),
                message,
            }))
        }
        rusqlite::Error::FromSqlConversionFailure(_, _, source) => sqlx::Error::Decode(source),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// Opens the connections of the SQLite database at `url` (`sqlite://path`, `sqlite:path`,
/// `sqlite::memory:`, with sqlx's `mode` parameter): the writer at once, so that a bad path
/// fails here, readers when first needed.
pub(crate) async fn connect(
    url: &str,
    settings: &PoolSettings,
) -> Result<RusqlitePool, sqlx::Error> {
    let target = target_of(url)?;
    // The writer is one of `max_connections`; with one, reads share it.
    let readers = match target {
        Target::Memory => None,
        Target::File { .. } if settings.max_connections <= 1 => None,
        Target::File { .. } => Some(Slots::new(settings.max_connections as usize - 1)),
    };
    let pool = RusqlitePool {
        shared: Arc::new(Shared {
            target,
            synchronous: settings.sqlite_synchronous,
            busy_timeout: settings.sqlite_busy_timeout,
            acquire_timeout: settings.acquire_timeout,
            writer: Slots::new(1),
            readers,
        }),
    };
    let writer = pool.open().map_err(to_sqlx)?;
    pool.shared
        .writer
        .idle
        .lock()
        .map_err(|_| sqlx::Error::PoolClosed)?
        .push(writer);
    if let Some(readers) = &pool.shared.readers {
        // The connections kept open from the start: the writer, and readers for the rest.
        let wanted = settings
            .min_connections
            .min(settings.max_connections)
            .saturating_sub(1);
        let mut opened = Vec::new();
        for _ in 0..wanted {
            opened.push(pool.open().map_err(to_sqlx)?);
        }
        readers
            .idle
            .lock()
            .map_err(|_| sqlx::Error::PoolClosed)?
            .extend(opened);
    }
    Ok(pool)
}

fn target_of(url: &str) -> Result<Target, sqlx::Error> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| sqlx::Error::Configuration("not a sqlite: URL".into()))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        match (key, value) {
            ("mode", "memory") => return Ok(Target::Memory),
            ("mode", "ro") => flags = OpenFlags::SQLITE_OPEN_READ_ONLY,
            ("mode", "rw") => flags.remove(OpenFlags::SQLITE_OPEN_CREATE),
            ("mode", "rwc") => {}
            _ => {
                return Err(sqlx::Error::Configuration(
                    format!("unsupported SQLite URL parameter `{key}`").into(),
                ));
            }
        }
    }
    if path == ":memory:" || path.is_empty() {
        return Ok(Target::Memory);
    }
    Ok(Target::File {
        path: PathBuf::from(path),
        flags: flags | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    })
}

impl RusqlitePool {
    /// A new connection, set up as every connection of the database is.
    fn open(&self) -> Result<Connection, rusqlite::Error> {
        let shared = &self.shared;
        let connection = match &shared.target {
            Target::File { path, flags } => Connection::open_with_flags(path, *flags)?,
            Target::Memory => Connection::open_in_memory()?,
        };
        connection.busy_timeout(shared.busy_timeout)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        connection.execute_batch("PRAGMA foreign_keys = ON")?;
        if let Target::File { flags, .. } = &shared.target
            && !flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY)
        {
            connection.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}",
                shared.synchronous.as_str()
            ))?;
        }
        Ok(connection)
    }

    /// A connection of `role` (the writer for an in-memory database). A reader is waited for
    /// up to the acquire timeout; the writer up to the busy timeout, since waiting for it is
    /// waiting for SQLite's write lock, and past it the database is busy, as SQLite reports it.
    pub(crate) async fn acquire(&self, role: Role) -> Result<Lease, sqlx::Error> {
        let shared = &self.shared;
        let (slots, taken) = match (role, &shared.readers) {
            (Role::Reader, Some(readers)) => (readers, Role::Reader),
            _ => (&shared.writer, Role::Writer),
        };
        let permit = match slots.permits.clone().try_acquire_owned() {
            // Taken without waiting: the common case pays for no timer.
            Ok(permit) => permit,
            Err(_) => {
                let waiting = slots.permits.clone().acquire_owned();
                let limit = match role {
                    Role::Writer => shared.busy_timeout.min(shared.acquire_timeout),
                    Role::Reader => shared.acquire_timeout,
                };
                match tokio::time::timeout(limit, waiting).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) => return Err(sqlx::Error::PoolClosed),
                    Err(_) if role == Role::Writer => return Err(busy()),
                    Err(_) => return Err(sqlx::Error::PoolTimedOut),
                }
            }
        };
        let idle = slots
            .idle
            .lock()
            .map_err(|_| sqlx::Error::PoolClosed)?
            .pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open().map_err(to_sqlx)?,
        };
        Ok(Lease {
            connection: Some(connection),
            shared: shared.clone(),
            role: taken,
            discard: false,
            _permit: permit,
        })
    }

    /// Whether every connection of the writer is in use, so a writer queues for it.
    pub(crate) fn is_exhausted(&self) -> bool {
        self.shared.writer.permits.available_permits() == 0
    }

    /// Connections in use, connections open and idle, and the most there may be.
    #[cfg(feature = "metrics")]
    pub(crate) fn occupancy(&self) -> super::Occupancy {
        let shared = &self.shared;
        let mut occupancy = super::Occupancy::default();
        for slots in std::iter::once(&shared.writer).chain(shared.readers.as_ref()) {
            let size = u32::try_from(slots.size).unwrap_or(u32::MAX);
            let free = u32::try_from(slots.permits.available_permits()).unwrap_or(u32::MAX);
            occupancy.used += size.saturating_sub(free);
            occupancy.idle += slots.idle.lock().map_or(0, |idle| idle.len() as u32);
            occupancy.max += size;
        }
        occupancy
    }

    /// Closes the idle connections and refuses new statements.
    pub(crate) fn close(&self) {
        let shared = &self.shared;
        for slots in std::iter::once(&shared.writer).chain(shared.readers.as_ref()) {
            slots.permits.close();
            if let Ok(mut idle) = slots.idle.lock() {
                idle.clear();
            }
        }
    }
}

/// How long a read may run on the calling thread, and what happens past it.
struct Budget {
    limit: Duration,
    /// On a multi-thread runtime: past the budget, the rest of the rows are read in
    /// `block_in_place`, where they are. Else the read stops, to start again elsewhere.
    in_place: bool,
    /// Set when the read stopped for the budget.
    spent: Arc<AtomicBool>,
    /// Set once the first row is read: from then on the rows are counted against the budget
    /// between rows, not by interrupting SQLite.
    stepping: Arc<AtomicBool>,
}

/// Rows read between two looks at the clock.
const ROWS_BETWEEN_CLOCKS: u64 = 64;

/// A statement for rusqlite: its text and the values bound to it, in order.
pub(crate) struct RusqliteQuery {
    pub(crate) sql: sqlx::SqlStr,
    pub(crate) values: Vec<Value>,
    /// The statement timeout the client enforces: SQLite stops the statement past it.
    pub(crate) timeout: Option<Duration>,
    /// While it runs on the calling thread, how long it may.
    budget: Option<Budget>,
    /// Whether its rows keep the names of their columns: a hand-written statement's, read by
    /// name.
    pub(crate) names: bool,
}

impl RusqliteQuery {
    /// Which connections may run it: readers for a read, the writer for anything else.
    fn role(&self) -> Role {
        let text = self.sql.as_str().trim_start().as_bytes();
        let read = ["SELECT", "WITH", "VALUES"].iter().any(|keyword| {
            text.len() >= keyword.len()
                && text[..keyword.len()].eq_ignore_ascii_case(keyword.as_bytes())
        });
        if read { Role::Reader } else { Role::Writer }
    }

    /// A statement for rusqlite of `sql`, its values bound after.
    pub(crate) fn new(sql: sqlx::SqlStr) -> RusqliteQuery {
        RusqliteQuery {
            sql,
            values: Vec::new(),
            timeout: None,
            budget: None,
            names: false,
        }
    }

    /// Makes SQLite interrupt the statement on `connection` past its timeout, or past its
    /// budget before its first row (`SQLITE_INTERRUPT`), checked every thousand virtual-machine
    /// steps, until the returned guard is dropped; nothing when it has neither.
    fn limit<'c>(&self, connection: &'c Connection) -> rusqlite::Result<Option<Limit<'c>>> {
        use std::time::Instant;
        if self.timeout.is_none() && self.budget.is_none() {
            return Ok(None);
        }
        let now = Instant::now();
        let deadline = self.timeout.map(|timeout| now + timeout);
        let budget = self.budget.as_ref().map(|budget| {
            (
                now + budget.limit,
                budget.spent.clone(),
                budget.stepping.clone(),
            )
        });
        connection.progress_handler(
            1_000,
            Some(move || {
                let now = Instant::now();
                if deadline.is_some_and(|deadline| now > deadline) {
                    return true;
                }
                match &budget {
                    Some((end, spent, stepping))
                        if now > *end && !stepping.load(Ordering::Relaxed) =>
                    {
                        spent.store(true, Ordering::Relaxed);
                        true
                    }
                    _ => false,
                }
            }),
        )?;
        Ok(Some(Limit(connection)))
    }

    /// Gives the statement `limit` on the calling thread; past it, the rest is read `in_place`
    /// or the read stops.
    fn within(&mut self, limit: Duration, in_place: bool) {
        self.budget = Some(Budget {
            limit,
            in_place,
            spent: Arc::default(),
            stepping: Arc::default(),
        });
    }

    /// Whether the statement was stopped for its budget, which is then lifted.
    fn over_budget(&mut self) -> bool {
        self.budget
            .take()
            .is_some_and(|budget| budget.spent.load(Ordering::Relaxed))
    }

    /// Hands `take` every row of `rows`, counting them against the statement's budget: past it,
    /// the rest are read in `block_in_place`, or the read stops as interrupted.
    fn step<E>(
        &self,
        rows: &mut rusqlite::Rows<'_>,
        take: &mut dyn FnMut(&rusqlite::Row<'_>) -> Result<(), E>,
    ) -> Result<u64, Failed<E>> {
        let mut taken = 0;
        let Some(budget) = &self.budget else {
            while let Some(row) = rows.next().map_err(Failed::Sqlite)? {
                take(row).map_err(Failed::Taker)?;
                taken += 1;
            }
            return Ok(taken);
        };
        let started = std::time::Instant::now();
        while let Some(row) = rows.next().map_err(Failed::Sqlite)? {
            budget.stepping.store(true, Ordering::Relaxed);
            take(row).map_err(Failed::Taker)?;
            taken += 1;
            if taken % ROWS_BETWEEN_CLOCKS == 0 && started.elapsed() > budget.limit {
                if !budget.in_place {
                    budget.spent.store(true, Ordering::Relaxed);
                    return Err(Failed::Sqlite(interrupted()));
                }
                return tokio::task::block_in_place(|| {
                    while let Some(row) = rows.next().map_err(Failed::Sqlite)? {
                        take(row).map_err(Failed::Taker)?;
                        taken += 1;
                    }
                    Ok(taken)
                });
            }
        }
        Ok(taken)
    }

    /// The statement prepared (from the connection's cache) with its values bound.
    fn prepare<'c>(
        &self,
        connection: &'c Connection,
    ) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
        let mut statement = connection.prepare_cached(self.sql.as_str())?;
        for (index, value) in self.values.iter().enumerate() {
            statement.raw_bind_parameter(index + 1, value)?;
        }
        Ok(statement)
    }
}

/// A statement's deadline on its connection, lifted when dropped.
struct Limit<'c>(&'c Connection);

impl Drop for Limit<'_> {
    fn drop(&mut self) {
        let _ = self.0.progress_handler(0, None::<fn() -> bool>);
    }
}

/// A row read into values of its own: what crosses threads, and what a read keeps before it
/// is decoded; with the names of its columns, shared by the rows of one statement, when the
/// statement asked for them (a hand-written one, read by name).
pub(crate) struct RusqliteRow {
    pub(crate) values: Vec<Value>,
    pub(crate) names: Option<Arc<[String]>>,
}

impl RusqliteRow {
    pub(crate) fn value(&self, index: usize) -> Option<ValueRef<'_>> {
        self.values.get(index).map(ValueRef::from)
    }

    /// The `width` columns of the row SQLite stepped to, copied.
    fn read(
        row: &rusqlite::Row<'_>,
        width: usize,
        names: Option<&Arc<[String]>>,
    ) -> rusqlite::Result<RusqliteRow> {
        let mut values = Vec::with_capacity(width);
        for index in 0..width {
            values.push(owned(row.get_ref(index)?));
        }
        Ok(RusqliteRow {
            values,
            names: names.cloned(),
        })
    }
}

/// A value of SQLite's, copied; text that is not UTF-8 is kept as the bytes it is.
fn owned(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(integer) => Value::Integer(integer),
        ValueRef::Real(real) => Value::Real(real),
        ValueRef::Text(bytes) => match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Value::Text(text),
            Err(error) => Value::Blob(error.into_bytes()),
        },
        ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
    }
}

fn names_of(statement: &rusqlite::Statement<'_>) -> Arc<[String]> {
    statement
        .column_names()
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Reads the rows of `query` into owned values, only the first when `first`.
pub(crate) fn fetch(
    connection: &Connection,
    query: &RusqliteQuery,
    first: bool,
) -> rusqlite::Result<Vec<RusqliteRow>> {
    let _limit = query.limit(connection)?;
    let mut statement = query.prepare(connection)?;
    let width = statement.column_count();
    let names = query.names.then(|| names_of(&statement));
    let mut rows = statement.raw_query();
    let mut read = Vec::new();
    if first {
        if let Some(row) = rows.next()? {
            read.push(RusqliteRow::read(row, width, names.as_ref())?);
        }
        return Ok(read);
    }
    let stepped = query.step(&mut rows, &mut |row| {
        read.push(RusqliteRow::read(row, width, names.as_ref())?);
        Ok(())
    });
    match stepped {
        Ok(_) => Ok(read),
        Err(Failed::Sqlite(error) | Failed::Taker(error)) => Err(error),
    }
}

/// Hands `take` each row of `query` as SQLite steps to it; the count of rows taken.
pub(crate) fn for_each<E>(
    connection: &Connection,
    query: &RusqliteQuery,
    take: &mut dyn FnMut(&rusqlite::Row<'_>) -> Result<(), E>,
) -> Result<u64, Failed<E>> {
    let _limit = query.limit(connection).map_err(Failed::Sqlite)?;
    let mut statement = query.prepare(connection).map_err(Failed::Sqlite)?;
    let mut rows = statement.raw_query();
    query.step(&mut rows, take)
}

/// What a read stopped for its budget reports: SQLite's interruption.
fn interrupted() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERRUPT),
        Some(String::from("interrupted")),
    )
}

/// What stopped [`for_each`]: SQLite, or the one taking the rows.
pub(crate) enum Failed<E> {
    Sqlite(rusqlite::Error),
    Taker(E),
}

/// Runs `query` to its end (rows, if it returns any, are stepped over); the rows changed and
/// the last rowid inserted.
pub(crate) fn execute(
    connection: &Connection,
    query: &RusqliteQuery,
) -> rusqlite::Result<(u64, i64)> {
    let _limit = query.limit(connection)?;
    let mut statement = query.prepare(connection)?;
    let mut rows = statement.raw_query();
    while rows.next()?.is_some() {}
    drop(rows);
    Ok((connection.changes(), connection.last_insert_rowid()))
}

/// The connection of a session (a transaction, a migration run): out of it only while one of
/// its statements runs on a blocking thread, and lost if that statement's caller gave up.
/// Boxed: a connection with its statement cache is larger than the servers' pooled ones.
pub(crate) struct SessionConnection(Option<Box<Lease>>);

impl SessionConnection {
    pub(crate) fn new(lease: Lease) -> SessionConnection {
        SessionConnection(Some(Box::new(lease)))
    }

    fn lease(&mut self) -> Result<&mut Lease, sqlx::Error> {
        self.0.as_deref_mut().ok_or_else(lost)
    }

    /// The connection, for statements of the runtime's own and hand-written ones.
    pub(crate) fn connection(&mut self) -> Result<&Connection, sqlx::Error> {
        self.lease().map(|lease| &**lease)
    }

    pub(crate) fn discard(&mut self) {
        if let Some(lease) = &mut self.0 {
            lease.discard();
        }
    }

    /// Runs statements of the runtime's own (`BEGIN`, `COMMIT`, a migration's script).
    pub(crate) fn script(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        self.connection()?.execute_batch(sql).map_err(to_sqlx)
    }
}

/// The rows of a statement of the runtime's own (a catalog read, the migrations' history),
/// each read by `read`.
#[cfg(feature = "migrate")]
pub(crate) fn own_rows<T>(
    session: &mut SessionConnection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, sqlx::Error> {
    let connection = session.connection()?;
    let mut statement = connection.prepare_cached(sql).map_err(to_sqlx)?;
    let rows = statement.query_map(params, read).map_err(to_sqlx)?;
    rows.collect::<rusqlite::Result<Vec<T>>>().map_err(to_sqlx)
}

/// Runs a statement of the runtime's own that returns no rows.
#[cfg(feature = "migrate")]
pub(crate) fn own_execute(
    session: &mut SessionConnection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<(), sqlx::Error> {
    let connection = session.connection()?;
    connection.execute(sql, params).map(drop).map_err(to_sqlx)
}

/// The `detail` lines of `EXPLAIN QUERY PLAN` text `sql`, with `values` bound.
#[cfg(feature = "explain")]
pub(crate) fn explain(
    session: &mut SessionConnection,
    sql: &str,
    values: &[Value],
) -> Result<Vec<String>, sqlx::Error> {
    let connection = session.connection()?;
    let mut statement = connection.prepare(sql).map_err(to_sqlx)?;
    for (index, value) in values.iter().enumerate() {
        statement
            .raw_bind_parameter(index + 1, value)
            .map_err(to_sqlx)?;
    }
    let mut rows = statement.raw_query();
    let mut details = Vec::new();
    while let Some(row) = rows.next().map_err(to_sqlx)? {
        details.push(row.get::<_, String>(3).map_err(to_sqlx)?);
    }
    Ok(details)
}

/// A session whose connection went with a cancelled statement: transient, as a connection
/// lost to the network is on a server.
fn lost() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "the session's connection was lost: a statement of it was cancelled while it ran",
    ))
}

/// Where a statement runs: a connection of the pool, or the session's.
pub(crate) enum Place<'a> {
    Pool(&'a RusqlitePool),
    Session(&'a mut SessionConnection),
}

/// On which thread a statement runs.
enum Thread {
    /// The caller's: bounded statements, and wherever no runtime is.
    Calling,
    /// The caller's, turned into a blocking thread (`block_in_place`) on a multi-thread runtime.
    InPlace,
    /// One of the runtime's blocking threads, on a current-thread runtime.
    Blocking,
}

fn thread_for(bounded: bool) -> Thread {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if bounded {
        return Thread::Calling;
    }
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => Thread::InPlace,
        Ok(_) => Thread::Blocking,
        Err(_) => Thread::Calling,
    }
}

/// Interrupts the statement of a connection when dropped armed: the caller stopped waiting.
struct InterruptOnDrop(Option<rusqlite::InterruptHandle>);

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.interrupt();
        }
    }
}

impl<'a> Place<'a> {
    /// The connection a statement of `role` runs on: a lease of the pool's, or the session's.
    async fn hold(self, role: Role) -> Result<Held<'a>, sqlx::Error> {
        match self {
            Place::Pool(pool) => pool.acquire(role).await.map(Held::Lease),
            Place::Session(session) => Ok(Held::Session(session)),
        }
    }

    /// Runs `work` with `query` on a connection of the right role: on the calling thread when
    /// `bounded`; else a read starts there within [`INLINE_BUDGET`] and, past it, goes on in
    /// `block_in_place` (multi-thread runtime) or runs again on a blocking thread, where
    /// anything else runs at once. Cancelling the caller interrupts a statement running on a
    /// blocking thread; its connection then goes back to the pool (a session's is lost, and the
    /// session fails).
    pub(crate) async fn run<T: Send + 'static>(
        self,
        mut query: RusqliteQuery,
        bounded: bool,
        work: fn(&Connection, &RusqliteQuery) -> rusqlite::Result<T>,
    ) -> Result<T, sqlx::Error> {
        let thread = thread_for(bounded);
        let role = query.role();
        let mut held = self.hold(role).await?;
        let connection = held.connection()?;
        if let Thread::Calling = thread {
            return work(connection, &query).map_err(to_sqlx);
        }
        if role == Role::Reader {
            query.within(INLINE_BUDGET, matches!(thread, Thread::InPlace));
            let ran = work(connection, &query);
            if !query.over_budget() {
                return ran.map_err(to_sqlx);
            }
        }
        if let Thread::InPlace = thread {
            return tokio::task::block_in_place(|| work(connection, &query)).map_err(to_sqlx);
        }
        held.on_blocking_thread(move |connection| work(connection, &query))
            .await?
            .map_err(to_sqlx)
    }

    /// Hands `sink` each row of `query` where it is read: on the calling thread when `bounded`;
    /// else a read starts there within [`INLINE_BUDGET`] and, past it, goes on in
    /// `block_in_place` on a multi-thread runtime, or starts again (the sink restarted) on a
    /// blocking thread on a current-thread runtime, whose rows are handed over owned. Errors of
    /// `table`.
    pub(crate) async fn for_each(
        self,
        table: &'static Table,
        mut query: RusqliteQuery,
        bounded: bool,
        sink: &mut dyn crate::stream::RowSink,
    ) -> Result<u64, RepoError> {
        let failed = |error| RepoError::from_sqlx(error, Some(table));
        let stopped = |stopped| match stopped {
            Failed::Sqlite(error) => failed(to_sqlx(error)),
            Failed::Taker(error) => error,
        };
        let thread = thread_for(bounded);
        let role = query.role();
        let mut held = self.hold(role).await.map_err(failed)?;
        let connection = held.connection().map_err(failed)?;
        if let Thread::Calling = thread {
            return for_each(connection, &query, &mut |row| sink.take_rusqlite(row))
                .map_err(stopped);
        }
        if role == Role::Reader {
            query.within(INLINE_BUDGET, matches!(thread, Thread::InPlace));
            let ran = for_each(connection, &query, &mut |row| sink.take_rusqlite(row));
            if !query.over_budget() {
                return ran.map_err(stopped);
            }
            sink.restart();
        }
        if let Thread::InPlace = thread {
            return tokio::task::block_in_place(|| {
                for_each(connection, &query, &mut |row| sink.take_rusqlite(row))
            })
            .map_err(stopped);
        }
        let rows = held
            .on_blocking_thread(move |connection| fetch(connection, &query, false))
            .await
            .map_err(failed)?
            .map_err(|error| failed(to_sqlx(error)))?;
        let count = rows.len() as u64;
        for (index, row) in rows.into_iter().enumerate() {
            sink.take(crate::stream::RawRow::Rusqlite(row))?;
            // Decoding is the runtime thread's work here: let other tasks in between.
            if index % DECODED_BETWEEN_YIELDS == DECODED_BETWEEN_YIELDS - 1 {
                tokio::task::yield_now().await;
            }
        }
        Ok(count)
    }

    /// Sends each row of `query`, owned, through `sender` from a blocking thread as SQLite
    /// steps to it, so that no more rows are held than the channel's bound; stops when the
    /// receiver is gone. The count of rows sent.
    pub(crate) async fn send(
        self,
        table: &'static Table,
        query: RusqliteQuery,
        sender: &crate::stream::Sender,
    ) -> Result<u64, RepoError> {
        let failed = |error| RepoError::from_sqlx(error, Some(table));
        let held = self.hold(query.role()).await.map_err(failed)?;
        let sender = sender.clone();
        let sent = held
            .on_blocking_thread(move |connection| {
                let (mut sent, mut gone) = (0, false);
                let stepped = for_each(connection, &query, &mut |row| {
                    let width = row.as_ref().column_count();
                    let row = RusqliteRow::read(row, width, None)
                        .map_err(|error| failed(to_sqlx(error)))?;
                    let row = crate::stream::RawRow::Rusqlite(row);
                    if sender.blocking_send(Ok(row)).is_err() {
                        gone = true;
                        return Err(RepoError::config("the stream's receiver is gone"));
                    }
                    sent += 1;
                    Ok(())
                });
                match stepped {
                    // The consumer stopped reading, which is no failure.
                    Err(Failed::Taker(_)) if gone => Ok(sent),
                    other => other,
                }
            })
            .await
            .map_err(failed)?;
        sent.map_err(|stopped| match stopped {
            Failed::Sqlite(error) => failed(to_sqlx(error)),
            Failed::Taker(error) => error,
        })
    }
}

/// The connection one statement runs on: a lease of the pool's, or a session's.
// On the stack for one statement: boxing the lease would cost an allocation per statement.
#[allow(clippy::large_enum_variant)]
enum Held<'a> {
    Lease(Lease),
    Session(&'a mut SessionConnection),
}

impl Held<'_> {
    fn connection(&mut self) -> Result<&Connection, sqlx::Error> {
        match self {
            Held::Lease(lease) => Ok(lease),
            Held::Session(session) => session.connection(),
        }
    }

    /// Runs `work` on a blocking thread with the connection, which a session gets back with the
    /// result; the statement is interrupted if the caller stops waiting (a session's connection
    /// is then lost with it).
    async fn on_blocking_thread<T: Send + 'static>(
        self,
        work: impl FnOnce(&Connection) -> T + Send + 'static,
    ) -> Result<T, sqlx::Error> {
        let (lease, session) = match self {
            Held::Lease(lease) => (lease, None),
            Held::Session(session) => (*session.0.take().ok_or_else(lost)?, Some(session)),
        };
        let mut interrupt = InterruptOnDrop(Some(lease.get_interrupt_handle()));
        let ran = tokio::task::spawn_blocking(move || {
            let result = work(&lease);
            (lease, result)
        })
        .await;
        interrupt.0 = None;
        let (lease, result) = ran.map_err(|_| sqlx::Error::WorkerCrashed)?;
        if let Some(session) = session {
            session.0 = Some(Box::new(lease));
        }
        Ok(result)
    }
}
