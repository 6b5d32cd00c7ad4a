//! The in-memory store (feature `memory`): a database kept in Rust data structures, behind
//! the same [`Db`], [`Tx`] and repositories as the SQL backends, with their semantics:
//! generated keys, primary and unique keys, foreign keys, `NOT NULL`, ordering, pages, and
//! transactions that see their own writes and discard them on rollback.
//!
//! One transaction writes at a time (like SQLite's `BEGIN IMMEDIATE`): a transaction takes the
//! store's write lock when it begins, waiting at most the `Db`'s busy timeout, and works on its
//! own copy of the tables, which becomes the committed state when it commits. Reads outside a
//! transaction see the last committed state.

mod ops;
mod plan;
mod rich;
mod table;
mod value;

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;

pub(crate) use ops::*;
pub(crate) use plan::{execute_plan, fetch_count, fetch_exists, fetch_rows, select_rows};
pub(crate) use table::State;
pub use value::Value;

use crate::db::Db;
use crate::error::{BoxError, RepoError};
use crate::executor::Executor;
use crate::schema::Table;
use crate::transaction::TxState;

/// The store behind one `Db::memory()`: the committed tables and the write lock.
#[derive(Clone, Default)]
pub(crate) struct Store {
    committed: Arc<Mutex<Arc<State>>>,
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    fn snapshot(&self) -> Arc<State> {
        Arc::clone(
            &self
                .committed
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Takes the write lock, waiting at most the busy timeout, as SQLite waits for its own.
    async fn lock_writer(&self, db: &Db) -> Result<OwnedMutexGuard<()>, RepoError> {
        let wait = db.options().sqlite_busy_timeout;
        match tokio::time::timeout(wait, Arc::clone(&self.writer).lock_owned()).await {
            Ok(guard) => Ok(guard),
            Err(_) => Err(RepoError::Transient {
                entity: crate::error::NO_ENTITY,
                source: "the in-memory store is locked by another transaction".into(),
            }),
        }
    }

    /// Creates the table, empty, unless it exists.
    pub(crate) fn create_table(&self, table: &'static Table) {
        let mut committed = self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if committed.table(table.name).is_none() {
            Arc::make_mut(&mut committed).create(table);
        }
    }

    /// Drops the table and its rows, if it exists.
    pub(crate) fn drop_table(&self, table: &'static Table) {
        let mut committed = self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::make_mut(&mut committed).drop_table(table.name);
    }

    /// Opens a transaction: with the write lock unless it only reads.
    pub(crate) async fn begin(&self, db: &Db, read_only: bool) -> Result<Session, RepoError> {
        let writer = if read_only {
            None
        } else {
            Some(self.lock_writer(db).await?)
        };
        Ok(Session {
            store: self.clone(),
            writer,
            working: (*self.snapshot()).clone(),
            savepoints: Vec::new(),
        })
    }
}

/// An open in-memory transaction: its own copy of the tables, and the savepoints in it.
pub(crate) struct Session {
    store: Store,
    /// The write lock, held until the transaction ends; `None` when it only reads.
    writer: Option<OwnedMutexGuard<()>>,
    working: State,
    savepoints: Vec<(String, State)>,
}

impl Session {
    /// Makes the transaction's tables the committed state.
    pub(crate) fn commit(self) {
        if self.writer.is_some() {
            *self
                .store
                .committed
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Arc::new(self.working);
        }
    }

    /// Remembers the tables as they are, to roll back to.
    pub(crate) fn savepoint(&mut self, name: &str) {
        self.savepoints
            .push((name.to_owned(), self.working.clone()));
    }

    /// Forgets the savepoint `name` and those opened after it, keeping their writes.
    pub(crate) fn release(&mut self, name: &str) {
        if let Some(position) = self.savepoints.iter().rposition(|(n, _)| n == name) {
            self.savepoints.truncate(position);
        }
    }

    /// Puts the tables back as they were at the savepoint `name`, and forgets it.
    pub(crate) fn rollback_to(&mut self, name: &str) {
        if let Some(position) = self.savepoints.iter().rposition(|(n, _)| n == name) {
            let (_, state) = self.savepoints.swap_remove(position);
            self.savepoints.truncate(position);
            self.working = state;
        }
    }
}

/// A repository's way into the store: on the committed tables, or a transaction's copy.
pub(crate) struct Handle<'a> {
    executor: &'a Executor,
    store: &'a Store,
}

impl<'a> Handle<'a> {
    /// The handle of `executor` when its database is in memory.
    pub(crate) fn of(executor: &'a Executor) -> Option<Handle<'a>> {
        executor
            .db()
            .memory_store()
            .map(|store| Handle { executor, store })
    }

    /// Runs `read` on the tables this executor sees, traced and counted like a statement.
    pub(crate) async fn read<T>(
        &self,
        table: &'static Table,
        operation: &'static str,
        read: impl FnOnce(&State) -> Result<T, RepoError>,
        rows: impl FnOnce(&T) -> u64,
    ) -> Result<T, RepoError> {
        let run = async {
            match self.executor {
                Executor::Db(_) => read(&self.store.snapshot()),
                Executor::Tx(tx) => match &*tx.lock().await {
                    TxState::Memory(session) => read(&session.working),
                    _ => Err(RepoError::TransactionFinished),
                },
            }
        };
        self.executor.observe(table, operation, run, rows).await
    }

    /// Runs `write` on the tables, under the write lock outside a transaction. `write` must
    /// check everything before it changes anything: a failed write leaves no trace.
    pub(crate) async fn write<T>(
        &self,
        table: &'static Table,
        operation: &'static str,
        write: impl FnOnce(&mut State) -> Result<T, RepoError>,
        rows: impl FnOnce(&T) -> u64,
    ) -> Result<T, RepoError> {
        let run = async {
            match self.executor {
                Executor::Db(db) => {
                    let _writer = self.store.lock_writer(db).await?;
                    let mut committed = self
                        .store
                        .committed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    write(Arc::make_mut(&mut committed))
                }
                Executor::Tx(tx) => match &mut *tx.lock().await {
                    TxState::Memory(session) if session.writer.is_none() => Err(read_only(table)),
                    TxState::Memory(session) => write(&mut session.working),
                    _ => Err(RepoError::TransactionFinished),
                },
            }
        };
        self.executor.observe(table, operation, run, rows).await
    }
}

fn read_only(table: &'static Table) -> RepoError {
    RepoError::Database {
        entity: table.entity,
        code: None,
        source: "cannot write in a read-only transaction".into(),
    }
}

/// An error of the store itself, kept as a `RepoError`'s source as a driver's would be.
pub(crate) fn violation(message: impl Into<String>) -> BoxError {
    message.into().into()
}

/// The executor of an in-memory repository: `handle` when its database is in memory, else
/// `Config` naming the repository.
pub fn memory_executor(
    handle: impl Into<Executor>,
    repository: &'static str,
) -> Result<Executor, RepoError> {
    let executor = handle.into();
    if executor.is_memory() {
        Ok(executor)
    } else {
        Err(RepoError::config(format!(
            "{repository} runs on an in-memory database (`Db::memory()`), not on {}",
            executor.db().backend_name()
        )))
    }
}
