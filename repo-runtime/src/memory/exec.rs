//! The in-memory store as a backend: the executor sends it every statement of a
//! `Db::memory()` (through `Store::run`, or `Session::run` in a transaction), and it runs the
//! statement's [`Shape`] over the tables with the values the statement bound, as the
//! statement's SQL would run on SQLite. Nothing here knows an
//! entity's type: rows come back as values, which the entity decodes as it decodes a
//! driver's rows.

use std::collections::BTreeSet;

use repo_sql::{OnConflict, Plan, PlanAction};

use super::plan::{Query, resolve, resolve_condition, resolve_filtered, select};
use super::table::{Row, State, TableData};
use super::violation;
use crate::entity::RowSource;
use crate::error::RepoError;
use crate::memory_value::{MemoryDecode, Value};
use crate::schema::Table;
use crate::statement::{MemoryStatement, Outcome, PatchShape, Shape};
use crate::value::{Decodable, ServerDecode};

/// A row as the store returns it: the values of the statement's table's columns, in order.
pub(crate) struct MemoryRecord(Vec<Value>);

impl MemoryRecord {
    pub(super) fn new(values: Vec<Value>) -> MemoryRecord {
        MemoryRecord(values)
    }

    fn value(&self, index: usize) -> &Value {
        self.0.get(index).unwrap_or(&Value::Null)
    }

    fn decode<T: MemoryDecode>(&self, index: usize, column: &'static str) -> Result<T, RepoError> {
        T::from_memory(self.value(index)).map_err(|source| RepoError::Decode {
            entity: crate::error::NO_ENTITY,
            column,
            rust_type: std::any::type_name::<T>(),
            source,
        })
    }
}

impl RowSource for MemoryRecord {
    fn get<T: Decodable>(&self, index: usize, column: &'static str) -> Result<T, RepoError> {
        self.decode(index, column)
    }

    fn is_null(&self, index: usize, _column: &'static str) -> Result<bool, RepoError> {
        Ok(self.value(index).is_null())
    }

    fn get_text_on_sqlite<T>(&self, index: usize, column: &'static str) -> Result<T, RepoError>
    where
        T: ServerDecode + std::str::FromStr,
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        self.decode(index, column)
    }
}

/// What running a statement gave: its rows and its outcome.
pub(crate) type Ran = (Vec<MemoryRecord>, Outcome);

fn affected(rows_affected: u64) -> Outcome {
    Outcome {
        rows_affected,
        last_insert_id: 0,
    }
}

/// Whether the statement writes: it runs under the write lock.
pub(super) fn writes(shape: &Shape) -> bool {
    match shape {
        Shape::Plan(plan) => plan.action == PlanAction::Delete,
        Shape::ByKey(action) => *action == PlanAction::Delete,
        Shape::Filtered(filtered) => filtered.action == PlanAction::Delete,
        Shape::Insert { .. }
        | Shape::InsertAll
        | Shape::Update
        | Shape::Upsert
        | Shape::Conditional { .. }
        | Shape::Patch(_) => true,
        Shape::Sql | Shape::ByKeys | Shape::Count | Shape::Projected(_) | Shape::Linked(_) => false,
    }
}

/// For each column of `table`, its position in the stored table.
fn projection(table: &'static Table, data: &TableData) -> Result<Vec<usize>, RepoError> {
    table
        .columns
        .iter()
        .map(|column| {
            data.position(column.name)
                .ok_or_else(|| no_such(table, "column", column.name))
        })
        .collect()
}

fn no_such(table: &'static Table, what: &str, name: &str) -> RepoError {
    RepoError::Database {
        entity: table.entity,
        code: None,
        source: violation(format!("no such {what}: {name}")),
    }
}

fn project(row: &[Value], columns: &[usize]) -> MemoryRecord {
    MemoryRecord(columns.iter().map(|&i| row[i].clone()).collect())
}

fn number(n: usize) -> MemoryRecord {
    MemoryRecord(vec![Value::Int(i64::try_from(n).unwrap_or(i64::MAX))])
}

/// The stored key of the row whose key columns take `values`, in the primary key's order.
fn stored_key(data: &TableData, table: &'static Table, values: &[Value]) -> Vec<Value> {
    let mut row = vec![Value::Null; data.def.columns.len()];
    for (value, name) in values.iter().zip(table.primary_key.columns) {
        if let Some(position) = data.position(name) {
            row[position] = value.clone();
        }
    }
    data.key_of(&row)
}

fn sql_only(table: &'static Table, operation: &'static str) -> RepoError {
    RepoError::config(format!(
        "`{operation}` of {} is written in SQL and cannot run on the in-memory store",
        table.entity
    ))
}

pub(super) fn read(
    state: &State,
    table: &'static Table,
    statement: MemoryStatement,
) -> Result<Ran, RepoError> {
    let MemoryStatement {
        operation,
        shape,
        values,
        lists,
        scoped,
    } = statement;
    let Some(data) = state.table(table.name) else {
        // What a read of a table nobody wrote to finds.
        let rows = match shape {
            Shape::Count => vec![number(0)],
            Shape::Plan(Plan {
                action: PlanAction::Count,
                ..
            }) => vec![number(0)],
            Shape::Filtered(filtered) if filtered.action == PlanAction::Count => vec![number(0)],
            Shape::Projected(projected) => {
                super::aggregate::projected(table.entity, &projected, state, None, values)?
            }
            Shape::Sql => return Err(sql_only(table, operation)),
            _ => Vec::new(),
        };
        return Ok((rows, affected(0)));
    };
    let columns = projection(table, data)?;
    let rows = match shape {
        Shape::Sql => return Err(sql_only(table, operation)),
        Shape::Plan(plan) => {
            let query = resolve(table.entity, plan, data, values, &lists, scoped)?;
            selected(plan.action, select(&query, data), &columns)
        }
        Shape::Filtered(filtered) => {
            let query = resolve_filtered(table.entity, &filtered, state, data, values)?;
            selected(filtered.action, select(&query, data), &columns)
        }
        Shape::Projected(projected) => {
            super::aggregate::projected(table.entity, &projected, state, Some(data), values)?
        }
        // The text reads only a row that lives, of the tenant bound after the key, as the
        // plan it was rendered from has it.
        Shape::ByKey(_) => {
            let (key, tenant) = key_and_tenant(table, &values);
            data.rows
                .get(&stored_key(data, table, key))
                .filter(|row| data.lives(row) && of_tenant(data, row, tenant))
                .map(|row| project(row, &columns))
                .into_iter()
                .collect()
        }
        Shape::ByKeys => {
            let width = table.primary_key.columns.len().max(1);
            let mut seen = BTreeSet::new();
            let mut found = Vec::new();
            for key in values.chunks(width) {
                let key = stored_key(data, table, key);
                if let Some(row) = data.rows.get(&key)
                    && seen.insert(key)
                {
                    found.push(project(row, &columns));
                }
            }
            found
        }
        Shape::Linked(linked) => {
            super::linked::linked_rows(table, &linked, state, data, values, &columns)?
        }
        Shape::Count => vec![number(
            data.rows
                .values()
                .filter(|row| data.lives(row) && of_tenant(data, row, values.first()))
                .count(),
        )],
        Shape::Insert { .. }
        | Shape::InsertAll
        | Shape::Update
        | Shape::Upsert
        | Shape::Conditional { .. }
        | Shape::Patch(_) => {
            return Err(RepoError::config(format!(
                "`{operation}` of {} writes and was run as a read",
                table.entity
            )));
        }
    };
    Ok((rows, affected(0)))
}

/// The rows a stream reads: a select of a filter's rows, one at a time from a snapshot of the
/// tables. In key order (a listing's default) nothing is gathered; in another order the
/// selected keys are, to sort them, not the rows.
pub(crate) struct Streamed {
    state: std::sync::Arc<State>,
    table: &'static Table,
    columns: Vec<usize>,
    query: Query,
    /// The keys in the query's order, when it is not the key's.
    sorted: Option<std::vec::IntoIter<Vec<Value>>>,
    /// The last key read in key order.
    after: Option<Vec<Value>>,
    skip: usize,
    left: usize,
}

impl Streamed {
    /// The rows of a select of a filter's rows from `state`; `None` when nobody wrote to the
    /// table.
    pub(crate) fn start(
        state: std::sync::Arc<State>,
        table: &'static Table,
        statement: MemoryStatement,
    ) -> Result<Option<Streamed>, RepoError> {
        let filtered = match &statement.shape {
            Shape::Filtered(filtered) if filtered.action == PlanAction::Select => filtered,
            _ => {
                return Err(RepoError::config(format!(
                    "`{}` of {} is not a select of a filter's rows",
                    statement.operation, table.entity
                )));
            }
        };
        let Some(data) = state.table(table.name) else {
            return Ok(None);
        };
        let columns = projection(table, data)?;
        let query = resolve_filtered(table.entity, filtered, &state, data, statement.values)?;
        let (skip, left) = query.page();
        let sorted = if query.in_key_order(data) {
            None
        } else {
            let keys: Vec<Vec<Value>> = select(&query, data)
                .into_iter()
                .map(|(key, _)| key.clone())
                .collect();
            Some(keys.into_iter())
        };
        // Sorted keys come paged already (`select` applies the page).
        let (skip, left) = if sorted.is_some() {
            (0, usize::MAX)
        } else {
            (skip, left)
        };
        Ok(Some(Streamed {
            state: std::sync::Arc::clone(&state),
            table,
            columns,
            query,
            sorted,
            after: None,
            skip,
            left,
        }))
    }
}

impl Iterator for Streamed {
    type Item = MemoryRecord;

    fn next(&mut self) -> Option<MemoryRecord> {
        let data = self.state.table(self.table.name)?;
        if let Some(keys) = &mut self.sorted {
            let key = keys.next()?;
            return data.rows.get(&key).map(|row| project(row, &self.columns));
        }
        while self.left > 0 {
            let next = match &self.after {
                None => data.rows.iter().next(),
                Some(after) => data
                    .rows
                    .range::<Vec<Value>, _>((
                        std::ops::Bound::Excluded(after),
                        std::ops::Bound::Unbounded,
                    ))
                    .next(),
            };
            let (key, row) = next?;
            self.after = Some(key.clone());
            if !self.query.selects(row) {
                continue;
            }
            if self.skip > 0 {
                self.skip -= 1;
                continue;
            }
            self.left -= 1;
            return Some(project(row, &self.columns));
        }
        None
    }
}

/// The selected rows as `action` returns them: projected, counted, or one when there is any.
fn selected(
    action: PlanAction,
    selected: Vec<(&Vec<Value>, &Row)>,
    columns: &[usize],
) -> Vec<MemoryRecord> {
    match action {
        PlanAction::Select => selected
            .into_iter()
            .map(|(_, row)| project(row, columns))
            .collect(),
        PlanAction::Count => vec![number(selected.len())],
        PlanAction::Exists => selected.first().map(|_| number(1)).into_iter().collect(),
        PlanAction::Delete => Vec::new(),
    }
}

/// Runs a write. Everything is checked before anything changes: a failed write leaves the
/// tables as they were.
pub(super) fn write(
    state: &mut State,
    table: &'static Table,
    statement: MemoryStatement,
) -> Result<Ran, RepoError> {
    let MemoryStatement {
        operation,
        shape,
        values,
        lists,
        scoped,
    } = statement;
    state.table_mut(table);
    let data = state
        .table(table.name)
        .ok_or_else(|| no_such(table, "table", table.name))?;
    let columns = projection(table, data)?;
    match shape {
        Shape::Plan(plan) => {
            let query = resolve(table.entity, plan, data, values, &lists, scoped)?;
            delete_selected(state, table, &query)
        }
        Shape::Filtered(filtered) => {
            let query = resolve_filtered(table.entity, &filtered, state, data, values)?;
            delete_selected(state, table, &query)
        }
        Shape::ByKey(_) => {
            let (key, tenant) = key_and_tenant(table, &values);
            let key = stored_key(data, table, key);
            if !data
                .rows
                .get(&key)
                .is_some_and(|row| of_tenant(data, row, tenant))
            {
                return Ok((Vec::new(), affected(0)));
            }
            let deleted = state.delete(table.entity, table.name, vec![key])?;
            Ok((Vec::new(), affected(deleted)))
        }
        Shape::Insert { rows } => insert(state, table, &columns, values, rows, None),
        Shape::Conditional { rows, key, action } => {
            insert(state, table, &columns, values, rows, Some((key, action)))
        }
        Shape::InsertAll => {
            let row = scatter(data, &columns, None, values.into_iter().map(Some));
            store(state, table, row, None)?;
            Ok((Vec::new(), affected(1)))
        }
        Shape::Update => {
            let mut values = values;
            let (version, expected) = read_version(table, data, &mut values)?;
            // The tenant the row must belong to comes after the key, before the version.
            let tenant = match table.tenant_column() {
                Some(_) => values.pop(),
                None => None,
            };
            let width = table.primary_key.columns.len();
            let key = stored_key(data, table, &values[values.len().saturating_sub(width)..]);
            let Some(existing) = data.rows.get(&key).cloned() else {
                return Ok((Vec::new(), affected(0)));
            };
            if !writes_into(data, &existing, version, expected.as_ref())
                || !of_tenant(data, &existing, tenant.as_ref())
            {
                return Ok((Vec::new(), affected(0)));
            }
            // The bound values are the columns an update writes, in order.
            let mut outside = values.into_iter();
            let written = table.columns.iter().map(|column| {
                if table.primary_key.columns.contains(&column.name) || !column.written_by_update() {
                    None
                } else {
                    outside.next()
                }
            });
            let mut row = scatter(
                data,
                &columns,
                Some(existing.clone()),
                written.collect::<Vec<_>>(),
            );
            move_version_on(&mut row, &existing, version);
            let row = store(state, table, row, Some(key))?;
            Ok((vec![project(&row, &columns)], affected(1)))
        }
        Shape::Upsert => {
            let mut values = values;
            let (version, expected) = read_version(table, data, &mut values)?;
            let row = scatter(data, &columns, None, values.into_iter().map(Some));
            let key = data.key_of(&row);
            let Some(stored) = data.rows.get(&key).cloned() else {
                let row = store(state, table, row, None)?;
                return Ok((vec![project(&row, &columns)], affected(1)));
            };
            // A stored row at another version, deleted, or another tenant's, is left alone,
            // and none returned.
            if !writes_into(data, &stored, version, expected.as_ref())
                || !same_tenant(data, &stored, &row)
            {
                return Ok((Vec::new(), affected(0)));
            }
            let mut updated = stored.clone();
            for (column, &position) in table.columns.iter().zip(&columns) {
                if column.written_by_update() {
                    updated[position] = row[position].clone();
                }
            }
            move_version_on(&mut updated, &stored, version);
            let row = store(state, table, updated, Some(key))?;
            Ok((vec![project(&row, &columns)], affected(1)))
        }
        Shape::Patch(patch) => {
            let PatchShape { set, condition } = *patch;
            let mut values = values;
            let condition_values = values.split_off(set.len().min(values.len()));
            let query = resolve_condition(table.entity, &condition, state, data, condition_values)?;
            let positions = set
                .iter()
                .map(|column| {
                    data.position(column)
                        .ok_or_else(|| no_such(table, "column", column))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let selected: Vec<(Vec<Value>, Row)> = select(&query, data)
                .into_iter()
                .map(|(key, row)| (key.clone(), row.clone()))
                .collect();
            // Every row written or none: in place, undone on failure, as an insert is.
            let version = version_position(table, data)?;
            let mut undo = Undo::new(state, table)?;
            let mut written = Vec::with_capacity(selected.len());
            for (key, stored) in selected {
                let mut row = stored.clone();
                for (&position, value) in positions.iter().zip(&values) {
                    row[position] = value.clone();
                }
                move_version_on(&mut row, &stored, version);
                match store(state, table, row, Some(key.clone())) {
                    Ok(row) => written.push(project(&row, &columns)),
                    Err(error) => {
                        undo.apply(state, table);
                        return Err(error);
                    }
                }
                undo.replaced(key, stored);
            }
            let count = written.len() as u64;
            Ok((written, affected(count)))
        }
        Shape::Sql => Err(sql_only(table, operation)),
        Shape::ByKeys | Shape::Count | Shape::Projected(_) | Shape::Linked(_) => {
            Err(RepoError::config(format!(
                "`{operation}` of {} reads and was run as a write",
                table.entity
            )))
        }
    }
}

/// Deletes the rows `query` selects, with what their foreign keys say.
fn delete_selected(
    state: &mut State,
    table: &'static Table,
    query: &Query,
) -> Result<Ran, RepoError> {
    let data = state
        .table(table.name)
        .ok_or_else(|| no_such(table, "table", table.name))?;
    let keys = select(query, data)
        .into_iter()
        .map(|(key, _)| key.clone())
        .collect();
    let deleted = state.delete(table.entity, table.name, keys)?;
    Ok((Vec::new(), affected(deleted)))
}

/// What an insert does with a row conflicting on a unique key (`None`: the primary key).
type Conflict = Option<(Option<usize>, OnConflict)>;

/// `rows` new rows, each of `table`'s columns but a generated key, whose value the store
/// assigns; the last one assigned is the outcome's last insert id. With a `conflict`, a row
/// whose unique key holds a stored row's values is skipped or written into that row, and the
/// rows written are returned. All rows or none.
fn insert(
    state: &mut State,
    table: &'static Table,
    columns: &[usize],
    values: Vec<Value>,
    rows: usize,
    conflict: Conflict,
) -> Result<Ran, RepoError> {
    let width = table.inserted_columns().count();
    if values.len() != width * rows {
        return Err(RepoError::invalid_input(
            table.entity,
            format!(
                "{} values bound for {rows} rows of {width} columns",
                values.len()
            ),
        ));
    }
    // Written in place, undone on failure: a copy of the table per statement would make a
    // large batch cost the square of the table's size.
    let mut undo = Undo::new(state, table)?;
    let result = insert_rows(state, table, columns, values, rows, conflict, &mut undo);
    if result.is_err() {
        undo.apply(state, table);
    }
    result
}

#[allow(clippy::too_many_arguments)]
fn insert_rows(
    state: &mut State,
    table: &'static Table,
    columns: &[usize],
    values: Vec<Value>,
    rows: usize,
    conflict: Conflict,
    undo: &mut Undo,
) -> Result<Ran, RepoError> {
    let mut last_insert_id = 0;
    let mut values = values.into_iter();
    let mut written = Vec::new();
    for _ in 0..rows {
        let data = state
            .table(table.name)
            .ok_or_else(|| no_such(table, "table", table.name))?;
        let key = data.next_key();
        let mut generated = false;
        let row_values = table.columns.iter().map(|column| {
            if column.generated {
                generated = true;
                Some(Value::Int(key))
            } else {
                values.next()
            }
        });
        let row = scatter(data, columns, None, row_values.collect::<Vec<_>>());
        let held = conflict.and_then(|(unique, action)| {
            let (stored_key, stored) = data.holder(&row, unique)?;
            Some((stored_key.clone(), stored.clone(), action))
        });
        let stored = match held {
            Some((_, _, OnConflict::Ignore)) => continue,
            // A deleted row holding the primary key is left alone, as the text has it, and so
            // is another tenant's.
            Some((_, stored, OnConflict::Update))
                if !data.lives(&stored) || !same_tenant(data, &stored, &row) =>
            {
                continue;
            }
            Some((stored_key, stored, OnConflict::Update)) => {
                let assigned = assigned_on_conflict(table, conflict.and_then(|(key, _)| key));
                let mut updated = stored.clone();
                for name in assigned {
                    if let Some(position) = data.position(name) {
                        updated[position] = row[position].clone();
                    }
                }
                move_version_on(&mut updated, &stored, version_position(table, data)?);
                let written = store(state, table, updated, Some(stored_key.clone()))?;
                undo.replaced(stored_key, stored);
                written
            }
            None => {
                if generated {
                    last_insert_id = key;
                }
                let written = store(state, table, row, None)?;
                undo.inserted(data_key(state, table, &written));
                written
            }
        };
        if conflict.is_some() {
            written.push(project(&stored, columns));
        }
    }
    let rows_affected = if conflict.is_some() {
        written.len() as u64
    } else {
        rows as u64
    };
    Ok((
        written,
        Outcome {
            rows_affected,
            last_insert_id,
        },
    ))
}

/// The key of a row stored in `table`.
fn data_key(state: &State, table: &'static Table, row: &[Value]) -> Vec<Value> {
    state
        .table(table.name)
        .map(|data| data.key_of(row))
        .unwrap_or_default()
}

/// What undoes a statement's writes to one table: the rows it inserted, those it replaced,
/// and the next generated key as it was.
struct Undo {
    next_key: i64,
    inserted: Vec<Vec<Value>>,
    replaced: Vec<(Vec<Value>, Row)>,
}

impl Undo {
    fn new(state: &State, table: &'static Table) -> Result<Undo, RepoError> {
        let data = state
            .table(table.name)
            .ok_or_else(|| no_such(table, "table", table.name))?;
        Ok(Undo {
            next_key: data.next_key(),
            inserted: Vec::new(),
            replaced: Vec::new(),
        })
    }

    fn inserted(&mut self, key: Vec<Value>) {
        self.inserted.push(key);
    }

    fn replaced(&mut self, key: Vec<Value>, row: Row) {
        self.replaced.push((key, row));
    }

    /// Puts the table back as it was, latest write first.
    fn apply(self, state: &mut State, table: &'static Table) {
        let data = state.table_mut(table);
        for key in self.inserted.iter().rev() {
            data.remove(key);
        }
        for (key, row) in self.replaced.into_iter().rev() {
            data.remove(&key);
            data.put(row);
        }
        data.restore_next_key(self.next_key);
    }
}

/// The columns a row conflicting on the unique key `unique` writes into the stored one, as
/// `repo_sql::Insert::on_conflict` has them: the inserted ones outside that key and the primary
/// key that an update writes (none when every column is in them).
fn assigned_on_conflict(table: &'static Table, unique: Option<usize>) -> Vec<&'static str> {
    let constraint = unique.map_or(&table.primary_key, |index| &table.unique[index]);
    table
        .inserted_columns()
        .filter(|column| column.written_by_update())
        .map(|column| column.name)
        .filter(|name| {
            !constraint.columns.contains(name) && !table.primary_key.columns.contains(name)
        })
        .collect()
}

/// A by-key statement's values: the key, then, on a table with a tenant column, the tenant
/// its scope binds (none on an unscoped handle's).
fn key_and_tenant<'v>(
    table: &'static Table,
    values: &'v [Value],
) -> (&'v [Value], Option<&'v Value>) {
    let width = table.primary_key.columns.len().min(values.len());
    let (key, rest) = values.split_at(width);
    (key, rest.first())
}

/// Whether `row` belongs to `tenant`, when one is given (always, on a table without a tenant
/// column).
fn of_tenant(data: &TableData, row: &[Value], tenant: Option<&Value>) -> bool {
    match (tenant, data.def.tenant_column()) {
        (Some(tenant), Some(column)) => data
            .position(column.name)
            .is_some_and(|position| row[position] == *tenant),
        _ => true,
    }
}

/// Whether the stored row and the one written belong to one tenant: what an upsert's
/// `WHERE "t"."tenant" = excluded."tenant"` asks.
fn same_tenant(data: &TableData, stored: &[Value], written: &[Value]) -> bool {
    match data
        .def
        .tenant_column()
        .and_then(|column| data.position(column.name))
    {
        Some(position) => stored[position] == written[position],
        None => true,
    }
}

/// Where `table`'s version column (`#[repo(version)]`) is in its rows, if it has one.
fn version_position(table: &'static Table, data: &TableData) -> Result<Option<usize>, RepoError> {
    table
        .policy_column(repo_sql::Policy::Version)
        .map(|column| {
            data.position(column.name)
                .ok_or_else(|| no_such(table, "column", column.name))
        })
        .transpose()
}

/// The version column's position and the version a write read, which it binds last: taken
/// off `values`. `None`s for a table without a version.
fn read_version(
    table: &'static Table,
    data: &TableData,
    values: &mut Vec<Value>,
) -> Result<(Option<usize>, Option<Value>), RepoError> {
    let version = version_position(table, data)?;
    Ok((version, version.and_then(|_| values.pop())))
}

/// Whether a write that read `expected` writes into `stored`: a row that lives, at that
/// version (any, without a version).
fn writes_into(
    data: &TableData,
    stored: &[Value],
    version: Option<usize>,
    expected: Option<&Value>,
) -> bool {
    let at_version = match (version, expected) {
        (Some(position), Some(expected)) => stored[position] == *expected,
        _ => true,
    };
    at_version && data.lives(stored)
}

/// A write's version: one past the stored row's, as `"version" = "version" + 1` has it.
fn move_version_on(row: &mut [Value], stored: &[Value], version: Option<usize>) {
    if let Some(position) = version
        && let Value::Int(stored) = stored[position]
    {
        row[position] = Value::Int(stored.saturating_add(1));
    }
}

/// A stored row with `written` (one entry per column of `table`, `None` to keep) over `base`,
/// or over a row of `NULL`s.
fn scatter(
    data: &TableData,
    columns: &[usize],
    base: Option<Row>,
    written: impl IntoIterator<Item = Option<Value>>,
) -> Row {
    let mut row = base.unwrap_or_else(|| vec![Value::Null; data.def.columns.len()]);
    for (value, &position) in written.into_iter().zip(columns) {
        if let Some(value) = value {
            row[position] = value;
        }
    }
    row
}

/// Stores `row`, replacing the one with key `replacing`, once its constraints and foreign
/// keys hold.
fn store(
    state: &mut State,
    table: &'static Table,
    row: Row,
    replacing: Option<Vec<Value>>,
) -> Result<Row, RepoError> {
    let data = state
        .table(table.name)
        .ok_or_else(|| no_such(table, "table", table.name))?;
    data.check(table.entity, &row, replacing.as_deref())?;
    state.check_references(table.entity, data, &row)?;
    state.table_mut(table).put(row.clone());
    Ok(row)
}
