//! PostgreSQL: opening the pool (the statement timeout as a session setting), and what its
//! errors mean, by SQLSTATE.

#[cfg(feature = "postgres")]
use std::str::FromStr;

use super::{Begin, Kind};
#[cfg(feature = "postgres")]
use super::{Details, PoolSettings, UniqueHint};

/// Opens the pool of the PostgreSQL database at `url`.
#[cfg(feature = "postgres")]
pub(crate) async fn connect(
    url: &str,
    options: &PoolSettings,
) -> Result<sqlx::PgPool, sqlx::Error> {
    let connect = connect_options(url, options)?;
    options
        .apply(sqlx::postgres::PgPoolOptions::new())
        .connect_with(connect)
        .await
}

/// A pool that connects when first used: another node of a cluster.
#[cfg(feature = "postgres")]
pub(crate) fn connect_lazy(url: &str, options: &PoolSettings) -> Result<sqlx::PgPool, sqlx::Error> {
    let connect = connect_options(url, options)?;
    Ok(options
        .apply(sqlx::postgres::PgPoolOptions::new())
        .connect_lazy_with(connect))
}

#[cfg(feature = "postgres")]
fn connect_options(
    url: &str,
    options: &PoolSettings,
) -> Result<sqlx::postgres::PgConnectOptions, sqlx::Error> {
    let mut connect = sqlx::postgres::PgConnectOptions::from_str(url)?;
    if let Some(timeout) = options.statement_timeout {
        connect = connect.options([("statement_timeout", timeout.as_millis())]);
    }
    Ok(connect)
}

/// `BEGIN` with its isolation and read-only mode, and the transaction's own statement timeout
/// as `SET LOCAL`, which ends with it.
pub(crate) fn begin(begin: &Begin) -> Vec<String> {
    let mut statement = String::from("BEGIN");
    if let Some(isolation) = begin.isolation {
        statement.push_str(" ISOLATION LEVEL ");
        statement.push_str(isolation);
    }
    if begin.read_only {
        statement.push_str(" READ ONLY");
    }
    let mut statements = vec![statement];
    if let Some(timeout) = begin.statement_timeout {
        statements.push(format!(
            "SET LOCAL statement_timeout = {}",
            timeout.as_millis()
        ));
    }
    statements
}

/// The classification table, by SQLSTATE.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(super) fn classify(sqlstate: &str) -> Kind {
    match sqlstate {
        "23505" => Kind::Unique,
        "23503" => Kind::ForeignKey,
        "23502" => Kind::NotNull,
        "23514" => Kind::Check,
        "57014" => Kind::Timeout,
        // read_only_sql_transaction: a read-only transaction, or a standby
        "25006" => Kind::ReadOnly,
        // insufficient_privilege
        "42501" => Kind::Privilege,
        // invalid_authorization_specification (pg_hba refused it), invalid_password
        "28000" | "28P01" => Kind::Refused,
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

/// What the error says beyond its code: PostgreSQL names the column and the constraint in
/// fields of their own.
#[cfg(feature = "postgres")]
pub(super) fn details(error: &sqlx::postgres::PgDatabaseError, details: &mut Details) {
    details.backend = "postgres";
    details.message_is_plain = message_is_plain(error.code());
    details.kind = classify(error.code());
    details.column = error.column().map(str::to_owned);
    if let Some(name) = error.constraint() {
        details.unique = UniqueHint::Name(name.to_owned());
    }
}

/// Classes whose messages name only identifiers and types: syntax or access rule violation
/// (42), feature not supported (0A), invalid transaction state (25), invalid catalog or schema
/// name (3D, 3F).
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(super) fn message_is_plain(sqlstate: &str) -> bool {
    ["42", "0A", "25", "3D", "3F"]
        .iter()
        .any(|class| sqlstate.starts_with(class))
}
