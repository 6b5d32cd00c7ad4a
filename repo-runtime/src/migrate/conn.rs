//! One pooled connection held for a whole migration run or drift check: the runner's locks,
//! `PRAGMA`s and transactions are per connection, so they cannot go through the pool.

use repo_sql::Dialect;

use crate::backend::SqlConnection;
use crate::db::Db;
use crate::error::{FromSqlx, RepoError};

/// The migration run's connection: one SQL connection of the handle's pool, with the errors
/// of what it runs made into `RepoError`.
pub(crate) struct Conn(pub(crate) SqlConnection);

/// Runs `$body` with `$c` bound to the backend's connection of a [`Conn`], whichever it is;
/// SQLite through rusqlite runs `$rusqlite` with its session in `$c`, or, without one (a
/// statement of a server's catalog), fails.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr, rusqlite => $rusqlite:expr) => {
        $crate::backend::on_connection!(&mut $conn.0, $c => $body, rusqlite => $rusqlite)
    };
    ($conn:expr, $c:ident => $body:expr) => {
        $crate::backend::on_connection!(&mut $conn.0, $c => $body, rusqlite => {
            let _ = $c;
            Err(sqlx::Error::Configuration("a server's statement on SQLite".into()))
        })
    };
}
pub(crate) use on_conn;

pub(crate) fn sql_error(error: sqlx::Error) -> RepoError {
    RepoError::from_sqlx(error, None)
}

impl Conn {
    /// A connection of `db`'s pool; `Config` on the in-memory store, which runs no SQL.
    pub(crate) async fn acquire(db: &Db) -> Result<Conn, RepoError> {
        let pool = db.sql_pool()?;
        pool.acquire().await.map(Conn).map_err(sql_error)
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.0.dialect()
    }

    /// Runs one or more statements written by the migration author or generated from the
    /// entities: migration files are SQL by definition.
    pub(crate) async fn script(&mut self, sql: &str) -> Result<(), RepoError> {
        self.0.script(sql.to_owned()).await.map_err(sql_error)
    }

    /// Makes the connection close instead of returning to the pool, when its session state
    /// (a transaction, a pragma, a lock) may not have been reset.
    pub(crate) fn discard(&mut self) {
        self.0.discard();
    }

    /// The current database's name (`main` on SQLite).
    pub(crate) async fn database_name(&mut self) -> Result<String, RepoError> {
        let sql = match self.dialect() {
            Dialect::Sqlite => "SELECT 'main'",
            Dialect::Postgres => "SELECT current_database()",
            Dialect::MySql => "SELECT DATABASE()",
        };
        on_conn!(self, c => sqlx::query_scalar::<_, String>(sql).fetch_one(&mut **c).await,
        rusqlite => {
            let _ = (c, sql);
            Ok(String::from("main"))
        })
        .map_err(sql_error)
    }
}
