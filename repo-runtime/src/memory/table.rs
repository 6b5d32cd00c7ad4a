//! The in-memory tables: rows by primary key, an index per unique constraint, and the checks
//! a database makes on every write (keys, unique values, `NOT NULL`, foreign keys).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::violation;
use crate::error::RepoError;
use crate::memory_value::Value;
use crate::schema::{Constraint, OnDelete, Table};

/// Every table of one store, or of one transaction's copy of it. Cloning is cheap: tables are
/// shared until written.
#[derive(Clone, Default)]
pub(crate) struct State {
    tables: BTreeMap<&'static str, Arc<TableData>>,
}

/// A row: one value per column of its table's definition, in that order.
pub(crate) type Row = Vec<Value>;

/// One table: its definition (from the entity that created it) and its rows.
#[derive(Clone)]
pub(crate) struct TableData {
    pub(crate) def: &'static Table,
    /// Rows by primary key.
    pub(crate) rows: BTreeMap<Vec<Value>, Row>,
    /// Per unique constraint of `def`: the key of the row holding each value.
    unique: Vec<BTreeMap<Vec<Value>, Vec<Value>>>,
    key_columns: Vec<usize>,
    unique_columns: Vec<Vec<usize>>,
    /// The soft-delete column's position: its unique keys hold among the rows that live, a
    /// marked row is in no unique index (a partial index, as the databases have it).
    deleted: Option<usize>,
    /// The value the next generated key takes.
    next_key: i64,
}

fn positions(def: &Table, columns: &[&str]) -> Vec<usize> {
    columns
        .iter()
        .filter_map(|name| def.columns.iter().position(|c| c.name == *name))
        .collect()
}

fn project(row: &[Value], columns: &[usize]) -> Vec<Value> {
    columns.iter().map(|&i| row[i].clone()).collect()
}

impl TableData {
    fn new(def: &'static Table) -> TableData {
        TableData {
            def,
            rows: BTreeMap::new(),
            unique: vec![BTreeMap::new(); def.unique.len()],
            key_columns: positions(def, def.primary_key.columns),
            deleted: def
                .deleted_column()
                .and_then(|name| def.columns.iter().position(|c| c.name == name)),
            unique_columns: def
                .unique
                .iter()
                .map(|c| positions(def, c.columns))
                .collect(),
            next_key: 1,
        }
    }

    /// The primary key of `row`.
    pub(crate) fn key_of(&self, row: &[Value]) -> Vec<Value> {
        project(row, &self.key_columns)
    }

    /// The key the database would generate for the next row.
    pub(crate) fn next_key(&self) -> i64 {
        self.next_key
    }

    /// The positions of the primary key's columns.
    pub(crate) fn key_positions(&self) -> &[usize] {
        &self.key_columns
    }

    /// Sets the next generated key back, undoing a failed statement's inserts.
    pub(crate) fn restore_next_key(&mut self, next_key: i64) {
        self.next_key = next_key;
    }

    /// Whether `row` lives: no soft delete marked it.
    pub(crate) fn lives(&self, row: &[Value]) -> bool {
        self.deleted.is_none_or(|position| row[position].is_null())
    }

    /// The position of column `name` in this table's rows.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.def.columns.iter().position(|c| c.name == name)
    }

    /// The row whose primary key, or one of whose unique constraints, has exactly the values
    /// of `equal` (column position, value): `None` when no key is covered by `equal`.
    pub(crate) fn find_unique(
        &self,
        equal: &[(usize, &Value)],
    ) -> Option<Option<(&Vec<Value>, &Row)>> {
        let values_of = |columns: &[usize]| -> Option<Vec<Value>> {
            columns
                .iter()
                .map(|&column| {
                    equal
                        .iter()
                        .find(|(position, _)| *position == column)
                        .map(|(_, value)| (*value).clone())
                })
                .collect()
        };
        if let Some(key) = values_of(&self.key_columns) {
            return Some(self.rows.get_key_value(&key));
        }
        // A unique index of a table with soft delete holds the rows that live only, and a
        // read may ask for the deleted ones too.
        let unique = if self.deleted.is_some() {
            &[][..]
        } else {
            &self.unique[..]
        };
        for (columns, index) in self.unique_columns.iter().zip(unique) {
            if let Some(values) = values_of(columns) {
                return Some(
                    index
                        .get(&values)
                        .and_then(|key| self.rows.get_key_value(key)),
                );
            }
        }
        None
    }

    /// The stored row holding `row`'s values of the unique key `unique` (`None`: the primary
    /// key), if any: a key with a `NULL` is held by none, as SQL has it.
    pub(crate) fn holder(
        &self,
        row: &[Value],
        unique: Option<usize>,
    ) -> Option<(&Vec<Value>, &Row)> {
        match unique {
            None => self.rows.get_key_value(&self.key_of(row)),
            Some(index) => {
                let values = project(row, self.unique_columns.get(index)?);
                if values.iter().any(Value::is_null) {
                    return None;
                }
                let key = self.unique.get(index)?.get(&values)?;
                self.rows.get_key_value(key)
            }
        }
    }

    /// Refuses `row` where it breaks `NOT NULL`, the primary key or a unique constraint; a row
    /// replacing the one with key `replacing` does not conflict with it.
    pub(crate) fn check(
        &self,
        entity: &'static str,
        row: &[Value],
        replacing: Option<&[Value]>,
    ) -> Result<(), RepoError> {
        for (column, value) in self.def.columns.iter().zip(row) {
            if value.is_null() && !column.nullable {
                return Err(RepoError::NotNull {
                    entity,
                    column: Some(column.name.to_owned()),
                    source: violation(format!("NOT NULL constraint failed: {}", column.name)),
                });
            }
        }
        let key = self.key_of(row);
        if replacing != Some(key.as_slice()) && self.rows.contains_key(&key) {
            return Err(conflict(entity, &self.def.primary_key));
        }
        for ((constraint, columns), index) in self
            .def
            .unique
            .iter()
            .zip(&self.unique_columns)
            .zip(&self.unique)
        {
            if !self.lives(row) {
                break;
            }
            let values = project(row, columns);
            // NULLs are distinct from each other, as in SQL.
            if values.iter().any(Value::is_null) {
                continue;
            }
            if let Some(holder) = index.get(&values)
                && Some(holder.as_slice()) != replacing
            {
                return Err(conflict(entity, constraint));
            }
        }
        Ok(())
    }

    /// Stores `row` (checked), replacing the row with the same key.
    pub(crate) fn put(&mut self, row: Row) {
        let key = self.key_of(&row);
        self.remove(&key);
        let lives = self.lives(&row);
        for (columns, index) in self.unique_columns.iter().zip(&mut self.unique) {
            let values = project(&row, columns);
            if lives && !values.iter().any(Value::is_null) {
                index.insert(values, key.clone());
            }
        }
        if let Some(position) = self.def.columns.iter().position(|c| c.generated)
            && let Value::Int(value) = row[position]
        {
            self.next_key = self.next_key.max(value.saturating_add(1));
        }
        self.rows.insert(key, row);
    }

    /// Removes the row with `key`, returning it.
    pub(crate) fn remove(&mut self, key: &[Value]) -> Option<Row> {
        let row = self.rows.remove(key)?;
        for (columns, index) in self.unique_columns.iter().zip(&mut self.unique) {
            let values = project(&row, columns);
            // A marked row's values may be held by a row that lives.
            if index
                .get(&values)
                .is_some_and(|holder| holder.as_slice() == key)
            {
                index.remove(&values);
            }
        }
        Some(row)
    }
}

fn conflict(entity: &'static str, constraint: &Constraint) -> RepoError {
    RepoError::Conflict {
        entity,
        constraint: constraint.name.to_owned(),
        field: Some(constraint.fields),
        source: violation(format!("UNIQUE constraint failed: {}", constraint.name)),
    }
}

impl State {
    /// The table called `name`, if it was created.
    pub(crate) fn table(&self, name: &str) -> Option<&TableData> {
        self.tables.get(name).map(Arc::as_ref)
    }

    /// Creates `def`'s table, empty, unless it exists.
    pub(crate) fn create(&mut self, def: &'static Table) {
        self.tables
            .entry(def.name)
            .or_insert_with(|| Arc::new(TableData::new(def)));
    }

    /// Drops the table called `name`.
    pub(crate) fn drop_table(&mut self, name: &str) {
        self.tables.remove(name);
    }

    /// The table of `def` to write to, created empty on first use.
    pub(crate) fn table_mut(&mut self, def: &'static Table) -> &mut TableData {
        Arc::make_mut(
            self.tables
                .entry(def.name)
                .or_insert_with(|| Arc::new(TableData::new(def))),
        )
    }

    /// Refuses `row` of `table` when a foreign key of it names no existing row.
    pub(crate) fn check_references(
        &self,
        entity: &'static str,
        table: &TableData,
        row: &[Value],
    ) -> Result<(), RepoError> {
        for key in table.def.foreign_keys {
            let values = project(row, &positions(table.def, key.columns));
            if values.iter().any(Value::is_null) {
                continue;
            }
            let found = self.table(key.table).is_some_and(|referenced| {
                let columns = positions(referenced.def, key.references);
                if columns == referenced.key_columns {
                    referenced.rows.contains_key(&values)
                } else {
                    referenced
                        .rows
                        .values()
                        .any(|other| project(other, &columns) == values)
                }
            });
            if !found {
                return Err(RepoError::ForeignKey {
                    entity,
                    constraint: Some(key.name.to_owned()),
                    source: violation(format!("FOREIGN KEY constraint failed: {}", key.name)),
                });
            }
        }
        Ok(())
    }

    /// Deletes the rows of `table` with these keys, and what the foreign keys referring to
    /// them say: referring rows deleted (`CASCADE`), set to `NULL` (`SET NULL`), or the whole
    /// delete refused (`NO ACTION`, `RESTRICT`). Returns how many of `keys` were deleted.
    pub(crate) fn delete(
        &mut self,
        entity: &'static str,
        table: &'static str,
        keys: Vec<Vec<Value>>,
    ) -> Result<u64, RepoError> {
        let mut doomed: BTreeSet<(&'static str, Vec<Value>)> = BTreeSet::new();
        let mut nulled: Vec<(&'static str, Vec<Value>, Vec<usize>)> = Vec::new();
        let mut refused = Vec::new();
        let mut pending: Vec<(&'static str, Vec<Value>)> = keys
            .into_iter()
            .filter(|key| self.table(table).is_some_and(|t| t.rows.contains_key(key)))
            .map(|key| (table, key))
            .collect();
        let deleted = pending.len() as u64;
        while let Some((name, key)) = pending.pop() {
            if !doomed.insert((name, key.clone())) {
                continue;
            }
            let Some(row) = self.table(name).and_then(|t| t.rows.get(&key)) else {
                continue;
            };
            for referring in self.tables.values() {
                for fk in referring
                    .def
                    .foreign_keys
                    .iter()
                    .filter(|fk| fk.table == name)
                {
                    let Some(parent) = self.table(name) else {
                        continue;
                    };
                    let wanted = project(row, &positions(parent.def, fk.references));
                    let columns = positions(referring.def, fk.columns);
                    for (child_key, child) in &referring.rows {
                        if project(child, &columns) != wanted {
                            continue;
                        }
                        match fk.on_delete {
                            OnDelete::Cascade => {
                                pending.push((referring.def.name, child_key.clone()));
                            }
                            OnDelete::SetNull => {
                                nulled.push((
                                    referring.def.name,
                                    child_key.clone(),
                                    columns.clone(),
                                ));
                            }
                            OnDelete::NoAction | OnDelete::Restrict => {
                                refused.push((referring.def.name, child_key.clone(), fk.name));
                            }
                        }
                    }
                }
            }
        }
        // A referring row deleted by the same cascade no longer refers to anything.
        if let Some((_, _, constraint)) = refused
            .into_iter()
            .find(|(name, key, _)| !doomed.contains(&(*name, key.clone())))
        {
            return Err(RepoError::ForeignKey {
                entity,
                constraint: Some(constraint.to_owned()),
                source: violation(format!("FOREIGN KEY constraint failed: {constraint}")),
            });
        }
        for (name, key) in &doomed {
            if let Some(def) = self.table(name).map(|t| t.def) {
                self.table_mut(def).remove(key);
            }
        }
        for (name, key, columns) in nulled {
            if doomed.contains(&(name, key.clone())) {
                continue;
            }
            let Some(def) = self.table(name).map(|t| t.def) else {
                continue;
            };
            let data = self.table_mut(def);
            if let Some(mut row) = data.rows.get(&key).cloned() {
                for column in columns {
                    row[column] = Value::Null;
                }
                data.put(row);
            }
        }
        Ok(deleted)
    }
}
