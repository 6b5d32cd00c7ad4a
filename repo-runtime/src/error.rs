//! The one table that classifies backend errors into [`RepoError`] by SQLSTATE or vendor
//! code. `RepoError` itself lives in `repo-core`, which domain crates can depend on.

pub(crate) use repo_core::NO_ENTITY;
pub use repo_core::{BoxError, ErrorKind, RepoError, TransactionError};

pub use crate::redacted::RedactedDatabaseError;
use crate::redacted::redacted;

use crate::schema::Table;

/// What a backend error means, before it is attached to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Every table is compiled (and unit-tested) whichever backends are enabled.
#[cfg_attr(not(all(feature = "postgres", feature = "mysql")), allow(dead_code))]
enum Kind {
    Unique,
    ForeignKey,
    NotNull,
    Check,
    Timeout,
    Transient,
    /// The backend refused a value it cannot store (out of range, invalid encoding, too long).
    InvalidValue,
    Other,
}

/// The classification table. PostgreSQL and MySQL by SQLSTATE or vendor number, SQLite by
/// extended result code.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn classify_postgres(sqlstate: &str) -> Kind {
    match sqlstate {
        "23505" => Kind::Unique,
        "23503" => Kind::ForeignKey,
        "23502" => Kind::NotNull,
        "23514" => Kind::Check,
        "57014" => Kind::Timeout,
        // serialization failure, deadlock, admin shutdown, crash shutdown, cannot connect now,
        // too many connections
        "40001" | "40P01" | "57P01" | "57P02" | "57P03" | "53300" => Kind::Transient,
        // connection exceptions, except 08007 (transaction resolution unknown)
        code if code.starts_with("08") && code != "08007" => Kind::Transient,
        // data exceptions: a NUL in text (22021), numeric or datetime out of range, ...
        code if code.starts_with("22") => Kind::InvalidValue,
        _ => Kind::Other,
    }
}

#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn classify_mysql(number: u16) -> Kind {
    match number {
        // ER_DUP_KEY, ER_DUP_ENTRY, ER_DUP_UNIQUE, ER_DUP_ENTRY_WITH_KEY_NAME
        1022 | 1062 | 1169 | 1586 => Kind::Unique,
        // ER_ROW_IS_REFERENCED(_2), ER_NO_REFERENCED_ROW(_2)
        1216 | 1217 | 1451 | 1452 => Kind::ForeignKey,
        // ER_BAD_NULL_ERROR, ER_NO_DEFAULT_FOR_FIELD
        1048 | 1364 => Kind::NotNull,
        // MySQL ER_CHECK_CONSTRAINT_VIOLATED, MariaDB ER_CONSTRAINT_FAILED
        3819 | 4025 => Kind::Check,
        // MySQL ER_QUERY_TIMEOUT, MariaDB ER_STATEMENT_TIMEOUT, ER_QUERY_INTERRUPTED
        3024 | 1969 | 1317 => Kind::Timeout,
        // ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK, ER_LOCK_NOWAIT, ER_CON_COUNT_ERROR,
        // ER_SERVER_SHUTDOWN
        1205 | 1213 | 3572 | 1040 | 1053 => Kind::Transient,
        // ER_WARN_DATA_OUT_OF_RANGE, ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, ER_DATA_TOO_LONG,
        // ER_TRUNCATED_WRONG_VALUE, ER_ILLEGAL_VALUE_FOR_TYPE
        1264 | 1366 | 1406 | 1292 | 1367 => Kind::InvalidValue,
        _ => Kind::Other,
    }
}

#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn classify_sqlite(extended_code: &str) -> Kind {
    match extended_code {
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
        "2067" | "1555" => Kind::Unique,
        "787" => Kind::ForeignKey,
        "1299" => Kind::NotNull,
        "275" => Kind::Check,
        // SQLITE_BUSY, SQLITE_LOCKED and their extended codes
        "5" | "6" | "261" | "262" | "517" | "773" => Kind::Transient,
        // SQLITE_TOOBIG, SQLITE_MISMATCH (text as an integer key)
        "18" | "20" => Kind::InvalidValue,
        _ => Kind::Other,
    }
}

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
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
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
        let details = database_details(&error);
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
                    source: redacted(error),
                }
            }
            Kind::ForeignKey => RepoError::ForeignKey {
                entity,
                constraint: details.constraint,
                source: redacted(error),
            },
            Kind::NotNull => RepoError::NotNull {
                entity,
                column: details.column,
                source: redacted(error),
            },
            Kind::Check => RepoError::Check {
                entity,
                constraint: details.constraint,
                source: redacted(error),
            },
            Kind::Timeout => RepoError::Timeout {
                entity,
                source: Some(redacted(error)),
            },
            Kind::Transient => RepoError::Transient {
                entity,
                source: redacted(error),
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
                source: redacted(error),
            },
        }
    }
}

/// How the backend identified the violated unique key.
#[cfg_attr(
    not(all(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]
enum UniqueHint {
    Name(String),
    Columns(Vec<String>),
    None,
}

struct Details {
    kind: Kind,
    code: Option<String>,
    constraint: Option<String>,
    column: Option<String>,
    unique: UniqueHint,
}

fn database_details(error: &sqlx::Error) -> Details {
    let mut details = Details {
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
    if let Some(pg) = database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        details.kind = classify_postgres(pg.code());
        details.column = pg.column().map(str::to_owned);
        if let Some(name) = pg.constraint() {
            details.unique = UniqueHint::Name(name.to_owned());
        }
        return details;
    }
    #[cfg(feature = "mysql")]
    if let Some(my) = database.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        details.kind = classify_mysql(my.number());
        details.code = Some(my.number().to_string());
        if details.kind == Kind::Unique {
            // The key's name is only in the text: "Duplicate entry '…' for key 'name'".
            // Naming it is not classifying; the value before it is never kept.
            if let Some(name) = my.message().rsplit_once("for key '").map(|(_, rest)| rest) {
                let name = name.trim_end_matches('\'');
                let name = name.rsplit_once('.').map_or(name, |(_, key)| key);
                details.unique = UniqueHint::Name(name.to_owned());
            }
        }
        if details.kind == Kind::NotNull {
            details.column = quoted_after(my.message(), "Column '");
        }
        return details;
    }
    #[cfg(feature = "sqlite")]
    if database
        .try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .is_some()
    {
        let code = details.code.clone().unwrap_or_default();
        details.kind = classify_sqlite(&code);
        // "UNIQUE constraint failed: users.email, users.name"
        let columns = database.message().split_once("failed: ").map(|(_, list)| {
            list.split(", ")
                .map(|qualified| {
                    qualified
                        .rsplit_once('.')
                        .map_or(qualified, |(_, c)| c)
                        .to_owned()
                })
                .collect::<Vec<_>>()
        });
        match details.kind {
            Kind::Unique => {
                if let Some(columns) = columns {
                    details.unique = UniqueHint::Columns(columns);
                }
            }
            Kind::NotNull => details.column = columns.and_then(|c| c.into_iter().next()),
            _ => {}
        }
        return details;
    }
    details
}

#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn quoted_after(message: &str, marker: &str) -> Option<String> {
    let rest = message.split_once(marker)?.1;
    Some(rest.split_once('\'')?.0.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_codes_are_classified_by_sqlstate() {
        assert_eq!(classify_postgres("23505"), Kind::Unique);
        assert_eq!(classify_postgres("40P01"), Kind::Transient);
        assert_eq!(classify_postgres("08006"), Kind::Transient);
        assert_eq!(classify_postgres("08007"), Kind::Other);
        assert_eq!(classify_postgres("57014"), Kind::Timeout);
        assert_eq!(classify_postgres("42601"), Kind::Other);
    }

    #[test]
    fn mysql_and_sqlite_codes_are_classified_by_number() {
        assert_eq!(classify_mysql(1062), Kind::Unique);
        assert_eq!(classify_mysql(1213), Kind::Transient);
        assert_eq!(classify_mysql(1452), Kind::ForeignKey);
        assert_eq!(classify_sqlite("2067"), Kind::Unique);
        assert_eq!(classify_sqlite("517"), Kind::Transient);
        assert_eq!(classify_sqlite("1299"), Kind::NotNull);
    }

    #[test]
    fn not_found_names_the_entity_only() {
        assert_eq!(RepoError::not_found("User").to_string(), "User not found");
    }
}
