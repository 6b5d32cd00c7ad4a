//! [`RepoError`]: everything a repository call can fail with, in a crate of its own so that a
//! domain crate can name it in its repository ports without depending on a database driver.
//!
//! Messages name the entity, the field and the constraint, never a bound value. The backend's
//! own error is kept as the `source`, with what could quote a value removed (the runtime keeps
//! its code and the names it gave), so `Display`, `Debug` and the `source()` chain are all safe
//! to log.

/// The backend's own error, kept as the source of a [`RepoError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The `entity` of an error that arose outside any entity (opening a transaction, a statement
/// of one's own); [`RepoError::entity`] reports it as `None`. The runtime names the entity
/// afterwards where it learns it.
#[doc(hidden)]
pub const NO_ENTITY: &str = "database";

/// The kind of a [`RepoError`], one per variant: what logs and metrics record of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`RepoError::NotFound`]
    NotFound,
    /// [`RepoError::Conflict`]
    Conflict,
    /// [`RepoError::ForeignKey`]
    ForeignKey,
    /// [`RepoError::NotNull`]
    NotNull,
    /// [`RepoError::Check`]
    Check,
    /// [`RepoError::StaleVersion`]
    StaleVersion,
    /// [`RepoError::Timeout`]
    Timeout,
    /// [`RepoError::PoolTimeout`]
    PoolTimeout,
    /// [`RepoError::Transient`]
    Transient,
    /// [`RepoError::InvalidInput`]
    InvalidInput,
    /// [`RepoError::Decode`]
    Decode,
    /// [`RepoError::Config`]
    Config,
    /// [`RepoError::Migration`]
    Migration,
    /// [`RepoError::TransactionFinished`]
    TransactionFinished,
    /// [`RepoError::TransactionAborted`]
    TransactionAborted,
    /// [`RepoError::CommitUnknown`]
    CommitUnknown,
    /// [`RepoError::Forbidden`]
    Forbidden,
    /// [`RepoError::Database`]
    Database,
}

impl ErrorKind {
    /// The kind in snake case, as logs and metrics label it: `not_found`, `conflict`, ...
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::ForeignKey => "foreign_key",
            ErrorKind::NotNull => "not_null",
            ErrorKind::Check => "check",
            ErrorKind::StaleVersion => "stale_version",
            ErrorKind::Timeout => "timeout",
            ErrorKind::PoolTimeout => "pool_timeout",
            ErrorKind::Transient => "transient",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Decode => "decode",
            ErrorKind::Config => "config",
            ErrorKind::Migration => "migration",
            ErrorKind::TransactionFinished => "transaction_finished",
            ErrorKind::TransactionAborted => "transaction_aborted",
            ErrorKind::CommitUnknown => "commit_unknown",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Database => "database",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `entity` field of the variants that have one, borrowed as `$error` is.
macro_rules! entity_field {
    ($error:expr) => {
        match $error {
            RepoError::NotFound { entity }
            | RepoError::StaleVersion { entity, .. }
            | RepoError::Conflict { entity, .. }
            | RepoError::ForeignKey { entity, .. }
            | RepoError::NotNull { entity, .. }
            | RepoError::Check { entity, .. }
            | RepoError::Timeout { entity, .. }
            | RepoError::Transient { entity, .. }
            | RepoError::Forbidden { entity, .. }
            | RepoError::InvalidInput { entity, .. }
            | RepoError::Decode { entity, .. }
            | RepoError::Database { entity, .. } => Some(entity),
            _ => None,
        }
    };
}

/// Everything a repository call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// No row has the requested key.
    #[error("{entity} not found")]
    NotFound {
        /// The entity looked up.
        entity: &'static str,
    },
    /// Optimistic locking: the row was written by someone else since it was read (its
    /// version moved on), so this write was refused and wrote nothing. Read it again, decide,
    /// and write again.
    #[error("{entity} {key} was changed since it was read (stale version)")]
    StaleVersion {
        /// The entity written.
        entity: &'static str,
        /// The row's key, as `Debug` shows it (`[redacted]` for a sensitive key).
        key: String,
    },
    /// A unique key or primary key already holds the value.
    #[error("{entity}: a row with the same {} already exists (constraint {constraint})", field.unwrap_or("key"))]
    Conflict {
        /// The entity written.
        entity: &'static str,
        /// The constraint the database named.
        constraint: String,
        /// The Rust field(s) of that constraint, comma-separated, when known.
        field: Option<&'static str>,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// A foreign key does not match, or a referenced row is still in use.
    #[error("{entity}: foreign key violation{}", constraint.as_deref().map(|c| format!(" (constraint {c})")).unwrap_or_default())]
    ForeignKey {
        /// The entity written.
        entity: &'static str,
        /// The constraint, when the backend names it.
        constraint: Option<String>,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// A `NOT NULL` column received `NULL`.
    #[error("{entity}: a required column was NULL{}", column.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    NotNull {
        /// The entity written.
        entity: &'static str,
        /// The column, when the backend names it.
        column: Option<String>,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// A `CHECK` constraint failed.
    #[error("{entity}: check constraint failed{}", constraint.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Check {
        /// The entity written.
        entity: &'static str,
        /// The constraint, when the backend names it.
        constraint: Option<String>,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// The statement ran past its time limit and was cancelled (by the server on PostgreSQL
    /// and MariaDB, by the client on SQLite).
    #[error("{entity}: statement timed out")]
    Timeout {
        /// The entity concerned, or `database`.
        entity: &'static str,
        /// The backend's error; `None` when the client gave up waiting.
        #[source]
        source: Option<BoxError>,
    },
    /// No pooled connection became free within the acquire timeout.
    #[error("timed out waiting for a database connection from the pool")]
    PoolTimeout,
    /// A failure that may succeed when tried again: deadlock, serialization failure, busy
    /// database, lost connection before commit.
    #[error("{entity}: transient database failure (safe to retry)")]
    Transient {
        /// The entity concerned, or `database`.
        entity: &'static str,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// The caller passed something the database cannot take.
    #[error("{entity}: invalid input: {message}")]
    InvalidInput {
        /// The entity concerned.
        entity: &'static str,
        /// What is wrong, without the value.
        message: String,
    },
    /// A column's value could not be read into its field.
    #[error("{entity}: cannot decode column `{column}` as {rust_type}")]
    Decode {
        /// The entity read.
        entity: &'static str,
        /// The column.
        column: &'static str,
        /// The Rust type it was read into.
        rust_type: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// The handle was misconfigured: a bad URL, a backend not compiled in.
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// A migration could not be generated or applied: a change that needs a decision, a
    /// changed checksum, a failed statement (kept as `source`), a partly applied migration.
    #[error("migration error: {message}")]
    Migration {
        /// What went wrong, naming the migration.
        message: String,
        /// The failure of the statement that ran, if one did.
        #[source]
        source: Option<Box<RepoError>>,
    },
    /// A transaction handle was used after its commit or rollback.
    #[error("the transaction is already finished")]
    TransactionFinished,
    /// A savepoint of the transaction was dropped unfinished, so the whole transaction was
    /// rolled back instead of committed.
    #[error("the transaction was rolled back: a nested transaction was dropped before it finished")]
    TransactionAborted,
    /// The connection failed while `COMMIT` was in flight: the transaction may or may not have
    /// been applied. Never retried; check the data before trying again.
    #[error("the outcome of the commit is unknown: the connection failed during COMMIT")]
    CommitUnknown {
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// The handle or the database role may not do this: a write through a read-only handle
    /// (`Db::read_only` in repo-runtime), in a read-only transaction or on a read-only server,
    /// or a statement the role has no privilege for. Not retried.
    #[error("{entity}: not permitted: {reason}")]
    Forbidden {
        /// The entity concerned, or `database`.
        entity: &'static str,
        /// What was refused, without any value.
        reason: &'static str,
        /// The backend's error; `None` when the handle refused before asking the database.
        #[source]
        source: Option<BoxError>,
    },
    /// Any other database error.
    #[error("{entity}: database error{}", code.as_deref().map(|c| format!(" (code {c})")).unwrap_or_default())]
    Database {
        /// The entity concerned, or `database`.
        entity: &'static str,
        /// The SQLSTATE or vendor code, when there is one.
        code: Option<String>,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
}

impl RepoError {
    /// Whether the failed operation may succeed if run again unchanged.
    pub fn is_transient(&self) -> bool {
        matches!(self, RepoError::Transient { .. } | RepoError::PoolTimeout)
    }
    /// What kind of failure this is, without its details: for logs, metrics and retry
    /// decisions.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RepoError::NotFound { .. } => ErrorKind::NotFound,
            RepoError::StaleVersion { .. } => ErrorKind::StaleVersion,
            RepoError::Conflict { .. } => ErrorKind::Conflict,
            RepoError::ForeignKey { .. } => ErrorKind::ForeignKey,
            RepoError::NotNull { .. } => ErrorKind::NotNull,
            RepoError::Check { .. } => ErrorKind::Check,
            RepoError::Timeout { .. } => ErrorKind::Timeout,
            RepoError::PoolTimeout => ErrorKind::PoolTimeout,
            RepoError::Transient { .. } => ErrorKind::Transient,
            RepoError::InvalidInput { .. } => ErrorKind::InvalidInput,
            RepoError::Decode { .. } => ErrorKind::Decode,
            RepoError::Config { .. } => ErrorKind::Config,
            RepoError::Migration { .. } => ErrorKind::Migration,
            RepoError::TransactionFinished => ErrorKind::TransactionFinished,
            RepoError::TransactionAborted => ErrorKind::TransactionAborted,
            RepoError::CommitUnknown { .. } => ErrorKind::CommitUnknown,
            RepoError::Forbidden { .. } => ErrorKind::Forbidden,
            RepoError::Database { .. } => ErrorKind::Database,
        }
    }
    /// The entity the error concerns, or `None` for a failure outside any entity (opening a
    /// transaction, a statement of one's own).
    pub fn entity(&self) -> Option<&'static str> {
        entity_field!(self)
            .copied()
            .filter(|entity| *entity != NO_ENTITY)
    }
    /// Whether this is [`RepoError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, RepoError::NotFound { .. })
    }
    /// Whether this is [`RepoError::StaleVersion`]: the row was written by someone else since
    /// it was read.
    pub fn is_stale_version(&self) -> bool {
        matches!(self, RepoError::StaleVersion { .. })
    }
    /// Whether this is [`RepoError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, RepoError::Conflict { .. })
    }
    /// [`RepoError::NotFound`] for `entity`.
    pub fn not_found(entity: &'static str) -> RepoError {
        RepoError::NotFound { entity }
    }
    /// [`RepoError::Migration`] with `message` and no source.
    pub fn migration(message: impl Into<String>) -> RepoError {
        RepoError::Migration {
            message: message.into(),
            source: None,
        }
    }
    /// [`RepoError::Config`] with `message`.
    pub fn config(message: impl Into<String>) -> RepoError {
        RepoError::Config {
            message: message.into(),
        }
    }
    /// [`RepoError::InvalidInput`] for `entity`.
    pub fn invalid_input(entity: &'static str, message: impl Into<String>) -> RepoError {
        RepoError::InvalidInput {
            entity,
            message: message.into(),
        }
    }
    /// Names `entity` on an error raised where the entity was not known.
    #[doc(hidden)]
    pub fn in_entity(mut self, name: &'static str) -> RepoError {
        if let Some(entity) = entity_field!(&mut self)
            && *entity == NO_ENTITY
        {
            *entity = name;
        }
        self
    }
}

/// An error type a unit of work may return instead of [`RepoError`]: the application's own,
/// so that a use case can fail with `Forbidden` or `NotFound` from inside a transaction.
///
/// It converts from `RepoError` (so `?` works on repository calls) and shows the `RepoError`
/// it carries, if any, so that a transient failure inside it is still retried.
///
/// ```
/// use repo_core::{RepoError, TransactionError};
///
/// #[derive(Debug)]
/// enum AppError {
///     Forbidden,
///     Store(RepoError),
/// }
///
/// impl From<RepoError> for AppError {
///     fn from(error: RepoError) -> Self {
///         AppError::Store(error)
///     }
/// }
///
/// impl TransactionError for AppError {
///     fn repo_error(&self) -> Option<&RepoError> {
///         match self {
///             AppError::Store(error) => Some(error),
///             AppError::Forbidden => None,
///         }
///     }
/// }
/// # let _ = AppError::Forbidden;
/// ```
pub trait TransactionError: From<RepoError> {
    /// The repository error inside, which decides whether the unit of work is retried.
    fn repo_error(&self) -> Option<&RepoError>;
}

impl TransactionError for RepoError {
    fn repo_error(&self) -> Option<&RepoError> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_outside_any_entity_is_named_once_the_entity_is_known() {
        let error = RepoError::Transient {
            entity: NO_ENTITY,
            source: "lost".into(),
        };
        assert_eq!(error.entity(), None);
        let error = error.in_entity("User");
        assert_eq!(error.entity(), Some("User"));
        assert_eq!(error.in_entity("Other").entity(), Some("User"));
        assert_eq!(RepoError::PoolTimeout.entity(), None);
        assert_eq!(RepoError::PoolTimeout.kind(), ErrorKind::PoolTimeout);
        assert_eq!(ErrorKind::NotFound.to_string(), "not_found");
    }
}
