//! Plain-data table definitions, produced by the derive as constants ([`Table`]), their owned
//! form ([`TableSnapshot`], what migrations diff and store) and their DDL per dialect.

mod advice;
mod ddl;
mod owned;

pub use advice::{DerivedQueries, IndexAdvice};

#[cfg(feature = "postgres")]
pub(crate) use ddl::SET_TENANT;
pub(crate) use ddl::create_table;
#[cfg(feature = "migrate")]
pub(crate) use ddl::{
    column_definition, create_index, create_live_unique_index, default_mismatch, drop_index,
    drop_row_security, foreign_key_clause, key_clause, live_marker, live_marker_definition,
    push_column_list, push_literal, row_security, sql_type, unique_clause,
};
pub use owned::{ColumnKind, ColumnSnapshot, DefaultValue, ForeignKeySnapshot, TableSnapshot};

use repo_sql::{Dialect, Policy, Stamps};

/// The abstract type of a column; each dialect renders its own SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `i16`.
    SmallInt,
    /// `i32`.
    Integer,
    /// `i64`.
    BigInt,
    /// `f32`.
    Real,
    /// `f64`.
    Double,
    /// `bool`.
    Boolean,
    /// `String`.
    Text,
    /// `Vec<u8>`.
    Bytes,
    /// An exact decimal (`rust_decimal::Decimal`): `NUMERIC`, `DECIMAL(65, 30)`, text on SQLite.
    Decimal,
    /// A UUID: `UUID` on PostgreSQL, 16 bytes elsewhere.
    Uuid,
    /// JSON: `JSONB` on PostgreSQL, `JSON` on MySQL/MariaDB, text on SQLite.
    Json,
    /// A calendar date.
    Date,
    /// A time of day, to the microsecond.
    Time,
    /// A date and time without zone, to the microsecond.
    Timestamp,
    /// An instant (UTC), to the microsecond: `TIMESTAMPTZ` on PostgreSQL, `DATETIME(6)` holding
    /// UTC on MySQL/MariaDB.
    TimestampTz,
    /// Text restricted to these values by a `CHECK` constraint (`#[derive(DbEnum)]`).
    Enum(&'static [&'static str]),
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column's name in the database.
    pub name: &'static str,
    /// The Rust field it maps to.
    pub field: &'static str,
    /// Its abstract type.
    pub ty: ColumnType,
    /// Whether it accepts `NULL` (the field is an `Option`).
    pub nullable: bool,
    /// Whether the database assigns it (an auto-increment / identity key).
    pub generated: bool,
    /// Whether its values are secret (`#[repo(sensitive)]`): redacted from `Debug` and errors.
    pub sensitive: bool,
    /// Its `DEFAULT` (`#[repo(default = ...)]`), for rows that exist when the column is added.
    pub default: Option<ColumnDefault>,
    /// Its previous name (`#[repo(renamed_from = "...")]`): a migration renames the column
    /// instead of dropping it and adding a new one.
    pub renamed_from: Option<&'static str>,
    /// What the library keeps in it (`#[repo(version)]`, `#[repo(updated_at)]`, ...): the
    /// writes set it, not the caller.
    pub policy: Option<Policy>,
    /// Whether PostgreSQL's Row-Level Security scopes the table by this column too (a tenant
    /// column with `#[repo(tenant, row_level_security)]`).
    pub row_level_security: bool,
    /// What it holds of an encrypted field (`#[repo(encrypted)]`), if it holds one.
    pub encryption: Option<Encryption>,
}

/// What a column holds of an encrypted field: its values are bytes no filter, order or
/// projection reads as the field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// The field's ciphertext; `blind_index` names the column of its blind index, if the
    /// field is looked up.
    Ciphertext {
        /// The column of the field's blind index.
        blind_index: Option<&'static str>,
    },
    /// The blind index of the field whose ciphertext is in the column `of`: what its unique
    /// key, index and lookups by equality use.
    BlindIndex {
        /// The ciphertext's column.
        of: &'static str,
    },
}

impl Column {
    /// The same column under this name, for this field (see [`ColumnValue::COLUMN`](crate::ColumnValue::COLUMN)).
    pub const fn named(self, name: &'static str, field: &'static str) -> Column {
        Column {
            name,
            field,
            ..self
        }
    }

    /// A column of this type and nullability; not generated, not sensitive, without a default
    /// or a previous name (see the methods that set each).
    pub const fn new(
        name: &'static str,
        field: &'static str,
        ty: ColumnType,
        nullable: bool,
    ) -> Column {
        Column {
            name,
            field,
            ty,
            nullable,
            generated: false,
            sensitive: false,
            default: None,
            renamed_from: None,
            policy: None,
            row_level_security: false,
            encryption: None,
        }
    }

    /// The ciphertext column of an encrypted field, of any type; `blind_index` names the
    /// column of its blind index.
    pub const fn encrypted(
        name: &'static str,
        field: &'static str,
        nullable: bool,
        blind_index: Option<&'static str>,
    ) -> Column {
        Column {
            sensitive: true,
            encryption: Some(Encryption::Ciphertext { blind_index }),
            ..Column::new(name, field, ColumnType::Bytes, nullable)
        }
    }

    /// The blind index column of the encrypted field whose ciphertext is in `of`.
    pub const fn blind_index(
        name: &'static str,
        field: &'static str,
        nullable: bool,
        of: &'static str,
    ) -> Column {
        Column {
            encryption: Some(Encryption::BlindIndex { of }),
            ..Column::new(name, field, ColumnType::Bytes, nullable)
        }
    }

    /// A column of an embedded value's `leaf`; nullable too when the value is `optional`.
    pub const fn leaf(
        name: &'static str,
        field: &'static str,
        leaf: &Leaf,
        optional: bool,
    ) -> Column {
        let column = Column::new(name, field, leaf.ty, leaf.nullable || optional);
        Column {
            sensitive: leaf.sensitive,
            ..column
        }
    }

    /// The same column, assigned by the database.
    pub const fn generated(self) -> Column {
        Column {
            generated: true,
            ..self
        }
    }

    /// The same column, with secret values.
    pub const fn sensitive(self) -> Column {
        Column {
            sensitive: true,
            ..self
        }
    }

    /// The same column, with this `DEFAULT`.
    pub const fn with_default(self, default: ColumnDefault) -> Column {
        Column {
            default: Some(default),
            ..self
        }
    }

    /// The same column, formerly named `name`.
    pub const fn renamed_from(self, name: &'static str) -> Column {
        Column {
            renamed_from: Some(name),
            ..self
        }
    }

    /// The same column, kept by the library under `policy`.
    pub const fn policy(self, policy: Policy) -> Column {
        Column {
            policy: Some(policy),
            ..self
        }
    }

    /// The same column, the tenant column of a table PostgreSQL's Row-Level Security scopes.
    pub const fn row_level_security(self) -> Column {
        Column {
            row_level_security: true,
            ..self
        }
    }

    /// Whether an update writes this column from a bound value (the key's columns aside):
    /// not the version, which moves in place, nor what the insert set once.
    pub fn written_by_update(&self) -> bool {
        self.policy.is_none_or(Policy::bound_by_update)
    }
}

/// One column of an embedded value, in column order; its name is the entity's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// The column's abstract type.
    pub ty: ColumnType,
    /// Whether it accepts `NULL`.
    pub nullable: bool,
    /// Whether its values are secret.
    pub sensitive: bool,
}

/// A column's `DEFAULT`, a literal checked by the derive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnDefault {
    /// A number, as written: `0`, `-1`, `2.5`.
    Number(&'static str),
    /// `true` or `false`.
    Boolean(bool),
    /// A string, for text, enum, decimal, date and time columns.
    Text(&'static str),
}

/// What a foreign key does when the referenced row is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "migrate",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum OnDelete {
    /// The delete fails while rows refer to the row (the SQL default).
    #[default]
    NoAction,
    /// Like `NoAction`, checked immediately even in a deferred transaction.
    Restrict,
    /// Referring rows are deleted too.
    Cascade,
    /// Referring rows get `NULL` (the column must be nullable).
    SetNull,
}

impl OnDelete {
    /// The SQL of the action.
    pub const fn sql(self) -> &'static str {
        match self {
            OnDelete::NoAction => "NO ACTION",
            OnDelete::Restrict => "RESTRICT",
            OnDelete::Cascade => "CASCADE",
            OnDelete::SetNull => "SET NULL",
        }
    }
}

/// A foreign key (`#[repo(references = Entity)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKey {
    /// The constraint's name in the database.
    pub name: &'static str,
    /// The referring columns, in order.
    pub columns: &'static [&'static str],
    /// The referenced table.
    pub table: &'static str,
    /// The referenced columns (that table's primary key), in order.
    pub references: &'static [&'static str],
    /// What happens to referring rows when the referenced row is deleted.
    pub on_delete: OnDelete,
}

/// A primary key or unique constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraint {
    /// The constraint's name in the database.
    pub name: &'static str,
    /// Its columns, in order.
    pub columns: &'static [&'static str],
    /// The Rust fields it covers, comma-separated, for error messages.
    pub fields: &'static str,
}

/// A non-unique index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// The index's name in the database.
    pub name: &'static str,
    /// Its columns, in order.
    pub columns: &'static [&'static str],
}

/// A table as the derive sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// The table's name.
    pub name: &'static str,
    /// The Rust type it persists.
    pub entity: &'static str,
    /// Columns in declaration order.
    pub columns: &'static [Column],
    /// The primary key.
    pub primary_key: Constraint,
    /// Unique constraints other than the primary key.
    pub unique: &'static [Constraint],
    /// Non-unique indexes.
    pub indexes: &'static [Index],
    /// Foreign keys.
    pub foreign_keys: &'static [ForeignKey],
    /// Its previous name (`#[repo(renamed_from = "...")]`), for migrations.
    pub renamed_from: Option<&'static str>,
    /// The queries its port derives from method names, for the index advice.
    pub queries: &'static [DeclaredQuery],
}

/// A query a port derives from a method's name (`find_all_by_status_order_by_name`), as data:
/// what [`Schema::index_advice`](crate::migrate::Schema::index_advice) checks against the
/// table's indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredQuery {
    /// The method's name.
    pub method: &'static str,
    /// What it selects, counts, tests or deletes.
    pub plan: &'static repo_sql::Plan<'static>,
}

impl Table {
    /// The columns an insert writes: every one the database does not generate, in order.
    pub fn inserted_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|column| !column.generated)
    }

    /// The soft-delete column (`#[repo(deleted_at)]`), if the table has one: a row whose value
    /// there is not `NULL` is deleted.
    pub fn deleted_column(&self) -> Option<&'static str> {
        self.policy_column(Policy::DeletedAt)
            .map(|column| column.name)
    }

    /// The tenant column (`#[repo(tenant)]`), if the table has one: a handle scoped to a
    /// tenant reaches the rows holding that tenant there only. A `const fn`, so that generic
    /// code asks once, at compile time.
    pub const fn tenant_column(&self) -> Option<&'static Column> {
        let columns: &'static [Column] = self.columns;
        let mut index = 0;
        while index < columns.len() {
            if matches!(columns[index].policy, Some(Policy::Tenant)) {
                return Some(&columns[index]);
            }
            index += 1;
        }
        None
    }

    /// Whether some of the table's rows are out of a handle's sight, though they hold their
    /// keys: those a soft delete marked, or another tenant's.
    pub fn hides_rows(&self) -> bool {
        self.deleted_column().is_some() || self.tenant_column().is_some()
    }

    /// The column kept under `policy`, if the table has one.
    pub fn policy_column(&self, policy: Policy) -> Option<&'static Column> {
        self.columns
            .iter()
            .find(|column| column.policy == Some(policy))
    }

    /// The columns every write sets from the time of the write (`updated_at`), in order: what
    /// a patch writes besides its fields.
    pub fn touched_columns(&self) -> impl Iterator<Item = &'static Column> {
        self.columns
            .iter()
            .filter(|column| column.policy.is_some_and(Policy::touched_by_every_write))
    }

    /// The columns of the encrypted fields, ciphertexts and blind indexes, in order: what
    /// [`Entity::bind_encrypted`](crate::Entity::bind_encrypted) binds.
    pub fn encrypted_columns(&self) -> impl Iterator<Item = &'static Column> {
        self.columns
            .iter()
            .filter(|column| column.encryption.is_some())
    }

    /// `use_stamps` with the policy columns as the writes render them.
    pub fn with_stamps<R>(&self, use_stamps: impl FnOnce(Stamps<'_>) -> R) -> R {
        let kept: Vec<&str> = self
            .columns
            .iter()
            .filter(|column| column.policy.is_some_and(Policy::kept_by_update))
            .map(|column| column.name)
            .collect();
        use_stamps(Stamps {
            version: self
                .policy_column(Policy::Version)
                .map(|column| column.name),
            kept: &kept,
            deleted: self.deleted_column(),
            tenant: self.tenant_column().map(|column| column.name),
        })
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The primary key or unique constraint called `name` (MySQL calls every primary key
    /// `PRIMARY`).
    pub fn constraint(&self, name: &str) -> Option<&Constraint> {
        if name == self.primary_key.name || name == "PRIMARY" {
            return Some(&self.primary_key);
        }
        self.unique
            .iter()
            .find(|constraint| constraint.name == name)
    }

    /// The primary key or unique constraint over exactly `columns`, in any order.
    pub fn constraint_on(&self, columns: &[&str]) -> Option<&Constraint> {
        let same = |constraint: &&Constraint| {
            constraint.columns.len() == columns.len()
                && constraint
                    .columns
                    .iter()
                    .all(|column| columns.contains(column))
        };
        std::iter::once(&self.primary_key)
            .chain(self.unique)
            .find(same)
    }

    /// The owned form of this table, as migrations store and compare it.
    pub fn snapshot(&self) -> TableSnapshot {
        TableSnapshot::from(self)
    }

    /// `CREATE TABLE IF NOT EXISTS` followed by one `CREATE INDEX IF NOT EXISTS` per index
    /// (MySQL, which lacks the latter, declares its indexes inside the table).
    pub fn create_statements(&self, dialect: Dialect) -> Vec<String> {
        create_table(dialect, self.name, &self.snapshot(), true)
    }

    /// `DROP TABLE IF EXISTS`.
    pub fn drop_statement(&self, dialect: Dialect) -> String {
        let mut sql = String::from("DROP TABLE IF EXISTS ");
        dialect.push_ident(&mut sql, self.name);
        sql
    }
}
