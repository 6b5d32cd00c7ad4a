//! MySQL and MariaDB: opening the pool (the `mariadb:` scheme, the session's statement
//! timeout, how batches learn their generated keys), and what their errors mean, by error
//! number.

#[cfg(feature = "mysql")]
use std::str::FromStr;
#[cfg(feature = "mysql")]
use std::time::Duration;

use super::{Begin, Kind, MySqlBatchKeys};
#[cfg(feature = "mysql")]
use super::{Details, PoolSettings, UniqueHint};

/// Opens the pool of the MySQL or MariaDB database at `url`, and learns how its batches get
/// their generated keys and whether the server is MariaDB.
#[cfg(feature = "mysql")]
pub(crate) async fn connect(
    url: &str,
    options: &PoolSettings,
) -> Result<(sqlx::MySqlPool, MySqlBatchKeys, bool), sqlx::Error> {
    let (pool, connect) = pool_options(url, options)?;
    let pool = pool.connect_with(connect).await?;
    let (version, lock_mode): (String, i64) =
        sqlx::query_as("SELECT VERSION(), CAST(@@innodb_autoinc_lock_mode AS SIGNED)")
            .fetch_one(&pool)
            .await?;
    let keys = batch_keys(&version, lock_mode);
    tracing::debug!(%version, lock_mode, ?keys, "mysql batch keys");
    let mariadb = version.to_ascii_lowercase().contains("mariadb");
    Ok((pool, keys, mariadb))
}

/// A pool that connects when first used: another node of a cluster, whose server is read
/// as the first node's.
#[cfg(feature = "mysql")]
pub(crate) fn connect_lazy(
    url: &str,
    options: &PoolSettings,
) -> Result<sqlx::MySqlPool, sqlx::Error> {
    let (pool, connect) = pool_options(url, options)?;
    Ok(pool.connect_lazy_with(connect))
}

#[cfg(feature = "mysql")]
fn pool_options(
    url: &str,
    options: &PoolSettings,
) -> Result<
    (
        sqlx::mysql::MySqlPoolOptions,
        sqlx::mysql::MySqlConnectOptions,
    ),
    sqlx::Error,
> {
    use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
    // sqlx knows only the `mysql:` scheme; MariaDB speaks the same protocol.
    let url = match url.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => format!("mysql:{rest}"),
        _ => url.to_owned(),
    };
    let connect = MySqlConnectOptions::from_str(&url)?;
    let mut pool = options.apply(MySqlPoolOptions::new());
    if let Some(timeout) = options.statement_timeout {
        pool = pool.after_connect(move |conn, _| {
            Box::pin(async move { set_timeout(conn, Some(timeout)).await })
        });
    }
    Ok((pool, connect))
}

/// Sets the session's statement timeout (`None`: no limit). MariaDB's `max_statement_time`
/// covers every statement; MySQL has only `max_execution_time`, for reads.
#[cfg(feature = "mysql")]
pub(crate) async fn set_timeout(
    conn: &mut sqlx::MySqlConnection,
    timeout: Option<Duration>,
) -> Result<(), sqlx::Error> {
    use sqlx::Executor as _;
    let seconds = timeout.map_or(0.0, |t| t.as_secs_f64());
    let mariadb = format!("SET SESSION max_statement_time = {seconds}");
    match conn.execute(sqlx::AssertSqlSafe(mariadb)).await {
        Ok(_) => Ok(()),
        Err(_) => {
            let millis = timeout.map_or(0, |t| t.as_millis());
            let mysql = format!("SET SESSION max_execution_time = {millis}");
            conn.execute(sqlx::AssertSqlSafe(mysql)).await.map(drop)
        }
    }
}

/// The isolation level is set for the next transaction before it starts; a transaction's own
/// statement timeout is a session setting, set by the transaction on its connection.
pub(crate) fn begin(begin: &Begin) -> Vec<String> {
    let mut statements = Vec::new();
    if let Some(isolation) = begin.isolation {
        statements.push(format!("SET TRANSACTION ISOLATION LEVEL {isolation}"));
    }
    statements.push(String::from(if begin.read_only {
        "START TRANSACTION READ ONLY"
    } else {
        "START TRANSACTION"
    }));
    statements
}

/// `RETURNING` where the server has it (one round trip, whatever the lock mode), else
/// consecutive keys where the lock mode promises them (MySQL 5.7 defaults to 1, MySQL 8 to 2).
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn batch_keys(version: &str, lock_mode: i64) -> MySqlBatchKeys {
    if mariadb_has_returning(version) {
        MySqlBatchKeys::Returning
    } else if lock_mode <= 1 {
        MySqlBatchKeys::Consecutive
    } else {
        MySqlBatchKeys::RowByRow
    }
}

/// `INSERT ... RETURNING` arrived in MariaDB 10.5; MySQL has none.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn mariadb_has_returning(version: &str) -> bool {
    if !version.to_ascii_lowercase().contains("mariadb") {
        return false;
    }
    let mut parts = version
        .split(['.', '-'])
        .map(|part| part.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (10, 5)
}

/// The classification table, by error number.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(super) fn classify(number: u16) -> Kind {
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
        // ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK (also a Galera certification failure),
        // ER_LOCK_NOWAIT, ER_CON_COUNT_ERROR, ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED, and
        // ER_UNKNOWN_COM_ERROR, which a Galera node outside the cluster's primary component
        // answers every statement with ("WSREP has not yet prepared node for application use")
        1205 | 1213 | 3572 | 1040 | 1053 | 1927 | 1047 => Kind::Transient,
        // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION, ER_OPTION_PREVENTS_STATEMENT (a
        // `read_only` server)
        1792 | 1290 => Kind::ReadOnly,
        // ER_DBACCESS_DENIED_ERROR, ER_TABLEACCESS_DENIED_ERROR, ER_COLUMNACCESS_DENIED_ERROR,
        // ER_SPECIFIC_ACCESS_DENIED_ERROR
        1044 | 1142 | 1143 | 1227 => Kind::Privilege,
        // ER_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR, MySQL's
        // ER_SECURE_TRANSPORT_REQUIRED
        1045 | 1698 | 3159 => Kind::Refused,
        // ER_WARN_DATA_OUT_OF_RANGE, ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, ER_DATA_TOO_LONG,
        // ER_TRUNCATED_WRONG_VALUE, ER_ILLEGAL_VALUE_FOR_TYPE
        1264 | 1366 | 1406 | 1292 | 1367 => Kind::InvalidValue,
        _ => Kind::Other,
    }
}

/// What the error says beyond its number. The names are only in the message: the key after
/// `for key '` (the value before it is never kept), the column of `Column '...' cannot be null`.
#[cfg(feature = "mysql")]
pub(super) fn details(error: &sqlx::mysql::MySqlDatabaseError, details: &mut Details) {
    details.backend = "mysql";
    details.message_is_plain = message_is_plain(error.number());
    details.kind = classify(error.number());
    details.code = Some(error.number().to_string());
    if details.kind == Kind::Unique
        && let Some(name) = error
            .message()
            .rsplit_once("for key '")
            .map(|(_, rest)| rest)
    {
        let name = name.trim_end_matches('\'');
        let name = name.rsplit_once('.').map_or(name, |(_, key)| key);
        details.unique = UniqueHint::Name(name.to_owned());
    }
    if details.kind == Kind::NotNull {
        details.column = quoted_after(error.message(), "Column '");
    }
}

#[cfg(feature = "mysql")]
fn quoted_after(message: &str, marker: &str) -> Option<String> {
    let rest = message.split_once(marker)?.1;
    Some(rest.split_once('\'')?.0.to_owned())
}

/// ER_NO_DB_ERROR, ER_BAD_DB_ERROR, ER_BAD_FIELD_ERROR, ER_PARSE_ERROR (it quotes the
/// statement, whose values are placeholders), ER_TABLEACCESS_DENIED_ERROR, ER_NO_SUCH_TABLE.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(super) fn message_is_plain(number: u16) -> bool {
    matches!(number, 1046 | 1049 | 1054 | 1064 | 1142 | 1146)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_return_their_keys_where_they_can_else_read_consecutive_keys() {
        assert_eq!(batch_keys("10.11.6-MariaDB", 1), MySqlBatchKeys::Returning);
        assert_eq!(
            batch_keys("10.4.32-MariaDB", 1),
            MySqlBatchKeys::Consecutive
        );
        assert_eq!(batch_keys("5.7.44", 0), MySqlBatchKeys::Consecutive);
        assert_eq!(batch_keys("10.11.6-MariaDB", 2), MySqlBatchKeys::Returning);
        assert_eq!(batch_keys("8.0.36", 2), MySqlBatchKeys::RowByRow);
    }

    #[test]
    fn only_mariadb_from_10_5_has_insert_returning() {
        assert!(mariadb_has_returning("10.11.6-MariaDB-0+deb12u1"));
        assert!(!mariadb_has_returning("10.4.32-MariaDB"));
        assert!(!mariadb_has_returning("8.0.36"));
    }
}
