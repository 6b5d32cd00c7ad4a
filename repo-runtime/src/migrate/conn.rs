//! One pooled connection held for a whole migration run or drift check: the runner's locks,
//! `PRAGMA`s and transactions are per connection, so they cannot go through the pool.

use repo_sql::Dialect;

use crate::db::{Db, Pool};
use crate::error::{FromSqlx, RepoError};

pub(crate) enum Conn {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::pool::PoolConnection<sqlx::MySql>),
}

/// Runs `$body` with `$c` bound to the backend's connection, whichever it is.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            Conn::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            Conn::MySql($c) => $body,
        }
    };
}
pub(crate) use on_conn;

pub(crate) fn sql_error(error: sqlx::Error) -> RepoError {
    RepoError::from_sqlx(error, None)
}

impl Conn {
    pub(crate) async fn acquire(db: &Db) -> Result<Conn, RepoError> {
        let conn = match db.pool() {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => pool.acquire().await.map(Conn::Sqlite),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => pool.acquire().await.map(Conn::Postgres),
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => pool.acquire().await.map(Conn::MySql),
            #[cfg(feature = "memory")]
            Pool::Memory(_) => return Err(crate::db::no_sql()),
        };
        conn.map_err(sql_error)
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Conn::MySql(_) => Dialect::MySql,
        }
    }

    /// Runs one or more statements written by the migration author or generated from the
    /// entities: migration files are SQL by definition.
    pub(crate) async fn script(&mut self, sql: &str) -> Result<(), RepoError> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        on_conn!(self, c => sqlx::raw_sql(sql).execute(&mut **c).await.map(drop)).map_err(sql_error)
    }

    /// Makes the connection close instead of returning to the pool, when its session state
    /// (a transaction, a pragma, a lock) may not have been reset.
    pub(crate) fn discard(&mut self) {
        on_conn!(self, c => c.close_on_drop());
    }

    /// The current database's name (`main` on SQLite).
    pub(crate) async fn database_name(&mut self) -> Result<String, RepoError> {
        let sql = match self.dialect() {
            Dialect::Sqlite => "SELECT 'main'",
            Dialect::Postgres => "SELECT current_database()",
            Dialect::MySql => "SELECT DATABASE()",
        };
        on_conn!(self, c => sqlx::query_scalar::<_, String>(sql).fetch_one(&mut **c).await)
            .map_err(sql_error)
    }
}
