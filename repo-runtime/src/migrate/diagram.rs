//! The schema as a Mermaid entity-relationship diagram: each table with its columns (keys
//! marked), each foreign key a relationship with its cardinality. Many-to-many relations
//! appear as what they are stored as: a link table with a foreign key to each side.

use std::fmt::Write as _;

use crate::schema::{Column, ColumnType, Table};

use super::Schema;

impl Schema {
    /// The registered tables as a Mermaid `erDiagram`, in registration order: paste it in a
    /// Markdown file (GitHub and most viewers draw it) or print it with the command line's
    /// `diagram`.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("erDiagram\n");
        for table in self.tables() {
            let _ = writeln!(out, "    {} {{", table.name);
            for column in table.columns {
                let keys = keys(table, column);
                let _ = write!(out, "        {} {}", type_name(column.ty), column.name);
                if !keys.is_empty() {
                    let _ = write!(out, " {}", keys.join(", "));
                }
                let mut notes = Vec::new();
                if column.nullable {
                    notes.push("nullable");
                }
                if column.generated {
                    notes.push("generated");
                }
                if !notes.is_empty() {
                    let _ = write!(out, " \"{}\"", notes.join(", "));
                }
                out.push('\n');
            }
            out.push_str("    }\n");
        }
        for table in self.tables() {
            for key in table.foreign_keys {
                let optional = key
                    .columns
                    .iter()
                    .any(|name| table.column(name).is_some_and(|column| column.nullable));
                // A child row per parent at most when the referring columns are a key.
                let single = table.constraint_on(key.columns).is_some();
                let parent = if optional { "|o" } else { "||" };
                let children = if single { "o|" } else { "o{" };
                let _ = writeln!(
                    out,
                    "    {} {parent}--{children} {} : \"{}\"",
                    key.table,
                    table.name,
                    key.columns.join(", ")
                );
            }
        }
        out
    }
}

/// `PK`, `FK`, `UK` as they apply to `column`.
fn keys(table: &Table, column: &Column) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if table.primary_key.columns.contains(&column.name) {
        keys.push("PK");
    }
    if table
        .foreign_keys
        .iter()
        .any(|key| key.columns.contains(&column.name))
    {
        keys.push("FK");
    }
    if table
        .unique
        .iter()
        .any(|unique| unique.columns.contains(&column.name))
    {
        keys.push("UK");
    }
    keys
}

/// The column's type in one word, as Mermaid wants it.
fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::SmallInt => "smallint",
        ColumnType::Integer => "integer",
        ColumnType::BigInt => "bigint",
        ColumnType::Real => "real",
        ColumnType::Double => "double",
        ColumnType::Boolean => "boolean",
        ColumnType::Text => "text",
        ColumnType::Bytes => "bytes",
        ColumnType::Decimal => "decimal",
        ColumnType::Uuid => "uuid",
        ColumnType::Json => "json",
        ColumnType::Date => "date",
        ColumnType::Time => "time",
        ColumnType::Timestamp => "timestamp",
        ColumnType::TimestampTz => "timestamptz",
        ColumnType::Enum(_) => "enum",
    }
}
