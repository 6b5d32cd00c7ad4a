//! [`TxOptions`]: isolation, read-only, retry and statement timeout of one transaction, and
//! the statements that begin a transaction with them on each dialect.

use repo_sql::Dialect;
use std::time::Duration;

use crate::backend::{self, Begin};
use crate::retry::RetryPolicy;

/// SQL isolation level of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isolation {
    /// `READ UNCOMMITTED`.
    ReadUncommitted,
    /// `READ COMMITTED` (PostgreSQL's default).
    ReadCommitted,
    /// `REPEATABLE READ` (MySQL's default).
    RepeatableRead,
    /// `SERIALIZABLE` (SQLite's only level).
    Serializable,
}

impl Isolation {
    fn sql(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "READ UNCOMMITTED",
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

/// Options of one transaction.
///
/// SQLite transactions are always serializable, whatever `isolation` says; they start with
/// `BEGIN IMMEDIATE` (taking the write lock up front, so concurrent writers wait for each other
/// within the busy timeout instead of failing), or `BEGIN DEFERRED` when read-only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxOptions {
    /// The isolation level; the server's default when `None`.
    pub isolation: Option<Isolation>,
    /// Whether the transaction only reads.
    pub read_only: bool,
    /// How [`Db::transaction_with`](crate::Db::transaction_with) retries transient failures; the `Db`'s policy when `None`.
    pub retry: Option<RetryPolicy>,
    /// Statement timeout inside this transaction, over the `Db`'s
    /// [`statement_timeout`](crate::DbOptions::statement_timeout).
    pub statement_timeout: Option<Duration>,
}

impl TxOptions {
    /// The defaults: server isolation, read-write, the `Db`'s retry policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the isolation level.
    pub fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = Some(isolation);
        self
    }

    /// Makes the transaction read-only.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Sets the statement timeout inside this transaction.
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }
}

/// The statements that open a transaction with `options` in `dialect`: each backend spells
/// isolation, read-only and a transaction's own timeout its way.
pub(crate) fn begin_statements(dialect: Dialect, options: &TxOptions) -> Vec<String> {
    let begin = Begin {
        read_only: options.read_only,
        isolation: options.isolation.map(Isolation::sql),
        statement_timeout: options.statement_timeout,
    };
    match dialect {
        Dialect::Sqlite => backend::sqlite::begin(&begin),
        Dialect::Postgres => backend::postgres::begin(&begin),
        Dialect::MySql => backend::mysql::begin(&begin),
    }
}
