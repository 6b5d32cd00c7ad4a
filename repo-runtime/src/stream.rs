//! Rows as a [`Stream`]: for result sets that do not fit in memory. A task runs the statement
//! and sends each row through a bounded channel as the driver reads it, so the rows held at
//! once do not grow with the row count; the consumer decodes them.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::sync::mpsc;

use crate::domain::Mapping;
use crate::entity::Entity;
use crate::error::RepoError;

/// Rows of a repository as a stream, each decoded when polled. Dropping it stops the read and
/// gives its connection back.
pub type RowStream<T> = Pin<Box<dyn Stream<Item = Result<T, RepoError>> + Send>>;

/// Rows the stream's task buffers ahead of the consumer.
pub(crate) const BUFFER: usize = 256;

/// One row of any backend, before an entity decodes it.
pub(crate) enum RawRow {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteRow),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgRow),
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlRow),
    #[cfg(feature = "rusqlite")]
    Rusqlite(crate::backend::rusqlite::RusqliteRow),
    #[cfg(feature = "memory")]
    Memory(crate::memory::MemoryRecord),
}

#[cfg(feature = "sqlite")]
impl From<sqlx::sqlite::SqliteRow> for RawRow {
    fn from(row: sqlx::sqlite::SqliteRow) -> Self {
        RawRow::Sqlite(row)
    }
}

#[cfg(feature = "postgres")]
impl From<sqlx::postgres::PgRow> for RawRow {
    fn from(row: sqlx::postgres::PgRow) -> Self {
        RawRow::Postgres(row)
    }
}

#[cfg(feature = "mysql")]
impl From<sqlx::mysql::MySqlRow> for RawRow {
    fn from(row: sqlx::mysql::MySqlRow) -> Self {
        RawRow::MySql(row)
    }
}

impl RawRow {
    pub(crate) fn decode<E: Entity>(&self) -> Result<E, RepoError> {
        let decoded = match self {
            #[cfg(feature = "sqlite")]
            RawRow::Sqlite(row) => E::decode(row),
            #[cfg(feature = "postgres")]
            RawRow::Postgres(row) => E::decode(row),
            #[cfg(feature = "mysql")]
            RawRow::MySql(row) => E::decode(row),
            #[cfg(feature = "rusqlite")]
            RawRow::Rusqlite(row) => E::decode(row),
            #[cfg(feature = "memory")]
            RawRow::Memory(row) => E::decode(row),
        };
        decoded.map_err(|error| error.in_entity(E::NAME))
    }

    /// The row as an `E` with the value of its column at `position` (named `column`, for
    /// errors) as a `K`: a child with the key of its parent.
    fn decode_keyed<E: Entity, K: crate::column::ColumnValue>(
        &self,
        position: usize,
        column: &'static str,
    ) -> Result<(K, E), RepoError> {
        let key = match self {
            #[cfg(feature = "sqlite")]
            RawRow::Sqlite(row) => K::decode(row, position, column),
            #[cfg(feature = "postgres")]
            RawRow::Postgres(row) => K::decode(row, position, column),
            #[cfg(feature = "mysql")]
            RawRow::MySql(row) => K::decode(row, position, column),
            #[cfg(feature = "rusqlite")]
            RawRow::Rusqlite(row) => K::decode(row, position, column),
            #[cfg(feature = "memory")]
            RawRow::Memory(row) => K::decode(row, position, column),
        };
        let key = key.map_err(|error| error.in_entity(E::NAME))?;
        Ok((key, self.decode::<E>()?))
    }
}

/// The keys a handle's rows decrypt their encrypted fields with, carried to wherever the rows
/// are decoded (another thread, for SQLite through rusqlite); nothing without the feature.
#[derive(Clone, Default)]
pub(crate) struct DecodingKeys {
    #[cfg(feature = "encryption")]
    keyring: Option<std::sync::Arc<crate::encryption::Keyring>>,
}

impl DecodingKeys {
    /// The keys of `executor`'s handle.
    #[inline]
    pub(crate) fn of(executor: &crate::executor::Executor) -> DecodingKeys {
        let _ = executor;
        DecodingKeys {
            #[cfg(feature = "encryption")]
            keyring: executor.db().keyring().cloned(),
        }
    }

    /// While the guard lives, rows decoded on this thread decrypt with these keys.
    #[inline]
    pub(crate) fn enter(&self) -> impl Sized + use<> {
        #[cfg(feature = "encryption")]
        let scope = self
            .keyring
            .as_ref()
            .map(crate::encryption::DecodingScope::enter);
        #[cfg(not(feature = "encryption"))]
        let scope = ();
        scope
    }
}

/// What a read does with each row as the driver hands it over
/// ([`Executor::read_into`](crate::executor::Executor::read_into)): the entity's side of a
/// bulk read, so that no row waits in a vector of rows for the others.
pub(crate) trait RowSink: Send {
    /// Takes the next row.
    fn take(&mut self, row: RawRow) -> Result<(), RepoError>;

    /// Takes the row SQLite stepped to, where rusqlite holds it.
    #[cfg(feature = "rusqlite")]
    fn take_rusqlite(&mut self, row: &rusqlite::Row<'_>) -> Result<(), RepoError>;

    /// Forgets the rows it took: the read starts again.
    fn restart(&mut self);
}

/// The rows of a read decoded as `E`s, each as it arrives.
pub(crate) struct Decoding<E> {
    pub(crate) rows: Vec<E>,
    keys: DecodingKeys,
}

impl<E> Decoding<E> {
    /// Rows `executor`'s read hands over, decrypted with its handle's keys.
    pub(crate) fn new(executor: &crate::executor::Executor) -> Self {
        Decoding {
            rows: Vec::new(),
            keys: DecodingKeys::of(executor),
        }
    }
}

impl<E: Entity> RowSink for Decoding<E> {
    fn take(&mut self, row: RawRow) -> Result<(), RepoError> {
        let _keys = self.keys.enter();
        self.rows.push(row.decode::<E>()?);
        Ok(())
    }

    #[cfg(feature = "rusqlite")]
    fn take_rusqlite(&mut self, row: &rusqlite::Row<'_>) -> Result<(), RepoError> {
        let _keys = self.keys.enter();
        match E::decode(row) {
            Ok(record) => {
                self.rows.push(record);
                Ok(())
            }
            Err(error) => Err(error.in_entity(E::NAME)),
        }
    }

    fn restart(&mut self) {
        self.rows.clear();
    }
}

/// The rows of a read decoded as `E`s with the key of their parent, each as it arrives.
pub(crate) struct DecodingKeyed<K, E> {
    /// Where the parent's key is among the columns, and its name.
    position: usize,
    column: &'static str,
    pub(crate) rows: Vec<(K, E)>,
    keys: DecodingKeys,
}

impl<K, E> DecodingKeyed<K, E> {
    pub(crate) fn new(
        position: usize,
        column: &'static str,
        executor: &crate::executor::Executor,
    ) -> Self {
        DecodingKeyed {
            position,
            column,
            rows: Vec::new(),
            keys: DecodingKeys::of(executor),
        }
    }
}

impl<K: crate::column::ColumnValue + Send, E: Entity> RowSink for DecodingKeyed<K, E> {
    fn take(&mut self, row: RawRow) -> Result<(), RepoError> {
        let _keys = self.keys.enter();
        self.rows
            .push(row.decode_keyed::<E, K>(self.position, self.column)?);
        Ok(())
    }

    #[cfg(feature = "rusqlite")]
    fn take_rusqlite(&mut self, row: &rusqlite::Row<'_>) -> Result<(), RepoError> {
        let _keys = self.keys.enter();
        let key = K::decode(row, self.position, self.column).map_err(|e| e.in_entity(E::NAME))?;
        let record = E::decode(row).map_err(|e| e.in_entity(E::NAME))?;
        self.rows.push((key, record));
        Ok(())
    }

    fn restart(&mut self) {
        self.rows.clear();
    }
}

/// The rows the stream's task sends.
pub(crate) type Sender = mpsc::Sender<Result<RawRow, RepoError>>;

/// The channel a stream's task sends its rows through.
pub(crate) fn channel() -> (Sender, mpsc::Receiver<Result<RawRow, RepoError>>) {
    mpsc::channel(BUFFER)
}

/// The rows of `E` a task sends, as `M`'s values.
pub(crate) struct Decoded<E, M> {
    rows: mpsc::Receiver<Result<RawRow, RepoError>>,
    keys: DecodingKeys,
    types: PhantomData<fn() -> (E, M)>,
}

impl<E, M> Decoded<E, M> {
    pub(crate) fn new(
        rows: mpsc::Receiver<Result<RawRow, RepoError>>,
        executor: &crate::executor::Executor,
    ) -> Self {
        Decoded {
            rows,
            keys: DecodingKeys::of(executor),
            types: PhantomData,
        }
    }
}

impl<E: Entity, M: Mapping<E>> Stream for Decoded<E, M> {
    type Item = Result<M::Value, RepoError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let _keys = self.keys.enter();
        self.rows
            .poll_recv(cx)
            .map(|row| row.map(|row| row.and_then(|row| row.decode::<E>()).and_then(M::value)))
    }
}

/// A stream of one error: a call refused before any row was read.
pub(crate) fn failed<T: Send + 'static>(error: RepoError) -> RowStream<T> {
    Box::pin(Once(Some(error), PhantomData))
}

struct Once<T>(Option<RepoError>, PhantomData<fn() -> T>);

impl<T> Unpin for Once<T> {}

impl<T> Stream for Once<T> {
    type Item = Result<T, RepoError>;

    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.take().map(Err))
    }
}
