//! What is peculiar to each backend, one file each: opening its pool, its session settings and
//! quirks, and what its errors mean (the classification table by code, the names its errors
//! give, which of its messages can be kept). The rest of the runtime asks here instead of
//! knowing a backend's details.
//!
//! `sql.rs` makes the SQL backends one pool type and one connection type. It depends on
//! nothing else in the crate: the handle (`db.rs`) opens pools with it, `error.rs` and
//! `redacted.rs` read errors with it, `transaction.rs` and `migrate/` hold its connections.

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod lender;
pub(crate) mod mysql;
pub(crate) mod postgres;
#[cfg(feature = "rusqlite")]
pub(crate) mod rusqlite;
mod sql;
pub(crate) mod sqlite;

#[cfg(all(feature = "explain", any(feature = "postgres", feature = "mysql")))]
pub(crate) use lender::Loan;
#[cfg(feature = "rusqlite")]
pub(crate) use rusqlite::RusqliteQuery;
#[cfg(feature = "migrate")]
pub(crate) use sql::on_connection;
pub(crate) use sql::{Opened, SqlConnection, SqlPool};

use repo_core::RepoError;
use std::time::Duration;

#[cfg(feature = "mysql")]
pub(crate) use mysql::set_timeout as set_mysql_timeout;

/// What opening a transaction takes from its options.
pub(crate) struct Begin {
    pub(crate) read_only: bool,
    /// The isolation level as SQL spells it (`REPEATABLE READ`), when one is asked for.
    pub(crate) isolation: Option<&'static str>,
    pub(crate) statement_timeout: Option<Duration>,
}

/// What opening a pool takes from the handle's options.
pub(crate) struct PoolSettings {
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) min_connections: u32,
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) idle_timeout: Option<Duration>,
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) max_lifetime: Option<Duration>,
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) test_before_acquire: bool,
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) connection_hold: Duration,
    #[cfg_attr(not(any(feature = "sqlite", feature = "rusqlite")), allow(dead_code))]
    pub(crate) sqlite_synchronous: SqliteSynchronous,
    #[cfg_attr(not(feature = "rusqlite"), allow(dead_code))]
    pub(crate) sqlite_driver: SqliteDriver,
    #[cfg_attr(not(any(feature = "sqlite", feature = "rusqlite")), allow(dead_code))]
    pub(crate) sqlite_busy_timeout: Duration,
    /// Set on the servers' sessions; SQLite's is the client's, enforced by the executor.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) statement_timeout: Option<Duration>,
}

/// Which driver runs `sqlite:` databases, when both are compiled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteDriver {
    /// sqlx's SQLite driver (feature `sqlite`): each connection's statements run on a worker
    /// thread of its own.
    Sqlx,
    /// rusqlite (feature `rusqlite`): bounded statements run on the calling thread, scans on a
    /// blocking thread; one writer connection and several readers.
    Rusqlite,
}

impl Default for SqliteDriver {
    /// rusqlite when compiled in, else sqlx's driver.
    fn default() -> Self {
        if cfg!(feature = "rusqlite") {
            SqliteDriver::Rusqlite
        } else {
            SqliteDriver::Sqlx
        }
    }
}

impl std::str::FromStr for SqliteDriver {
    type Err = RepoError;

    fn from_str(text: &str) -> Result<Self, RepoError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "sqlx" => Ok(SqliteDriver::Sqlx),
            "rusqlite" => Ok(SqliteDriver::Rusqlite),
            _ => Err(RepoError::config(
                "DATABASE_SQLITE_DRIVER must be sqlx or rusqlite",
            )),
        }
    }
}

/// SQLite's `synchronous` setting: how often it waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSynchronous {
    /// Never: an operating-system crash or power loss may corrupt the database.
    Off,
    /// At checkpoints (in WAL mode): a power loss may lose the last transactions, never
    /// consistency. The default, as most applications set it in WAL mode.
    #[default]
    Normal,
    /// At every commit: durable against power loss too.
    Full,
    /// As `Full`, and the directory after a journal is deleted.
    Extra,
}

impl SqliteSynchronous {
    /// The pragma's value.
    pub const fn as_str(self) -> &'static str {
        match self {
            SqliteSynchronous::Off => "OFF",
            SqliteSynchronous::Normal => "NORMAL",
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Extra => "EXTRA",
        }
    }
}

impl std::str::FromStr for SqliteSynchronous {
    type Err = RepoError;

    fn from_str(text: &str) -> Result<Self, RepoError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(SqliteSynchronous::Off),
            "normal" => Ok(SqliteSynchronous::Normal),
            "full" => Ok(SqliteSynchronous::Full),
            "extra" => Ok(SqliteSynchronous::Extra),
            _ => Err(RepoError::config(
                "DATABASE_SQLITE_SYNCHRONOUS must be off, normal, full or extra",
            )),
        }
    }
}

impl PoolSettings {
    /// The pool settings every backend shares, on `pool`.
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    pub(crate) fn apply<DB: sqlx::Database>(
        &self,
        pool: sqlx::pool::PoolOptions<DB>,
    ) -> sqlx::pool::PoolOptions<DB> {
        pool.max_connections(self.max_connections)
            .min_connections(self.min_connections)
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
            .max_lifetime(self.max_lifetime)
            .test_before_acquire(self.test_before_acquire)
    }

    /// The shelf in front of `pool`; it keeps nothing when connections are to be tested
    /// before each use.
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    pub(crate) fn lender<DB: sqlx::Database>(&self, pool: sqlx::Pool<DB>) -> lender::Lender<DB> {
        let hold = if self.test_before_acquire {
            Duration::ZERO
        } else {
            self.connection_hold
        };
        lender::Lender::new(pool, hold)
    }
}

/// How a multi-row MySQL/MariaDB `INSERT` reports the keys it generated, decided once at
/// connect time from the server's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MySqlBatchKeys {
    /// `innodb_autoinc_lock_mode` 0 or 1 (fixed at server start) gives the rows of one plain
    /// `INSERT` consecutive keys: the first is the statement's last insert id, the rest follow
    /// by the session's `auto_increment_increment`, read once per batch.
    Consecutive,
    /// Interleaved lock mode on MariaDB 10.5+: `RETURNING` the keys.
    Returning,
    /// Interleaved lock mode on MySQL: one statement per row, still in one transaction.
    RowByRow,
}

/// How busy a pool is, for the metrics.
#[cfg(feature = "metrics")]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Occupancy {
    /// Connections running a statement or a transaction.
    pub(crate) used: u32,
    /// Connections open and free.
    pub(crate) idle: u32,
    /// The most connections the pool opens.
    pub(crate) max: u32,
    /// Statements and transactions waiting for a connection.
    pub(crate) waiting: u32,
}

/// What a backend error means, before it is attached to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Every table is compiled (and unit-tested) whichever backends are enabled.
#[cfg_attr(not(all(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) enum Kind {
    Unique,
    ForeignKey,
    NotNull,
    Check,
    Timeout,
    Transient,
    /// A write in a read-only transaction or on a read-only server or database file.
    ReadOnly,
    /// The database role lacks a privilege the statement needs.
    Privilege,
    /// The server refused the connection: its credentials, or its transport (no TLS).
    Refused,
    /// The backend refused a value it cannot store (out of range, invalid encoding, too long).
    InvalidValue,
    Other,
}

/// How the backend identified the violated unique key.
#[cfg_attr(
    not(all(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]
pub(crate) enum UniqueHint {
    Name(String),
    Columns(Vec<String>),
    None,
}

/// What a database error says, in the backend's own terms, and what of it may be kept.
pub(crate) struct Details {
    /// `postgres`, `mysql` or `sqlite`.
    pub(crate) backend: &'static str,
    /// Whether the server's message names only the statement and the schema, never a value.
    pub(crate) message_is_plain: bool,
    pub(crate) kind: Kind,
    pub(crate) code: Option<String>,
    pub(crate) constraint: Option<String>,
    pub(crate) column: Option<String>,
    pub(crate) unique: UniqueHint,
}

/// The details of `error`, by the backend it came from.
pub(crate) fn details(error: &sqlx::Error) -> Details {
    let mut details = Details {
        backend: "database",
        message_is_plain: false,
        kind: Kind::Other,
        code: None,
        constraint: None,
        column: None,
        unique: UniqueHint::None,
    };
    let Some(database) = error.as_database_error() else {
        return details;
    };
    details.code = database.code().map(|code| code.into_owned());
    details.constraint = database.constraint().map(str::to_owned);
    #[cfg(feature = "postgres")]
    if let Some(error) = database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        postgres::details(error, &mut details);
        return details;
    }
    #[cfg(feature = "mysql")]
    if let Some(error) = database.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        mysql::details(error, &mut details);
        return details;
    }
    #[cfg(feature = "sqlite")]
    if database
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        sqlite::details(database, &mut details);
        return details;
    }
    #[cfg(feature = "rusqlite")]
    if database
        .try_downcast_ref::<rusqlite::SqliteFailure>()
        .is_some()
    {
        sqlite::details(database, &mut details);
        return details;
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified_by_each_backends_table() {
        assert_eq!(postgres::classify("23505"), Kind::Unique);
        assert_eq!(postgres::classify("40P01"), Kind::Transient);
        assert_eq!(postgres::classify("08006"), Kind::Transient);
        assert_eq!(postgres::classify("08007"), Kind::Other);
        assert_eq!(postgres::classify("57014"), Kind::Timeout);
        assert_eq!(postgres::classify("42601"), Kind::Other);
        assert_eq!(postgres::classify("25006"), Kind::ReadOnly);
        assert_eq!(postgres::classify("42501"), Kind::Privilege);
        assert_eq!(postgres::classify("28000"), Kind::Refused);
        assert_eq!(mysql::classify(1045), Kind::Refused);
        assert_eq!(mysql::classify(1792), Kind::ReadOnly);
        assert_eq!(mysql::classify(1142), Kind::Privilege);
        assert_eq!(sqlite::classify("8"), Kind::ReadOnly);
        assert_eq!(mysql::classify(1062), Kind::Unique);
        assert_eq!(mysql::classify(1213), Kind::Transient);
        assert_eq!(mysql::classify(1452), Kind::ForeignKey);
        assert_eq!(sqlite::classify("2067"), Kind::Unique);
        assert_eq!(sqlite::classify("517"), Kind::Transient);
        assert_eq!(sqlite::classify("1299"), Kind::NotNull);
        assert_eq!(sqlite::classify("20"), Kind::InvalidValue);
    }

    #[test]
    fn a_message_is_kept_only_for_errors_about_the_statement() {
        assert!(postgres::message_is_plain("42P01"));
        assert!(!postgres::message_is_plain("23505"));
        assert!(!postgres::message_is_plain("22021"));
        assert!(mysql::message_is_plain(1146));
        assert!(!mysql::message_is_plain(1062));
        assert!(sqlite::message_is_plain("2067"));
        assert!(!sqlite::message_is_plain("5"));
    }
}
