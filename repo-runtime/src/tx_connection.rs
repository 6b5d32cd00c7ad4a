//! [`TxConnection`]: the connection of an open transaction, lent for statements of one's own,
//! so hand-written sqlx joins the same unit of work as the repositories.

use tokio::sync::MutexGuard;

use crate::backend::SqlConnection;
use crate::error::RepoError;
use crate::transaction::{Tx, TxState};

/// The connection of a transaction, borrowed with [`Tx::connection`]. Statements run on it
/// are part of the transaction: they commit or roll back with it.
///
/// While it is held, the transaction's repositories wait for it: drop it before calling them
/// again. Classify the errors of your statements with [`from_sqlx`](crate::from_sqlx).
///
/// ```
/// # use repo_runtime::prelude::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), RepoError> {
/// let db = Db::connect("sqlite::memory:").await?;
/// let tx = db.begin().await?;
/// {
///     let mut connection = tx.connection().await?;
///     if let Some(connection) = connection.as_sqlite() {
///         repo_runtime::sqlx::query("CREATE TABLE notes (body TEXT)")
///             .execute(&mut *connection)
///             .await
///             .map_err(repo_runtime::from_sqlx)?;
///     }
/// }
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub struct TxConnection<'tx> {
    state: MutexGuard<'tx, TxState>,
}

impl std::fmt::Debug for TxConnection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxConnection").finish_non_exhaustive()
    }
}

impl Tx {
    /// Lends the transaction's connection for statements of your own (see [`TxConnection`]).
    ///
    /// [`RepoError::TransactionFinished`] after commit or rollback; [`RepoError::Config`] on
    /// the in-memory store, which runs no SQL.
    pub async fn connection(&self) -> Result<TxConnection<'_>, RepoError> {
        let state = self.lock().await;
        match &*state {
            TxState::Finished => Err(RepoError::TransactionFinished),
            #[cfg(feature = "memory")]
            TxState::Memory(_) => Err(crate::db::no_sql()),
            _ => Ok(TxConnection { state }),
        }
    }
}

impl TxConnection<'_> {
    /// The SQLite connection, when the transaction runs on SQLite.
    #[cfg(feature = "sqlite")]
    pub fn as_sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        match &mut *self.state {
            TxState::Sql(SqlConnection::Sqlite(connection)) => Some(&mut **connection),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The PostgreSQL connection, when the transaction runs on PostgreSQL.
    #[cfg(feature = "postgres")]
    pub fn as_postgres(&mut self) -> Option<&mut sqlx::PgConnection> {
        match &mut *self.state {
            TxState::Sql(SqlConnection::Postgres(connection)) => Some(&mut **connection),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The MySQL or MariaDB connection, when the transaction runs on one.
    #[cfg(feature = "mysql")]
    pub fn as_mysql(&mut self) -> Option<&mut sqlx::MySqlConnection> {
        match &mut *self.state {
            TxState::Sql(SqlConnection::MySql(connection)) => Some(&mut **connection),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The transaction's connection on SQLite through rusqlite; `None` on other backends, or
    /// when a cancelled statement took the connection with it.
    #[cfg(feature = "rusqlite")]
    pub fn as_rusqlite(&mut self) -> Option<&rusqlite::Connection> {
        match &mut *self.state {
            TxState::Sql(SqlConnection::Rusqlite(session)) => session.connection().ok(),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}
