//! [`Snapshot`]: the schema as plain data, serialized as stable, diff-friendly JSON (tables
//! sorted by name, columns in declaration order, constraints sorted by name).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::RepoError;
use crate::schema::{ColumnType, Table};

/// The schema at one point in time: every table by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The snapshot format, for files written by later versions.
    pub format: u32,
    /// Tables by name.
    pub tables: BTreeMap<String, TableSnapshot>,
}

/// One table of a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// One column of a [`TableSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSnapshot {
    /// The column's name.
    pub name: String,
    /// Its abstract type: `big_int`, `text`, `timestamp_tz`, `enum` with its values, ...
    #[serde(rename = "type")]
    pub ty: ColumnKind,
    /// Whether it accepts `NULL`.
    pub nullable: bool,
    /// Whether the database assigns it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generated: bool,
}

/// [`ColumnType`] as owned data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
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
        }
    }
}

/// The format this version writes and reads.
const FORMAT: u32 = 1;

impl Snapshot {
    /// The snapshot of `tables`; two definitions of one table name are an error.
    pub fn of(tables: &[&Table]) -> Result<Snapshot, RepoError> {
        let mut snapshot = Snapshot {
            format: FORMAT,
            tables: BTreeMap::new(),
        };
        for table in tables {
            let entry = TableSnapshot::from(*table);
            if let Some(other) = snapshot.tables.get(table.name) {
                if *other != entry {
                    return Err(RepoError::config(format!(
                        "entities `{}` and `{}` both define table `{}` differently",
                        other.entity, table.entity, table.name
                    )));
                }
                continue;
            }
            snapshot.tables.insert(table.name.to_owned(), entry);
        }
        Ok(snapshot)
    }

    /// Pretty JSON with a trailing newline, identical for identical schemas.
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self).unwrap_or_default();
        json.push('\n');
        json
    }

    /// Reads a snapshot written by [`Snapshot::to_json`]; a malformed file or a newer format
    /// is a configuration error.
    pub fn from_json(json: &str) -> Result<Snapshot, RepoError> {
        let snapshot: Snapshot = serde_json::from_str(json)
            .map_err(|error| RepoError::config(format!("unreadable schema snapshot: {error}")))?;
        if snapshot.format > FORMAT {
            return Err(RepoError::config(format!(
                "the schema snapshot has format {}, newer than this version reads ({FORMAT})",
                snapshot.format
            )));
        }
        Ok(snapshot)
    }
}
