//! The repository methods that do not depend on an entity's fields, written once and called by
//! the generated SQL repositories through their [`Entity`] impl.

use std::collections::BTreeMap;
use std::sync::Arc;

use repo_sql::{Dialect, Plan, PlanAction, PlanLimit};

use crate::db::MySqlBatchKeys;
use crate::entity::{ColumnName, Entity};
use crate::error::RepoError;
use crate::executor::Executor;
use crate::list::{ListOptions, Order};

/// Most rows one batch `INSERT` carries, under every backend's bind limit too: larger
/// statements stop paying off and strain MySQL's packet limit.
const MAX_ROWS_PER_STATEMENT: usize = 1_000;

/// Rows per PostgreSQL `UNNEST` batch: bounded only to keep each message moderate.
const UNNEST_ROWS_PER_STATEMENT: usize = 10_000;

fn rows_per_statement(dialect: Dialect, width: usize) -> usize {
    (dialect.bind_limit() / width.max(1)).clamp(1, MAX_ROWS_PER_STATEMENT)
}

/// The row with key `id`, or `None`.
pub(crate) async fn find<E: Entity>(
    executor: &Executor,
    id: &E::Id,
) -> Result<Option<E>, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::find::<E>(&memory, id).await;
    }
    let build = || {
        let mut statement = executor.statement("find", &E::SQL.select_by_id);
        E::bind_id(id, &mut statement);
        statement
    };
    executor
        .read_rows(E::TABLE, true, &build)
        .await?
        .first::<E>()
}

/// The row with key `id`, or [`RepoError::NotFound`].
pub(crate) async fn get<E: Entity>(executor: &Executor, id: &E::Id) -> Result<E, RepoError> {
    find::<E>(executor, id)
        .await?
        .ok_or(RepoError::NotFound { entity: E::NAME })
}

/// Whether a row with key `id` exists.
pub(crate) async fn exists<E: Entity>(executor: &Executor, id: &E::Id) -> Result<bool, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::exists::<E>(&memory, id).await;
    }
    let build = || {
        let mut statement = executor.statement("exists", &E::SQL.exists_by_id);
        E::bind_id(id, &mut statement);
        statement
    };
    Ok(executor.read_rows(E::TABLE, true, &build).await?.len() > 0)
}

/// The number of rows.
pub(crate) async fn count<E: Entity>(executor: &Executor) -> Result<u64, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::count::<E>(&memory).await;
    }
    let build = || executor.statement("count", &E::SQL.count);
    let rows = executor.read_rows(E::TABLE, true, &build).await?;
    let count = rows
        .integers("count")
        .map_err(|error| error.in_entity(E::NAME))?;
    Ok(count
        .first()
        .map_or(0, |count| u64::try_from(*count).unwrap_or(0)))
}

/// The rows whose keys are in `ids`, in the order of `ids`; absent keys are skipped and a
/// repeated key yields its row once. One statement per chunk under the bind limit.
pub(crate) async fn get_many<E: Entity>(
    executor: &Executor,
    ids: &[E::Id],
) -> Result<Vec<E>, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::get_many::<E>(&memory, ids).await;
    }
    let mut position: BTreeMap<E::Id, usize> = BTreeMap::new();
    for id in ids {
        let next = position.len();
        position.entry(id.clone()).or_insert(next);
    }
    let unique: Vec<&E::Id> = {
        let mut by_position: Vec<(&E::Id, &usize)> = position.iter().collect();
        by_position.sort_by_key(|(_, index)| **index);
        by_position.into_iter().map(|(id, _)| id).collect()
    };
    let dialect = executor.dialect();
    let width = E::KEY_COLUMNS.len();
    let mut found = Vec::with_capacity(unique.len());
    for chunk in unique.chunks(rows_per_statement(dialect, width)) {
        let sql = crate::rendered::by_keys(E::TABLE, dialect, chunk.len());
        let build = || {
            let mut statement = executor.assembled("get_many", Arc::clone(&sql));
            for id in chunk {
                E::bind_id(id, &mut statement);
            }
            statement
        };
        let rows = executor
            .read_rows(E::TABLE, false, &build)
            .await?
            .decode::<E>()?;
        found.extend(rows);
    }
    found.sort_by_key(|entity| position.get(&entity.id()).copied().unwrap_or(usize::MAX));
    Ok(found)
}

/// Rows in the requested order and page: one plan, rendered as SQL (once per shape) or
/// evaluated by the in-memory store.
pub(crate) async fn list<E: Entity>(
    executor: &Executor,
    options: &ListOptions<E::Column>,
) -> Result<Vec<E>, RepoError> {
    // The requested order, then the key's columns, so that pages never overlap.
    let mut order: Vec<(&'static str, bool)> = options
        .get_order()
        .iter()
        .map(|(column, order)| (column.name(), *order == Order::Desc))
        .collect();
    for key in E::TABLE.primary_key.columns {
        if !order.iter().any(|(column, _)| column == key) {
            order.push((key, false));
        }
    }
    let page = repo_core::Page {
        limit: options.get_limit(),
        offset: options.get_offset(),
    };
    let paged = page.limit.is_some() || page.offset > 0;
    let (limit, offset) = crate::ports::page_bounds(page);
    let plan = Plan {
        action: PlanAction::Select,
        any_of: &[],
        order: &order,
        limit: if paged {
            PlanLimit::Page
        } else {
            PlanLimit::All
        },
    };
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        use crate::memory::Value;
        let page = if paged {
            vec![Value::Int(limit), Value::Int(offset)]
        } else {
            Vec::new()
        };
        return crate::memory::select_rows::<E>(&memory, "list", &plan, page, &[]).await;
    }
    let sql = crate::rendered::list(E::TABLE, executor.dialect(), &order, plan.limit);
    let build = || {
        let mut statement = executor.assembled("list", Arc::clone(&sql));
        if paged {
            statement.bind(limit);
            statement.bind(offset);
        }
        statement
    };
    executor
        .read_rows(E::TABLE, false, &build)
        .await?
        .decode::<E>()
}

/// Inserts one row and returns it as stored, with its generated key.
pub(crate) async fn insert<E: Entity>(executor: &Executor, new: E::New) -> Result<E, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::insert::<E>(&memory, new).await;
    }
    let mut statement = executor.statement("insert", &E::SQL.insert);
    E::bind_new(&new, &mut statement);
    let key = match executor.dialect() {
        Dialect::Postgres if E::SQL.has_generated_key => {
            executor
                .integer(E::TABLE, statement, "generated key")
                .await?
        }
        // SQLite and MySQL report the generated key as the last insert id.
        _ => {
            executor
                .execute_in(E::TABLE, statement)
                .await?
                .last_insert_id
        }
    };
    E::from_new(new, key)
}

/// Inserts every row in one transaction (a savepoint inside an open one), chunked under the
/// bind limit, and returns them as stored in input order. An empty input runs no statement.
pub(crate) async fn insert_many<E: Entity>(
    executor: &Executor,
    news: Vec<E::New>,
) -> Result<Vec<E>, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::insert_many::<E>(&memory, news).await;
    }
    if news.is_empty() {
        return Ok(Vec::new());
    }
    match executor {
        Executor::Db(db) => {
            db.transaction_once(async |tx| insert_chunks::<E>(&Executor::Tx(tx), news).await)
                .await
        }
        Executor::Tx(tx) => {
            tx.transaction(async |savepoint| {
                insert_chunks::<E>(&Executor::Tx(savepoint), news).await
            })
            .await
        }
    }
}

/// How a batch learns the keys the database generated for it.
enum BatchKeys {
    /// Nothing is generated.
    None,
    /// `RETURNING` the keys (PostgreSQL, MariaDB), in no promised order.
    Returning,
    /// The rows of one statement are numbered consecutively up to the last insert id: SQLite
    /// inserts a statement's rows under one write lock.
    EndingAtLastInsertId,
    /// The rows of one statement are numbered from the last insert id in steps of `increment`:
    /// MySQL reports a multi-row insert's first key, consecutive under lock modes 0 and 1.
    StartingAtLastInsertId { increment: i64 },
}

async fn insert_chunks<E: Entity>(
    executor: &Executor,
    news: Vec<E::New>,
) -> Result<Vec<E>, RepoError> {
    let dialect = executor.dialect();
    let keys = match (E::SQL.has_generated_key, dialect) {
        (false, _) => Some(BatchKeys::None),
        (true, Dialect::Sqlite) => Some(BatchKeys::EndingAtLastInsertId),
        (true, Dialect::Postgres) => Some(BatchKeys::Returning),
        (true, Dialect::MySql) => match executor.db().mysql_batch_keys() {
            Some(MySqlBatchKeys::Consecutive) => {
                let statement = executor.static_statement(
                    "auto_increment_increment",
                    "SELECT CAST(@@auto_increment_increment AS SIGNED)",
                );
                let increment = executor
                    .integer(E::TABLE, statement, "generated key")
                    .await?;
                Some(BatchKeys::StartingAtLastInsertId { increment })
            }
            Some(MySqlBatchKeys::Returning) => Some(BatchKeys::Returning),
            // Interleaved keys without RETURNING: row by row, still inside the transaction.
            Some(MySqlBatchKeys::RowByRow) | None => None,
        },
    };
    let mut stored = Vec::with_capacity(news.len());
    let Some(keys) = keys else {
        for new in news {
            stored.push(insert::<E>(executor, new).await?);
        }
        return Ok(stored);
    };
    let width = E::TABLE.inserted_columns().count();
    // Entities with embedded values bind no arrays: VALUES lists there too.
    let unnest = dialect == Dialect::Postgres && E::SQL.binds_arrays;
    let per_statement = if unnest {
        UNNEST_ROWS_PER_STATEMENT
    } else {
        rows_per_statement(dialect, width)
    };
    let returning = matches!(keys, BatchKeys::Returning);
    let mut rest = news.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<E::New> = rest.by_ref().take(per_statement).collect();
        let statement = if unnest {
            // One array per column: the statement's text and plan do not grow with the batch.
            let mut statement =
                executor.assembled("insert_many", crate::rendered::unnest(E::TABLE));
            E::bind_new_columns(&chunk, &mut statement);
            statement
        } else {
            let sql = crate::rendered::batch(E::TABLE, dialect, chunk.len(), returning);
            let mut statement = executor.assembled("insert_many", sql);
            for new in &chunk {
                E::bind_new(new, &mut statement);
            }
            statement
        };
        let generated: Vec<i64> = match keys {
            BatchKeys::None => {
                executor.execute_in(E::TABLE, statement).await?;
                vec![0; chunk.len()]
            }
            BatchKeys::Returning => {
                let mut keys = executor.fetch_keys::<E>(statement).await?;
                // RETURNING does not promise row order; generated keys grow in VALUES order.
                keys.sort_unstable();
                keys
            }
            BatchKeys::EndingAtLastInsertId => {
                let last = executor
                    .execute_in(E::TABLE, statement)
                    .await?
                    .last_insert_id;
                let first = last - i64::try_from(chunk.len()).unwrap_or(i64::MAX) + 1;
                (first..=last).collect()
            }
            BatchKeys::StartingAtLastInsertId { increment } => {
                let first = executor
                    .execute_in(E::TABLE, statement)
                    .await?
                    .last_insert_id;
                (0..chunk.len())
                    .scan(first, |key, _| {
                        let this = *key;
                        *key = key.saturating_add(increment);
                        Some(this)
                    })
                    .collect()
            }
        };
        if generated.len() != chunk.len() {
            return Err(RepoError::invalid_input(
                E::NAME,
                format!(
                    "a batch of {} rows reported {} keys",
                    chunk.len(),
                    generated.len()
                ),
            ));
        }
        for (new, key) in chunk.into_iter().zip(generated) {
            stored.push(E::from_new(new, key)?);
        }
    }
    Ok(stored)
}

/// Updates every non-key column of the row with the entity's key and returns it as stored;
/// [`RepoError::NotFound`] when no row has that key.
pub(crate) async fn update<E: Entity>(executor: &Executor, entity: &E) -> Result<E, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::update::<E>(&memory, entity).await;
    }
    let mut statement = executor.statement("update", &E::SQL.update);
    entity.bind_update(&mut statement);
    if executor.dialect() == Dialect::MySql {
        // Rows matched, not changed: sqlx connects with CLIENT_FOUND_ROWS.
        let outcome = executor.execute_in(E::TABLE, statement).await?;
        if outcome.rows_affected == 0 {
            return Err(RepoError::NotFound { entity: E::NAME });
        }
        return get::<E>(executor, &entity.id()).await;
    }
    executor
        .rows(E::TABLE, statement, true)
        .await?
        .first::<E>()?
        .ok_or(RepoError::NotFound { entity: E::NAME })
}

/// Deletes the row with key `id`; `false` when there was none.
pub(crate) async fn delete<E: Entity>(executor: &Executor, id: &E::Id) -> Result<bool, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::delete::<E>(&memory, id).await;
    }
    let mut statement = executor.statement("delete", &E::SQL.delete_by_id);
    E::bind_id(id, &mut statement);
    Ok(executor
        .execute_in(E::TABLE, statement)
        .await?
        .rows_affected
        > 0)
}

/// Inserts the entity, or updates the row with its key; returns it as stored. A conflict on
/// another unique key is [`RepoError::Conflict`], never an update of that other row.
pub(crate) async fn upsert<E: Entity>(executor: &Executor, entity: &E) -> Result<E, RepoError> {
    #[cfg(feature = "memory")]
    if let Some(memory) = crate::memory::Handle::of(executor) {
        return crate::memory::upsert::<E>(&memory, entity).await;
    }
    if executor.dialect() != Dialect::MySql {
        let mut statement = executor.statement("upsert", &E::SQL.upsert);
        entity.bind_all(&mut statement);
        return executor
            .rows(E::TABLE, statement, true)
            .await?
            .first::<E>()?
            .ok_or(RepoError::NotFound { entity: E::NAME });
    }
    if E::TABLE.unique.is_empty() {
        let mut statement = executor.statement("upsert", &E::SQL.upsert);
        entity.bind_all(&mut statement);
        executor.execute_in(E::TABLE, statement).await?;
        return get::<E>(executor, &entity.id()).await;
    }
    // ON DUPLICATE KEY UPDATE would fire on the other unique keys too: update, else insert.
    let write = async |executor: &Executor| {
        let mut update = executor.statement("upsert", &E::SQL.update);
        entity.bind_update(&mut update);
        if executor.execute_in(E::TABLE, update).await?.rows_affected == 0 {
            let mut insert = executor.statement("upsert", &E::SQL.insert_all);
            entity.bind_all(&mut insert);
            executor.execute_in(E::TABLE, insert).await?;
        }
        get::<E>(executor, &entity.id()).await
    };
    match executor {
        Executor::Db(db) => {
            db.transaction_once(async |tx| write(&Executor::Tx(tx)).await)
                .await
        }
        Executor::Tx(tx) => {
            tx.transaction(async |savepoint| write(&Executor::Tx(savepoint)).await)
                .await
        }
    }
}
