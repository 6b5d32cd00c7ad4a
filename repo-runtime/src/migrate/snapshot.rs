//! [`Snapshot`]: the schema as plain data, serialized as stable, diff-friendly JSON (tables
//! sorted by name, columns in declaration order, constraints sorted by name).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::RepoError;
use crate::schema::{Table, TableSnapshot};

/// The schema at one point in time: every table by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The snapshot format, for files written by later versions.
    pub format: u32,
    /// Tables by name.
    pub tables: BTreeMap<String, TableSnapshot>,
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

    /// The snapshot of an empty database, before the first migration.
    pub fn empty() -> Snapshot {
        Snapshot {
            format: FORMAT,
            tables: BTreeMap::new(),
        }
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
