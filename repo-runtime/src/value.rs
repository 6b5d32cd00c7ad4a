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
        pub trait $encode: sqlx::Type<$db> + for<'q> sqlx::Encode<'q, $db> {}
        #[cfg(feature = $feature)]
        impl<T: sqlx::Type<$db> + for<'q> sqlx::Encode<'q, $db>> $encode for T {}
        #[cfg(not(feature = $feature))]
        #[doc(hidden)]
        pub trait $encode {}
        #[cfg(not(feature = $feature))]
        impl<T> $encode for T {}

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

/// A value that can be bound as a statement parameter on every enabled backend.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be bound as a parameter on every enabled backend",
    note = "supported column types: i16, i32, i64, f32, f64, bool, String, Vec<u8>, and Option of each"
)]
pub trait Encodable: SqliteEncode + PostgresEncode + MySqlEncode + Send {}
impl<T: SqliteEncode + PostgresEncode + MySqlEncode + Send> Encodable for T {}

/// A value that can be read from a column on every enabled backend.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be read from a column on every enabled backend",
    note = "supported column types: i16, i32, i64, f32, f64, bool, String, Vec<u8>, and Option of each"
)]
pub trait Decodable: SqliteDecode + PostgresDecode + MySqlDecode + Send + 'static {}
impl<T: SqliteDecode + PostgresDecode + MySqlDecode + Send + 'static> Decodable for T {}

/// A column type PostgreSQL takes as an array element: batch inserts there bind one array per
/// column and `UNNEST` them, so a batch is one small statement whatever its size.
#[cfg(feature = "postgres")]
#[doc(hidden)]
pub trait PgArrayElement:
    sqlx::postgres::PgHasArrayType + for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Sync
{
}
#[cfg(feature = "postgres")]
impl<T> PgArrayElement for T where
    T: sqlx::postgres::PgHasArrayType
        + for<'q> sqlx::Encode<'q, Postgres>
        + sqlx::Type<Postgres>
        + Sync
{
}
#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
pub trait PgArrayElement {}
#[cfg(not(feature = "postgres"))]
impl<T: ?Sized> PgArrayElement for T {}
