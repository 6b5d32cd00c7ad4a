//! The repository operations on the in-memory store, with the SQL implementation's semantics
//! (see `operations.rs`): the entity's own binds and row mapper move values in and out, so
//! conversions, validation and decoding are the ones the SQL backends run.

use std::collections::BTreeSet;

use super::table::{Row, State, TableData};
use super::value::Value;
use super::{Handle, violation};
use crate::entity::{Entity, RowSource};
use crate::error::RepoError;
use crate::statement::Statement;
use crate::value::{Decodable, ServerDecode};

/// A stored row as the mapper of an entity reads it: its columns picked by position.
pub(crate) struct MemoryRow<'a> {
    pub(crate) row: &'a [Value],
    /// For each column of the entity, its position in the stored row.
    pub(crate) columns: &'a [usize],
}

impl MemoryRow<'_> {
    fn value(&self, index: usize) -> &Value {
        self.columns
            .get(index)
            .and_then(|&position| self.row.get(position))
            .unwrap_or(&Value::Null)
    }
}

impl RowSource for MemoryRow<'_> {
    fn get<T: Decodable>(&self, index: usize, column: &'static str) -> Result<T, RepoError> {
        T::from_memory(self.value(index)).map_err(|source| RepoError::Decode {
            entity: crate::error::NO_ENTITY,
            column,
            rust_type: std::any::type_name::<T>(),
            source,
        })
    }

    fn is_null(&self, index: usize, _column: &'static str) -> Result<bool, RepoError> {
        Ok(self.value(index).is_null())
    }

    fn get_text_on_sqlite<T>(&self, index: usize, column: &'static str) -> Result<T, RepoError>
    where
        T: ServerDecode + std::str::FromStr,
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        T::from_memory(self.value(index)).map_err(|source| RepoError::Decode {
            entity: crate::error::NO_ENTITY,
            column,
            rust_type: std::any::type_name::<T>(),
            source,
        })
    }
}

/// The values `bind` binds, in order; a value that fails to convert fails here, as the
/// statement would.
pub(crate) fn bound<E: Entity>(bind: impl FnOnce(&mut Statement)) -> Result<Vec<Value>, RepoError> {
    let mut statement = Statement::memory("bind");
    bind(&mut statement);
    Ok(statement.into_memory(E::TABLE)?.values)
}

/// The table `E` is stored in.
pub(crate) fn table_of<E: Entity>(state: &State) -> Result<&TableData, RepoError> {
    state
        .table(E::TABLE_NAME)
        .ok_or_else(|| RepoError::Database {
            entity: E::NAME,
            code: None,
            source: violation(format!("no such table: {}", E::TABLE_NAME)),
        })
}

/// For each column of `E`, its position in the stored table.
pub(crate) fn projection<E: Entity>(table: &TableData) -> Result<Vec<usize>, RepoError> {
    E::TABLE
        .columns
        .iter()
        .map(|column| {
            table
                .position(column.name)
                .ok_or_else(|| RepoError::Database {
                    entity: E::NAME,
                    code: None,
                    source: violation(format!("no such column: {}", column.name)),
                })
        })
        .collect()
}

pub(crate) fn decode<E: Entity>(row: &[Value], columns: &[usize]) -> Result<E, RepoError> {
    E::decode(&MemoryRow { row, columns }).map_err(|error| error.in_entity(E::NAME))
}

/// `values` of `E`'s columns written over `row`.
fn scatter(mut row: Row, columns: &[usize], values: Vec<Value>) -> Row {
    for (value, &position) in values.into_iter().zip(columns) {
        row[position] = value;
    }
    row
}

/// The stored key of the row with `E`'s key `id`.
fn key_of<E: Entity>(table: &TableData, id: &E::Id) -> Result<Vec<Value>, RepoError> {
    let values = bound::<E>(|statement| E::bind_id(id, statement))?;
    let mut row = vec![Value::Null; table.def.columns.len()];
    for (value, name) in values.into_iter().zip(E::KEY_COLUMNS) {
        if let Some(position) = table.position(name) {
            row[position] = value;
        }
    }
    Ok(table.key_of(&row))
}

fn read_row<E: Entity>(state: &State, id: &E::Id) -> Result<Option<E>, RepoError> {
    let Some(table) = state.table(E::TABLE_NAME) else {
        return Ok(None);
    };
    let columns = projection::<E>(table)?;
    match table.rows.get(&key_of::<E>(table, id)?) {
        Some(row) => decode::<E>(row, &columns).map(Some),
        None => Ok(None),
    }
}

pub(crate) async fn find<E: Entity>(
    memory: &Handle<'_>,
    id: &E::Id,
) -> Result<Option<E>, RepoError> {
    memory
        .read(
            E::TABLE,
            "find",
            |state| read_row::<E>(state, id),
            |row| u64::from(row.is_some()),
        )
        .await
}

pub(crate) async fn exists<E: Entity>(memory: &Handle<'_>, id: &E::Id) -> Result<bool, RepoError> {
    let read = |state: &State| match state.table(E::TABLE_NAME) {
        Some(table) => Ok(table.rows.contains_key(&key_of::<E>(table, id)?)),
        None => Ok(false),
    };
    memory
        .read(E::TABLE, "exists", read, |found| u64::from(*found))
        .await
}

pub(crate) async fn count<E: Entity>(memory: &Handle<'_>) -> Result<u64, RepoError> {
    let read = |state: &State| {
        Ok(state
            .table(E::TABLE_NAME)
            .map_or(0, |t| t.rows.len() as u64))
    };
    memory.read(E::TABLE, "count", read, |_| 1).await
}

pub(crate) async fn get_many<E: Entity>(
    memory: &Handle<'_>,
    ids: &[E::Id],
) -> Result<Vec<E>, RepoError> {
    let read = |state: &State| {
        let mut seen = BTreeSet::new();
        let mut found = Vec::new();
        for id in ids {
            if seen.insert(id.clone())
                && let Some(entity) = read_row::<E>(state, id)?
            {
                found.push(entity);
            }
        }
        Ok(found)
    };
    memory
        .read(E::TABLE, "get_many", read, |rows| rows.len() as u64)
        .await
}

/// Stores a row of `E` made from `values`, over `base` (the row it replaces, or nothing);
/// checked against the table's constraints and foreign keys first.
fn store<E: Entity>(
    state: &mut State,
    values: Vec<Value>,
    base: Option<Row>,
) -> Result<Row, RepoError> {
    let table = table_of::<E>(state)?;
    let columns = projection::<E>(table)?;
    let replacing = base.as_ref().map(|row| table.key_of(row));
    let base = base.unwrap_or_else(|| vec![Value::Null; table.def.columns.len()]);
    let row = scatter(base, &columns, values);
    table.check(E::NAME, &row, replacing.as_deref())?;
    state.check_references(E::NAME, table, &row)?;
    state.table_mut(E::TABLE).put(row.clone());
    Ok(row)
}

fn insert_into<E: Entity>(state: &mut State, new: E::New) -> Result<E, RepoError> {
    let key = state.table_mut(E::TABLE).next_key();
    let entity = E::from_new(new, key)?;
    let values = bound::<E>(|statement| entity.bind_all(statement))?;
    store::<E>(state, values, None)?;
    Ok(entity)
}

pub(crate) async fn insert<E: Entity>(memory: &Handle<'_>, new: E::New) -> Result<E, RepoError> {
    memory
        .write(
            E::TABLE,
            "insert",
            |state| insert_into::<E>(state, new),
            |_| 1,
        )
        .await
}

pub(crate) async fn insert_many<E: Entity>(
    memory: &Handle<'_>,
    news: Vec<E::New>,
) -> Result<Vec<E>, RepoError> {
    if news.is_empty() {
        return Ok(Vec::new());
    }
    let write = |state: &mut State| {
        // All or nothing: the rows go into a copy that replaces the tables once all fit.
        let mut scratch = state.clone();
        let stored = news
            .into_iter()
            .map(|new| insert_into::<E>(&mut scratch, new))
            .collect::<Result<Vec<E>, RepoError>>()?;
        *state = scratch;
        Ok(stored)
    };
    memory
        .write(E::TABLE, "insert_many", write, |rows| rows.len() as u64)
        .await
}

/// Writes `entity` over the stored row with its key: `None` when there is none.
fn overwrite<E: Entity>(state: &mut State, entity: &E) -> Result<Option<E>, RepoError> {
    state.table_mut(E::TABLE);
    let table = table_of::<E>(state)?;
    let Some(existing) = table.rows.get(&key_of::<E>(table, &entity.id())?).cloned() else {
        return Ok(None);
    };
    let columns = projection::<E>(table)?;
    let values = bound::<E>(|statement| entity.bind_all(statement))?;
    let row = store::<E>(state, values, Some(existing))?;
    decode::<E>(&row, &columns).map(Some)
}

pub(crate) async fn update<E: Entity>(memory: &Handle<'_>, entity: &E) -> Result<E, RepoError> {
    let write = |state: &mut State| {
        overwrite::<E>(state, entity)?.ok_or(RepoError::NotFound { entity: E::NAME })
    };
    memory.write(E::TABLE, "update", write, |_| 1).await
}

pub(crate) async fn upsert<E: Entity>(memory: &Handle<'_>, entity: &E) -> Result<E, RepoError> {
    let write = |state: &mut State| {
        if let Some(stored) = overwrite::<E>(state, entity)? {
            return Ok(stored);
        }
        let values = bound::<E>(|statement| entity.bind_all(statement))?;
        let row = store::<E>(state, values, None)?;
        decode::<E>(&row, &projection::<E>(table_of::<E>(state)?)?)
    };
    memory.write(E::TABLE, "upsert", write, |_| 1).await
}

pub(crate) async fn delete<E: Entity>(memory: &Handle<'_>, id: &E::Id) -> Result<bool, RepoError> {
    let write = |state: &mut State| {
        let Some(table) = state.table(E::TABLE_NAME) else {
            return Ok(false);
        };
        let key = key_of::<E>(table, id)?;
        Ok(state.delete(E::NAME, E::TABLE_NAME, vec![key])? > 0)
    };
    memory
        .write(E::TABLE, "delete", write, |deleted| u64::from(*deleted))
        .await
}
