//! A [`Plan`] as SQL statements for one dialect, in an order every backend accepts: renames,
//! then what goes away (foreign keys, keys, indexes, columns), then what comes (tables,
//! columns, keys, indexes, foreign keys), dropped tables last. SQLite, whose `ALTER TABLE`
//! cannot change a column or a constraint, rebuilds such tables (create, copy, drop, rename).

use repo_sql::Dialect;
use std::collections::BTreeMap;

use super::plan::{Plan, TableChange};
use crate::schema::{
    ColumnKind, ColumnSnapshot, DefaultValue, TableSnapshot, column_definition, create_index,
    create_live_unique_index, create_table, drop_index, drop_row_security, foreign_key_clause,
    key_clause, live_marker, live_marker_definition, push_column_list, push_literal, row_security,
    sql_type, unique_clause,
};

/// The statements of `plan` on `dialect`.
pub(crate) fn render(plan: &Plan, dialect: Dialect) -> Vec<String> {
    let mut out = Statements {
        dialect,
        sql: Vec::new(),
    };
    let (rebuilt, altered): (Vec<&TableChange>, Vec<&TableChange>) = plan
        .alters
        .iter()
        .partition(|change| dialect == Dialect::Sqlite && needs_rebuild(change));

    for change in &altered {
        if let Some(old) = &change.old_name {
            out.alter(old, format!("RENAME TO {}", dialect.quote(&change.name)));
        }
    }
    for change in &altered {
        if dialect == Dialect::Postgres
            && change.old.row_security.is_some()
            && change.old.row_security != change.new.row_security
        {
            out.sql.extend(drop_row_security(&change.name));
        }
        out.drop_outgoing(change);
    }
    for change in &altered {
        for (from, to) in &change.column_renames {
            let sql = format!(
                "RENAME COLUMN {} TO {}",
                dialect.quote(from),
                dialect.quote(to)
            );
            out.alter(&change.name, sql);
        }
        out.rename_enum_checks(change);
        for column in change.dropped_columns() {
            out.alter(
                &change.name,
                format!("DROP COLUMN {}", dialect.quote(&column.name)),
            );
        }
    }
    for (name, table) in &plan.creates {
        out.sql.extend(create_table(dialect, name, table, false));
    }
    for change in &altered {
        for column in change.added_columns() {
            let definition = column_definition(dialect, &change.new, column);
            out.alter(&change.name, format!("ADD COLUMN {definition}"));
        }
        out.alter_columns(change);
        out.add_incoming(change);
    }
    for change in &rebuilt {
        out.rebuild(change);
    }
    // A new Row-Level Security policy comes last, once the column it names is there; an old
    // one went first, before that column could go.
    if dialect == Dialect::Postgres {
        for change in &altered {
            if change.old.row_security != change.new.row_security {
                out.sql
                    .extend(row_security(&change.name, &change.new, false));
            }
        }
    }
    for (name, _) in &plan.drops {
        out.sql.push(format!("DROP TABLE {}", dialect.quote(name)));
    }
    out.sql
}

/// Whether SQLite must rebuild the table: its `ALTER TABLE` only renames, adds a plain column
/// and drops one that no constraint uses.
fn needs_rebuild(change: &TableChange) -> bool {
    let (old, new) = (&change.old, &change.new);
    let constraints_differ = old.primary_key.1 != new.primary_key.1
        || old.deleted != new.deleted
        || !same_values(&old.unique, &new.unique)
        || !same_values(&old.foreign_keys, &new.foreign_keys);
    let addable = |column: &ColumnSnapshot| {
        !column.generated && (column.nullable || column.default.is_some())
    };
    constraints_differ
        || change.dropped_columns().next().is_some()
        || change.altered_columns().next().is_some()
        || !change.added_columns().all(addable)
}

/// Whether two maps hold the same values, whatever their names.
fn same_values<T: PartialEq>(old: &BTreeMap<String, T>, new: &BTreeMap<String, T>) -> bool {
    old.len() == new.len() && old.values().all(|value| new.values().any(|v| v == value))
}

/// What changed between two maps of named things: dropped, added, renamed (same value,
/// another name).
struct Matched<'a, T> {
    dropped: Vec<(&'a String, &'a T)>,
    added: Vec<(&'a String, &'a T)>,
    renamed: Vec<(&'a String, &'a String, &'a T)>,
}

fn match_named<'a, T: PartialEq>(
    old: &'a BTreeMap<String, T>,
    new: &'a BTreeMap<String, T>,
) -> Matched<'a, T> {
    let mut matched = Matched {
        dropped: Vec::new(),
        added: Vec::new(),
        renamed: Vec::new(),
    };
    let mut taken = Vec::new();
    for (name, value) in old {
        match new.get(name) {
            Some(same) if same == value => {}
            Some(_) => matched.dropped.push((name, value)),
            None => {
                let twin = new.iter().find(|(other, v)| {
                    *v == value && !old.contains_key(*other) && !taken.contains(other)
                });
                match twin {
                    Some((other, _)) => {
                        taken.push(other);
                        matched.renamed.push((name, other, value));
                    }
                    None => matched.dropped.push((name, value)),
                }
            }
        }
    }
    for (name, value) in new {
        let unchanged = old.get(name).is_some_and(|before| before == value);
        if !unchanged && !taken.contains(&name) {
            matched.added.push((name, value));
        }
    }
    matched
}

struct Statements {
    dialect: Dialect,
    sql: Vec<String>,
}

impl Statements {
    fn alter(&mut self, table: &str, action: String) {
        let table = self.dialect.quote(table);
        self.sql.push(format!("ALTER TABLE {table} {action}"));
    }

    /// Drops the foreign keys, unique keys and indexes that go away or change, and renames
    /// those that only changed name, before any column they use changes.
    fn drop_outgoing(&mut self, change: &TableChange) {
        let dialect = self.dialect;
        let (old, new) = (&change.old, &change.new);
        let table = &change.name;
        let keys = match_named(&old.foreign_keys, &new.foreign_keys);
        for (name, _) in &keys.dropped {
            self.drop_foreign_key(table, name);
        }
        for (from, to, key) in &keys.renamed {
            match dialect {
                Dialect::Postgres => self.rename_constraint(table, from, to),
                // MySQL cannot rename a foreign key: drop it and add it under the new name.
                Dialect::MySql => {
                    self.drop_foreign_key(table, from);
                    self.add_foreign_key(
                        table,
                        to,
                        &key.columns,
                        &foreign_key_clause(dialect, to, key),
                    );
                }
                // SQLite does not report constraint names: nothing to rename.
                Dialect::Sqlite => {}
            }
        }
        // A change of soft delete changes every unique key: all go, and come back over the
        // rows that live (or all rows).
        let unique = match_named(&old.unique, &new.unique);
        let (dropped, renamed) = if old.deleted == new.deleted {
            (unique.dropped, unique.renamed)
        } else {
            (old.unique.iter().collect(), Vec::new())
        };
        for (name, _) in &dropped {
            match (dialect, &old.deleted) {
                (Dialect::MySql, _) => {
                    self.alter(table, format!("DROP INDEX {}", dialect.quote(name)));
                }
                // A key over the rows that live is a partial index, not a constraint.
                (_, Some(_)) => self.sql.push(drop_index(dialect, table, name)),
                (_, None) => {
                    self.alter(table, format!("DROP CONSTRAINT {}", dialect.quote(name)));
                }
            }
        }
        for (from, to, _) in &renamed {
            match (dialect, &old.deleted) {
                (Dialect::Postgres, Some(_)) => self.sql.push(format!(
                    "ALTER INDEX {} RENAME TO {}",
                    dialect.quote(from),
                    dialect.quote(to)
                )),
                (Dialect::Postgres, None) => self.rename_constraint(table, from, to),
                (Dialect::MySql, _) => self.rename_index(table, from, to),
                (Dialect::Sqlite, _) => {}
            }
        }
        if let (Dialect::MySql, Some(deleted)) = (dialect, &old.deleted)
            && old.deleted != new.deleted
        {
            let marker = dialect.quote(&live_marker(deleted));
            self.alter(table, format!("DROP COLUMN {marker}"));
        }
        let indexes = match_named(&old.indexes, &new.indexes);
        for (name, _) in &indexes.dropped {
            self.sql.push(drop_index(dialect, table, name));
        }
        for (from, to, columns) in &indexes.renamed {
            match dialect {
                Dialect::Postgres => self.sql.push(format!(
                    "ALTER INDEX {} RENAME TO {}",
                    dialect.quote(from),
                    dialect.quote(to)
                )),
                Dialect::MySql => self.rename_index(table, from, to),
                Dialect::Sqlite => {
                    self.sql.push(drop_index(dialect, table, from));
                    self.sql
                        .push(create_index(dialect, table, to, columns, false));
                }
            }
        }
        let (old_key, new_key) = (&old.primary_key, &new.primary_key);
        if old_key.1 != new_key.1 {
            match dialect {
                Dialect::Postgres => self.alter(
                    table,
                    format!("DROP CONSTRAINT {}", dialect.quote(&old_key.0)),
                ),
                Dialect::MySql => self.alter(table, "DROP PRIMARY KEY".to_owned()),
                Dialect::Sqlite => {}
            }
        } else if old_key.0 != new_key.0 && dialect == Dialect::Postgres {
            self.rename_constraint(table, &old_key.0, &new_key.0);
        }
    }

    /// Adds what is new: primary key, unique keys, indexes, foreign keys.
    fn add_incoming(&mut self, change: &TableChange) {
        let dialect = self.dialect;
        let (old, new) = (&change.old, &change.new);
        let table = &change.name;
        if old.primary_key.1 != new.primary_key.1 {
            let (name, columns) = &new.primary_key;
            self.alter(
                table,
                format!("ADD {}", key_clause(dialect, "PRIMARY KEY", name, columns)),
            );
        }
        if let (Dialect::MySql, Some(deleted)) = (dialect, &new.deleted)
            && old.deleted != new.deleted
        {
            self.alter(
                table,
                format!("ADD COLUMN {}", live_marker_definition(deleted)),
            );
        }
        let added = if old.deleted == new.deleted {
            match_named(&old.unique, &new.unique).added
        } else {
            new.unique.iter().collect()
        };
        for (name, columns) in added {
            self.add_unique(&change.new, table, name, columns);
        }
        for (name, columns) in match_named(&old.indexes, &new.indexes).added {
            self.sql
                .push(create_index(dialect, table, name, columns, false));
        }
        for (name, key) in match_named(&old.foreign_keys, &new.foreign_keys).added {
            self.add_foreign_key(
                table,
                name,
                &key.columns,
                &foreign_key_clause(dialect, name, key),
            );
        }
    }

    /// Adds the unique key `name` to `table`, defined as `definition` has it: over the rows
    /// that live, with soft delete.
    fn add_unique(
        &mut self,
        definition: &TableSnapshot,
        table: &str,
        name: &str,
        columns: &[String],
    ) {
        let dialect = self.dialect;
        match (&definition.deleted, dialect) {
            (Some(deleted), Dialect::Postgres | Dialect::Sqlite) => self.sql.push(
                create_live_unique_index(dialect, table, name, columns, deleted, false),
            ),
            _ => self.alter(
                table,
                format!("ADD {}", unique_clause(dialect, definition, name, columns)),
            ),
        }
    }

    /// Changes the definition of columns present before and after.
    fn alter_columns(&mut self, change: &TableChange) {
        let dialect = self.dialect;
        let table = &change.name;
        if dialect == Dialect::MySql {
            // MySQL restates the whole column; its type also depends on whether it is indexed.
            for new in &change.new.columns {
                let Some(old) = change.old.column(&new.name) else {
                    continue;
                };
                let after = column_definition(dialect, &change.new, new);
                if column_definition(dialect, &change.old, old) != after {
                    self.alter(table, format!("MODIFY COLUMN {after}"));
                }
            }
            return;
        }
        for (old, new) in change.altered_columns() {
            let column = dialect.quote(&new.name);
            if old.ty != new.ty {
                // Renames came first and renamed the check with the column (see
                // `rename_enum_checks`), so it has the conventional name here.
                let check = dialect.quote(&enum_check(table, &new.name));
                if let ColumnKind::Enum(_) = old.ty {
                    self.alter(table, format!("DROP CONSTRAINT IF EXISTS {check}"));
                }
                let ty = sql_type(dialect, &new.ty, false);
                // An enum that only gains or loses values stays TEXT: no rewrite of the table.
                if sql_type(dialect, &old.ty, false) != ty {
                    self.alter(
                        table,
                        format!("ALTER COLUMN {column} TYPE {ty} USING {column}::{ty}"),
                    );
                }
                if let ColumnKind::Enum(values) = &new.ty {
                    let mut sql = format!("ADD CONSTRAINT {check} CHECK ({column} IN (");
                    for (i, value) in values.iter().enumerate() {
                        if i > 0 {
                            sql.push_str(", ");
                        }
                        push_literal(dialect, &mut sql, &DefaultValue::Text(value.clone()));
                    }
                    sql.push_str("))");
                    self.alter(table, sql);
                }
            }
            if old.generated != new.generated {
                let action = if new.generated {
                    "ADD GENERATED BY DEFAULT AS IDENTITY"
                } else {
                    "DROP IDENTITY"
                };
                self.alter(table, format!("ALTER COLUMN {column} {action}"));
            }
            if old.default != new.default {
                let action = match &new.default {
                    Some(default) => {
                        let mut sql = String::from("SET DEFAULT ");
                        push_literal(dialect, &mut sql, default);
                        sql
                    }
                    None => "DROP DEFAULT".to_owned(),
                };
                self.alter(table, format!("ALTER COLUMN {column} {action}"));
            }
            if old.nullable != new.nullable {
                let action = if new.nullable {
                    "DROP NOT NULL"
                } else {
                    "SET NOT NULL"
                };
                self.alter(table, format!("ALTER COLUMN {column} {action}"));
            }
        }
    }

    /// SQLite's table rebuild: a new table with the final definition, the rows copied, the
    /// old table dropped and the new one renamed into place, then its indexes. The runner
    /// turns foreign key enforcement off around it and checks every key before committing.
    fn rebuild(&mut self, change: &TableChange) {
        let dialect = self.dialect;
        let scratch = format!("_repo_rebuild_{}", change.name);
        let mut definition = change.new.clone();
        let indexes = std::mem::take(&mut definition.indexes);
        // Index names are the schema's: the new table's partial unique indexes come once the
        // old table, which may hold them, is gone.
        let live_unique = if definition.deleted.is_some() {
            std::mem::take(&mut definition.unique)
        } else {
            BTreeMap::new()
        };
        self.sql
            .extend(create_table(dialect, &scratch, &definition, false));
        let copied: Vec<&ColumnSnapshot> = change
            .new
            .columns
            .iter()
            .filter(|column| change.old.column(&column.name).is_some())
            .collect();
        let mut insert = format!("INSERT INTO {} ", dialect.quote(&scratch));
        let targets: Vec<String> = copied.iter().map(|c| c.name.clone()).collect();
        push_column_list(dialect, &mut insert, &targets);
        insert.push_str(" SELECT ");
        for (i, column) in copied.iter().enumerate() {
            if i > 0 {
                insert.push_str(", ");
            }
            dialect.push_ident(&mut insert, old_column_name(change, &column.name));
        }
        insert.push_str(" FROM ");
        dialect.push_ident(&mut insert, change.old_name());
        self.sql.push(insert);
        self.sql
            .push(format!("DROP TABLE {}", dialect.quote(change.old_name())));
        self.alter(
            &scratch,
            format!("RENAME TO {}", dialect.quote(&change.name)),
        );
        for (name, columns) in &indexes {
            self.sql
                .push(create_index(dialect, &change.name, name, columns, false));
        }
        for (name, columns) in &live_unique {
            self.add_unique(&change.new, &change.name, name, columns);
        }
    }

    /// PostgreSQL names a column's `CHECK` after its table and column when it creates it and
    /// keeps that name through renames; renaming the check as well keeps it where a later
    /// change of the enum's values looks for it.
    fn rename_enum_checks(&mut self, change: &TableChange) {
        if self.dialect != Dialect::Postgres {
            return;
        }
        for column in &change.old.columns {
            let kept = change.new.column(&column.name).is_some();
            if !kept || !matches!(column.ty, ColumnKind::Enum(_)) {
                continue;
            }
            let from = enum_check(change.old_name(), old_column_name(change, &column.name));
            let to = enum_check(&change.name, &column.name);
            if from != to {
                self.rename_constraint(&change.name, &from, &to);
            }
        }
    }

    fn rename_constraint(&mut self, table: &str, from: &str, to: &str) {
        let (from, to) = (self.dialect.quote(from), self.dialect.quote(to));
        self.alter(table, format!("RENAME CONSTRAINT {from} TO {to}"));
    }

    fn rename_index(&mut self, table: &str, from: &str, to: &str) {
        let (from, to) = (self.dialect.quote(from), self.dialect.quote(to));
        self.alter(table, format!("RENAME INDEX {from} TO {to}"));
    }

    /// Drops a foreign key; on MySQL also the index created with it.
    fn drop_foreign_key(&mut self, table: &str, name: &str) {
        let quoted = self.dialect.quote(name);
        match self.dialect {
            Dialect::MySql => {
                self.alter(table, format!("DROP FOREIGN KEY {quoted}"));
                self.sql.push(drop_index(self.dialect, table, name));
            }
            _ => self.alter(table, format!("DROP CONSTRAINT {quoted}")),
        }
    }

    /// Adds a foreign key; MySQL gets an index of the same name first, so that the index it
    /// would otherwise create (and may silently drop later) is one the migrations know.
    fn add_foreign_key(&mut self, table: &str, name: &str, columns: &[String], clause: &str) {
        if self.dialect == Dialect::MySql {
            self.sql
                .push(create_index(self.dialect, table, name, columns, false));
        }
        self.alter(table, format!("ADD {clause}"));
    }
}

/// The name PostgreSQL gives the `CHECK` of an enum column.
fn enum_check(table: &str, column: &str) -> String {
    format!("{table}_{column}_check")
}

/// The name a column of the new table had in the old one.
fn old_column_name<'a>(change: &'a TableChange, name: &'a str) -> &'a str {
    change
        .column_renames
        .iter()
        .find(|(_, to)| to == name)
        .map_or(name, |(from, _)| from.as_str())
}
