//! Plain-data table definitions, produced by the derive as constants, and their DDL per dialect.

use crate::dialect::Dialect;

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
}

/// Longest string or byte key MySQL can index in full under utf8mb4 with room for composites.
const MYSQL_KEY_LENGTH: u32 = 255;

impl Table {
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

    /// Whether a column takes part in a key or index (MySQL needs a bounded type there).
    fn is_indexed(&self, column: &str) -> bool {
        std::iter::once(&self.primary_key)
            .chain(self.unique)
            .any(|constraint| constraint.columns.contains(&column))
            || self
                .indexes
                .iter()
                .any(|index| index.columns.contains(&column))
    }

    fn generated_key(&self) -> Option<&Column> {
        self.columns.iter().find(|column| column.generated)
    }

    /// `CREATE TABLE IF NOT EXISTS` followed by one `CREATE INDEX IF NOT EXISTS` per index
    /// (MySQL, which lacks the latter, declares its indexes inside the table).
    pub fn create_statements(&self, dialect: Dialect) -> Vec<String> {
        let mut table = String::from("CREATE TABLE IF NOT EXISTS ");
        dialect.push_ident(&mut table, self.name);
        table.push_str(" (");
        let mut parts: Vec<String> = self
            .columns
            .iter()
            .map(|column| self.column_definition(dialect, column))
            .collect();
        // SQLite's rowid alias has to be declared inline with the column.
        let inline_key = dialect == Dialect::Sqlite && self.generated_key().is_some();
        if !inline_key {
            parts.push(constraint_clause(dialect, "PRIMARY KEY", &self.primary_key));
        }
        parts.extend(
            self.unique
                .iter()
                .map(|unique| constraint_clause(dialect, "UNIQUE", unique)),
        );
        if dialect == Dialect::MySql {
            parts.extend(self.indexes.iter().map(|index| {
                let mut part = String::from("INDEX ");
                dialect.push_ident(&mut part, index.name);
                part.push(' ');
                push_column_list(dialect, &mut part, index.columns);
                part
            }));
        }
        for (i, part) in parts.iter().enumerate() {
            table.push_str(if i == 0 { "\n    " } else { ",\n    " });
            table.push_str(part);
        }
        table.push_str("\n)");
        if dialect == Dialect::MySql {
            // A binary collation compares like PostgreSQL and SQLite do: exactly.
            table.push_str(" ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
        }
        let mut statements = vec![table];
        if dialect != Dialect::MySql {
            statements.extend(self.indexes.iter().map(|index| {
                let mut sql = String::from("CREATE INDEX IF NOT EXISTS ");
                dialect.push_ident(&mut sql, index.name);
                sql.push_str(" ON ");
                dialect.push_ident(&mut sql, self.name);
                sql.push(' ');
                push_column_list(dialect, &mut sql, index.columns);
                sql
            }));
        }
        statements
    }

    /// `DROP TABLE IF EXISTS`.
    pub fn drop_statement(&self, dialect: Dialect) -> String {
        let mut sql = String::from("DROP TABLE IF EXISTS ");
        dialect.push_ident(&mut sql, self.name);
        sql
    }

    fn column_definition(&self, dialect: Dialect, column: &Column) -> String {
        let mut sql = String::new();
        dialect.push_ident(&mut sql, column.name);
        sql.push(' ');
        let indexed = self.is_indexed(column.name);
        sql.push_str(&sql_type(dialect, column.ty, indexed));
        if column.generated {
            sql.push_str(match dialect {
                Dialect::Sqlite => " PRIMARY KEY AUTOINCREMENT",
                Dialect::Postgres => " GENERATED BY DEFAULT AS IDENTITY",
                Dialect::MySql => " AUTO_INCREMENT",
            });
        }
        if !column.nullable {
            sql.push_str(" NOT NULL");
        }
        if let ColumnType::Enum(values) = column.ty {
            // The values come from the derive, which admits no quote or backslash in them.
            sql.push_str(" CHECK (");
            dialect.push_ident(&mut sql, column.name);
            sql.push_str(" IN (");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('\'');
                sql.push_str(&value.replace('\'', "''"));
                sql.push('\'');
            }
            sql.push_str("))");
        }
        sql
    }
}

fn sql_type(dialect: Dialect, ty: ColumnType, indexed: bool) -> String {
    use ColumnType::*;
    let name = match (dialect, ty) {
        // SQLite's AUTOINCREMENT requires exactly INTEGER; every integer is 64-bit there.
        (Dialect::Sqlite, SmallInt | Integer | BigInt) => "INTEGER",
        (Dialect::Sqlite, Real | Double) => "REAL",
        (Dialect::Sqlite, Boolean) => "BOOLEAN",
        (Dialect::Sqlite, Text | Decimal | Json | Enum(_)) => "TEXT",
        (Dialect::Sqlite, Bytes | Uuid) => "BLOB",
        // sqlx stores SQLite's dates and times as ISO 8601 text.
        (Dialect::Sqlite, Date) => "DATE",
        (Dialect::Sqlite, Time) => "TIME",
        (Dialect::Sqlite, Timestamp) => "DATETIME",
        (Dialect::Sqlite, TimestampTz) => "DATETIME",
        (Dialect::Postgres, SmallInt) => "SMALLINT",
        (Dialect::Postgres, Integer) => "INTEGER",
        (Dialect::Postgres, BigInt) => "BIGINT",
        (Dialect::Postgres, Real) => "REAL",
        (Dialect::Postgres, Double) => "DOUBLE PRECISION",
        (Dialect::Postgres, Boolean) => "BOOLEAN",
        (Dialect::Postgres, Text) => "TEXT",
        (Dialect::Postgres, Bytes) => "BYTEA",
        (Dialect::Postgres, Decimal) => "NUMERIC",
        (Dialect::Postgres, Uuid) => "UUID",
        (Dialect::Postgres, Json) => "JSONB",
        (Dialect::Postgres, Date) => "DATE",
        (Dialect::Postgres, Time) => "TIME",
        (Dialect::Postgres, Timestamp) => "TIMESTAMP",
        (Dialect::Postgres, TimestampTz) => "TIMESTAMPTZ",
        (Dialect::Postgres, Enum(_)) => "TEXT",
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

fn constraint_clause(dialect: Dialect, kind: &str, constraint: &Constraint) -> String {
    let mut sql = String::from("CONSTRAINT ");
    dialect.push_ident(&mut sql, constraint.name);
    sql.push(' ');
    sql.push_str(kind);
    sql.push(' ');
    push_column_list(dialect, &mut sql, constraint.columns);
    sql
}

fn push_column_list(dialect: Dialect, sql: &mut String, columns: &[&str]) {
    sql.push('(');
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        dialect.push_ident(sql, column);
    }
    sql.push(')');
}
