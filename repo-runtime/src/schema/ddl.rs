//! DDL per dialect from a [`TableSnapshot`]: `CREATE TABLE` with its keys and foreign keys,
//! indexes, column definitions and `DEFAULT` literals. `create_schema` and the migration
//! renderer both use it, so a generated migration and a created schema are the same tables.

use repo_sql::Dialect;

use super::{
    ColumnKind, ColumnSnapshot, DefaultValue, ForeignKeySnapshot, OnDelete, TableSnapshot,
};

/// Longest string or byte key MySQL can index in full under utf8mb4 with room for composites.
const MYSQL_KEY_LENGTH: u32 = 255;

/// `CREATE TABLE` (with `IF NOT EXISTS` when asked) followed by one `CREATE INDEX` per index;
/// MySQL, which lacks `CREATE INDEX IF NOT EXISTS`, declares its indexes inside the table.
pub(crate) fn create_table(
    dialect: Dialect,
    name: &str,
    table: &TableSnapshot,
    if_not_exists: bool,
) -> Vec<String> {
    let mut sql = String::from(if if_not_exists {
        "CREATE TABLE IF NOT EXISTS "
    } else {
        "CREATE TABLE "
    });
    dialect.push_ident(&mut sql, name);
    sql.push_str(" (");
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .map(|column| column_definition(dialect, table, column))
        .collect();
    if let (Dialect::MySql, Some(deleted)) = (dialect, &table.deleted) {
        parts.push(live_marker_definition(deleted));
    }
    // SQLite's rowid alias has to be declared inline with the column.
    let inline_key = dialect == Dialect::Sqlite && table.columns.iter().any(|c| c.generated);
    if !inline_key {
        let (key, columns) = &table.primary_key;
        parts.push(key_clause(dialect, "PRIMARY KEY", key, columns));
    }
    // With soft delete, unique keys hold among the rows that live: partial indexes on
    // PostgreSQL and SQLite, created after the table.
    if table.deleted.is_none() || dialect == Dialect::MySql {
        parts.extend(
            table
                .unique
                .iter()
                .map(|(unique, columns)| unique_clause(dialect, table, unique, columns)),
        );
    }
    if dialect == Dialect::MySql {
        parts.extend(table.indexes.iter().map(|(index, columns)| {
            let mut part = String::from("INDEX ");
            dialect.push_ident(&mut part, index);
            part.push(' ');
            push_column_list(dialect, &mut part, columns);
            part
        }));
        // An index of the foreign key's name, so that MySQL does not create one of its own
        // (which it may later drop silently).
        parts.extend(table.foreign_keys.iter().map(|(key, foreign)| {
            let mut part = String::from("INDEX ");
            dialect.push_ident(&mut part, key);
            part.push(' ');
            push_column_list(dialect, &mut part, &foreign.columns);
            part
        }));
    }
    parts.extend(
        table
            .foreign_keys
            .iter()
            .map(|(key, foreign)| foreign_key_clause(dialect, key, foreign)),
    );
    for (i, part) in parts.iter().enumerate() {
        sql.push_str(if i == 0 { "\n    " } else { ",\n    " });
        sql.push_str(part);
    }
    sql.push_str("\n)");
    if dialect == Dialect::MySql {
        // A binary collation compares like PostgreSQL and SQLite do: exactly.
        sql.push_str(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
    }
    let mut statements = vec![sql];
    if let (Some(deleted), false) = (&table.deleted, dialect == Dialect::MySql) {
        statements.extend(table.unique.iter().map(|(unique, columns)| {
            create_live_unique_index(dialect, name, unique, columns, deleted, if_not_exists)
        }));
    }
    if dialect != Dialect::MySql {
        statements.extend(
            table
                .indexes
                .iter()
                .map(|(index, columns)| create_index(dialect, name, index, columns, if_not_exists)),
        );
    }
    if dialect == Dialect::Postgres {
        statements.extend(row_security(name, table, if_not_exists));
    }
    statements
}

/// The setting a transaction of a handle scoped to a tenant sets (`set_config(.., true)`, the
/// transaction's own) for PostgreSQL's Row-Level Security to read.
pub(crate) const TENANT_SETTING: &str = "repo.tenant";

/// What sets [`TENANT_SETTING`] for the rest of a transaction, to the bound tenant.
#[cfg(feature = "postgres")]
pub(crate) const SET_TENANT: &str = "SELECT set_config('repo.tenant', CAST($1 AS TEXT), true)";

/// PostgreSQL's Row-Level Security on `table`, scoped by its tenant column: enabled, forced on
/// the table's owner too, and a policy under which a session that names a tenant in
/// [`TENANT_SETTING`] reads and writes that tenant's rows only. A session that names none (an
/// unscoped handle's, or work outside a transaction, which the runtime scopes itself) is not
/// restricted. Nothing when the table is not scoped so.
pub(crate) fn row_security(name: &str, table: &TableSnapshot, replace: bool) -> Vec<String> {
    let dialect = Dialect::Postgres;
    let Some(column) = table
        .row_security
        .as_ref()
        .and_then(|tenant| table.column(tenant))
    else {
        return Vec::new();
    };
    let quoted = dialect.quote(name);
    let policy = dialect.quote(&format!("{name}_tenant"));
    let setting = format!("current_setting('{TENANT_SETTING}', true)");
    let predicate = format!(
        "CASE WHEN COALESCE({setting}, '') = '' THEN TRUE ELSE {} = CAST({setting} AS {}) END",
        dialect.quote(&column.name),
        sql_type(dialect, &column.ty, false)
    );
    let mut statements = vec![
        format!("ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY"),
    ];
    // PostgreSQL has no `CREATE POLICY IF NOT EXISTS`.
    if replace {
        statements.push(format!("DROP POLICY IF EXISTS {policy} ON {quoted}"));
    }
    statements.push(format!(
        "CREATE POLICY {policy} ON {quoted} USING ({predicate}) WITH CHECK ({predicate})"
    ));
    statements
}

/// What undoes [`row_security`] on `table`.
#[cfg(feature = "migrate")]
pub(crate) fn drop_row_security(name: &str) -> Vec<String> {
    let dialect = Dialect::Postgres;
    let quoted = dialect.quote(name);
    let policy = dialect.quote(&format!("{name}_tenant"));
    vec![
        format!("DROP POLICY IF EXISTS {policy} ON {quoted}"),
        format!("ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY"),
        format!("ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY"),
    ]
}

/// `CREATE INDEX`.
pub(crate) fn create_index(
    dialect: Dialect,
    table: &str,
    index: &str,
    columns: &[String],
    if_not_exists: bool,
) -> String {
    index_statement(dialect, table, index, columns, if_not_exists, None)
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (columns)`, unique over the rows whose
/// `live_while_null` column is `NULL` when there is one (`WHERE ... IS NULL`).
fn index_statement(
    dialect: Dialect,
    table: &str,
    index: &str,
    columns: &[String],
    if_not_exists: bool,
    live_while_null: Option<&str>,
) -> String {
    let mut sql = String::from("CREATE ");
    if live_while_null.is_some() {
        sql.push_str("UNIQUE ");
    }
    sql.push_str("INDEX ");
    // MySQL has no `CREATE INDEX IF NOT EXISTS`.
    if if_not_exists && dialect != Dialect::MySql {
        sql.push_str("IF NOT EXISTS ");
    }
    dialect.push_ident(&mut sql, index);
    sql.push_str(" ON ");
    dialect.push_ident(&mut sql, table);
    sql.push(' ');
    push_column_list(dialect, &mut sql, columns);
    if let Some(deleted) = live_while_null {
        sql.push_str(" WHERE ");
        dialect.push_ident(&mut sql, deleted);
        sql.push_str(" IS NULL");
    }
    sql
}

/// `DROP INDEX`; MySQL names the table too.
#[cfg(feature = "migrate")]
pub(crate) fn drop_index(dialect: Dialect, table: &str, index: &str) -> String {
    let mut sql = String::from("DROP INDEX ");
    dialect.push_ident(&mut sql, index);
    if dialect == Dialect::MySql {
        sql.push_str(" ON ");
        dialect.push_ident(&mut sql, table);
    }
    sql
}

/// A column's definition: name, type, identity, `DEFAULT`, `NOT NULL`, enum `CHECK`.
pub(crate) fn column_definition(
    dialect: Dialect,
    table: &TableSnapshot,
    column: &ColumnSnapshot,
) -> String {
    let mut sql = String::new();
    dialect.push_ident(&mut sql, &column.name);
    sql.push(' ');
    let ty = sql_type(dialect, &column.ty, table.is_indexed(&column.name));
    sql.push_str(&ty);
    if column.generated {
        sql.push_str(match dialect {
            Dialect::Sqlite => " PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => " GENERATED BY DEFAULT AS IDENTITY",
            Dialect::MySql => " AUTO_INCREMENT",
        });
    }
    if let Some(default) = &column.default {
        sql.push_str(" DEFAULT ");
        // MySQL takes defaults of TEXT, BLOB and JSON columns only as expressions.
        let expression = dialect == Dialect::MySql && (ty.starts_with("LONG") || ty == "JSON");
        if expression {
            sql.push('(');
        }
        push_literal(dialect, &mut sql, default);
        if expression {
            sql.push(')');
        }
    }
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let ColumnKind::Enum(values) = &column.ty {
        sql.push_str(" CHECK (");
        dialect.push_ident(&mut sql, &column.name);
        sql.push_str(" IN (");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            push_literal(dialect, &mut sql, &DefaultValue::Text(value.clone()));
        }
        sql.push_str("))");
    }
    sql
}

/// Appends a literal written in the entity's attributes (never a runtime value): numbers were
/// checked by the derive, strings are quoted with every quote doubled (and, on MySQL, every
/// backslash).
pub(crate) fn push_literal(dialect: Dialect, sql: &mut String, value: &DefaultValue) {
    match value {
        DefaultValue::Number(number) => {
            let valid = number
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
            if valid && !number.is_empty() {
                sql.push_str(number);
            } else {
                push_literal(dialect, sql, &DefaultValue::Text(number.clone()));
            }
        }
        DefaultValue::Boolean(value) => sql.push_str(if *value { "TRUE" } else { "FALSE" }),
        DefaultValue::Text(text) => {
            sql.push('\'');
            for c in text.chars() {
                match c {
                    '\'' => sql.push_str("''"),
                    '\\' if dialect == Dialect::MySql => sql.push_str("\\\\"),
                    c => sql.push(c),
                }
            }
            sql.push('\'');
        }
    }
}

/// Why `default` cannot be the `DEFAULT` of a column of `kind`, if it cannot.
#[cfg(feature = "migrate")]
pub(crate) fn default_mismatch(kind: &ColumnKind, default: &DefaultValue) -> Option<String> {
    use ColumnKind::*;
    let fits = match (kind, default) {
        (SmallInt | Integer | BigInt, DefaultValue::Number(n)) => n.parse::<i64>().is_ok(),
        (Real | Double | Decimal, DefaultValue::Number(n)) => n.parse::<f64>().is_ok(),
        (Decimal, DefaultValue::Text(n)) => n.parse::<f64>().is_ok(),
        (Boolean, DefaultValue::Boolean(_)) => true,
        (Enum(values), DefaultValue::Text(text)) => {
            if !values.contains(text) {
                return Some(format!(
                    "`{text}` is not one of the enum's values ({})",
                    values.join(", ")
                ));
            }
            true
        }
        (Text | Json | Date | Time | Timestamp | TimestampTz, DefaultValue::Text(_)) => true,
        _ => false,
    };
    (!fits).then(|| format!("a {default:?} default does not fit a {kind:?} column"))
}

/// The SQL type of a column of `kind`; `indexed` columns get a bounded type on MySQL.
pub(crate) fn sql_type(dialect: Dialect, kind: &ColumnKind, indexed: bool) -> String {
    use ColumnKind::*;
    let name = match (dialect, kind) {
        // SQLite's AUTOINCREMENT requires exactly INTEGER; every integer is 64-bit there.
        (Dialect::Sqlite, SmallInt | Integer | BigInt) => "INTEGER",
        (Dialect::Sqlite, Real | Double) => "REAL",
        (Dialect::Sqlite, Boolean) => "BOOLEAN",
        (Dialect::Sqlite, Text | Decimal | Json | Enum(_)) => "TEXT",
        (Dialect::Sqlite, Bytes | Uuid) => "BLOB",
        // sqlx stores SQLite's dates and times as ISO 8601 text.
        (Dialect::Sqlite, Date) => "DATE",
        (Dialect::Sqlite, Time) => "TIME",
        (Dialect::Sqlite, Timestamp | TimestampTz) => "DATETIME",
        (Dialect::Postgres, SmallInt) => "SMALLINT",
        (Dialect::Postgres, Integer) => "INTEGER",
        (Dialect::Postgres, BigInt) => "BIGINT",
        (Dialect::Postgres, Real) => "REAL",
        (Dialect::Postgres, Double) => "DOUBLE PRECISION",
        (Dialect::Postgres, Boolean) => "BOOLEAN",
        (Dialect::Postgres, Text | Enum(_)) => "TEXT",
        (Dialect::Postgres, Bytes) => "BYTEA",
        (Dialect::Postgres, Decimal) => "NUMERIC",
        (Dialect::Postgres, Uuid) => "UUID",
        (Dialect::Postgres, Json) => "JSONB",
        (Dialect::Postgres, Date) => "DATE",
        (Dialect::Postgres, Time) => "TIME",
        (Dialect::Postgres, Timestamp) => "TIMESTAMP",
        (Dialect::Postgres, TimestampTz) => "TIMESTAMPTZ",
        (Dialect::MySql, SmallInt) => "SMALLINT",
        (Dialect::MySql, Integer) => "INT",
        (Dialect::MySql, BigInt) => "BIGINT",
        (Dialect::MySql, Real) => "FLOAT",
        (Dialect::MySql, Double) => "DOUBLE",
        (Dialect::MySql, Boolean) => "BOOLEAN",
        (Dialect::MySql, Text) if indexed => return format!("VARCHAR({MYSQL_KEY_LENGTH})"),
        (Dialect::MySql, Text) => "LONGTEXT",
        (Dialect::MySql, Bytes) if indexed => return format!("VARBINARY({MYSQL_KEY_LENGTH})"),
        (Dialect::MySql, Bytes) => "LONGBLOB",
        // 35 integer and 30 fractional digits hold every rust_decimal value exactly.
        (Dialect::MySql, Decimal) => "DECIMAL(65, 30)",
        (Dialect::MySql, Uuid) => "BINARY(16)",
        (Dialect::MySql, Json) => "JSON",
        (Dialect::MySql, Date) => "DATE",
        (Dialect::MySql, Time) => "TIME(6)",
        (Dialect::MySql, Timestamp | TimestampTz) => "DATETIME(6)",
        (Dialect::MySql, Enum(_)) => return format!("VARCHAR({MYSQL_KEY_LENGTH})"),
    };
    name.to_owned()
}

/// The column MySQL and MariaDB, which have no partial index, make a soft-deleted table's
/// unique keys over: `1` while the row lives, `NULL` once deleted, and `NULL`s never
/// collide in a unique key.
pub(crate) fn live_marker(deleted: &str) -> String {
    format!("{deleted}_live")
}

/// The definition of [`live_marker`]: a stored generated column.
pub(crate) fn live_marker_definition(deleted: &str) -> String {
    let dialect = Dialect::MySql;
    format!(
        "{} TINYINT AS (IF({} IS NULL, 1, NULL)) STORED",
        dialect.quote(&live_marker(deleted)),
        dialect.quote(deleted)
    )
}

/// A unique key's clause in a table: over the live marker too, on MySQL with soft delete.
pub(crate) fn unique_clause(
    dialect: Dialect,
    table: &TableSnapshot,
    name: &str,
    columns: &[String],
) -> String {
    match (&table.deleted, dialect) {
        (Some(deleted), Dialect::MySql) => {
            let mut with_marker = columns.to_vec();
            with_marker.push(live_marker(deleted));
            key_clause(dialect, "UNIQUE", name, &with_marker)
        }
        _ => key_clause(dialect, "UNIQUE", name, columns),
    }
}

/// `CREATE UNIQUE INDEX ... WHERE deleted IS NULL`: a unique key among the rows that live
/// (PostgreSQL, SQLite).
pub(crate) fn create_live_unique_index(
    dialect: Dialect,
    table: &str,
    name: &str,
    columns: &[String],
    deleted: &str,
    if_not_exists: bool,
) -> String {
    index_statement(dialect, table, name, columns, if_not_exists, Some(deleted))
}

/// `CONSTRAINT name PRIMARY KEY (...)` or `UNIQUE (...)`.
pub(crate) fn key_clause(dialect: Dialect, kind: &str, name: &str, columns: &[String]) -> String {
    let mut sql = String::from("CONSTRAINT ");
    dialect.push_ident(&mut sql, name);
    sql.push(' ');
    sql.push_str(kind);
    sql.push(' ');
    push_column_list(dialect, &mut sql, columns);
    sql
}

/// `CONSTRAINT name FOREIGN KEY (...) REFERENCES table (...) [ON DELETE ...]`.
pub(crate) fn foreign_key_clause(dialect: Dialect, name: &str, key: &ForeignKeySnapshot) -> String {
    let mut sql = key_clause(dialect, "FOREIGN KEY", name, &key.columns);
    sql.push_str(" REFERENCES ");
    dialect.push_ident(&mut sql, &key.table);
    sql.push(' ');
    push_column_list(dialect, &mut sql, &key.references);
    if key.on_delete != OnDelete::NoAction {
        sql.push_str(" ON DELETE ");
        sql.push_str(key.on_delete.sql());
    }
    sql
}

pub(crate) fn push_column_list(dialect: Dialect, sql: &mut String, columns: &[String]) {
    sql.push('(');
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        dialect.push_ident(sql, column);
    }
    sql.push(')');
}
