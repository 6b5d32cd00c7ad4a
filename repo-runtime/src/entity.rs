//! The traits the derive implements: [`Entity`] for the persisted struct and [`ColumnName`] for
//! its generated column enum, plus [`RowSource`], the row the generated mapper reads.

use repo_sql::Sql;

use crate::error::{NO_ENTITY, RepoError};
use crate::policy::Stamp;
use crate::schema::Table;
use crate::statement::Statement;
use crate::value::{Decodable, ServerDecode};

/// A struct persisted in one table. Implemented by `#[derive(Repository)]`; the low-level
/// methods are hidden because only generated code and the runtime call them.
pub trait Entity: Sized + Send + Sync + Unpin + 'static {
    /// The primary key: the key field's type, or a tuple of the key fields in declaration order.
    type Id: Send + Sync + Clone + Ord + std::fmt::Debug + 'static;
    /// What `insert` takes: `New{Entity}` when the database generates the key, else the entity.
    type New: Send + Sync + 'static;
    /// The generated enum of this entity's columns, used for ordering.
    type Column: ColumnName;
    /// What `patch` and `patch_where` take: `{Entity}Patch`, the fields outside the key,
    /// each optional.
    type Patch: Send + Sync + 'static;

    /// The Rust name of the entity, used in error messages.
    const NAME: &'static str;
    /// The table's name. Apart from [`Entity::TABLE`] so that entities can refer to each
    /// other (and to themselves) in foreign keys.
    const TABLE_NAME: &'static str;
    /// The primary key's columns, in order; apart from `TABLE` for the same reason.
    const KEY_COLUMNS: &'static [&'static str];
    /// The table definition.
    const TABLE: &'static Table;
    /// The entity's statements, rendered for every dialect at compile time.
    #[doc(hidden)]
    const SQL: &'static EntitySql;

    /// This entity's key.
    fn id(&self) -> Self::Id;

    /// Reads the entity from a row whose columns are in `TABLE` order.
    #[doc(hidden)]
    fn decode<R: RowSource>(row: &R) -> Result<Self, RepoError>;
    /// Binds the key columns.
    #[doc(hidden)]
    fn bind_id(id: &Self::Id, statement: &mut Statement);
    /// Binds the columns of [`EntitySql::insert`], the policy columns from `stamp`.
    #[doc(hidden)]
    fn bind_new(new: &Self::New, stamp: &Stamp, statement: &mut Statement);
    /// Binds each insert column of `news` as one PostgreSQL array, for the batch insert by
    /// `UNNEST` (when [`EntitySql::binds_arrays`]).
    #[doc(hidden)]
    fn bind_new_columns(news: &[Self::New], stamp: &Stamp, statement: &mut Statement);
    /// Binds the columns of [`EntitySql::update`]: the non-key columns an update writes
    /// (`updated_at` from `stamp`), then the key. The version read, if any,
    /// is the runtime's to bind after them ([`Entity::version`]).
    #[doc(hidden)]
    fn bind_update(&self, stamp: &Stamp, statement: &mut Statement);
    /// Binds every column in `TABLE` order, as the record holds them.
    #[doc(hidden)]
    fn bind_all(&self, statement: &mut Statement);
    /// Binds the columns of the encrypted fields ([`Table::encrypted_columns`], in order), the
    /// values encrypted afresh under the newest key: what moving a row to it writes.
    #[doc(hidden)]
    #[inline]
    fn bind_encrypted(&self, statement: &mut Statement) {
        let _ = statement;
    }
    /// Binds every column in `TABLE` order as an insert of the record writes them: the policy
    /// columns from `stamp` (a version starts at 1).
    #[doc(hidden)]
    #[inline]
    fn bind_stamped(&self, stamp: &Stamp, statement: &mut Statement) {
        let _ = stamp;
        self.bind_all(statement);
    }
    /// Binds what every write sets from `stamp` (`Table::touched_columns`, in order): what a
    /// patch writes besides its fields.
    #[doc(hidden)]
    #[inline]
    fn bind_touch(stamp: &Stamp, statement: &mut Statement) {
        let _ = (stamp, statement);
    }
    /// Binds the mark of a row deleted at `stamp`'s time (`#[repo(deleted_at)]`), what a soft
    /// delete writes, or without a stamp the mark of a row that lives, what a restore writes.
    #[doc(hidden)]
    #[inline]
    fn bind_deletion(stamp: Option<&Stamp>, statement: &mut Statement) {
        let _ = (stamp, statement);
    }
    /// The operations only an entity with policy columns runs (soft delete, the version
    /// checks' second look): `Some(&PolicyOps::OF)` from the derive for such an entity, so that
    /// no other compiles them.
    #[doc(hidden)]
    const POLICIES: Option<&'static crate::operations::PolicyOps<Self>> = None;
    /// How the entity is cached (`#[repo(cache)]`), if it is.
    #[doc(hidden)]
    const CACHE: Option<&'static crate::cache::CacheSpec<Self>> = None;
    /// The version this record was read at (`#[repo(version)]`), if the entity has one.
    #[doc(hidden)]
    #[inline]
    fn version(&self) -> Option<i64> {
        None
    }
    /// The version a patch expects the row at (its `expected_version`), if any.
    #[doc(hidden)]
    #[inline]
    fn patch_version(patch: &Self::Patch) -> Option<i64> {
        let _ = patch;
        None
    }
    /// Binds the columns of a unique key of `new`: the primary key's when `key` is `None`
    /// (nothing when the database generates it), else those of `TABLE.unique[key]`; a policy
    /// column among them (a tenant) as the write `stamp` sets it.
    #[doc(hidden)]
    fn bind_new_key(
        new: &Self::New,
        key: Option<usize>,
        stamp: &crate::policy::Stamp,
        statement: &mut Statement,
    );
    /// Appends the columns `patch` writes, in the order [`Entity::bind_patch`] binds them.
    #[doc(hidden)]
    fn patch_columns(patch: &Self::Patch, columns: &mut Vec<&'static str>);
    /// Binds the values `patch` writes.
    #[doc(hidden)]
    fn bind_patch(patch: &Self::Patch, statement: &mut Statement);
    /// Builds the entity from its insert input, the key the database generated and the
    /// insert's `stamp` (its policy columns). Entities without a generated key ignore
    /// `generated`.
    #[doc(hidden)]
    fn from_new(new: Self::New, generated: i64, stamp: &Stamp) -> Result<Self, RepoError>;
    /// The entity's insert input: itself, or without the key the database generates (an
    /// owned child new to its aggregate).
    #[doc(hidden)]
    fn into_new(self) -> Self::New;
}

/// The generated column enum of an entity.
pub trait ColumnName: Copy + Send + Sync + 'static {
    /// The column's name in the database (unquoted).
    fn name(self) -> &'static str;
}

/// The statements of one entity, each rendered for every dialect by the derive. What depends
/// on the call (batches, `get_many`, `list`) is rendered by the runtime from the table.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct EntitySql {
    /// `SELECT <columns> FROM <table> WHERE <key> = ?`.
    pub select_by_id: Sql,
    /// `SELECT 1 FROM <table> WHERE <key> = ? LIMIT 1`.
    pub exists_by_id: Sql,
    /// `SELECT COUNT(*) FROM <table>`.
    pub count: Sql,
    /// `INSERT` of the insert input's columns; on PostgreSQL `RETURNING` the generated key.
    pub insert: Sql,
    /// Whether the database generates the key.
    pub has_generated_key: bool,
    /// Whether [`Entity::bind_new_columns`] binds a batch as one PostgreSQL array per column
    /// (every entity without embedded values).
    pub binds_arrays: bool,
    /// `INSERT` of every column (MySQL upsert).
    pub insert_all: Sql,
    /// `UPDATE ... SET <non-key> WHERE <key>`, with `RETURNING` except on MySQL.
    pub update: Sql,
    /// Insert-or-update on the key. On MySQL `ON DUPLICATE KEY UPDATE`, used only when the
    /// table has no other unique key (it would fire on those too).
    pub upsert: Sql,
    /// `DELETE FROM <table> WHERE <key> = ?`.
    pub delete_by_id: Sql,
}

/// A result row the generated mapper reads by position.
pub trait RowSource {
    /// Reads column `index` (named `column`, for errors) as `T`.
    fn get<T: Decodable>(&self, index: usize, column: &'static str) -> Result<T, RepoError>;

    /// Whether column `index` holds `NULL`.
    fn is_null(&self, index: usize, column: &'static str) -> Result<bool, RepoError>;

    /// Reads a value the servers decode natively and SQLite parses from its text (decimals).
    #[doc(hidden)]
    fn get_text_on_sqlite<T>(&self, index: usize, column: &'static str) -> Result<T, RepoError>
    where
        T: ServerDecode + std::str::FromStr,
        T::Err: std::error::Error + Send + Sync + 'static;
}

/// A column whose value could not be converted into its field: `Decode`, naming both.
pub(crate) fn decode_error<T>(
    column: &'static str,
    source: impl Into<sqlx::error::BoxDynError>,
) -> RepoError {
    RepoError::Decode {
        entity: NO_ENTITY,
        column,
        rust_type: std::any::type_name::<T>(),
        source: sqlx::Error::Decode(source.into()).into(),
    }
}

macro_rules! row_source {
    ($feature:literal, $row:ty, $on_sqlite:expr) => {
        #[cfg(feature = $feature)]
        impl RowSource for $row {
            #[inline]
            fn get<T: Decodable>(
                &self,
                index: usize,
                column: &'static str,
            ) -> Result<T, RepoError> {
                sqlx::Row::try_get::<T, usize>(self, index).map_err(|source| RepoError::Decode {
                    entity: NO_ENTITY,
                    column,
                    rust_type: std::any::type_name::<T>(),
                    source: source.into(),
                })
            }

            #[inline]
            fn is_null(&self, index: usize, column: &'static str) -> Result<bool, RepoError> {
                use sqlx::ValueRef;
                match sqlx::Row::try_get_raw(self, index) {
                    Ok(value) => Ok(value.is_null()),
                    Err(source) => Err(RepoError::Decode {
                        entity: NO_ENTITY,
                        column,
                        rust_type: "Option",
                        source: source.into(),
                    }),
                }
            }

            fn get_text_on_sqlite<T>(
                &self,
                index: usize,
                column: &'static str,
            ) -> Result<T, RepoError>
            where
                T: ServerDecode + std::str::FromStr,
                T::Err: std::error::Error + Send + Sync + 'static,
            {
                #[allow(clippy::redundant_closure_call)]
                ($on_sqlite)(self, index, column)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
fn parse_text<T>(
    row: &sqlx::sqlite::SqliteRow,
    index: usize,
    column: &'static str,
) -> Result<T, RepoError>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.get(index, column)?;
    text.parse::<T>()
        .map_err(|error| decode_error::<T>(column, error))
}

row_source!("sqlite", sqlx::sqlite::SqliteRow, parse_text::<T>);
row_source!(
    "postgres",
    sqlx::postgres::PgRow,
    |row: &sqlx::postgres::PgRow, index, column| {
        sqlx::Row::try_get::<T, usize>(row, index).map_err(|source| RepoError::Decode {
            entity: NO_ENTITY,
            column,
            rust_type: std::any::type_name::<T>(),
            source: source.into(),
        })
    }
);
row_source!(
    "mysql",
    sqlx::mysql::MySqlRow,
    |row: &sqlx::mysql::MySqlRow, index, column| {
        sqlx::Row::try_get::<T, usize>(row, index).map_err(|source| RepoError::Decode {
            entity: NO_ENTITY,
            column,
            rust_type: std::any::type_name::<T>(),
            source: source.into(),
        })
    }
);

/// Reads a column through rusqlite: the value where SQLite keeps it, converted as sqlx's SQLite
/// driver would.
#[cfg(feature = "rusqlite")]
fn from_sqlite<T: crate::rusqlite_value::FromSqlite>(
    value: Option<rusqlite::types::ValueRef<'_>>,
    column: &'static str,
) -> Result<T, RepoError> {
    match value {
        Some(value) => T::from_sqlite(value).map_err(|error| decode_error::<T>(column, error)),
        None => Err(decode_error::<T>(column, "the row has no such column")),
    }
}

/// A row read through rusqlite: where it is stepped to, or copied.
#[cfg(feature = "rusqlite")]
trait RusqliteValues {
    fn value_at(&self, index: usize) -> Option<rusqlite::types::ValueRef<'_>>;
}

#[cfg(feature = "rusqlite")]
impl RusqliteValues for rusqlite::Row<'_> {
    #[inline]
    fn value_at(&self, index: usize) -> Option<rusqlite::types::ValueRef<'_>> {
        self.get_ref(index).ok()
    }
}

#[cfg(feature = "rusqlite")]
impl RusqliteValues for crate::backend::rusqlite::RusqliteRow {
    #[inline]
    fn value_at(&self, index: usize) -> Option<rusqlite::types::ValueRef<'_>> {
        self.value(index)
    }
}

/// Implements [`RowSource`] for a rusqlite row type.
#[cfg(feature = "rusqlite")]
macro_rules! rusqlite_row_source {
    ($row:ty) => {
        impl RowSource for $row {
            #[inline]
            fn get<T: Decodable>(
                &self,
                index: usize,
                column: &'static str,
            ) -> Result<T, RepoError> {
                from_sqlite(self.value_at(index), column)
            }

            #[inline]
            fn is_null(&self, index: usize, column: &'static str) -> Result<bool, RepoError> {
                match self.value_at(index) {
                    Some(value) => Ok(matches!(value, rusqlite::types::ValueRef::Null)),
                    None => Err(decode_error::<Option<()>>(
                        column,
                        "the row has no such column",
                    )),
                }
            }

            fn get_text_on_sqlite<T>(
                &self,
                index: usize,
                column: &'static str,
            ) -> Result<T, RepoError>
            where
                T: ServerDecode + std::str::FromStr,
                T::Err: std::error::Error + Send + Sync + 'static,
            {
                let text: String = from_sqlite(self.value_at(index), column)?;
                text.parse::<T>()
                    .map_err(|error| decode_error::<T>(column, error))
            }
        }
    };
}

#[cfg(feature = "rusqlite")]
rusqlite_row_source!(rusqlite::Row<'_>);
#[cfg(feature = "rusqlite")]
rusqlite_row_source!(crate::backend::rusqlite::RusqliteRow);
