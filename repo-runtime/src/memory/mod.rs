//! The in-memory store (feature `memory`): a database kept in Rust data structures, behind
//! the same [`Db`], [`Tx`] and repositories as the SQL backends, with their semantics:
//! generated keys, primary and unique keys, foreign keys, `NOT NULL`, ordering, pages, and
//! transactions that see their own writes and discard them on rollback.
//!
//! One transaction writes at a time (like SQLite's `BEGIN IMMEDIATE`): a transaction takes the
//! store's write lock when it begins, waiting at most the `Db`'s busy timeout, and works on its
//! own copy of the tables, which becomes the committed state when it commits. Reads outside a
//! transaction see the last committed state.

mod aggregate;
mod exec;
mod linked;
mod plan;
mod table;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;

pub(crate) use exec::{MemoryRecord, Ran, Streamed};
pub(crate) use plan::matches;
use table::State;

use crate::error::{BoxError, RepoError};
use crate::schema::Table;
use crate::statement::Statement;

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

    /// Takes the write lock, waiting at most `wait` (the busy timeout), as SQLite waits for
    /// its own.
    async fn lock_writer(&self, wait: Duration) -> Result<OwnedMutexGuard<()>, RepoError> {
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
    pub(crate) async fn begin(
        &self,
        wait: Duration,
        read_only: bool,
    ) -> Result<Session, RepoError> {
        let writer = if read_only {
            None
        } else {
            Some(self.lock_writer(wait).await?)
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

impl Store {
    /// Runs a statement outside a transaction: a read on the committed tables, a write on
    /// them under the write lock, waiting at most `wait` for it.
    pub(crate) async fn run(
        &self,
        table: &'static Table,
        statement: Statement,
        wait: Duration,
    ) -> Result<Ran, RepoError> {
        let statement = statement.into_memory(table)?;
        if !exec::writes(&statement.shape) {
            return exec::read(&self.snapshot(), table, statement);
        }
        let _writer = self.lock_writer(wait).await?;
        let mut committed = self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        exec::write(Arc::make_mut(&mut committed), table, statement)
    }
}

impl Session {
    /// Runs a statement inside the transaction, on its copy of the tables.
    pub(crate) fn run(
        &mut self,
        table: &'static Table,
        statement: Statement,
    ) -> Result<Ran, RepoError> {
        let statement = statement.into_memory(table)?;
        if !exec::writes(&statement.shape) {
            return exec::read(&self.working, table, statement);
        }
        if self.writer.is_none() {
            return Err(read_only(table));
        }
        exec::write(&mut self.working, table, statement)
    }
}

impl Store {
    /// The rows of a select of a filter's rows, read one at a time from the committed tables
    /// as they are now; `None` when nobody wrote to the table.
    pub(crate) fn stream(
        &self,
        table: &'static Table,
        statement: Statement,
    ) -> Result<Option<Streamed>, RepoError> {
        Streamed::start(self.snapshot(), table, statement.into_memory(table)?)
    }
}

impl Session {
    /// [`Store::stream`] on the transaction's tables as they are now.
    pub(crate) fn stream(
        &self,
        table: &'static Table,
        statement: Statement,
    ) -> Result<Option<Streamed>, RepoError> {
        Streamed::start(
            Arc::new(self.working.clone()),
            table,
            statement.into_memory(table)?,
        )
    }
}

fn read_only(table: &'static Table) -> RepoError {
    RepoError::Forbidden {
        entity: table.entity,
        reason: crate::error::READ_ONLY_REFUSAL,
        source: None,
    }
}

/// An error of the store itself, kept as a `RepoError`'s source as a driver's would be.
pub(crate) fn violation(message: impl Into<String>) -> BoxError {
    message.into().into()
}
