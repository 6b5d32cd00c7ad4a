//! The live schema as each backend's catalog reports it: `information_schema` and
//! `pg_catalog` on PostgreSQL, `information_schema` on MySQL/MariaDB, pragmas on SQLite.

use repo_sql::Dialect;
use std::collections::BTreeMap;

use super::conn::{Conn, on_conn, sql_error};
#[cfg(feature = "rusqlite")]
use crate::backend::rusqlite;
use crate::error::RepoError;
use crate::schema::{ForeignKeySnapshot, OnDelete};

/// A PostgreSQL constraint: name, kind, columns, referenced table and columns, delete rule.
type ConstraintRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

/// A table as the catalog reports it.
#[derive(Debug, Default, Clone)]
pub(super) struct LiveTable {
    /// Name, normalised type, nullable, has a default.
    pub(super) columns: Vec<(String, String, bool, bool)>,
    pub(super) primary_key: Vec<String>,
    pub(super) unique: BTreeMap<String, Vec<String>>,
    pub(super) indexes: BTreeMap<String, Vec<String>>,
    pub(super) foreign_keys: BTreeMap<String, ForeignKeySnapshot>,
    /// PostgreSQL: whether Row-Level Security is enabled and forced with the tenant policy
    /// the runtime names after the table; `None` where there is no such thing.
    pub(super) row_security: Option<bool>,
}

/// A type name as the catalogs spell it: lower case, no spaces after commas, MySQL's display
/// widths dropped, PostgreSQL's long names for the time types.
pub(super) fn normalise_type(dialect: Dialect, ty: &str) -> String {
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

pub(super) async fn read_live(conn: &mut Conn) -> Result<BTreeMap<String, LiveTable>, RepoError> {
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
    const TABLES: &str = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
    let names: Vec<String> =
        on_conn!(conn, c => sqlx::query_scalar(TABLES).fetch_all(&mut **c).await,
        rusqlite => rusqlite::own_rows(c, TABLES, &[], |r| r.get(0)))
        .map_err(sql_error)?;
    let mut tables = BTreeMap::new();
    for name in names {
        let mut table = LiveTable::default();
        const COLUMNS: &str = "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid";
        let columns: Vec<(String, String, i64, Option<String>, i64)> =
            on_conn!(conn, c => sqlx::query_as(COLUMNS).bind(&name).fetch_all(&mut **c).await,
            rusqlite => rusqlite::own_rows(c, COLUMNS, &[&name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            }))
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
        const INDEXES: &str = "SELECT l.name, l.\"unique\", group_concat(i.name, ',') FROM pragma_index_list(?1) AS l, pragma_index_info(l.name) AS i \
             WHERE l.origin <> 'pk' GROUP BY l.name, l.\"unique\" ORDER BY l.name";
        let indexes: Vec<(String, i64, String)> = on_conn!(conn, c => sqlx::query_as(INDEXES).bind(&name).fetch_all(&mut **c).await,
            rusqlite => rusqlite::own_rows(c, INDEXES, &[&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .map_err(sql_error)?;
        for (index, unique, columns) in indexes {
            let columns = split(&columns);
            if unique != 0 {
                table.unique.insert(index, columns);
            } else {
                table.indexes.insert(index, columns);
            }
        }
        const KEYS: &str = "SELECT id, \"table\", group_concat(\"from\", ','), group_concat(\"to\", ','), on_delete \
             FROM (SELECT * FROM pragma_foreign_key_list(?1) ORDER BY id, seq) GROUP BY id, \"table\", on_delete";
        let keys: Vec<(i64, String, String, String, String)> =
            on_conn!(conn, c => sqlx::query_as(KEYS).bind(&name).fetch_all(&mut **c).await,
            rusqlite => rusqlite::own_rows(c, KEYS, &[&name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            }))
            .map_err(sql_error)?;
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
        let constraints: Vec<ConstraintRow> = on_conn!(conn, c => sqlx::query_as(
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
        // Unique indexes outside any constraint are the partial ones of soft delete.
        let indexes: Vec<(String, String, bool)> = on_conn!(conn, c => sqlx::query_as(
            "SELECT i.relname::text, array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(n, o) \
               JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n ORDER BY k.o), ','), ix.indisunique \
             FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname = $1 \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid)"
        ).bind(&name).fetch_all(&mut **c).await).map_err(sql_error)?;
        for (index, columns, unique) in indexes {
            if unique {
                table.unique.insert(index, split(&columns));
            } else {
                table.indexes.insert(index, split(&columns));
            }
        }
        let secured: bool = on_conn!(conn, c => sqlx::query_scalar(
            "SELECT rel.relrowsecurity AND rel.relforcerowsecurity \
               AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = rel.oid AND p.polname = $1 || '_tenant') \
             FROM pg_class rel JOIN pg_namespace n ON n.oid = rel.relnamespace \
             WHERE n.nspname = current_schema() AND rel.relname = $1"
        ).bind(&name).fetch_one(&mut **c).await).map_err(sql_error)?;
        table.row_security = Some(secured);
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
