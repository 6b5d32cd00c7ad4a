//! Backend errors made into [`RepoError`]: each backend's classification table (in
//! `backend/`) gives the kind, this module names the entity, the constraint and the field.
//! `RepoError` itself lives in `repo-core`, which domain crates can depend on.

pub(crate) use repo_core::NO_ENTITY;
pub use repo_core::{BoxError, ErrorKind, RepoError, TransactionError};

use crate::backend::{self, Kind, UniqueHint};
pub use crate::redacted::RedactedDatabaseError;
use crate::redacted::{redacted, redacted_as};

use crate::schema::Table;

/// Classifies the error of a statement of your own, run with sqlx on a transaction's
/// connection ([`Tx::connection`](crate::Tx::connection)) or on [`Db::as_postgres`](crate::Db::as_postgres)
/// and its siblings, into the [`RepoError`] a repository would return: a unique violation is
/// `Conflict`, a deadlock `Transient`, and no bound value is kept.
///
/// ```no_run
/// # async fn demo(db: &repo_runtime::Db) -> Result<(), repo_runtime::RepoError> {
/// if let Some(pool) = db.as_sqlite() {
///     repo_runtime::sqlx::query("UPDATE counters SET n = n + 1")
///         .execute(pool)
///         .await
///         .map_err(repo_runtime::from_sqlx)?;
/// }
/// # Ok(()) }
/// ```
pub fn from_sqlx(error: sqlx::Error) -> RepoError {
    RepoError::from_sqlx(error, None)
}

/// [`from_sqlx`] for a statement of your own run through rusqlite on a transaction's
/// connection ([`TxConnection::as_rusqlite`](crate::TxConnection::as_rusqlite)).
#[cfg(feature = "rusqlite")]
pub fn from_rusqlite(error: rusqlite::Error) -> RepoError {
    RepoError::from_sqlx(crate::backend::rusqlite::to_sqlx(error), None)
}

/// Why a write in a read-only transaction, or on a read-only server or database file, was
/// refused: the servers' refusal and the in-memory store's read the same.
pub(crate) const READ_ONLY_REFUSAL: &str =
    "a write in a read-only transaction or on a read-only database";

/// Whether an I/O failure may pass when tried again (a connection lost or refused, a timeout)
/// rather than needing a change (a certificate not trusted, a file not found).
fn io_may_recover(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind;
    !matches!(
        kind,
        ErrorKind::InvalidData
            | ErrorKind::InvalidInput
            | ErrorKind::NotFound
            | ErrorKind::PermissionDenied
            | ErrorKind::Unsupported
    )
}

/// Classification of driver errors into [`RepoError`], for the runtime only.
pub(crate) trait FromSqlx: Sized {
    /// Classifies a driver error; `table` names the entity and resolves constraint names.
    fn from_sqlx(error: sqlx::Error, table: Option<&'static Table>) -> Self;
    /// Classifies a failure of `COMMIT`.
    fn from_commit(error: sqlx::Error) -> Self;
}

impl FromSqlx for RepoError {
    /// Classifies a failure of `COMMIT`: when the connection failed while it was in flight,
    /// nobody knows whether it was applied.
    fn from_commit(error: sqlx::Error) -> RepoError {
        let connection_lost = match &error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(database) => database
                .code()
                .is_some_and(|code| code.starts_with("08") || code == "57P01"),
            _ => false,
        };
        if connection_lost {
            RepoError::CommitUnknown {
                source: redacted(error),
            }
        } else {
            RepoError::from_sqlx(error, None)
        }
    }

    /// Classifies a driver error. `table` names the entity and resolves constraint names to
    /// fields.
    fn from_sqlx(error: sqlx::Error, table: Option<&'static Table>) -> RepoError {
        let entity = table.map_or(NO_ENTITY, |table| table.entity);
        match &error {
            sqlx::Error::PoolTimedOut => return RepoError::PoolTimeout,
            // What trying again cannot mend: a certificate the client does not trust (rustls
            // reports it as invalid data), a CA file that is missing or unreadable.
            sqlx::Error::Io(io) if !io_may_recover(io.kind()) => {
                return RepoError::config(format!("cannot connect: {io}"));
            }
            sqlx::Error::Tls(tls) => return RepoError::config(format!("TLS: {tls}")),
            sqlx::Error::Io(_) => {
                return RepoError::Transient {
                    entity,
                    source: error.into(),
                };
            }
            sqlx::Error::Database(_) => {}
            _ => {
                return RepoError::Database {
                    entity,
                    code: None,
                    source: error.into(),
                };
            }
        }
        let details = backend::details(&error);
        let source = redacted_as(error, &details);
        match details.kind {
            Kind::Unique => {
                let constraint = table.and_then(|table| match &details.unique {
                    UniqueHint::Name(name) => table.constraint(name),
                    UniqueHint::Columns(columns) => {
                        let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
                        table.constraint_on(&columns)
                    }
                    UniqueHint::None => None,
                });
                let name = match (&details.unique, constraint) {
                    (_, Some(constraint)) => constraint.name.to_owned(),
                    (UniqueHint::Name(name), None) => name.clone(),
                    (UniqueHint::Columns(columns), None) => columns.join(", "),
                    (UniqueHint::None, None) => String::from("unknown"),
                };
                RepoError::Conflict {
                    entity,
                    constraint: name,
                    field: constraint.map(|constraint| constraint.fields),
                    source,
                }
            }
            Kind::ForeignKey => RepoError::ForeignKey {
                entity,
                constraint: details.constraint,
                source,
            },
            Kind::NotNull => RepoError::NotNull {
                entity,
                column: details.column,
                source,
            },
            Kind::Check => RepoError::Check {
                entity,
                constraint: details.constraint,
                source,
            },
            Kind::Timeout => RepoError::Timeout {
                entity,
                source: Some(source),
            },
            Kind::Transient => RepoError::Transient { entity, source },
            Kind::ReadOnly => RepoError::Forbidden {
                entity,
                reason: READ_ONLY_REFUSAL,
                source: Some(source),
            },
            Kind::Privilege => RepoError::Forbidden {
                entity,
                reason: "the database role lacks the privilege",
                source: Some(source),
            },
            Kind::Refused => RepoError::Forbidden {
                entity,
                reason: "the server refused the connection: its credentials or its transport",
                source: Some(source),
            },
            // The server's message may quote the value: only its code is kept.
            Kind::InvalidValue => RepoError::InvalidInput {
                entity,
                message: format!(
                    "the database refused a value it cannot store (code {})",
                    details.code.as_deref().unwrap_or("unknown")
                ),
            },
            Kind::Other => RepoError::Database {
                entity,
                code: details.code,
                source,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_entity_only() {
        assert_eq!(RepoError::not_found("User").to_string(), "User not found");
    }
}
