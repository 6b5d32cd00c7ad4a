//! Opening the pool of each backend from its URL and the `DbOptions`, and what is read from
//! the server once at connect time.

use std::str::FromStr;

#[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mysql")))]
use repo_sql::Dialect;

#[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mysql")))]
use crate::db::not_compiled;
use crate::db::{DbOptions, MySqlBatchKeys, Pool};
use crate::error::{FromSqlx, RepoError};

fn connect_error(error: sqlx::Error) -> RepoError {
    RepoError::from_sqlx(error, None)
}

#[cfg(feature = "sqlite")]
pub(crate) async fn connect_sqlite(url: &str, options: &DbOptions) -> Result<Pool, RepoError> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    let connect = SqliteConnectOptions::from_str(url)
        .map_err(connect_error)?
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(options.sqlite_busy_timeout);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut pool = SqlitePoolOptions::new().acquire_timeout(options.acquire_timeout);
    let connect = if in_memory {
        // Each connection to `:memory:` is a separate database: keep exactly one, forever.
        pool = pool
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        connect
    } else {
        pool = pool.max_connections(options.max_connections);
        connect.journal_mode(SqliteJournalMode::Wal)
    };
    let pool = pool.connect_with(connect).await.map_err(connect_error)?;
    Ok(Pool::Sqlite(pool))
}

#[cfg(not(feature = "sqlite"))]
pub(crate) async fn connect_sqlite(_: &str, _: &DbOptions) -> Result<Pool, RepoError> {
    Err(not_compiled(Dialect::Sqlite))
}

#[cfg(feature = "postgres")]
pub(crate) async fn connect_postgres(url: &str, options: &DbOptions) -> Result<Pool, RepoError> {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let mut connect = PgConnectOptions::from_str(url).map_err(connect_error)?;
    if let Some(timeout) = options.statement_timeout {
        connect = connect.options([("statement_timeout", timeout.as_millis())]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await
        .map_err(connect_error)?;
    Ok(Pool::Postgres(pool))
}

#[cfg(not(feature = "postgres"))]
pub(crate) async fn connect_postgres(_: &str, _: &DbOptions) -> Result<Pool, RepoError> {
    Err(not_compiled(Dialect::Postgres))
}

#[cfg(feature = "mysql")]
pub(crate) async fn connect_mysql(
    url: &str,
    options: &DbOptions,
) -> Result<(Pool, MySqlBatchKeys), RepoError> {
    use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
    // sqlx knows only the `mysql:` scheme; MariaDB speaks the same protocol.
    let url = match url.split_once(':') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => format!("mysql:{rest}"),
        _ => url.to_owned(),
    };
    let connect = MySqlConnectOptions::from_str(&url).map_err(connect_error)?;
    let mut pool = MySqlPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout);
    if let Some(timeout) = options.statement_timeout {
        pool = pool.after_connect(move |conn, _| {
            Box::pin(
                async move { crate::transaction::set_mysql_timeout(conn, Some(timeout)).await },
            )
        });
    }
    let pool = pool.connect_with(connect).await.map_err(connect_error)?;
    let (version, lock_mode): (String, i64) =
        sqlx::query_as("SELECT VERSION(), CAST(@@innodb_autoinc_lock_mode AS SIGNED)")
            .fetch_one(&pool)
            .await
            .map_err(connect_error)?;
    let keys = mysql_batch_keys(&version, lock_mode);
    tracing::debug!(%version, lock_mode, ?keys, "mysql batch keys");
    Ok((Pool::MySql(pool), keys))
}

#[cfg(not(feature = "mysql"))]
pub(crate) async fn connect_mysql(
    _: &str,
    _: &DbOptions,
) -> Result<(Pool, MySqlBatchKeys), RepoError> {
    Err(not_compiled(Dialect::MySql))
}

/// Consecutive keys where the lock mode promises them (MySQL 5.7 and MariaDB default to 1,
/// MySQL 8 to 2), else `RETURNING` where the server has it.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn mysql_batch_keys(version: &str, lock_mode: i64) -> MySqlBatchKeys {
    if lock_mode <= 1 {
        MySqlBatchKeys::Consecutive
    } else if mariadb_has_returning(version) {
        MySqlBatchKeys::Returning
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_batches_read_consecutive_keys_unless_the_lock_mode_interleaves() {
        assert_eq!(
            mysql_batch_keys("10.11.6-MariaDB", 1),
            MySqlBatchKeys::Consecutive
        );
        assert_eq!(mysql_batch_keys("5.7.44", 0), MySqlBatchKeys::Consecutive);
        assert_eq!(
            mysql_batch_keys("10.11.6-MariaDB", 2),
            MySqlBatchKeys::Returning
        );
        assert_eq!(mysql_batch_keys("8.0.36", 2), MySqlBatchKeys::RowByRow);
    }

    #[test]
    fn only_mariadb_from_10_5_has_insert_returning() {
        assert!(mariadb_has_returning("10.11.6-MariaDB-0+deb12u1"));
        assert!(!mariadb_has_returning("10.4.32-MariaDB"));
        assert!(!mariadb_has_returning("8.0.36"));
    }
}
