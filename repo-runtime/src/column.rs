//! [`ColumnValue`]: how a Rust type is stored in one column — its SQL type, how it is bound as
//! a parameter and how it is read back. Generated code binds and reads every field through it,
//! so a type works in an entity exactly when it implements this trait.

use crate::entity::RowSource;
use crate::error::RepoError;
use crate::schema::{Column, ColumnType};
use crate::statement::Statement;

/// A Rust type stored in one column, on every backend compiled in.
///
/// Implemented here for the built-in column types (integers, floats, `bool`, `String`,
/// `Vec<u8>`, and with their features the `chrono`, `time`, `uuid`, `rust_decimal` and
/// `serde_json` types), for `Option` of any of them, by `#[derive(DbEnum)]` for enums of unit
/// variants and by `#[derive(DbValue)]` for newtypes. Implement it by hand for a type of your
/// own by delegating to a type that has it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no column mapping",
    label = "this field's type is not a column type",
    note = "column types: i16, i32, i64, f32, f64, bool, String, Vec<u8>; with features chrono, time, uuid, rust_decimal, json: their types; Option of each",
    note = "for your own types: #[derive(DbEnum)] on an enum of unit variants, #[derive(DbValue)] on a newtype, #[repo(json)] or #[repo(with = module)] on the field"
)]
pub trait ColumnValue: Sized + Send + Sync + 'static {
    /// The column's abstract type, rendered per dialect in the DDL.
    const TYPE: ColumnType;
    /// Whether the column accepts `NULL`: true for `Option` only.
    const NULLABLE: bool = false;
    /// A column of this type, still without a name: the derive names it for each field,
    /// `<String as ColumnValue>::COLUMN.named("email", "email")`.
    const COLUMN: Column = Column::new("", "", Self::TYPE, Self::NULLABLE);

    /// Binds the value as the statement's next parameter.
    fn bind(&self, statement: &mut Statement);

    /// Binds a `NULL` of this column's type (how `None` of `Option<Self>` is bound).
    fn bind_null(statement: &mut Statement);

    /// Binds one column of a batch as a single PostgreSQL array, for `UNNEST`.
    fn bind_array(values: Vec<&Self>, statement: &mut Statement);

    /// Binds one optional column of a batch as a single PostgreSQL array, `NULL` for `None`.
    fn bind_optional_array(values: Vec<Option<&Self>>, statement: &mut Statement);

    /// Reads the value from column `index` (named `column`, for errors) of a row.
    fn decode<R: RowSource>(row: &R, index: usize, column: &'static str)
    -> Result<Self, RepoError>;

    /// Reads a nullable column: `None` for `NULL`. Types sqlx decodes natively read the
    /// `Option` in one step; the default looks at the value first.
    #[inline]
    fn decode_optional<R: RowSource>(
        row: &R,
        index: usize,
        column: &'static str,
    ) -> Result<Option<Self>, RepoError> {
        if row.is_null(index, column)? {
            Ok(None)
        } else {
            Self::decode(row, index, column).map(Some)
        }
    }
}

impl<T: ColumnValue> ColumnValue for Option<T> {
    const TYPE: ColumnType = T::TYPE;
    const NULLABLE: bool = true;

    #[inline]
    fn bind(&self, statement: &mut Statement) {
        match self {
            Some(value) => value.bind(statement),
            None => T::bind_null(statement),
        }
    }

    fn bind_null(statement: &mut Statement) {
        T::bind_null(statement);
    }

    fn bind_array(values: Vec<&Self>, statement: &mut Statement) {
        T::bind_optional_array(values.into_iter().map(Option::as_ref).collect(), statement);
    }

    fn bind_optional_array(values: Vec<Option<&Self>>, statement: &mut Statement) {
        let values = values
            .into_iter()
            .map(|value| value.and_then(Option::as_ref))
            .collect();
        T::bind_optional_array(values, statement);
    }

    #[inline]
    fn decode<R: RowSource>(
        row: &R,
        index: usize,
        column: &'static str,
    ) -> Result<Self, RepoError> {
        T::decode_optional(row, index, column)
    }
}

/// Types sqlx encodes and decodes natively on every backend.
macro_rules! native {
    ($($(#[$cfg:meta])* $ty:ty => $column:ident,)*) => {$(
        $(#[$cfg])*
        impl ColumnValue for $ty {
            const TYPE: ColumnType = ColumnType::$column;

            #[inline]
            fn bind(&self, statement: &mut Statement) {
                statement.bind(self);
            }

            fn bind_null(statement: &mut Statement) {
                statement.bind(None::<$ty>);
            }

            fn bind_array(values: Vec<&Self>, statement: &mut Statement) {
                statement.bind_array(values);
            }

            fn bind_optional_array(values: Vec<Option<&Self>>, statement: &mut Statement) {
                statement.bind_array(values);
            }

            #[inline]
            fn decode<R: RowSource>(
                row: &R,
                index: usize,
                column: &'static str,
            ) -> Result<Self, RepoError> {
                row.get::<$ty>(index, column)
            }

            #[inline]
            fn decode_optional<R: RowSource>(
                row: &R,
                index: usize,
                column: &'static str,
            ) -> Result<Option<Self>, RepoError> {
                row.get::<Option<$ty>>(index, column)
            }
        }
    )*};
}

native! {
    i16 => SmallInt,
    i32 => Integer,
    i64 => BigInt,
    bool => Boolean,
    String => Text,
    Vec<u8> => Bytes,
    #[cfg(feature = "chrono")]
    chrono::NaiveDateTime => Timestamp,
    #[cfg(feature = "chrono")]
    chrono::NaiveDate => Date,
    #[cfg(feature = "chrono")]
    chrono::NaiveTime => Time,
    #[cfg(feature = "time")]
    time::PrimitiveDateTime => Timestamp,
    #[cfg(feature = "time")]
    time::Date => Date,
    #[cfg(feature = "time")]
    time::Time => Time,
    #[cfg(feature = "uuid")]
    uuid::Uuid => Uuid,
    #[cfg(feature = "json")]
    serde_json::Value => Json,
}

/// Instants are `DATETIME(6)` holding UTC on MySQL/MariaDB: sqlx sends them there as
/// `TIMESTAMP` parameters, which MariaDB turns into NULL outside 1970–2038, so they are bound
/// as the UTC date and time instead.
macro_rules! instant {
    ($(#[$cfg:meta] $ty:ty => |$value:ident| $utc:expr,)*) => {$(
        #[$cfg]
        impl ColumnValue for $ty {
            const TYPE: ColumnType = ColumnType::TimestampTz;

            #[inline]
            fn bind(&self, statement: &mut Statement) {
                if statement.is_mysql() {
                    let $value = self;
                    statement.bind($utc);
                } else {
                    statement.bind(self);
                }
            }

            fn bind_null(statement: &mut Statement) {
                statement.bind(None::<$ty>);
            }

            fn bind_array(values: Vec<&Self>, statement: &mut Statement) {
                statement.bind_array(values);
            }

            fn bind_optional_array(values: Vec<Option<&Self>>, statement: &mut Statement) {
                statement.bind_array(values);
            }

            #[inline]
            fn decode<R: RowSource>(
                row: &R,
                index: usize,
                column: &'static str,
            ) -> Result<Self, RepoError> {
                row.get::<$ty>(index, column)
            }

            #[inline]
            fn decode_optional<R: RowSource>(
                row: &R,
                index: usize,
                column: &'static str,
            ) -> Result<Option<Self>, RepoError> {
                row.get::<Option<$ty>>(index, column)
            }
        }
    )*};
}

instant! {
    #[cfg(feature = "chrono")]
    chrono::DateTime<chrono::Utc> => |value| value.naive_utc(),
    #[cfg(feature = "time")]
    time::OffsetDateTime => |value| {
        let utc = value.to_offset(time::UtcOffset::UTC);
        time::PrimitiveDateTime::new(utc.date(), utc.time())
    },
}

/// Floats must be finite: SQLite stores NaN as NULL and MySQL refuses NaN and infinities, so
/// every backend refuses them alike, with [`RepoError::InvalidInput`].
macro_rules! finite_float {
    ($($ty:ty => $column:ident),*) => {$(
        impl ColumnValue for $ty {
            const TYPE: ColumnType = ColumnType::$column;

            #[inline]
            fn bind(&self, statement: &mut Statement) {
                if self.is_finite() {
                    statement.bind(self);
                } else {
                    statement.fail(non_finite());
                }
            }

            fn bind_null(statement: &mut Statement) {
                statement.bind(None::<$ty>);
            }

            fn bind_array(values: Vec<&Self>, statement: &mut Statement) {
                if values.iter().all(|value| value.is_finite()) {
                    statement.bind_array(values);
                } else {
                    statement.fail(non_finite());
                }
            }

            fn bind_optional_array(values: Vec<Option<&Self>>, statement: &mut Statement) {
                if values.iter().flatten().all(|value| value.is_finite()) {
                    statement.bind_array(values);
                } else {
                    statement.fail(non_finite());
                }
            }

            #[inline]
            fn decode<R: RowSource>(
                row: &R,
                index: usize,
                column: &'static str,
            ) -> Result<Self, RepoError> {
                row.get::<$ty>(index, column)
            }

            #[inline]
            fn decode_optional<R: RowSource>(
                row: &R,
                index: usize,
                column: &'static str,
            ) -> Result<Option<Self>, RepoError> {
                row.get::<Option<$ty>>(index, column)
            }
        }
    )*};
}

finite_float!(f32 => Real, f64 => Double);

fn non_finite() -> RepoError {
    RepoError::invalid_input(
        crate::error::NO_ENTITY,
        "floating-point values must be finite: NaN and infinities are not stored",
    )
}

/// SQLite has no decimal type in sqlx: it stores the exact decimal text there.
#[cfg(feature = "rust_decimal")]
impl ColumnValue for rust_decimal::Decimal {
    const TYPE: ColumnType = ColumnType::Decimal;

    #[inline]
    fn bind(&self, statement: &mut Statement) {
        statement.bind_text_on_sqlite(self);
    }

    fn bind_null(statement: &mut Statement) {
        statement.bind_null_text_on_sqlite::<rust_decimal::Decimal>();
    }

    fn bind_array(values: Vec<&Self>, statement: &mut Statement) {
        statement.bind_array(values);
    }

    fn bind_optional_array(values: Vec<Option<&Self>>, statement: &mut Statement) {
        statement.bind_array(values);
    }

    #[inline]
    fn decode<R: RowSource>(
        row: &R,
        index: usize,
        column: &'static str,
    ) -> Result<Self, RepoError> {
        row.get_text_on_sqlite::<Self>(index, column)
    }
}
