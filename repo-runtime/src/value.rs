//! The bounds a Rust type must meet to be bound as a parameter or read from a column on every
//! backend compiled into this build.
//!
//! The traits are blanket-implemented: a type qualifies exactly when sqlx can encode (or decode)
//! it for each enabled backend. Generated code names them so that a column type missing on one
//! backend fails at the field, with one message, rather than deep inside a query.

#[cfg(feature = "mysql")]
use sqlx::MySql;
#[cfg(feature = "postgres")]
use sqlx::Postgres;
#[cfg(feature = "sqlite")]
use sqlx::Sqlite;

macro_rules! backend_bound {
    ($feature:literal, $encode:ident, $decode:ident, $db:ident) => {
        #[cfg(feature = $feature)]
        #[doc(hidden)]
        pub trait $encode<'q>: sqlx::Type<$db> + sqlx::Encode<'q, $db> {}
        #[cfg(feature = $feature)]
        impl<'q, T: sqlx::Type<$db> + sqlx::Encode<'q, $db>> $encode<'q> for T {}
        #[cfg(not(feature = $feature))]
        #[doc(hidden)]
        pub trait $encode<'q> {}
        #[cfg(not(feature = $feature))]
        impl<T> $encode<'_> for T {}

        #[cfg(feature = $feature)]
        #[doc(hidden)]
        pub trait $decode: sqlx::Type<$db> + for<'r> sqlx::Decode<'r, $db> {}
        #[cfg(feature = $feature)]
        impl<T: sqlx::Type<$db> + for<'r> sqlx::Decode<'r, $db>> $decode for T {}
        #[cfg(not(feature = $feature))]
        #[doc(hidden)]
        pub trait $decode {}
        #[cfg(not(feature = $feature))]
        impl<T> $decode for T {}
    };
}

backend_bound!("sqlite", SqliteEncode, SqliteDecode, Sqlite);
backend_bound!("postgres", PostgresEncode, PostgresDecode, Postgres);
backend_bound!("mysql", MySqlEncode, MySqlDecode, MySql);

/// Bound through rusqlite (feature `rusqlite`): in the forms sqlx's SQLite driver writes.
#[cfg(feature = "rusqlite")]
#[doc(hidden)]
pub trait RusqliteEncode: crate::rusqlite_value::ToSqlite {}
#[cfg(feature = "rusqlite")]
impl<T: crate::rusqlite_value::ToSqlite> RusqliteEncode for T {}
#[cfg(not(feature = "rusqlite"))]
#[doc(hidden)]
pub trait RusqliteEncode {}
#[cfg(not(feature = "rusqlite"))]
impl<T> RusqliteEncode for T {}

/// Read through rusqlite (feature `rusqlite`).
#[cfg(feature = "rusqlite")]
#[doc(hidden)]
pub trait RusqliteDecode: crate::rusqlite_value::FromSqlite {}
#[cfg(feature = "rusqlite")]
impl<T: crate::rusqlite_value::FromSqlite> RusqliteDecode for T {}
#[cfg(not(feature = "rusqlite"))]
#[doc(hidden)]
pub trait RusqliteDecode {}
#[cfg(not(feature = "rusqlite"))]
impl<T> RusqliteDecode for T {}

pub(crate) use crate::memory_value::{MemoryDecode, MemoryEncode};

/// A value that can be bound as a statement parameter on every enabled backend.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be bound as a parameter on every enabled backend",
    note = "see `ColumnValue` for the column types"
)]
pub trait Encodable<'q>:
    SqliteEncode<'q> + PostgresEncode<'q> + MySqlEncode<'q> + RusqliteEncode + MemoryEncode + Send
{
}
impl<'q, T> Encodable<'q> for T where
    T: SqliteEncode<'q>
        + PostgresEncode<'q>
        + MySqlEncode<'q>
        + RusqliteEncode
        + MemoryEncode
        + Send
{
}

/// A value that can be read from a column on every enabled backend.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a column on every enabled backend",
    note = "see `ColumnValue` for the column types"
)]
pub trait Decodable:
    SqliteDecode + PostgresDecode + MySqlDecode + RusqliteDecode + MemoryDecode + Send + 'static
{
}
impl<T> Decodable for T where
    T: SqliteDecode + PostgresDecode + MySqlDecode + RusqliteDecode + MemoryDecode + Send + 'static
{
}

/// A column type PostgreSQL takes as an array element: batch inserts there bind one array per
/// column and `UNNEST` them, so a batch is one small statement whatever its size.
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub trait PgArrayElement<'q>:
    sqlx::postgres::PgHasArrayType + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Sync
{
}
#[cfg(feature = "postgres")]
impl<'q, T> PgArrayElement<'q> for T where
    T: sqlx::postgres::PgHasArrayType + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Sync
{
}
#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
pub trait PgArrayElement<'q> {}
#[cfg(not(feature = "postgres"))]
impl<T: ?Sized> PgArrayElement<'_> for T {}

/// A value the servers (PostgreSQL, MySQL) bind natively; SQLite takes its text instead.
#[doc(hidden)]
pub trait ServerEncode<'q>: PostgresEncode<'q> + MySqlEncode<'q> + MemoryEncode + Send {}
impl<'q, T: PostgresEncode<'q> + MySqlEncode<'q> + MemoryEncode + Send> ServerEncode<'q> for T {}

/// A value the servers (PostgreSQL, MySQL) read natively; SQLite parses it from text instead.
#[doc(hidden)]
pub trait ServerDecode: PostgresDecode + MySqlDecode + MemoryDecode + Send + 'static {}
impl<T: PostgresDecode + MySqlDecode + MemoryDecode + Send + 'static> ServerDecode for T {}
