//! The drift check: the live database's tables (read from the catalog: `information_schema`,
//! `pg_catalog`, SQLite's pragmas) compared with what the entities declare, every difference
//! reported. Column types are compared as each backend reports them after normalisation;
//! `DEFAULT`s by presence; enum `CHECK`s are not compared. SQLite does not report constraint
//! names, so its unique keys and foreign keys are compared by their columns.

use repo_sql::Dialect;
use std::collections::BTreeMap;
use std::fmt;

use super::catalog::{LiveTable, normalise_type, read_live};
use super::conn::Conn;
use super::{Schema, Snapshot};
use crate::db::Db;
use crate::error::RepoError;
use crate::schema::{ForeignKeySnapshot, OnDelete, TableSnapshot, sql_type};

/// Tables the tooling owns, never reported.
const OWN_TABLES: [&str; 2] = ["_sqlx_migrations", "_repo_seeds"];

/// One difference between the entities and the database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// An entity's table does not exist.
    MissingTable(String),
    /// A table exists that no entity maps.
    ExtraTable(String),
    /// A column the entity declares is missing.
    MissingColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column exists that the entity does not declare.
    ExtraColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// A column's type differs.
    ColumnType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// What the entity renders.
        expected: String,
        /// What the database reports.
        found: String,
    },
    /// A column accepts `NULL` where the entity says it does not, or the reverse.
    Nullability {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether the entity's column is nullable.
        expected: bool,
    },
    /// A column has a `DEFAULT` where the entity declares none, or the reverse.
    Default {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Whether the entity declares one.
        expected: bool,
    },
    /// The primary key's columns differ.
    PrimaryKey {
        /// The table.
        table: String,
        /// The entity's key columns.
        expected: Vec<String>,
        /// The database's.
        found: Vec<String>,
    },
    /// A unique key, index or foreign key the entity declares is missing or different.
    MissingConstraint {
        /// The table.
        table: String,
        /// `unique key`, `index` or `foreign key`.
        kind: &'static str,
        /// Its name and definition.
        definition: String,
    },
    /// PostgreSQL's Row-Level Security by the tenant is off where the entity asks for it
    /// (`#[repo(tenant, row_level_security)]`), or on where it does not.
    RowSecurity {
        /// The table.
        table: String,
        /// Whether the entity asks for it.
        expected: bool,
    },
    /// A unique key, index or foreign key exists that the entity does not declare.
    ExtraConstraint {
        /// The table.
        table: String,
        /// `unique key`, `index` or `foreign key`.
        kind: &'static str,
        /// Its name and definition.
        definition: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::MissingTable(table) => write!(f, "table `{table}` is missing"),
            Difference::RowSecurity { table, expected } => write!(
                f,
                "row-level security by the tenant is {} on `{table}`, the entity expects it {}",
                if *expected { "off" } else { "on" },
                if *expected { "on" } else { "off" }
            ),
            Difference::ExtraTable(table) => {
                write!(f, "table `{table}` exists but no entity maps it")
            }
            Difference::MissingColumn { table, column } => {
                write!(f, "column `{table}.{column}` is missing")
            }
            Difference::ExtraColumn { table, column } => {
                write!(
                    f,
                    "column `{table}.{column}` exists but the entity has no such field"
                )
            }
            Difference::ColumnType {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "column `{table}.{column}` is {found}, the entity expects {expected}"
            ),
            Difference::Nullability {
                table,
                column,
                expected,
            } => write!(
                f,
                "column `{table}.{column}` is {}, the entity expects {}",
                if *expected { "NOT NULL" } else { "nullable" },
                if *expected { "nullable" } else { "NOT NULL" }
            ),
            Difference::Default {
                table,
                column,
                expected,
            } => write!(
                f,
                "column `{table}.{column}` {}",
                if *expected {
                    "has no DEFAULT, the entity declares one"
                } else {
                    "has a DEFAULT the entity does not declare"
                }
            ),
            Difference::PrimaryKey {
                table,
                expected,
                found,
            } => write!(
                f,
                "the primary key of `{table}` is ({}), the entity expects ({})",
                found.join(", "),
                expected.join(", ")
            ),
            Difference::MissingConstraint {
                table,
                kind,
                definition,
            } => {
                write!(f, "{kind} {definition} on `{table}` is missing")
            }
            Difference::ExtraConstraint {
                table,
                kind,
                definition,
            } => write!(
                f,
                "{kind} {definition} on `{table}` exists but the entity does not declare it"
            ),
        }
    }
}

/// The result of [`check_drift`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Every difference, table by table.
    pub differences: Vec<Difference>,
}

impl Drift {
    /// Whether the database matches the entities.
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return f.write_str("the database matches the entities");
        }
        write!(
            f,
            "{} difference(s) between the database and the entities:",
            self.differences.len()
        )?;
        for difference in &self.differences {
            write!(f, "\n  - {difference}")?;
        }
        Ok(())
    }
}

/// Compares the live database with `schema`.
pub async fn check_drift(db: &Db, schema: &Schema) -> Result<Drift, RepoError> {
    let expected = schema.snapshot()?;
    let mut conn = Conn::acquire(db).await?;
    let live = read_live(&mut conn).await?;
    Ok(compare(conn.dialect(), &expected, &live))
}

/// Panics with every difference when the database does not match `schema`: the test form of
/// [`check_drift`].
///
/// # Panics
/// When the database differs from the entities, or cannot be read.
pub async fn assert_no_drift(db: &Db, schema: &Schema) {
    match check_drift(db, schema).await {
        Ok(drift) if drift.is_clean() => {}
        Ok(drift) => panic!("{drift}"),
        Err(error) => panic!("the drift check could not read the database: {error}"),
    }
}

fn compare(dialect: Dialect, expected: &Snapshot, live: &BTreeMap<String, LiveTable>) -> Drift {
    let mut differences = Vec::new();
    for (name, table) in &expected.tables {
        match live.get(name) {
            None => differences.push(Difference::MissingTable(name.clone())),
            Some(found) => compare_table(dialect, name, table, found, &mut differences),
        }
    }
    for name in live.keys() {
        if !expected.tables.contains_key(name) && !OWN_TABLES.contains(&name.as_str()) {
            differences.push(Difference::ExtraTable(name.clone()));
        }
    }
    Drift { differences }
}

fn compare_table(
    dialect: Dialect,
    name: &str,
    table: &TableSnapshot,
    live: &LiveTable,
    differences: &mut Vec<Difference>,
) {
    // MySQL's unique keys of a table with soft delete take in the live marker, which the
    // entity does not declare: compared without it.
    let without_marker;
    let live = match (&table.deleted, dialect) {
        (Some(deleted), Dialect::MySql) => {
            let marker = crate::schema::live_marker(deleted);
            let mut stripped = live.clone();
            stripped.columns.retain(|column| column.0 != marker);
            for columns in stripped.unique.values_mut() {
                columns.retain(|column| *column != marker);
            }
            without_marker = stripped;
            &without_marker
        }
        _ => live,
    };
    let table_name = name.to_owned();
    for column in &table.columns {
        let Some((_, found, nullable, has_default)) =
            live.columns.iter().find(|c| c.0 == column.name)
        else {
            differences.push(Difference::MissingColumn {
                table: table_name.clone(),
                column: column.name.clone(),
            });
            continue;
        };
        let expected = normalise_type(
            dialect,
            &sql_type(dialect, &column.ty, table.is_indexed(&column.name)),
        );
        if expected != *found && !equivalent_types(dialect, &expected, found) {
            differences.push(Difference::ColumnType {
                table: table_name.clone(),
                column: column.name.clone(),
                expected,
                found: found.clone(),
            });
        }
        if column.nullable != *nullable {
            differences.push(Difference::Nullability {
                table: table_name.clone(),
                column: column.name.clone(),
                expected: column.nullable,
            });
        }
        if column.default.is_some() != *has_default && !column.generated {
            differences.push(Difference::Default {
                table: table_name.clone(),
                column: column.name.clone(),
                expected: column.default.is_some(),
            });
        }
    }
    for (column, ..) in &live.columns {
        if table.column(column).is_none() {
            differences.push(Difference::ExtraColumn {
                table: table_name.clone(),
                column: column.clone(),
            });
        }
    }
    if let Some(secured) = live.row_security
        && secured != table.row_security.is_some()
    {
        differences.push(Difference::RowSecurity {
            table: table_name.clone(),
            expected: table.row_security.is_some(),
        });
    }
    if table.primary_key.1 != live.primary_key {
        differences.push(Difference::PrimaryKey {
            table: table_name.clone(),
            expected: table.primary_key.1.clone(),
            found: live.primary_key.clone(),
        });
    }
    // SQLite names neither unique keys nor foreign keys: compare those by definition there.
    let by_name = dialect != Dialect::Sqlite;
    let mut expected_indexes = table.indexes.clone();
    if dialect == Dialect::MySql {
        for (key, foreign) in &table.foreign_keys {
            expected_indexes.insert(key.clone(), foreign.columns.clone());
        }
    }
    let mut expected_keys = table.foreign_keys.clone();
    if dialect == Dialect::MySql {
        // MySQL treats NO ACTION as RESTRICT and reports it so.
        for key in expected_keys.values_mut() {
            if key.on_delete == OnDelete::NoAction {
                key.on_delete = OnDelete::Restrict;
            }
        }
    }
    let describe_columns = |columns: &Vec<String>| format!("({})", columns.join(", "));
    let describe_key = |key: &ForeignKeySnapshot| {
        format!(
            "({}) -> {}({}) on delete {}",
            key.columns.join(", "),
            key.table,
            key.references.join(", "),
            key.on_delete.sql()
        )
    };
    diff_named(
        &table_name,
        "unique key",
        &table.unique,
        &live.unique,
        by_name,
        describe_columns,
        differences,
    );
    diff_named(
        &table_name,
        "index",
        &expected_indexes,
        &live.indexes,
        true,
        describe_columns,
        differences,
    );
    diff_named(
        &table_name,
        "foreign key",
        &expected_keys,
        &live.foreign_keys,
        by_name,
        describe_key,
        differences,
    );
}

fn diff_named<T: PartialEq>(
    table: &str,
    kind: &'static str,
    expected: &BTreeMap<String, T>,
    live: &BTreeMap<String, T>,
    by_name: bool,
    describe: impl Fn(&T) -> String,
    differences: &mut Vec<Difference>,
) {
    let present = |name: &String, value: &T, other: &BTreeMap<String, T>| {
        if by_name {
            other.get(name) == Some(value)
        } else {
            other.values().any(|v| v == value)
        }
    };
    for (name, value) in expected {
        if !present(name, value, live) {
            differences.push(Difference::MissingConstraint {
                table: table.to_owned(),
                kind,
                definition: format!("{name} {}", describe(value)),
            });
        }
    }
    for (name, value) in live {
        if !present(name, value, expected) {
            let definition = if by_name {
                format!("{name} {}", describe(value))
            } else {
                describe(value)
            };
            differences.push(Difference::ExtraConstraint {
                table: table.to_owned(),
                kind,
                definition,
            });
        }
    }
}

/// Types the backend reports under another name: MariaDB's `JSON` is a `LONGTEXT` (with a
/// `json_valid` check).
fn equivalent_types(dialect: Dialect, expected: &str, found: &str) -> bool {
    dialect == Dialect::MySql && expected == "json" && found == "longtext"
}
