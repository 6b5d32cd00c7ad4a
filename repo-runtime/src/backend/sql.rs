//! The SQL backends as one pool type and one connection type: what the handle, transactions
//! and migrations hold, and the one place that says which sqlx type each backend uses.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use repo_sql::Dialect;

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
use super::lender::{Lender, Loan};
use super::{MySqlBatchKeys, PoolSettings};

/// The pool of one SQL backend.
pub(crate) enum SqlPool {
    #[cfg(feature = "sqlite")]
    Sqlite(Lender<sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(Lender<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(Lender<sqlx::MySql>),
    #[cfg(feature = "rusqlite")]
    Rusqlite(super::rusqlite::RusqlitePool),
}

/// One connection taken from an [`SqlPool`], held by a transaction or a migration run: its
/// session (a transaction, a lock, a pragma) is what they need.
pub(crate) enum SqlConnection {
    #[cfg(feature = "sqlite")]
    Sqlite(Loan<sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(Loan<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(Loan<sqlx::MySql>),
    #[cfg(feature = "rusqlite")]
    Rusqlite(super::rusqlite::SessionConnection),
}

/// A connection on its way: at once from the shelf, or a wait for one, boxed so that the
/// futures of the statements that await it stay small (they are moved on every call).
pub(crate) enum Lending<'a> {
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    Shelved(Option<SqlConnection>),
    Waiting(Pin<Box<dyn Future<Output = Result<SqlConnection, sqlx::Error>> + Send + 'a>>),
}

impl<'a> Lending<'a> {
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    fn from_lender<DB: sqlx::Database>(
        lender: &'a Lender<DB>,
        wrap: fn(Loan<DB>) -> SqlConnection,
    ) -> Self {
        match lender.shelved() {
            Some(loan) => Lending::Shelved(Some(wrap(loan))),
            None => Lending::Waiting(Box::pin(async move { lender.lend().await.map(wrap) })),
        }
    }
}

impl Future for Lending<'_> {
    type Output = Result<SqlConnection, sqlx::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Lending::Shelved(connection) => Poll::Ready(connection.take().ok_or_else(|| {
                sqlx::Error::Protocol("a lent connection was awaited twice".into())
            })),
            Lending::Waiting(waiting) => waiting.as_mut().poll(cx),
        }
    }
}

/// Runs `$body` with `$pool` bound to the backend's sqlx pool, whichever it is; the body is
/// type-checked once per backend.
/// SQLite through rusqlite runs `$rusqlite` with its pool in `$pool`.
macro_rules! on_pool {
    ($sql_pool:expr, $pool:ident => $body:expr, rusqlite => $rusqlite:expr) => {
        match $sql_pool {
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            SqlPool::Postgres($pool) => $body,
            #[cfg(feature = "mysql")]
            SqlPool::MySql($pool) => $body,
            #[cfg(feature = "rusqlite")]
            SqlPool::Rusqlite($pool) => $rusqlite,
        }
    };
}

/// Runs `$body` with `$conn` bound to the backend's pooled connection, whichever it is; the
/// body is type-checked once per backend. SQLite through rusqlite runs `$rusqlite` instead, with
/// its session connection in `$conn`.
macro_rules! on_connection {
    ($connection:expr, $conn:ident => $body:expr, rusqlite => $rusqlite:expr) => {
        match $connection {
            #[cfg(feature = "sqlite")]
            $crate::backend::SqlConnection::Sqlite($conn) => $body,
            #[cfg(feature = "postgres")]
            $crate::backend::SqlConnection::Postgres($conn) => $body,
            #[cfg(feature = "mysql")]
            $crate::backend::SqlConnection::MySql($conn) => $body,
            #[cfg(feature = "rusqlite")]
            $crate::backend::SqlConnection::Rusqlite($conn) => $rusqlite,
        }
    };
}
#[cfg(feature = "migrate")]
pub(crate) use on_connection;

/// A pool just opened, and what was learnt of its server.
pub(crate) struct Opened {
    pub(crate) pool: SqlPool,
    /// How MySQL/MariaDB batches learn their generated keys.
    pub(crate) mysql_batch_keys: Option<MySqlBatchKeys>,
    /// `db.system.name`: `sqlite`, `postgresql`, `mysql` or `mariadb`.
    pub(crate) system: &'static str,
}

impl SqlPool {
    /// Opens the pool of `dialect`'s backend at `url`, with what was learnt of the server;
    /// `None` when that backend is not compiled in.
    pub(crate) async fn open(
        dialect: Dialect,
        url: &str,
        settings: &PoolSettings,
    ) -> Option<Result<Opened, sqlx::Error>> {
        let plain = |pool, system| Opened {
            pool,
            mysql_batch_keys: None,
            system,
        };
        let opened = match dialect {
            #[cfg(feature = "rusqlite")]
            Dialect::Sqlite if settings.sqlite_driver == super::SqliteDriver::Rusqlite => {
                super::rusqlite::connect(url, settings)
                    .await
                    .map(|pool| plain(SqlPool::Rusqlite(pool), "sqlite"))
            }
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => super::sqlite::connect(url, settings)
                .await
                .map(|pool| plain(SqlPool::Sqlite(settings.lender(pool)), "sqlite")),
            #[cfg(feature = "postgres")]
            Dialect::Postgres => super::postgres::connect(url, settings)
                .await
                .map(|pool| plain(SqlPool::Postgres(settings.lender(pool)), "postgresql")),
            #[cfg(feature = "mysql")]
            Dialect::MySql => {
                super::mysql::connect(url, settings)
                    .await
                    .map(|(pool, keys, mariadb)| Opened {
                        pool: SqlPool::MySql(settings.lender(pool)),
                        mysql_batch_keys: Some(keys),
                        system: if mariadb { "mariadb" } else { "mysql" },
                    })
            }
            #[allow(unreachable_patterns)]
            _ => {
                let _ = (url, settings, plain);
                return None;
            }
        };
        Some(opened)
    }

    /// The pool of another node of a server cluster, opened without connecting: its first
    /// connection opens when the handle first works on it. `None` on SQLite or when the
    /// backend is not compiled in.
    pub(crate) fn open_lazy(
        dialect: Dialect,
        url: &str,
        settings: &PoolSettings,
    ) -> Option<Result<SqlPool, sqlx::Error>> {
        match dialect {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Some(
                super::postgres::connect_lazy(url, settings)
                    .map(|pool| SqlPool::Postgres(settings.lender(pool))),
            ),
            #[cfg(feature = "mysql")]
            Dialect::MySql => Some(
                super::mysql::connect_lazy(url, settings)
                    .map(|pool| SqlPool::MySql(settings.lender(pool))),
            ),
            _ => {
                let _ = (url, settings);
                None
            }
        }
    }

    /// The server was found gone: what waits for its connections fails now (see
    /// [`Lender::give_up_waiting`]).
    pub(crate) fn give_up_waiting(&self) {
        on_pool!(self, pool => pool.give_up_waiting(), rusqlite => {
            let _ = pool;
        });
    }

    /// Whether the pool has no connection open: a pool that timed out so could reach no
    /// server.
    pub(crate) fn is_unconnected(&self) -> bool {
        on_pool!(self, pool => pool.is_unconnected(), rusqlite => {
            let _ = pool;
            false
        })
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            SqlPool::MySql(_) => Dialect::MySql,
            #[cfg(feature = "rusqlite")]
            SqlPool::Rusqlite(_) => Dialect::Sqlite,
        }
    }

    /// A connection of its own, for a session that may write.
    #[cfg_attr(not(feature = "migrate"), allow(dead_code))]
    pub(crate) async fn acquire(&self) -> Result<SqlConnection, sqlx::Error> {
        self.acquire_for(false).await
    }

    /// A connection of its own, for a session that reads only when `read_only`: SQLite through
    /// rusqlite takes a reader then, beside the one writer.
    pub(crate) fn acquire_for(&self, read_only: bool) -> Lending<'_> {
        #[cfg(not(feature = "rusqlite"))]
        let _ = read_only;
        match self {
            #[cfg(feature = "rusqlite")]
            SqlPool::Rusqlite(pool) => {
                use super::rusqlite::{Role, SessionConnection};
                let role = if read_only {
                    Role::Reader
                } else {
                    Role::Writer
                };
                Lending::Waiting(Box::pin(async move {
                    pool.acquire(role)
                        .await
                        .map(|lease| SqlConnection::Rusqlite(SessionConnection::new(lease)))
                }))
            }
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(lender) => Lending::from_lender(lender, SqlConnection::Sqlite),
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(lender) => Lending::from_lender(lender, SqlConnection::Postgres),
            #[cfg(feature = "mysql")]
            SqlPool::MySql(lender) => Lending::from_lender(lender, SqlConnection::MySql),
        }
    }

    /// How busy the pool is.
    #[cfg(feature = "metrics")]
    pub(crate) fn occupancy(&self) -> super::Occupancy {
        on_pool!(self, pool => pool.occupancy(), rusqlite => pool.occupancy())
    }

    /// A connection for one statement outside a transaction: `None` on SQLite through
    /// rusqlite, whose statements take their connection from its pool themselves.
    pub(crate) fn lend(&self) -> Option<Lending<'_>> {
        match self {
            #[cfg(feature = "rusqlite")]
            SqlPool::Rusqlite(_) => None,
            #[allow(unreachable_patterns)]
            _ => Some(self.acquire_for(false)),
        }
    }

    /// Runs statements of the runtime's own (DDL) on any connection of the pool.
    pub(crate) async fn script(&self, sql: String) -> Result<(), sqlx::Error> {
        #[cfg(feature = "rusqlite")]
        #[allow(irrefutable_let_patterns)]
        if let SqlPool::Rusqlite(pool) = self {
            let lease = pool.acquire(super::rusqlite::Role::Writer).await?;
            return lease
                .execute_batch(sql.as_str())
                .map_err(super::rusqlite::to_sqlx);
        }
        let mut connection = self.acquire().await?;
        connection.script(sql).await
    }

    /// Whether every connection the pool may open is in use, so a caller queues for one.
    pub(crate) fn is_exhausted(&self) -> bool {
        on_pool!(self, pool => pool.is_exhausted(), rusqlite => pool.is_exhausted())
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub(crate) async fn close(&self) {
        on_pool!(self, pool => pool.close().await, rusqlite => pool.close());
    }
}

impl SqlConnection {
    #[cfg_attr(not(feature = "migrate"), allow(dead_code))]
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            SqlConnection::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            SqlConnection::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            SqlConnection::MySql(_) => Dialect::MySql,
            #[cfg(feature = "rusqlite")]
            SqlConnection::Rusqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs statements of the runtime's own (`BEGIN`, `COMMIT`, a migration's script).
    pub(crate) async fn script(&mut self, sql: String) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql);
        on_connection!(self, conn => {
            conn.in_flight();
            let ran = sqlx::raw_sql(sql).execute(&mut **conn).await.map(drop);
            if ran.is_ok() {
                conn.completed();
            }
            ran
        }, rusqlite => conn.script(sql.0.as_str()))
    }

    /// The one text value a statement of the runtime's own returns (a server's setting or
    /// position).
    pub(crate) async fn fetch_text(&mut self, sql: &'static str) -> Result<String, sqlx::Error> {
        on_connection!(self, conn => {
            use sqlx::Row;
            conn.in_flight();
            let row = sqlx::raw_sql(sql).fetch_one(&mut **conn).await?;
            conn.completed();
            row.try_get_unchecked::<String, _>(0)
        }, rusqlite => conn
            .connection()?
            .query_row(sql, [], |row| row.get::<_, String>(0))
            .map_err(super::rusqlite::to_sqlx))
    }

    /// Makes the connection close instead of returning to the pool, when its session state
    /// (a transaction, a pragma, a lock) may not have been reset.
    pub(crate) fn discard(&mut self) {
        on_connection!(self, conn => conn.close_on_drop(), rusqlite => conn.discard());
    }
}
