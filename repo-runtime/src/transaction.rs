//! Transactions: [`Tx`], a cheap handle to one open transaction that any number of
//! repositories can share (the Unit of Work), and [`Db::transaction`] / [`Db::begin`].

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Mutex, MutexGuard};

use crate::db::{Db, Pool};
use crate::dialect::Dialect;
use crate::error::RepoError;

/// An open transaction. Clones share it; repositories built on it run every statement in it.
///
/// It ends with [`Tx::commit`] or [`Tx::rollback`]; when the last clone is dropped without
/// either, the transaction is rolled back.
#[derive(Clone)]
pub struct Tx {
    shared: Arc<TxShared>,
}

struct TxShared {
    db: Db,
    state: Mutex<TxState>,
    savepoints: AtomicUsize,
}

pub(crate) enum TxState {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
    Finished,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens a transaction. Finish it with [`Tx::commit`]; dropping every clone of it
    /// uncommitted rolls it back.
    pub async fn begin(&self) -> Result<Tx, RepoError> {
        let state = match self.pool() {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => pool.begin().await.map(TxState::Sqlite),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => pool.begin().await.map(TxState::Postgres),
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => pool.begin().await.map(TxState::MySql),
        }
        .map_err(|error| RepoError::from_sqlx(error, None))?;
        Ok(Tx {
            shared: Arc::new(TxShared {
                db: self.clone(),
                state: Mutex::new(state),
                savepoints: AtomicUsize::new(0),
            }),
        })
    }

    /// Runs `work` in one transaction: commits when it returns `Ok`, rolls back when it
    /// returns `Err`, panics, or is dropped before finishing.
    ///
    /// ```no_run
    /// # use repo_runtime::prelude::*;
    /// # async fn demo(db: &Db) -> Result<(), RepoError> {
    /// let total = db.transaction(async |tx| {
    ///     // E::repository(&tx) for every entity written here
    ///     let _ = tx;
    ///     Ok(42)
    /// }).await?;
    /// # let _ = total; Ok(()) }
    /// ```
    pub async fn transaction<T, F, Fut>(&self, work: F) -> Result<T, RepoError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = Result<T, RepoError>>,
    {
        let tx = self.begin().await?;
        match work(tx.clone()).await {
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed transaction failed");
                }
                Err(error)
            }
        }
    }
}

impl Tx {
    /// The dialect of the underlying database.
    pub fn dialect(&self) -> Dialect {
        self.shared.db.dialect()
    }

    /// The database this transaction runs on.
    pub fn db(&self) -> &Db {
        &self.shared.db
    }

    pub(crate) async fn lock(&self) -> MutexGuard<'_, TxState> {
        self.shared.state.lock().await
    }

    /// Commits. Every clone of this handle is finished afterwards.
    pub async fn commit(&self) -> Result<(), RepoError> {
        let state = std::mem::replace(&mut *self.lock().await, TxState::Finished);
        let result = match state {
            #[cfg(feature = "sqlite")]
            TxState::Sqlite(tx) => tx.commit().await,
            #[cfg(feature = "postgres")]
            TxState::Postgres(tx) => tx.commit().await,
            #[cfg(feature = "mysql")]
            TxState::MySql(tx) => tx.commit().await,
            TxState::Finished => return Err(RepoError::TransactionFinished),
        };
        result.map_err(|error| RepoError::from_sqlx(error, None))
    }

    /// Rolls back. Every clone of this handle is finished afterwards.
    pub async fn rollback(&self) -> Result<(), RepoError> {
        let state = std::mem::replace(&mut *self.lock().await, TxState::Finished);
        let result = match state {
            #[cfg(feature = "sqlite")]
            TxState::Sqlite(tx) => tx.rollback().await,
            #[cfg(feature = "postgres")]
            TxState::Postgres(tx) => tx.rollback().await,
            #[cfg(feature = "mysql")]
            TxState::MySql(tx) => tx.rollback().await,
            TxState::Finished => return Err(RepoError::TransactionFinished),
        };
        result.map_err(|error| RepoError::from_sqlx(error, None))
    }

    /// Runs one statement made only of keywords and a derive-free name, such as `SAVEPOINT`.
    async fn execute_control(&self, sql: String) -> Result<(), RepoError> {
        let sql = sqlx::AssertSqlSafe(sql);
        let mut guard = self.lock().await;
        let result = match &mut *guard {
            #[cfg(feature = "sqlite")]
            TxState::Sqlite(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(drop),
            #[cfg(feature = "postgres")]
            TxState::Postgres(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(drop),
            #[cfg(feature = "mysql")]
            TxState::MySql(tx) => sqlx::raw_sql(sql).execute(&mut **tx).await.map(drop),
            TxState::Finished => return Err(RepoError::TransactionFinished),
        };
        result.map_err(|error| RepoError::from_sqlx(error, None))
    }

    /// Runs `work` inside a savepoint of this transaction: its writes are undone when it
    /// fails, and the enclosing transaction goes on.
    pub(crate) async fn within_savepoint<T, Fut>(&self, work: Fut) -> Result<T, RepoError>
    where
        Fut: Future<Output = Result<T, RepoError>>,
    {
        let n = self.shared.savepoints.fetch_add(1, Ordering::Relaxed);
        let name = format!("repo_savepoint_{n}");
        self.execute_control(format!("SAVEPOINT {name}")).await?;
        match work.await {
            Ok(value) => {
                self.execute_control(format!("RELEASE SAVEPOINT {name}"))
                    .await?;
                Ok(value)
            }
            Err(error) => {
                self.execute_control(format!("ROLLBACK TO SAVEPOINT {name}"))
                    .await?;
                Err(error)
            }
        }
    }
}
