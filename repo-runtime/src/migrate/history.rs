//! The `_sqlx_migrations` table, in sqlx's layout, and the runner lock: the bookkeeping
//! statements, written once for every backend.

// Without a server backend the lock statements' bodies are compiled out, not their values.
#![cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(unused_variables)
)]

use repo_sql::Dialect;
use std::time::{Duration, Instant};

use super::conn::{Conn, on_conn, sql_error};
use super::migrations::Migration;
use super::runner::lock_timeout;
#[cfg(feature = "rusqlite")]
use crate::backend::rusqlite;
use crate::error::RepoError;

/// A row of `_sqlx_migrations`.
pub(super) struct Record {
    pub(super) version: i64,
    pub(super) description: String,
    pub(super) success: bool,
    pub(super) checksum: Vec<u8>,
    pub(super) execution_time: i64,
}

pub(super) const TABLE: &str = "_sqlx_migrations";

/// The runner lock held on a connection: its key, sqlx's for the database.
pub(super) struct RunnerLock(i64);

/// Takes the runner lock: waits up to `timeout` for another runner to finish.
pub(super) async fn lock(conn: &mut Conn, timeout: Duration) -> Result<RunnerLock, RepoError> {
    let name = conn.database_name().await?;
    let held = RunnerLock(lock_id(&name));
    let deadline = Instant::now() + timeout;
    match conn.dialect() {
        Dialect::Sqlite => Ok(held),
        Dialect::Postgres => loop {
            let taken = on_conn!(conn, c => sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                .bind(held.0)
                .fetch_one(&mut **c)
                .await)
            .map_err(sql_error)?;
            if taken {
                return Ok(held);
            }
            if Instant::now() >= deadline {
                return Err(lock_timeout());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        },
        Dialect::MySql => {
            let seconds = timeout.as_secs().max(1) as i64;
            let key = format!("{:x}", held.0);
            let taken: Option<i64> =
                on_conn!(conn, c => sqlx::query_scalar::<_, Option<i64>>("SELECT GET_LOCK(?, ?)")
                .bind(key)
                .bind(seconds)
                .fetch_one(&mut **c)
                .await)
                .map_err(sql_error)?;
            if taken == Some(1) {
                Ok(held)
            } else {
                Err(lock_timeout())
            }
        }
    }
}

/// sqlx's lock key for a database, so that its runner and this one exclude each other.
fn lock_id(database: &str) -> i64 {
    const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    0x3d32_ad9e * i64::from(CRC.checksum(database.as_bytes()))
}

pub(super) fn nanos(value: i64) -> Duration {
    Duration::from_nanos(u64::try_from(value).unwrap_or(0))
}

pub(super) fn elapsed_nanos(elapsed: Duration) -> i64 {
    i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX)
}

pub(super) async fn ensure_table(conn: &mut Conn) -> Result<(), RepoError> {
    let (installed, checksum) = match conn.dialect() {
        Dialect::Postgres => ("TIMESTAMPTZ NOT NULL DEFAULT now()", "BYTEA"),
        Dialect::Sqlite | Dialect::MySql => {
            ("TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP", "BLOB")
        }
    };
    conn.script(&format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (\n    version BIGINT PRIMARY KEY,\n    description TEXT NOT NULL,\n    installed_on {installed},\n    success BOOLEAN NOT NULL,\n    checksum {checksum} NOT NULL,\n    execution_time BIGINT NOT NULL\n)"
    ))
    .await
}

pub(super) async fn records(conn: &mut Conn) -> Result<Vec<Record>, RepoError> {
    const SQL: &str = "SELECT version, description, success, checksum, execution_time FROM _sqlx_migrations ORDER BY version";
    let rows = on_conn!(conn, c => sqlx::query_as::<_, (i64, String, bool, Vec<u8>, i64)>(SQL)
    .fetch_all(&mut **c)
    .await, rusqlite => rusqlite::own_rows(c, SQL, &[], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    }))
    .map_err(sql_error)?;
    Ok(rows
        .into_iter()
        .map(
            |(version, description, success, checksum, execution_time)| Record {
                version,
                description,
                success,
                checksum,
                execution_time,
            },
        )
        .collect())
}

pub(super) async fn is_recorded(conn: &mut Conn, version: i64) -> Result<bool, RepoError> {
    let sql = placeholders(
        conn.dialect(),
        "SELECT count(*) FROM _sqlx_migrations WHERE version = ?",
    );
    let count = on_conn!(conn, c => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
        .bind(version)
        .fetch_one(&mut **c)
        .await, rusqlite => rusqlite::own_rows(c, &sql, &[&version], |r| r.get::<_, i64>(0))
            .map(|counts| counts.into_iter().sum::<i64>()))
    .map_err(sql_error)?;
    Ok(count > 0)
}

pub(super) async fn insert_record(
    conn: &mut Conn,
    migration: &Migration,
    success: bool,
    execution_time: i64,
) -> Result<(), RepoError> {
    let sql = placeholders(
        conn.dialect(),
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (?, ?, ?, ?, ?)",
    );
    on_conn!(conn, c => sqlx::query(sqlx::AssertSqlSafe(sql))
    .bind(migration.version)
    .bind(migration.description.as_str())
    .bind(success)
    .bind(migration.checksum.as_slice())
    .bind(execution_time)
    .execute(&mut **c)
    .await
    .map(drop), rusqlite => rusqlite::own_execute(c, &sql, &[
        &migration.version,
        &migration.description,
        &success,
        &migration.checksum.as_slice(),
        &execution_time,
    ]))
    .map_err(sql_error)
}

pub(super) async fn set_success(
    conn: &mut Conn,
    version: i64,
    success: bool,
    execution_time: Option<i64>,
) -> Result<(), RepoError> {
    let sql = placeholders(
        conn.dialect(),
        "UPDATE _sqlx_migrations SET success = ?, execution_time = COALESCE(?, execution_time) WHERE version = ?",
    );
    on_conn!(conn, c => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(success)
        .bind(execution_time)
        .bind(version)
        .execute(&mut **c)
        .await
        .map(drop), rusqlite => rusqlite::own_execute(c, &sql, &[&success, &execution_time, &version]))
    .map_err(sql_error)
}

pub(super) async fn delete_record(conn: &mut Conn, version: i64) -> Result<(), RepoError> {
    let sql = placeholders(
        conn.dialect(),
        "DELETE FROM _sqlx_migrations WHERE version = ?",
    );
    on_conn!(conn, c => sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(version)
        .execute(&mut **c)
        .await
        .map(drop), rusqlite => rusqlite::own_execute(c, &sql, &[&version]))
    .map_err(sql_error)
}

pub(super) async fn unlock(conn: &mut Conn, lock: &RunnerLock) -> Result<(), RepoError> {
    let RunnerLock(key) = lock;
    match conn.dialect() {
        Dialect::Sqlite => Ok(()),
        Dialect::Postgres => on_conn!(conn, c => sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .execute(&mut **c)
            .await
            .map(drop))
        .map_err(sql_error),
        Dialect::MySql => on_conn!(conn, c => sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(format!("{key:x}"))
            .execute(&mut **c)
            .await
            .map(drop))
        .map_err(sql_error),
    }
}

/// `?` placeholders numbered `$1`, `$2`, ... on PostgreSQL.
fn placeholders(dialect: Dialect, sql: &str) -> String {
    if dialect != Dialect::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut index = 0;
    for c in sql.chars() {
        if c == '?' {
            index += 1;
            dialect.push_placeholder(&mut out, index);
        } else {
            out.push(c);
        }
    }
    out
}
