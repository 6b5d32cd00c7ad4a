//! The drift check: the live database's tables (read from the catalog: `information_schema`,
//! `pg_catalog`, SQLite's pragmas) compared with what the entities declare, every difference
//! reported. Column types are compared as each backend reports them after normalisation;
//! `DEFAULT`s by presence; enum `CHECK`s are not compared. SQLite does not report constraint
//! names, so its unique keys and foreign keys are compared by their columns.

use std::collections::BTreeMap;
use std::fmt;

use super::conn::{Conn, on_conn, sql_error};
use super::{Schema, Snapshot};
use crate::db::Db;
use crate::dialect::Dialect;
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

/// A table as the catalog reports it.
#[derive(Debug, Default)]
struct LiveTable {
    /// Name, normalised type, nullable, has a default.
    columns: Vec<(String, String, bool, bool)>,
    primary_key: Vec<String>,
    unique: BTreeMap<String, Vec<String>>,
    indexes: BTreeMap<String, Vec<String>>,
    foreign_keys: BTreeMap<String, ForeignKeySnapshot>,
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

/// A type name as the catalogs spell it: lower case, no spaces after commas, MySQL's display
/// widths dropped, PostgreSQL's long names for the time types.
fn normalise_type(dialect: Dialect, ty: &str) -> String {
    let ty = ty.to_ascii_lowercase().replace(", ", ",");
    match dialect {
        Dialect::Sqlite => ty,
        Dialect::Postgres => match ty.as_str() {
            "time" => "time without time zone".to_owned(),
            "timestamp" => "timestamp without time zone".to_owned(),
            "timestamptz" => "timestamp with time zone".to_owned(),
            _ => ty,
        },
        Dialect::MySql => {
            if ty == "tinyint(1)" || ty == "boolean" {
                return "boolean".to_owned();
            }
            for int in ["bigint", "smallint", "int"] {
                if ty.starts_with(int) && ty[int.len()..].starts_with('(') {
                    return int.to_owned();
                }
            }
            ty
        }
    }
}

/// Types the backend reports under another name: MariaDB's `JSON` is a `LONGTEXT` (with a
/// `json_valid` check).
fn equivalent_types(dialect: Dialect, expected: &str, found: &str) -> bool {
    dialect == Dialect::MySql && expected == "json" && found == "longtext"
}

async fn read_live(conn: &mut Conn) -> Result<BTreeMap<String, LiveTable>, RepoError> {
    match conn.dialect() {
        Dialect::Sqlite => read_sqlite(conn).await,
        Dialect::Postgres => read_postgres(conn).await,
        Dialect::MySql => read_mysql(conn).await,
    }
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn on_delete(rule: &str) -> OnDelete {
    match rule.to_ascii_uppercase().as_str() {
        "CASCADE" | "C" => OnDelete::Cascade,
        "SET NULL" | "N" => OnDelete::SetNull,
        "RESTRICT" | "R" => OnDelete::Restrict,
        _ => OnDelete::NoAction,
    }
}

async fn read_sqlite(conn: &mut Conn) -> Result<BTreeMap<String, LiveTable>, RepoError> {
    let names: Vec<String> = on_conn!(conn, c => sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetch_all(&mut **c).await).map_err(sql_error)?;
    let mut tables = BTreeMap::new();
    for name in names {
        let mut table = LiveTable::default();
        let columns: Vec<(String, String, i64, Option<String>, i64)> =
            on_conn!(conn, c => sqlx::query_as(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid"
        ).bind(&name).fetch_all(&mut **c).await)
            .map_err(sql_error)?;
        let mut key: Vec<(i64, String)> = Vec::new();
        for (column, ty, not_null, default, pk) in columns {
            if pk > 0 {
                key.push((pk, column.clone()));
            }
            table.columns.push((
                column,
                ty.to_ascii_lowercase(),
                not_null == 0,
                default.is_some(),
            ));
        }
        key.sort();
        table.primary_key = key.into_iter().map(|(_, column)| column).collect();
        let indexes: Vec<(String, i64, String)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT l.name, l.origin = 'u', group_concat(i.name, ',') FROM pragma_index_list(?1) AS l, pragma_index_info(l.name) AS i \
             WHERE l.origin <> 'pk' GROUP BY l.name, l.origin ORDER BY l.name"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        for (index, unique, columns) in indexes {
            let columns = split(&columns);
            if unique != 0 {
                table.unique.insert(index, columns);
            } else {
                table.indexes.insert(index, columns);
            }
        }
        let keys: Vec<(i64, String, String, String, String)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT id, \"table\", group_concat(\"from\", ','), group_concat(\"to\", ','), on_delete \
             FROM (SELECT * FROM pragma_foreign_key_list(?1) ORDER BY id, seq) GROUP BY id, \"table\", on_delete"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        for (id, target, from, to, rule) in keys {
            table.foreign_keys.insert(
                format!("#{id}"),
                ForeignKeySnapshot {
                    columns: split(&from),
                    table: target,
                    references: split(&to),
                    on_delete: on_delete(&rule),
                },
            );
        }
        tables.insert(name, table);
    }
    Ok(tables)
}

async fn read_postgres(conn: &mut Conn) -> Result<BTreeMap<String, LiveTable>, RepoError> {
    let names: Vec<String> = on_conn!(conn, c => sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    ).fetch_all(&mut **c).await).map_err(sql_error)?;
    let mut tables = BTreeMap::new();
    for name in names {
        let mut table = LiveTable::default();
        let columns: Vec<(String, String, bool, bool)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable = 'YES', column_default IS NOT NULL \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        table.columns = columns;
        let constraints: Vec<(String, String, String, Option<String>, Option<String>, String)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT con.conname::text, con.contype::text, \
               array_to_string(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(n, o) \
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o), ','), \
               CASE WHEN con.contype = 'f' THEN (SELECT relname::text FROM pg_class WHERE oid = con.confrelid) END, \
               CASE WHEN con.contype = 'f' THEN array_to_string(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(n, o) \
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o), ',') END, \
               con.confdeltype::text \
             FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace \
             WHERE n.nspname = current_schema() AND rel.relname = $1 AND con.contype IN ('p', 'u', 'f')"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        for (constraint, kind, columns, target, references, rule) in constraints {
            match kind.as_str() {
                "p" => table.primary_key = split(&columns),
                "u" => {
                    table.unique.insert(constraint, split(&columns));
                }
                _ => {
                    table.foreign_keys.insert(
                        constraint,
                        ForeignKeySnapshot {
                            columns: split(&columns),
                            table: target.unwrap_or_default(),
                            references: split(&references.unwrap_or_default()),
                            on_delete: on_delete(&rule),
                        },
                    );
                }
            }
        }
        let indexes: Vec<(String, String)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT i.relname::text, array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(n, o) \
               JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n ORDER BY k.o), ',') \
             FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname = $1 \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid)"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        for (index, columns) in indexes {
            table.indexes.insert(index, split(&columns));
        }
        tables.insert(name, table);
    }
    Ok(tables)
}

async fn read_mysql(conn: &mut Conn) -> Result<BTreeMap<String, LiveTable>, RepoError> {
    let names: Vec<String> = on_conn!(conn, c => sqlx::query_scalar(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1"
    ).fetch_all(&mut **c).await).map_err(sql_error)?;
    let mut tables = BTreeMap::new();
    for name in names {
        let mut table = LiveTable::default();
        let columns: Vec<(String, String, String, Option<String>)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR) \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        for (column, ty, nullable, default) in columns {
            // MariaDB reports "no default" of a nullable column as the text NULL.
            let has_default = default.is_some_and(|d| d != "NULL");
            table.columns.push((
                column,
                normalise_type(Dialect::MySql, &ty),
                nullable == "YES",
                has_default,
            ));
        }
        let indexes: Vec<(String, i64, String)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED), CAST(GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ',') AS CHAR) \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? GROUP BY INDEX_NAME, NON_UNIQUE"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        for (index, non_unique, columns) in indexes {
            if index == "PRIMARY" {
                table.primary_key = split(&columns);
            } else if non_unique == 0 {
                table.unique.insert(index, split(&columns));
            } else {
                table.indexes.insert(index, split(&columns));
            }
        }
        let keys: Vec<(String, String, String, String, String)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.REFERENCED_TABLE_NAME AS CHAR), \
               CAST(GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ',') AS CHAR), \
               CAST(GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ',') AS CHAR), CAST(r.DELETE_RULE AS CHAR) \
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
               ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             GROUP BY k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME, r.DELETE_RULE"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        for (constraint, target, columns, references, rule) in keys {
            table.foreign_keys.insert(
                constraint,
                ForeignKeySnapshot {
                    columns: split(&columns),
                    table: target,
                    references: split(&references),
                    on_delete: on_delete(&rule),
                },
            );
        }
        tables.insert(name, table);
    }
    Ok(tables)
}
