//! [`ColumnValue`]: how a Rust type is stored in one column — its SQL type, how it is bound as
//! a parameter and how it is read back. Generated code binds and reads every field through it,
//! so a type works in an entity exactly when it implements this trait.

use crate::entity::RowSource;
use crate::error::RepoError;
use crate::executor::Statement;
use crate::schema::ColumnType;

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
        if row.is_null(index, column)? {
            Ok(None)
        } else {
            T::decode(row, index, column).map(Some)
        }
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

/// `#[repo(json)]` fields: any serde type, stored as JSON (`JSONB` on PostgreSQL, `JSON` on
/// MySQL/MariaDB, `TEXT` on SQLite). Generated code wraps the field in this.
#[cfg(feature = "json")]
pub mod json {
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;

    /// Binds `value` as JSON.
    pub fn bind<T: Serialize + Sync>(value: &T, statement: &mut Statement) {
        statement.bind(sqlx::types::Json(value));
    }

    /// Binds an optional value as JSON, `NULL` for `None`.
    pub fn bind_option<T: Serialize + Sync>(value: &Option<T>, statement: &mut Statement) {
        statement.bind(value.as_ref().map(sqlx::types::Json));
    }

    /// Binds a JSON `NULL` column (an absent embedded value).
    pub fn bind_null(statement: &mut Statement) {
        statement.bind(None::<sqlx::types::Json<()>>);
    }

    /// Binds one column of a batch as a PostgreSQL `jsonb[]`.
    pub fn bind_array<T: Serialize + Sync>(values: Vec<&T>, statement: &mut Statement) {
        statement.bind_array(values.into_iter().map(sqlx::types::Json).collect());
    }

    /// Binds one optional column of a batch as a PostgreSQL `jsonb[]`.
    pub fn bind_option_array<T: Serialize + Sync>(
        values: Vec<&Option<T>>,
        statement: &mut Statement,
    ) {
        let values = values
            .into_iter()
            .map(|value| value.as_ref().map(sqlx::types::Json))
            .collect();
        statement.bind_array::<Option<sqlx::types::Json<&T>>>(values);
    }

    /// Reads a JSON column into `T`.
    pub fn decode<T: DeserializeOwned + Send + 'static, R: RowSource>(
        row: &R,
        index: usize,
        column: &'static str,
    ) -> Result<T, RepoError> {
        row.get::<sqlx::types::Json<T>>(index, column)
            .map(|json| json.0)
    }

    /// Reads a nullable JSON column into `Option<T>`.
    pub fn decode_option<T: DeserializeOwned + Send + 'static, R: RowSource>(
        row: &R,
        index: usize,
        column: &'static str,
    ) -> Result<Option<T>, RepoError> {
        row.get::<Option<sqlx::types::Json<T>>>(index, column)
            .map(|json| json.map(|json| json.0))
    }
}

/// An enum of unit variants stored as text, one value per variant; implemented by
/// `#[derive(DbEnum)]`, which also implements [`ColumnValue`] through [`db_enum`].
pub trait DbEnum: Sized + Send + Sync + 'static {
    /// The stored value of every variant, in declaration order.
    const VALUES: &'static [&'static str];

    /// The stored value of this variant.
    fn as_db_str(&self) -> &'static str;

    /// The variant stored as `value`, if any.
    fn from_db_str(value: &str) -> Option<Self>;
}

/// [`ColumnValue`] for a [`DbEnum`], for the derive to delegate to.
#[doc(hidden)]
pub mod db_enum {
    use super::*;

    pub fn bind<T: DbEnum>(value: &T, statement: &mut Statement) {
        statement.bind(value.as_db_str());
    }

    pub fn bind_null(statement: &mut Statement) {
        statement.bind(None::<&str>);
    }

    pub fn bind_array<T: DbEnum>(values: Vec<&T>, statement: &mut Statement) {
        let values: Vec<&'static str> = values.into_iter().map(T::as_db_str).collect();
        statement.bind_array(values);
    }

    pub fn bind_optional_array<T: DbEnum>(values: Vec<Option<&T>>, statement: &mut Statement) {
        let values: Vec<Option<&'static str>> = values
            .into_iter()
            .map(|value| value.map(T::as_db_str))
            .collect();
        statement.bind_array(values);
    }

    /// An unknown value is a `Decode` error naming the column, the type and the value.
    pub fn decode<T: DbEnum, R: RowSource>(
        row: &R,
        index: usize,
        column: &'static str,
    ) -> Result<T, RepoError> {
        let value: String = row.get(index, column)?;
        T::from_db_str(&value).ok_or_else(|| {
            let expected = T::VALUES.join("`, `");
            crate::entity::decode_error::<T>(
                column,
                format!("unknown value `{value}`; expected one of `{expected}`"),
            )
        })
    }
}

/// What stands for a sensitive field's value, or for a message that may contain it.
pub(crate) const REDACTED: &str = "<redacted: sensitive field>";

/// A sensitive field's decode error with its message (which may quote the value) dropped.
#[doc(hidden)]
pub fn redact(error: RepoError) -> RepoError {
    match error {
        RepoError::Decode {
            entity,
            column,
            rust_type,
            ..
        } => RepoError::Decode {
            entity,
            column,
            rust_type,
            source: sqlx::Error::Decode(REDACTED.into()),
        },
        other => other,
    }
}

/// Fields with `#[repo(with = module)]`: `module::to_db(&field) -> Result<T, E>` and
/// `module::from_db(T) -> Result<Field, E>`, where `T` is a column type and `E: Display`.
#[doc(hidden)]
pub mod convert {
    use std::fmt::Display;

    use super::*;

    /// The column type of `to_db`'s output, for the table definition.
    pub const fn column_type<F, T: ColumnValue, E>(_to_db: fn(&F) -> Result<T, E>) -> ColumnType {
        T::TYPE
    }

    /// Binds a `NULL` of `to_db`'s output type (an absent embedded value).
    pub fn bind_null<F, T: ColumnValue, E>(
        _to_db: fn(&F) -> Result<T, E>,
        statement: &mut Statement,
    ) {
        T::bind_null(statement);
    }

    /// Whether `to_db`'s output is nullable.
    pub const fn nullable<F, T: ColumnValue, E>(_to_db: fn(&F) -> Result<T, E>) -> bool {
        T::NULLABLE
    }

    /// Binds a converted value; a failed conversion fails the statement before it is sent.
    pub fn bind<T: ColumnValue, E: Display>(
        converted: Result<T, E>,
        statement: &mut Statement,
        field: Field,
    ) {
        match converted {
            Ok(value) => value.bind(statement),
            Err(error) => statement.fail(field.conversion_error(error)),
        }
    }

    /// Binds a batch column of converted values as one PostgreSQL array.
    pub fn bind_array<T: ColumnValue, E: Display>(
        converted: impl Iterator<Item = Result<T, E>>,
        statement: &mut Statement,
        field: Field,
    ) {
        match converted.collect::<Result<Vec<T>, E>>() {
            Ok(values) => T::bind_array(values.iter().collect(), statement),
            Err(error) => statement.fail(field.conversion_error(error)),
        }
    }

    /// A value read back through `from_db`; its failure is a `Decode` error naming the column.
    pub fn decode<F, E: Display>(
        converted: Result<F, E>,
        column: &'static str,
        sensitive: bool,
    ) -> Result<F, RepoError> {
        converted.map_err(|error| {
            let message = if sensitive {
                REDACTED.to_owned()
            } else {
                error.to_string()
            };
            crate::entity::decode_error::<F>(column, message)
        })
    }

    /// The field a conversion belongs to, for its error.
    #[derive(Clone, Copy)]
    pub struct Field {
        pub entity: &'static str,
        pub name: &'static str,
        /// Its conversion's message may quote the value: leave the message out.
        pub sensitive: bool,
    }

    impl Field {
        fn conversion_error(self, error: impl Display) -> RepoError {
            let message = if self.sensitive {
                format!("field `{}` cannot be stored: {REDACTED}", self.name)
            } else {
                format!("field `{}` cannot be stored: {error}", self.name)
            };
            RepoError::invalid_input(self.entity, message)
        }
    }
}
