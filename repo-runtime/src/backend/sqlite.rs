//! SQLite: opening the pool (WAL, foreign keys, the busy timeout; one connection forever for
//! `:memory:`), and what its errors mean, by extended result code.

#[cfg(feature = "sqlite")]
use std::str::FromStr;

#[cfg(feature = "sqlite")]
use super::PoolSettings;
use super::{Begin, Kind};
#[cfg(any(feature = "sqlite", feature = "rusqlite"))]
use super::{Details, UniqueHint};

/// Opens the pool of the SQLite database at `url`.
#[cfg(feature = "sqlite")]
pub(crate) async fn connect(
    url: &str,
    options: &PoolSettings,
) -> Result<sqlx::SqlitePool, sqlx::Error> {
    use super::SqliteSynchronous;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    let connect = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(options.sqlite_busy_timeout);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut pool = options.apply(SqlitePoolOptions::new());
    let connect = if in_memory {
        // Each connection to `:memory:` is a separate database: keep exactly one, forever.
        pool = pool
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        connect
    } else {
        let synchronous = match options.sqlite_synchronous {
            SqliteSynchronous::Off => sqlx::sqlite::SqliteSynchronous::Off,
            SqliteSynchronous::Normal => sqlx::sqlite::SqliteSynchronous::Normal,
            SqliteSynchronous::Full => sqlx::sqlite::SqliteSynchronous::Full,
            SqliteSynchronous::Extra => sqlx::sqlite::SqliteSynchronous::Extra,
        };
        connect
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
    };
    pool.connect_with(connect).await
}

/// `BEGIN IMMEDIATE` takes the write lock at once, so concurrent writers queue on the busy
/// timeout instead of failing on a lock upgrade; a read-only transaction defers it and sets
/// the connection's `query_only` (reset when it ends), so that SQLite refuses its writes.
/// SQLite has one isolation level and no server-side timeout.
pub(crate) fn begin(begin: &Begin) -> Vec<String> {
    if begin.read_only {
        vec![
            String::from("BEGIN DEFERRED"),
            String::from("PRAGMA query_only = ON"),
        ]
    } else {
        vec![String::from("BEGIN IMMEDIATE")]
    }
}

/// The classification table, by extended result code.
#[cfg_attr(not(any(feature = "sqlite", feature = "rusqlite")), allow(dead_code))]
pub(super) fn classify(extended_code: &str) -> Kind {
    match extended_code {
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
        "2067" | "1555" => Kind::Unique,
        "787" => Kind::ForeignKey,
        "1299" => Kind::NotNull,
        "275" => Kind::Check,
        // SQLITE_BUSY, SQLITE_LOCKED and their extended codes
        "5" | "6" | "261" | "262" | "517" | "773" => Kind::Transient,
        // SQLITE_INTERRUPT: stopped past the client's statement timeout (rusqlite's progress
        // handler).
        "9" => Kind::Timeout,
        // SQLITE_READONLY and its extended codes: `PRAGMA query_only` (a read-only
        // transaction), a database file opened read-only or not writable
        "8" | "264" | "520" | "776" | "1032" | "1288" | "1544" => Kind::ReadOnly,
        // SQLITE_TOOBIG, SQLITE_MISMATCH (text as an integer key)
        "18" | "20" => Kind::InvalidValue,
        _ => Kind::Other,
    }
}

/// What the error says beyond its code: the columns of a violated unique key or of a `NULL`
/// in a required column, from the message (`UNIQUE constraint failed: users.email`), which
/// names the schema only.
#[cfg(any(feature = "sqlite", feature = "rusqlite"))]
pub(super) fn details(database: &dyn sqlx::error::DatabaseError, details: &mut Details) {
    let code = details.code.clone().unwrap_or_default();
    details.backend = "sqlite";
    details.message_is_plain = message_is_plain(&code);
    details.kind = classify(&code);
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
}

/// SQLITE_ERROR (syntax, unknown table or column) and the constraint codes, whose messages
/// name the table and columns (`UNIQUE constraint failed: users.email`) or the CHECK as the
/// schema spells it, never the row.
#[cfg_attr(not(any(feature = "sqlite", feature = "rusqlite")), allow(dead_code))]
pub(super) fn message_is_plain(extended_code: &str) -> bool {
    matches!(
        extended_code,
        "1" | "2067" | "1555" | "787" | "1299" | "275"
    )
}
