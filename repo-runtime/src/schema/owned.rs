//! The owned form of a table definition: what migrations store in a snapshot, diff and render,
//! and what the drift check reads back from a live database.

use std::collections::BTreeMap;

#[cfg(feature = "migrate")]
use serde::{Deserialize, Serialize};

use super::{ColumnDefault, ColumnType, OnDelete, Table};

/// One table: columns in declaration order, constraints by name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(Serialize, Deserialize))]
pub struct TableSnapshot {
    /// The Rust type persisted in it.
    pub entity: String,
    /// Columns in declaration order.
    pub columns: Vec<ColumnSnapshot>,
    /// The primary key's name and columns.
    pub primary_key: (String, Vec<String>),
    /// Unique constraints by name.
    pub unique: BTreeMap<String, Vec<String>>,
    /// Non-unique indexes by name.
    pub indexes: BTreeMap<String, Vec<String>>,
    /// Foreign keys by name.
    #[cfg_attr(
        feature = "migrate",
        serde(default, skip_serializing_if = "BTreeMap::is_empty")
    )]
    pub foreign_keys: BTreeMap<String, ForeignKeySnapshot>,
    /// The soft-delete column (`#[repo(deleted_at)]`): the unique keys hold among the rows
    /// where it is `NULL` (partial unique indexes; on MySQL, keys that take in a generated
    /// column, `NULL` for a deleted row).
    #[cfg_attr(
        feature = "migrate",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub deleted: Option<String>,
    /// The tenant column by which PostgreSQL's Row-Level Security scopes the table, if it
    /// does (`#[repo(tenant, row_level_security)]`).
    #[cfg_attr(
        feature = "migrate",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub row_security: Option<String>,
    /// The table's previous name, a hint for the next migration; never stored.
    #[cfg_attr(feature = "migrate", serde(skip))]
    pub renamed_from: Option<String>,
}

/// One column of a [`TableSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(Serialize, Deserialize))]
pub struct ColumnSnapshot {
    /// The column's name.
    pub name: String,
    /// Its abstract type: `big_int`, `text`, `timestamp_tz`, `enum` with its values, ...
    #[cfg_attr(feature = "migrate", serde(rename = "type"))]
    pub ty: ColumnKind,
    /// Whether it accepts `NULL`.
    pub nullable: bool,
    /// Whether the database assigns it.
    #[cfg_attr(
        feature = "migrate",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub generated: bool,
    /// Its `DEFAULT`.
    #[cfg_attr(
        feature = "migrate",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub default: Option<DefaultValue>,
    /// The column's previous name, a hint for the next migration; never stored.
    #[cfg_attr(feature = "migrate", serde(skip))]
    pub renamed_from: Option<String>,
}

/// [`ColumnType`] as owned data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "migrate",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case", tag = "kind", content = "values")
)]
#[allow(missing_docs)]
pub enum ColumnKind {
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Boolean,
    Text,
    Bytes,
    Decimal,
    Uuid,
    Json,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Enum(Vec<String>),
}

/// [`ColumnDefault`] as owned data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "migrate",
    derive(Serialize, Deserialize),
    serde(rename_all = "snake_case")
)]
#[allow(missing_docs)]
pub enum DefaultValue {
    Number(String),
    Boolean(bool),
    Text(String),
}

/// One foreign key of a [`TableSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "migrate", derive(Serialize, Deserialize))]
pub struct ForeignKeySnapshot {
    /// The referring columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub table: String,
    /// The referenced columns.
    pub references: Vec<String>,
    /// The action on delete of the referenced row.
    #[cfg_attr(feature = "migrate", serde(default))]
    pub on_delete: OnDelete,
}

impl ColumnKind {
    /// Whether the kind is an integer.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ColumnKind::SmallInt | ColumnKind::Integer | ColumnKind::BigInt
        )
    }
}

impl From<ColumnType> for ColumnKind {
    fn from(ty: ColumnType) -> ColumnKind {
        match ty {
            ColumnType::SmallInt => ColumnKind::SmallInt,
            ColumnType::Integer => ColumnKind::Integer,
            ColumnType::BigInt => ColumnKind::BigInt,
            ColumnType::Real => ColumnKind::Real,
            ColumnType::Double => ColumnKind::Double,
            ColumnType::Boolean => ColumnKind::Boolean,
            ColumnType::Text => ColumnKind::Text,
            ColumnType::Bytes => ColumnKind::Bytes,
            ColumnType::Decimal => ColumnKind::Decimal,
            ColumnType::Uuid => ColumnKind::Uuid,
            ColumnType::Json => ColumnKind::Json,
            ColumnType::Date => ColumnKind::Date,
            ColumnType::Time => ColumnKind::Time,
            ColumnType::Timestamp => ColumnKind::Timestamp,
            ColumnType::TimestampTz => ColumnKind::TimestampTz,
            ColumnType::Enum(values) => {
                ColumnKind::Enum(values.iter().map(|value| (*value).to_owned()).collect())
            }
        }
    }
}

impl From<ColumnDefault> for DefaultValue {
    fn from(default: ColumnDefault) -> DefaultValue {
        match default {
            ColumnDefault::Number(number) => DefaultValue::Number(number.to_owned()),
            ColumnDefault::Boolean(value) => DefaultValue::Boolean(value),
            ColumnDefault::Text(text) => DefaultValue::Text(text.to_owned()),
        }
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

impl From<&Table> for TableSnapshot {
    fn from(table: &Table) -> TableSnapshot {
        TableSnapshot {
            entity: table.entity.to_owned(),
            columns: table
                .columns
                .iter()
                .map(|column| ColumnSnapshot {
                    name: column.name.to_owned(),
                    ty: column.ty.into(),
                    nullable: column.nullable,
                    generated: column.generated,
                    default: column.default.map(DefaultValue::from),
                    renamed_from: column.renamed_from.map(str::to_owned),
                })
                .collect(),
            primary_key: (
                table.primary_key.name.to_owned(),
                names(table.primary_key.columns),
            ),
            unique: table
                .unique
                .iter()
                .map(|unique| (unique.name.to_owned(), names(unique.columns)))
                .collect(),
            indexes: table
                .indexes
                .iter()
                .map(|index| (index.name.to_owned(), names(index.columns)))
                .collect(),
            foreign_keys: table
                .foreign_keys
                .iter()
                .map(|key| {
                    let snapshot = ForeignKeySnapshot {
                        columns: names(key.columns),
                        table: key.table.to_owned(),
                        references: names(key.references),
                        on_delete: key.on_delete,
                    };
                    (key.name.to_owned(), snapshot)
                })
                .collect(),
            deleted: table.deleted_column().map(str::to_owned),
            row_security: table
                .tenant_column()
                .filter(|column| column.row_level_security)
                .map(|column| column.name.to_owned()),
            renamed_from: table.renamed_from.map(str::to_owned),
        }
    }
}

impl TableSnapshot {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnSnapshot> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// Whether a column takes part in a key, index or foreign key (MySQL needs a bounded type
    /// there).
    pub(crate) fn is_indexed(&self, column: &str) -> bool {
        let listed = |columns: &Vec<String>| columns.iter().any(|c| c == column);
        listed(&self.primary_key.1)
            || self.unique.values().any(listed)
            || self.indexes.values().any(listed)
            || self.foreign_keys.values().any(|key| listed(&key.columns))
    }
}
