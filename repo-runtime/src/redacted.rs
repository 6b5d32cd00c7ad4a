//! [`RedactedDatabaseError`]: what a [`RepoError`](crate::RepoError) keeps of the database's
//! own error. Servers quote bound values in their messages (PostgreSQL's `detail` and `where`:
//! `Key (token)=(secret) already exists`, `Failing row contains (...)`, `unnamed portal
//! parameter $1 = '...'`; MySQL's `Duplicate entry 'secret' for key ...`), so only the code
//! and the names the server gave are kept, and the message only for codes whose text is made of
//! the statement and the schema alone.

use std::fmt;

use sqlx::error::DatabaseError;

use repo_core::BoxError;

use crate::backend::{self, Details};

/// A database error with everything that may quote a bound value removed: the backend, the
/// SQLSTATE or vendor code, and the constraint, table and column the server named.
///
/// It is the `source` of every [`RepoError`](crate::RepoError) that came from the database, so
/// neither `Display`, `Debug` nor the `source()` chain of an error can publish a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactedDatabaseError {
    backend: &'static str,
    code: Option<String>,
    constraint: Option<String>,
    table: Option<String>,
    column: Option<String>,
    message: Option<String>,
}

impl RedactedDatabaseError {
    /// `postgres`, `mysql` or `sqlite`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }
    /// The SQLSTATE (PostgreSQL), error number (MySQL, MariaDB) or extended result code
    /// (SQLite).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    /// The constraint the server named.
    pub fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }
    /// The table the server named.
    pub fn table(&self) -> Option<&str> {
        self.table.as_deref()
    }
    /// The column the server named.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }
    /// The server's message, kept only for errors about the statement or the schema (a syntax
    /// error, an unknown table or column), whose text quotes no value.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// What may be kept of `error`, which the backend described as `details`.
    fn of(error: &dyn DatabaseError, details: &Details) -> RedactedDatabaseError {
        RedactedDatabaseError {
            backend: details.backend,
            code: details.code.clone(),
            constraint: details.constraint.clone(),
            table: error.table().map(str::to_owned),
            column: details.column.clone(),
            message: details.message_is_plain.then(|| error.message().to_owned()),
        }
    }
}

impl fmt::Display for RedactedDatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error", self.backend)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        let names = [
            ("table", &self.table),
            ("column", &self.column),
            ("constraint", &self.constraint),
        ];
        for (what, name) in names {
            if let Some(name) = name {
                write!(f, ", {what} {name}")?;
            }
        }
        match &self.message {
            Some(message) => write!(f, ": {message}"),
            None => f.write_str(" (message withheld: it may quote bound values)"),
        }
    }
}

impl std::error::Error for RedactedDatabaseError {}

/// The source to keep for `error`: a database error redacted, any other error (I/O, TLS,
/// protocol, pool) as it is, since those never carry a bound value.
pub(crate) fn redacted(error: sqlx::Error) -> BoxError {
    let details = backend::details(&error);
    redacted_as(error, &details)
}

/// [`redacted`] for an error the backend has already described as `details`.
pub(crate) fn redacted_as(error: sqlx::Error, details: &Details) -> BoxError {
    match error {
        sqlx::Error::Database(database) => Box::new(RedactedDatabaseError::of(&*database, details)),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_code_and_names_only() {
        let error = RedactedDatabaseError {
            backend: "postgres",
            code: Some("23505".into()),
            constraint: Some("users_email_key".into()),
            table: Some("users".into()),
            column: None,
            message: None,
        };
        assert_eq!(
            error.to_string(),
            "postgres error 23505, table users, constraint users_email_key \
             (message withheld: it may quote bound values)"
        );
    }
}
