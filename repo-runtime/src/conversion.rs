//! What generated code calls for fields that are not plain column values: JSON fields, enums
//! deriving `DbEnum`, `#[repo(with = module)]` conversions, and the redaction of sensitive
//! fields' errors.

use crate::column::ColumnValue;
use crate::entity::RowSource;
use crate::error::RepoError;
use crate::schema::ColumnType;
use crate::statement::Statement;

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
            source: sqlx::Error::Decode(REDACTED.into()).into(),
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
