//! The repository operations, written once for every generated SQL repository: what each
//! states through its entity's [`Entity`] impl and how its rows come back.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use repo_sql::{Dialect, OnConflict, PlanAction, Policy, Sql};

use crate::db::MySqlBatchKeys;
use crate::domain::{Mapping, found};
use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::{Executor, Rows, Running};
use crate::filter::{Filter, Selection};
use crate::keyset::{Cursor, Keyset, KeysetPage};
use crate::list::ListOptions;
use crate::policy::Stamp;
use crate::statement::{Shape, Statement};
use crate::stream::{Decoding, RowStream};
use crate::unique::UniqueKey;

/// Most rows one batch `INSERT` carries, under every backend's bind limit too: larger
/// statements stop paying off and strain MySQL's packet limit.
const MAX_ROWS_PER_STATEMENT: usize = 1_000;

/// Rows per PostgreSQL `UNNEST` batch: bounded only to keep each message moderate.
const UNNEST_ROWS_PER_STATEMENT: usize = 10_000;

fn rows_per_statement(dialect: Dialect, width: usize) -> usize {
    (dialect.bind_limit() / width.max(1)).clamp(1, MAX_ROWS_PER_STATEMENT)
}

/// Whether `rows` new rows go in one statement, with no statement before it to learn
/// their keys, outside a transaction: inside one the batch needs its savepoint all the same
/// (a failed statement aborts a PostgreSQL transaction).
fn in_one_statement<E: Entity>(executor: &Executor, rows: usize) -> bool {
    if matches!(executor, Executor::Tx(_)) {
        return false;
    }
    let dialect = executor.dialect();
    let keys_read_apart = E::SQL.has_generated_key
        && dialect == Dialect::MySql
        && executor.db().mysql_batch_keys() != Some(MySqlBatchKeys::Returning);
    !keys_read_apart && rows <= rows_per_insert::<E>(dialect)
}

/// How many new rows one insert statement takes.
fn rows_per_insert<E: Entity>(dialect: Dialect) -> usize {
    // Entities with embedded values bind no arrays: VALUES lists there too.
    if dialect == Dialect::Postgres && E::SQL.binds_arrays {
        UNNEST_ROWS_PER_STATEMENT
    } else {
        rows_per_statement(dialect, E::TABLE.inserted_columns().count())
    }
}

/// The rows a conditional insert wrote: returned by the database, or, on MySQL, the positions
/// in the input of those inserted with the key each was given.
pub(crate) enum Inserted<E> {
    Returned(Vec<E>),
    /// With the stamp the rows were inserted with.
    Numbered(Vec<(usize, i64)>, Stamp),
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

/// A generated `Sql{Entity}Repository`: which entity, in which values, and where its statements
/// run. Every such repository is a [`Repository`](crate::Repository) through this trait.
pub trait SqlRepository: Send + Sync {
    /// The record.
    type Entity: Entity;
    /// What the repository's values are: the record, or its domain type.
    type Mapping: Mapping<Self::Entity>;

    /// Where this repository runs its statements: a database, or a transaction on one.
    fn executor(&self) -> &Executor;
}

/// The operations every generated SQL repository has, written once, in the values of its
/// mapping. [`Repository`](crate::Repository) boxes these futures and nothing else.
///
/// They are associated functions of the repository type rather than free generic functions,
/// so that rustc's incremental partitioning compiles their non-async parts with the user's
/// repository type instead of in one unit shared by every entity.
pub(crate) trait Operations: SqlRepository {
    fn find(
        executor: &Executor,
        id: Id<Self>,
    ) -> impl Future<Output = Result<Option<Value<Self>>, RepoError>> + Send;

    fn get(
        executor: &Executor,
        id: Id<Self>,
    ) -> impl Future<Output = Result<Value<Self>, RepoError>> + Send;

    fn exists(
        executor: &Executor,
        id: Id<Self>,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    fn count(executor: &Executor) -> impl Future<Output = Result<u64, RepoError>> + Send;

    fn get_many(
        executor: &Executor,
        ids: &[Id<Self>],
    ) -> impl Future<Output = Result<Vec<Value<Self>>, RepoError>> + Send;

    /// The records with these keys, in the order of `ids`; absent keys are skipped.
    fn records_by_keys(
        executor: &Executor,
        ids: &[Id<Self>],
    ) -> impl Future<Output = Result<Vec<Self::Entity>, RepoError>> + Send;

    /// The rows `filter` selects (every row without one), in the order and page `options`
    /// ask for; `operation` names the statement in traces.
    fn select(
        executor: &Executor,
        filter: Option<&Filter<Self::Entity>>,
        options: ListOptions<<Self::Entity as Entity>::Column>,
        operation: &'static str,
    ) -> impl Future<Output = Result<Vec<Value<Self>>, RepoError>> + Send;

    /// [`Operations::select`] on records.
    fn select_records(
        executor: &Executor,
        filter: Option<&Filter<Self::Entity>>,
        options: ListOptions<<Self::Entity as Entity>::Column>,
        operation: &'static str,
    ) -> impl Future<Output = Result<Vec<Self::Entity>, RepoError>> + Send;

    fn find_page(
        executor: &Executor,
        filter: &Filter<Self::Entity>,
        options: ListOptions<<Self::Entity as Entity>::Column>,
        after: Option<&Cursor>,
    ) -> impl Future<Output = Result<KeysetPage<Value<Self>>, RepoError>> + Send;

    /// The rows `filter` selects in the order `options` ask for, as a stream.
    fn stream(
        executor: &Executor,
        filter: &Filter<Self::Entity>,
        options: ListOptions<<Self::Entity as Entity>::Column>,
    ) -> RowStream<Value<Self>>;

    fn count_where(
        executor: &Executor,
        filter: &Filter<Self::Entity>,
    ) -> impl Future<Output = Result<u64, RepoError>> + Send;

    fn exists_where(
        executor: &Executor,
        filter: &Filter<Self::Entity>,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    fn delete_where(
        executor: &Executor,
        filter: &Filter<Self::Entity>,
    ) -> impl Future<Output = Result<u64, RepoError>> + Send;

    fn insert(
        executor: &Executor,
        new: NewValue<Self>,
    ) -> impl Future<Output = Result<Value<Self>, RepoError>> + Send;

    fn insert_many(
        executor: &Executor,
        news: Vec<NewValue<Self>>,
    ) -> impl Future<Output = Result<Vec<Value<Self>>, RepoError>> + Send;

    /// [`Operations::insert_many`] inside its transaction, on records.
    fn insert_chunks(
        executor: &Executor,
        news: Vec<New<Self>>,
    ) -> impl Future<Output = Result<Vec<Self::Entity>, RepoError>> + Send;

    /// The statement inserting one record, its policy columns from `stamp`.
    fn insert_statement(executor: &Executor, new: &New<Self>, stamp: &Stamp) -> Statement;

    fn update(
        executor: &Executor,
        value: &Value<Self>,
    ) -> impl Future<Output = Result<Value<Self>, RepoError>> + Send;

    fn write(
        executor: &Executor,
        value: &Value<Self>,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    /// The one row a write of one row by key `id` wrote: returned by `statement`, or read back
    /// after it on MySQL, whose `UPDATE` returns nothing; `None` when it matched no row.
    fn written_row(
        executor: &Executor,
        statement: Statement,
        id: &Id<Self>,
        operation: &'static str,
    ) -> impl Future<Output = Result<Option<Self::Entity>, RepoError>> + Send;

    /// The one row a write returned, or [`RepoError::NotFound`].
    fn stored(rows: &Rows) -> Result<Value<Self>, RepoError>;

    fn delete(
        executor: &Executor,
        id: Id<Self>,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    fn remove(
        executor: &Executor,
        value: &Value<Self>,
    ) -> impl Future<Output = Result<(), RepoError>> + Send;

    fn purge(
        executor: &Executor,
        id: Id<Self>,
    ) -> impl Future<Output = Result<bool, RepoError>> + Send;

    fn restore(
        executor: &Executor,
        id: Id<Self>,
    ) -> impl Future<Output = Result<Value<Self>, RepoError>> + Send;

    fn upsert(
        executor: &Executor,
        value: &Value<Self>,
    ) -> impl Future<Output = Result<Value<Self>, RepoError>> + Send;

    fn insert_or_ignore(
        executor: &Executor,
        news: Vec<NewValue<Self>>,
        key: UniqueKey<Self::Entity>,
    ) -> impl Future<Output = Result<Vec<Value<Self>>, RepoError>> + Send;

    /// [`Operations::insert_or_ignore`] inside its transaction, on records; borrowed, so that
    /// a deadlocked attempt can run again.
    fn insert_or_ignore_chunks(
        executor: &Executor,
        news: &[New<Self>],
        key: UniqueKey<Self::Entity>,
    ) -> impl Future<Output = Result<Inserted<Self::Entity>, RepoError>> + Send;

    fn upsert_on(
        executor: &Executor,
        new: NewValue<Self>,
        key: UniqueKey<Self::Entity>,
    ) -> impl Future<Output = Result<Value<Self>, RepoError>> + Send;

    /// [`Operations::upsert_on`] on MySQL, inside its transaction: `ON DUPLICATE KEY UPDATE`
    /// fires on any unique key, so it runs only once a plain insert conflicted on `key`.
    fn upsert_on_then_read(
        executor: &Executor,
        new: &New<Self>,
        key: UniqueKey<Self::Entity>,
    ) -> impl Future<Output = Result<Self::Entity, RepoError>> + Send;

    fn patch(
        executor: &Executor,
        id: Id<Self>,
        patch: Patch<Self>,
    ) -> impl Future<Output = Result<Value<Self>, RepoError>> + Send;

    fn patch_where(
        executor: &Executor,
        filter: &Filter<Self::Entity>,
        patch: Patch<Self>,
    ) -> impl Future<Output = Result<Vec<Value<Self>>, RepoError>> + Send;

    /// [`Operations::patch_where`] on MySQL, which has no `UPDATE ... RETURNING`: the rows are
    /// locked, written, then read back, in one transaction.
    fn patch_where_then_read(
        executor: &Executor,
        filter: &Filter<Self::Entity>,
        patch: &Patch<Self>,
        stamp: &Stamp,
        set: Vec<&'static str>,
    ) -> impl Future<Output = Result<Vec<Self::Entity>, RepoError>> + Send;
}

/// The key of a repository's entity.
type Id<R> = <<R as SqlRepository>::Entity as Entity>::Id;
/// The insert input of a repository's entity, as a record.
type New<R> = <<R as SqlRepository>::Entity as Entity>::New;
/// A repository's patch type.
type Patch<R> = <<R as SqlRepository>::Entity as Entity>::Patch;
/// What a repository's reads return.
type Value<R> = <<R as SqlRepository>::Mapping as Mapping<<R as SqlRepository>::Entity>>::Value;
/// What a repository's `insert` takes.
type NewValue<R> = <<R as SqlRepository>::Mapping as Mapping<<R as SqlRepository>::Entity>>::New;

impl<E, M, R> Operations for R
where
    E: Entity,
    M: Mapping<E>,
    R: SqlRepository<Entity = E, Mapping = M>,
{
    /// The row with key `id`, or `None`.
    async fn find(executor: &Executor, id: E::Id) -> Result<Option<M::Value>, RepoError> {
        if E::CACHE.is_some() {
            return found::<E, M>(read_by_key::<E>(executor, "find", &id).await?);
        }
        let build = || {
            by_key::<E>(
                executor,
                "find",
                &E::SQL.select_by_id,
                &id,
                PlanAction::Select,
            )
        };
        let rows = executor.read_rows(E::TABLE, true, &build).await?;
        found::<E, M>(rows.first::<E>()?)
    }

    /// The row with key `id`, or [`RepoError::NotFound`].
    async fn get(executor: &Executor, id: E::Id) -> Result<M::Value, RepoError> {
        if E::CACHE.is_some() {
            return match read_by_key::<E>(executor, "get", &id).await? {
                Some(record) => M::value(record),
                None => Err(RepoError::NotFound { entity: E::NAME }),
            };
        }
        let build = || {
            by_key::<E>(
                executor,
                "get",
                &E::SQL.select_by_id,
                &id,
                PlanAction::Select,
            )
        };
        Self::stored(&executor.read_rows(E::TABLE, true, &build).await?)
    }

    /// Whether a row with key `id` exists.
    async fn exists(executor: &Executor, id: E::Id) -> Result<bool, RepoError> {
        let build = || {
            by_key::<E>(
                executor,
                "exists",
                &E::SQL.exists_by_id,
                &id,
                PlanAction::Exists,
            )
        };
        Ok(executor.read_rows(E::TABLE, true, &build).await?.len() > 0)
    }

    /// The number of rows.
    async fn count(executor: &Executor) -> Result<u64, RepoError> {
        let scoped = const { E::TABLE.tenant_column().is_some() };
        let build = || every_row(executor, E::TABLE, scoped, "count", &E::SQL.count);
        executor
            .read_rows(E::TABLE, true, &build)
            .await?
            .count(E::TABLE)
    }

    /// The rows whose keys are in `ids`, in the order of `ids`; absent keys are skipped and a
    /// repeated key yields its row once. One statement per chunk under the bind limit.
    async fn get_many(executor: &Executor, ids: &[E::Id]) -> Result<Vec<M::Value>, RepoError> {
        M::values(Self::records_by_keys(executor, ids).await?)
    }

    async fn records_by_keys(executor: &Executor, ids: &[E::Id]) -> Result<Vec<E>, RepoError> {
        if E::CACHE.is_some() {
            let load = async |missing: Vec<E::Id>| {
                records_by_keys::<E>(executor, &missing, "get_many").await
            };
            return crate::cache::by_keys::<E, _, _>(executor, ids, load).await;
        }
        records_by_keys::<E>(executor, ids, "get_many").await
    }

    async fn select(
        executor: &Executor,
        filter: Option<&Filter<E>>,
        options: ListOptions<E::Column>,
        operation: &'static str,
    ) -> Result<Vec<M::Value>, RepoError> {
        M::values(Self::select_records(executor, filter, options, operation).await?)
    }

    async fn select_records(
        executor: &Executor,
        filter: Option<&Filter<E>>,
        options: ListOptions<E::Column>,
        operation: &'static str,
    ) -> Result<Vec<E>, RepoError> {
        let selection = select_in_order::<E>(&options);
        let every = Filter::all();
        let filter = filter.unwrap_or(&every);
        let build = || filter.statement(executor, E::TABLE, operation, &selection);
        // Decoded as they arrive: no row waits in a vector of rows for the others.
        let mut decoding = Decoding::<E>::new(executor);
        executor.read_into(E::TABLE, &build, &mut decoding).await?;
        Ok(decoding.rows)
    }

    fn stream(
        executor: &Executor,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
    ) -> RowStream<M::Value> {
        let selection = select_in_order::<E>(&options);
        let statement = filter.statement(executor, E::TABLE, "stream", &selection);
        let rows = executor.stream_rows(E::TABLE, statement);
        Box::pin(crate::stream::Decoded::<E, M>::new(rows, executor))
    }

    /// A page of the rows `filter` selects in the order `options` ask for, after `after`.
    async fn find_page(
        executor: &Executor,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
        after: Option<&Cursor>,
    ) -> Result<KeysetPage<M::Value>, RepoError> {
        let keyset = Keyset::new::<E>(&options)?;
        let filter = match after {
            Some(cursor) => filter.clone().and(keyset.after::<E>(cursor)?),
            None => filter.clone(),
        };
        // One row more than the page tells whether another page follows.
        let limit = options.get_limit();
        let options = match limit {
            Some(limit) => options.limit(limit.saturating_add(1)),
            None => options,
        };
        let mut rows = Self::select_records(executor, Some(&filter), options, "find_page").await?;
        let next = match limit {
            Some(limit) if rows.len() as u64 > limit => {
                rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
                match rows.last() {
                    Some(last) => Some(keyset.cursor(last)?),
                    None => None,
                }
            }
            _ => None,
        };
        Ok(KeysetPage {
            rows: M::values(rows)?,
            next,
        })
    }

    async fn count_where(executor: &Executor, filter: &Filter<E>) -> Result<u64, RepoError> {
        count_matching(executor, filter, "count_where").await
    }

    async fn exists_where(executor: &Executor, filter: &Filter<E>) -> Result<bool, RepoError> {
        let selection = Selection::of(PlanAction::Exists);
        let build = || filter.statement(executor, E::TABLE, "exists_where", &selection);
        Ok(executor.read_rows(E::TABLE, true, &build).await?.len() > 0)
    }

    /// Deletes the rows `filter` selects (marks them, for an entity with soft delete) and
    /// returns how many there were.
    async fn delete_where(executor: &Executor, filter: &Filter<E>) -> Result<u64, RepoError> {
        if E::TABLE.deleted_column().is_some() {
            return mark_deleted::<E>(executor, filter, "delete_where").await;
        }
        let selection = Selection::of(PlanAction::Delete);
        let statement = filter.statement(executor, E::TABLE, "delete_where", &selection);
        Ok(executor
            .execute_in(E::TABLE, statement)
            .await?
            .rows_affected)
    }

    /// Inserts one row and returns it as stored, with its generated key.
    async fn insert(executor: &Executor, new: M::New) -> Result<M::Value, RepoError> {
        let new = M::new_record(new)?;
        let stamp = Stamp::new(executor);
        let statement = Self::insert_statement(executor, &new, &stamp);
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
        M::value(E::from_new(new, key, &stamp)?)
    }

    fn insert_statement(executor: &Executor, new: &E::New, stamp: &Stamp) -> Statement {
        let mut statement = executor
            .statement("insert", &E::SQL.insert)
            .shaped(Shape::Insert { rows: 1 });
        E::bind_new(new, stamp, &mut statement);
        statement
    }

    /// Inserts every row in one transaction (a savepoint inside an open one), chunked under the
    /// bind limit, and returns them as stored in input order. An empty input runs no statement.
    async fn insert_many(
        executor: &Executor,
        news: Vec<M::New>,
    ) -> Result<Vec<M::Value>, RepoError> {
        let news = new_records::<E, M>(news)?;
        if news.is_empty() {
            return Ok(Vec::new());
        }
        // One statement is atomic by itself: a batch of several needs a transaction.
        let stored = if in_one_statement::<E>(executor, news.len()) {
            Self::insert_chunks(executor, news).await
        } else {
            executor
                .unit_once(async |unit| Self::insert_chunks(unit, news).await)
                .await
        };
        M::values(stored?)
    }

    async fn insert_chunks(executor: &Executor, news: Vec<E::New>) -> Result<Vec<E>, RepoError> {
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
        // One time for the whole batch.
        let stamp = Stamp::new(executor);
        let Some(keys) = keys else {
            for new in news {
                let statement = Self::insert_statement(executor, &new, &stamp);
                let key = executor
                    .execute_in(E::TABLE, statement)
                    .await?
                    .last_insert_id;
                stored.push(E::from_new(new, key, &stamp)?);
            }
            return Ok(stored);
        };
        let unnest = dialect == Dialect::Postgres && E::SQL.binds_arrays;
        let per_statement = rows_per_insert::<E>(dialect);
        let returning = matches!(keys, BatchKeys::Returning);
        let mut rest = news.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk: Vec<E::New> = rest.by_ref().take(per_statement).collect();
            let statement = if unnest {
                // One array per column: the statement's text and plan do not grow with the batch.
                let mut statement =
                    executor.assembled("insert_many", crate::rendered::unnest(E::TABLE));
                E::bind_new_columns(&chunk, &stamp, &mut statement);
                statement
            } else {
                let sql = crate::rendered::batch(E::TABLE, dialect, chunk.len(), returning);
                let mut statement = executor
                    .assembled("insert_many", sql)
                    .shaped(Shape::Insert { rows: chunk.len() });
                for new in &chunk {
                    E::bind_new(new, &stamp, &mut statement);
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
                stored.push(E::from_new(new, key, &stamp)?);
            }
        }
        Ok(stored)
    }

    /// Updates every non-key column of the row with the entity's key (at the version it was
    /// read at, if versioned) and returns it as stored; [`RepoError::NotFound`] when no row has
    /// that key, [`RepoError::StaleVersion`] when its version moved on.
    async fn update(executor: &Executor, value: &M::Value) -> Result<M::Value, RepoError> {
        let entity = M::record(value)?;
        let mut statement = executor
            .statement("update", &E::SQL.update)
            .shaped(Shape::Update);
        let version = bind_update_at_version(&*entity, &Stamp::new(executor), &mut statement);
        let id = entity.id();
        match Self::written_row(executor, statement, &id, "update").await? {
            Some(record) => M::value(record),
            None => Err(refused::<E>(executor, &id, version.is_some()).await?),
        }
    }

    async fn written_row(
        executor: &Executor,
        statement: Statement,
        id: &E::Id,
        operation: &'static str,
    ) -> Result<Option<E>, RepoError> {
        let statement = crate::cache::touching::<E>(executor, id, statement);
        if executor.dialect() != Dialect::MySql {
            return executor.rows(E::TABLE, statement, true).await?.first::<E>();
        }
        // Rows matched, not changed: sqlx connects with CLIENT_FOUND_ROWS.
        if executor
            .execute_in(E::TABLE, statement)
            .await?
            .rows_affected
            == 0
        {
            return Ok(None);
        }
        row_by_key::<E>(executor, operation, id).await
    }

    /// [`Operations::update`] without reading the row back: one statement on every backend.
    async fn write(executor: &Executor, value: &M::Value) -> Result<(), RepoError> {
        let entity = M::record(value)?;
        let sql = crate::rendered::update_in_place(E::TABLE, executor.dialect());
        let mut statement = executor.assembled("write", sql).shaped(Shape::Update);
        let version = bind_update_at_version(&*entity, &Stamp::new(executor), &mut statement);
        let statement = crate::cache::touching::<E>(executor, &entity.id(), statement);
        // Rows matched, not changed, on MySQL too: sqlx connects with CLIENT_FOUND_ROWS.
        if executor
            .execute_in(E::TABLE, statement)
            .await?
            .rows_affected
            == 0
        {
            return Err(refused::<E>(executor, &entity.id(), version.is_some()).await?);
        }
        Ok(())
    }

    fn stored(rows: &Rows) -> Result<M::Value, RepoError> {
        match rows.first::<E>()? {
            Some(record) => M::value(record),
            None => Err(RepoError::NotFound { entity: E::NAME }),
        }
    }

    /// Deletes the row with key `id`; `false` when there was none.
    async fn delete(executor: &Executor, id: E::Id) -> Result<bool, RepoError> {
        if E::TABLE.deleted_column().is_some() {
            return Ok(policy_ops::<E>()?
                .mark_deleted(executor, &id, None, "delete")
                .await?
                > 0);
        }
        Self::purge(executor, id).await
    }

    /// Deletes the row with key `id` for good, marked deleted or not; `false` when there was
    /// none.
    async fn purge(executor: &Executor, id: E::Id) -> Result<bool, RepoError> {
        let statement = by_key::<E>(
            executor,
            "purge",
            &E::SQL.delete_by_id,
            &id,
            PlanAction::Delete,
        );
        Ok(executor
            .execute_in(E::TABLE, statement)
            .await?
            .rows_affected
            > 0)
    }

    /// Brings back the row with key `id` a soft delete marked, and returns it as stored;
    /// [`RepoError::NotFound`] when no deleted row has that key.
    async fn restore(executor: &Executor, id: E::Id) -> Result<M::Value, RepoError> {
        let Some(deleted) = E::TABLE.deleted_column() else {
            return Err(RepoError::invalid_input(
                E::NAME,
                "it has no `#[repo(deleted_at)]` field: its deletes are for good, and nothing \
                 can be restored",
            ));
        };
        let marked = Filter::<E>::from_parts(
            repo_sql::Condition::Compare {
                column: deleted,
                operator: repo_sql::Operator::IsNotNull,
                values: 0,
            },
            Vec::new(),
        );
        let filter = crate::filter::keys_filter::<E>(std::slice::from_ref(&id))
            .and(marked)
            .with_deleted();
        let mut set = vec![deleted];
        set.extend(E::TABLE.touched_columns().map(|column| column.name));
        let stamp = Stamp::new(executor);
        let returning = executor.dialect() != Dialect::MySql;
        let statement =
            filter.patch_statement(executor, E::TABLE, "restore", set, returning, |statement| {
                E::bind_deletion(None, statement);
                E::bind_touch(&stamp, statement);
            });
        match Self::written_row(executor, statement, &id, "restore").await? {
            Some(record) => M::value(record),
            None => Err(RepoError::NotFound { entity: E::NAME }),
        }
    }

    /// Deletes the row with the entity's key, at the version it was read at if versioned;
    /// [`RepoError::NotFound`] when no row has that key, [`RepoError::StaleVersion`] when its
    /// version moved on.
    async fn remove(executor: &Executor, value: &M::Value) -> Result<(), RepoError> {
        let entity = M::record(value)?;
        let id = entity.id();
        let version = entity.version();
        let removed = if E::TABLE.deleted_column().is_some() {
            policy_ops::<E>()?
                .mark_deleted(executor, &id, version, "remove")
                .await?
        } else {
            let mut filter = crate::filter::keys_filter::<E>(std::slice::from_ref(&id));
            if let Some(version) = version {
                filter = filter.and(crate::filter::at_version::<E>(version));
            }
            let selection = Selection::of(PlanAction::Delete);
            let statement = filter.statement(executor, E::TABLE, "remove", &selection);
            executor
                .execute_in(E::TABLE, statement)
                .await?
                .rows_affected
        };
        if removed == 0 {
            return Err(refused::<E>(executor, &id, version.is_some()).await?);
        }
        Ok(())
    }

    /// Inserts the entity, or updates the row with its key (at the version it was read at, if
    /// versioned); returns it as stored. A conflict on another unique key is
    /// [`RepoError::Conflict`], never an update of that other row; a row whose version moved
    /// on is [`RepoError::StaleVersion`].
    async fn upsert(executor: &Executor, value: &M::Value) -> Result<M::Value, RepoError> {
        let entity = M::record(value)?;
        let entity = &*entity;
        let stamp = Stamp::new(executor);
        let version = entity.version();
        if executor.dialect() != Dialect::MySql {
            let mut statement = executor
                .statement("upsert", &E::SQL.upsert)
                .shaped(Shape::Upsert);
            entity.bind_stamped(&stamp, &mut statement);
            if let Some(version) = version {
                statement.bind(version);
            }
            // A stored row at another version, or deleted, is left alone and nothing returned.
            return match executor
                .rows(E::TABLE, statement, true)
                .await?
                .first::<E>()?
            {
                Some(record) => M::value(record),
                None => Err(upsert_refused::<E>(executor, &entity.id(), version.is_some()).await?),
            };
        }
        if E::TABLE.unique.is_empty()
            && version.is_none()
            && E::TABLE.deleted_column().is_none()
            && E::TABLE.tenant_column().is_none()
        {
            let mut statement = executor
                .statement("upsert", &E::SQL.upsert)
                .shaped(Shape::Upsert);
            entity.bind_stamped(&stamp, &mut statement);
            executor.execute_in(E::TABLE, statement).await?;
            return Self::get(executor, entity.id()).await;
        }
        // ON DUPLICATE KEY UPDATE would fire on the other unique keys too, and checks no
        // version, deletion mark or tenant: update, else insert (which the key of a deleted
        // row, or of another tenant's, refuses).
        let write = async |executor: &Executor| {
            let mut update = executor
                .statement("upsert", &E::SQL.update)
                .shaped(Shape::Update);
            bind_update_at_version(entity, &stamp, &mut update);
            if executor.execute_in(E::TABLE, update).await?.rows_affected == 0 {
                if version.is_some() && Self::exists(executor, entity.id()).await? {
                    return Err(stale::<E>(&entity.id()));
                }
                let mut insert = executor
                    .statement("upsert", &E::SQL.insert_all)
                    .shaped(Shape::InsertAll);
                entity.bind_stamped(&stamp, &mut insert);
                executor.execute_in(E::TABLE, insert).await?;
            }
            Self::get(executor, entity.id()).await
        };
        executor.unit_once(write).await
    }

    /// Writes the fields `patch` gives to the row with key `id` (at the version the patch
    /// expects, if it names one) and returns it as stored; [`RepoError::NotFound`] when no row
    /// has that key, [`RepoError::StaleVersion`] when its version is another. An empty patch
    /// writes nothing.
    async fn patch(executor: &Executor, id: E::Id, patch: E::Patch) -> Result<M::Value, RepoError> {
        let mut set = Vec::new();
        E::patch_columns(&patch, &mut set);
        let expected = E::patch_version(&patch);
        if set.is_empty() {
            let stored = Self::records_by_keys(executor, std::slice::from_ref(&id)).await?;
            return match stored.into_iter().next() {
                Some(record) if expected.is_none() || record.version() == expected => {
                    M::value(record)
                }
                Some(_) => Err(stale::<E>(&id)),
                None => Err(RepoError::NotFound { entity: E::NAME }),
            };
        }
        set.extend(E::TABLE.touched_columns().map(|column| column.name));
        let condition = crate::filter::live_in(
            E::TABLE,
            key_at_version(E::TABLE, E::KEY_COLUMNS, expected.is_some()),
        );
        let returning = executor.dialect() != Dialect::MySql;
        let mut statement =
            crate::filter::patch_statement(executor, E::TABLE, "patch", set, &condition, returning);
        E::bind_patch(&patch, &mut statement);
        E::bind_touch(&Stamp::new(executor), &mut statement);
        E::bind_id(&id, &mut statement);
        if let Some(expected) = expected {
            statement.bind(expected);
        }
        statement.bind_scope(E::TABLE);
        match Self::written_row(executor, statement, &id, "patch").await? {
            Some(record) => M::value(record),
            None => Err(refused::<E>(executor, &id, expected.is_some()).await?),
        }
    }

    /// Writes the fields `patch` gives to every row `filter` selects and returns them as
    /// stored, in key order. An empty patch writes nothing.
    async fn patch_where(
        executor: &Executor,
        filter: &Filter<E>,
        patch: E::Patch,
    ) -> Result<Vec<M::Value>, RepoError> {
        let mut set = Vec::new();
        E::patch_columns(&patch, &mut set);
        // A patch that expects a version writes only the rows at that version.
        let at_version;
        let filter = match E::patch_version(&patch) {
            Some(version) => {
                at_version = filter.clone().and(crate::filter::at_version::<E>(version));
                &at_version
            }
            None => filter,
        };
        if set.is_empty() {
            return Self::select(executor, Some(filter), ListOptions::new(), "patch_where").await;
        }
        set.extend(E::TABLE.touched_columns().map(|column| column.name));
        let stamp = Stamp::new(executor);
        if executor.dialect() == Dialect::MySql {
            let written = executor
                .unit_once(async |unit| {
                    Self::patch_where_then_read(unit, filter, &patch, &stamp, set).await
                })
                .await;
            return M::values(written?);
        }
        let statement =
            filter.patch_statement(executor, E::TABLE, "patch_where", set, true, |statement| {
                E::bind_patch(&patch, statement);
                E::bind_touch(&stamp, statement);
            });
        let mut written = executor
            .rows(E::TABLE, statement, false)
            .await?
            .decode::<E>()?;
        // RETURNING promises no order.
        written.sort_by_key(|record| record.id());
        M::values(written)
    }

    async fn patch_where_then_read(
        executor: &Executor,
        filter: &Filter<E>,
        patch: &E::Patch,
        stamp: &Stamp,
        set: Vec<&'static str>,
    ) -> Result<Vec<E>, RepoError> {
        let mut selection = select_in_order::<E>(&ListOptions::new());
        selection.locking = true;
        let select = filter.statement(executor, E::TABLE, "patch_where", &selection);
        let ids: Vec<E::Id> = executor
            .rows(E::TABLE, select, false)
            .await?
            .decode::<E>()?
            .iter()
            .map(Entity::id)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let update =
            filter.patch_statement(executor, E::TABLE, "patch_where", set, false, |statement| {
                E::bind_patch(patch, statement);
                E::bind_touch(stamp, statement);
            });
        executor.execute_in(E::TABLE, update).await?;
        Self::records_by_keys(executor, &ids).await
    }

    /// Inserts the rows whose `key` values no stored row (nor an earlier row) holds, in one
    /// transaction, and returns those it inserted, in key order.
    async fn insert_or_ignore(
        executor: &Executor,
        news: Vec<M::New>,
        key: UniqueKey<E>,
    ) -> Result<Vec<M::Value>, RepoError> {
        let news = new_records::<E, M>(news)?;
        if news.is_empty() {
            return Ok(Vec::new());
        }
        // Writers whose batches share keys can deadlock (on MySQL, even in the same order,
        // through the gap locks of the rows they skip): the whole unit is retried.
        let inserted = match executor {
            Executor::Db(db) => {
                db.transaction(async |tx| {
                    Self::insert_or_ignore_chunks(&Executor::Tx(tx), &news, key).await
                })
                .await
            }
            Executor::Tx(_) => {
                executor
                    .unit_once(async |unit| Self::insert_or_ignore_chunks(unit, &news, key).await)
                    .await
            }
        };
        let mut inserted = match inserted? {
            Inserted::Returned(records) => records,
            Inserted::Numbered(numbered, stamp) => {
                let mut news: Vec<Option<E::New>> = news.into_iter().map(Some).collect();
                let mut records = Vec::with_capacity(numbered.len());
                for (index, generated) in numbered {
                    if let Some(new) = news.get_mut(index).and_then(Option::take) {
                        records.push(E::from_new(new, generated, &stamp)?);
                    }
                }
                records
            }
        };
        // RETURNING promises no order.
        inserted.sort_by_key(|record| record.id());
        M::values(inserted)
    }

    async fn insert_or_ignore_chunks(
        executor: &Executor,
        news: &[E::New],
        key: UniqueKey<E>,
    ) -> Result<Inserted<E>, RepoError> {
        let dialect = executor.dialect();
        let stamp = Stamp::new(executor);
        if dialect == Dialect::MySql {
            // No `ON CONFLICT` there, and `INSERT IGNORE` would ignore every error: row by
            // row, a conflict on this key skips the row (InnoDB undoes only that statement).
            let mut numbered = Vec::new();
            for (index, new) in news.iter().enumerate() {
                let statement = Self::insert_statement(executor, new, &stamp);
                match executor.execute_in(E::TABLE, statement).await {
                    Ok(outcome) => numbered.push((index, outcome.last_insert_id)),
                    Err(error) if key.refused(&error) => {}
                    Err(error) => return Err(error),
                }
            }
            return Ok(Inserted::Numbered(numbered, stamp));
        }
        let unnest = dialect == Dialect::Postgres && E::SQL.binds_arrays;
        let per_statement = if unnest {
            UNNEST_ROWS_PER_STATEMENT
        } else {
            rows_per_statement(dialect, E::TABLE.inserted_columns().count())
        };
        let mut inserted = Vec::new();
        for chunk in news.chunks(per_statement) {
            let sql = crate::rendered::conditional(
                E::TABLE,
                dialect,
                chunk.len(),
                unnest,
                key.index(),
                OnConflict::Ignore,
            );
            let mut statement =
                executor
                    .assembled("insert_or_ignore", sql)
                    .shaped(Shape::Conditional {
                        rows: chunk.len(),
                        key: key.index(),
                        action: OnConflict::Ignore,
                    });
            if unnest {
                E::bind_new_columns(chunk, &stamp, &mut statement);
            } else {
                for new in chunk {
                    E::bind_new(new, &stamp, &mut statement);
                }
            }
            let rows = executor.rows(E::TABLE, statement, false).await?;
            inserted.extend(rows.decode::<E>()?);
        }
        Ok(Inserted::Returned(inserted))
    }

    /// Inserts `new`, or writes it into the row holding its `key` values (outside the primary
    /// key); returns the row as stored.
    async fn upsert_on(
        executor: &Executor,
        new: M::New,
        key: UniqueKey<E>,
    ) -> Result<M::Value, RepoError> {
        let new = M::new_record(new)?;
        let dialect = executor.dialect();
        if dialect != Dialect::MySql {
            let sql = crate::rendered::conditional(
                E::TABLE,
                dialect,
                1,
                false,
                key.index(),
                OnConflict::Update,
            );
            let mut statement = executor
                .assembled("upsert_on", sql)
                .shaped(Shape::Conditional {
                    rows: 1,
                    key: key.index(),
                    action: OnConflict::Update,
                });
            E::bind_new(&new, &Stamp::new(executor), &mut statement);
            return match executor
                .rows(E::TABLE, statement, true)
                .await?
                .first::<E>()?
            {
                Some(record) => M::value(record),
                // A deleted row, or another tenant's, holds the primary key, which the update
                // left alone.
                None if E::TABLE.hides_rows() => Err(held_by_hidden::<E>()),
                None => Err(RepoError::NotFound { entity: E::NAME }),
            };
        }
        // Writers racing on one key can deadlock on MySQL (each holds a shared lock on the
        // row its insert found): the whole unit is retried, as `Db::transaction` does.
        let stored = match executor {
            Executor::Db(db) => {
                db.transaction(async |tx| {
                    Self::upsert_on_then_read(&Executor::Tx(tx), &new, key).await
                })
                .await
            }
            Executor::Tx(_) => {
                executor
                    .unit_once(async |unit| Self::upsert_on_then_read(unit, &new, key).await)
                    .await
            }
        };
        M::value(stored?)
    }

    async fn upsert_on_then_read(
        executor: &Executor,
        new: &E::New,
        key: UniqueKey<E>,
    ) -> Result<E, RepoError> {
        let stamp = Stamp::new(executor);
        let insert = Self::insert_statement(executor, new, &stamp);
        let inserted = match executor.execute_in(E::TABLE, insert).await {
            Ok(outcome) => Some(outcome.last_insert_id),
            Err(error) if key.refused(&error) => None,
            Err(error) => return Err(error),
        };
        if inserted.is_none() && key.index().is_none() && E::TABLE.hides_rows() {
            // The primary key refused the insert: is it held by a row that lives, of this
            // tenant? ON DUPLICATE KEY UPDATE would write into any row.
            let probe = || {
                keyed(
                    executor,
                    E::TABLE,
                    const { E::TABLE.tenant_column().is_some() },
                    "upsert_on",
                    &E::SQL.exists_by_id,
                    PlanAction::Exists,
                    |statement| E::bind_new_key(new, None, &stamp, statement),
                )
            };
            if executor.read_rows(E::TABLE, true, &probe).await?.len() == 0 {
                return Err(held_by_hidden::<E>());
            }
        }
        if inserted.is_none() {
            let sql = crate::rendered::duplicate_key_update(E::TABLE, key.index());
            let mut update = executor.assembled("upsert_on", sql);
            E::bind_new(new, &stamp, &mut update);
            executor.execute_in(E::TABLE, update).await?;
        }
        // The row as stored: by the key the database generated for an insert, else by `key`,
        // whose values the input holds.
        let generated = E::TABLE.columns.iter().find(|column| column.generated);
        let (columns, by_generated): (&'static [&'static str], _) = match (generated, inserted) {
            (Some(column), Some(id)) => (std::slice::from_ref(&column.name), Some(id)),
            _ => (key.constraint().columns, None),
        };
        let condition = crate::filter::live_in(E::TABLE, key_condition(columns));
        let read = Selection::of(PlanAction::Select).statement(
            executor,
            E::TABLE,
            "upsert_on",
            &condition,
            |read| match by_generated {
                Some(id) => read.bind(id),
                None => E::bind_new_key(new, key.index(), &stamp, read),
            },
        );
        match executor.rows(E::TABLE, read, true).await?.first::<E>()? {
            Some(record) => Ok(record),
            None => Err(RepoError::NotFound { entity: E::NAME }),
        }
    }
}

/// Marks the rows `filter` selects deleted, at the time of one stamp (moving their version on
/// and their `updated_at` too), and returns how many it marked: the soft delete.
fn mark_deleted<'a, E: Entity>(
    executor: &'a Executor,
    filter: &Filter<E>,
    operation: &'static str,
) -> Running<'a, u64> {
    let marked = Marked {
        condition: filter.scoped(E::TABLE),
        values: filter.values().to_vec(),
        bind_deletion: E::bind_deletion,
        bind_touch: E::bind_touch,
    };
    mark_deleted_in(executor, E::TABLE, marked, operation)
}

/// The policy operations of an entity with policies, which only such an entity compiles: its
/// `Entity::POLICIES` (a plain entity's is `None`, and nothing here is compiled for it).
#[doc(hidden)]
pub struct PolicyOps<E: Entity> {
    mark_deleted:
        for<'a> fn(&'a Executor, &'a E::Id, Option<i64>, &'static str) -> Running<'a, u64>,
    refused: for<'a> fn(&'a Executor, &'a E::Id) -> Running<'a, RepoError>,
}

impl<E: Entity> PolicyOps<E> {
    /// The operations of `E`, for its derive to name in `Entity::POLICIES`.
    pub const OF: PolicyOps<E> = PolicyOps {
        mark_deleted: mark_deleted_by_key::<E>,
        refused: refused_checked::<E>,
    };

    fn mark_deleted<'a>(
        &self,
        executor: &'a Executor,
        id: &'a E::Id,
        version: Option<i64>,
        operation: &'static str,
    ) -> Running<'a, u64> {
        (self.mark_deleted)(executor, id, version, operation)
    }
}

/// `E`'s policy operations; an entity without policies has none to run (a broken invariant,
/// which is an error rather than a panic).
fn policy_ops<E: Entity>() -> Result<&'static PolicyOps<E>, RepoError> {
    E::POLICIES.ok_or_else(|| {
        RepoError::config(format!(
            "{} has policy columns but no policy operations: rebuild it with the derive",
            E::NAME
        ))
    })
}

/// Marks the row with key `id` deleted (at `version`, when given): [`mark_deleted`] of one
/// row, with only the key's binding compiled per entity.
fn mark_deleted_by_key<'a, E: Entity>(
    executor: &'a Executor,
    id: &'a E::Id,
    version: Option<i64>,
    operation: &'static str,
) -> Running<'a, u64> {
    let condition = key_at_version(E::TABLE, E::KEY_COLUMNS, version.is_some());
    let id = id.clone();
    let bound: Arc<dyn crate::filter::Bound> =
        Arc::new(BoundBy(move |statement: &mut Statement| {
            E::bind_id(&id, statement);
            if let Some(version) = version {
                statement.bind(version);
            }
        }));
    let marked = Marked {
        condition: crate::filter::live_in(E::TABLE, condition),
        values: vec![bound],
        bind_deletion: E::bind_deletion,
        bind_touch: E::bind_touch,
    };
    mark_deleted_in(executor, E::TABLE, marked, operation)
}

/// Values bound by a function: a key and what comes with it.
struct BoundBy<F>(F);

impl<F: Fn(&mut Statement) + Send + Sync> crate::filter::Bound for BoundBy<F> {
    fn bind(&self, statement: &mut Statement) {
        (self.0)(statement);
    }
}

/// What a soft delete marks, and how its entity binds the mark and the write's stamp.
struct Marked {
    condition: Arc<repo_sql::Condition>,
    values: Vec<Arc<dyn crate::filter::Bound>>,
    bind_deletion: fn(Option<&Stamp>, &mut Statement),
    bind_touch: fn(&Stamp, &mut Statement),
}

/// [`mark_deleted`] without the entity's type: compiled once, not per entity (boxed, so that
/// the generic callers do not compile its body either).
fn mark_deleted_in<'a>(
    executor: &'a Executor,
    table: &'static crate::schema::Table,
    marked: Marked,
    operation: &'static str,
) -> Running<'a, u64> {
    Box::pin(async move {
        let mut set: Vec<&'static str> = table.deleted_column().into_iter().collect();
        set.extend(table.touched_columns().map(|column| column.name));
        let stamp = Stamp::new(executor);
        let mut statement = crate::filter::patch_statement(
            executor,
            table,
            operation,
            set,
            &marked.condition,
            false,
        );
        (marked.bind_deletion)(Some(&stamp), &mut statement);
        (marked.bind_touch)(&stamp, &mut statement);
        for value in &marked.values {
            value.bind(&mut statement);
        }
        statement.bind_scope(table);
        Ok(executor.execute_in(table, statement).await?.rows_affected)
    })
}

/// Why a write to the row with key `id` found no row to write: none has the key
/// ([`RepoError::NotFound`]), or, when the write checked a version, the row's version is
/// another ([`RepoError::StaleVersion`]). Asked only after the write failed.
fn refused<'a, E: Entity>(
    executor: &'a Executor,
    id: &'a E::Id,
    checked_version: bool,
) -> Running<'a, RepoError> {
    match E::POLICIES {
        Some(policies) if checked_version => (policies.refused)(executor, id),
        _ => Box::pin(std::future::ready(Ok(RepoError::NotFound {
            entity: E::NAME,
        }))),
    }
}

/// [`refused`] of a write that checked a version.
fn refused_checked<'a, E: Entity>(executor: &'a Executor, id: &'a E::Id) -> Running<'a, RepoError> {
    let key = Refused {
        bind_key: Box::new(move |statement| E::bind_id(id, statement)),
        stale: Box::new(move || stale::<E>(id)),
    };
    refused_in(executor, E::TABLE, &E::SQL.exists_by_id, key)
}

/// The row a write found missing: how to bind its key, and its `StaleVersion` error.
struct Refused<'a> {
    bind_key: Box<dyn Fn(&mut Statement) + Send + Sync + 'a>,
    stale: Box<dyn FnOnce() -> RepoError + Send + 'a>,
}

/// [`refused`] without the entity's type, compiled once.
fn refused_in<'a>(
    executor: &'a Executor,
    table: &'static crate::schema::Table,
    exists_by_id: &'static Sql,
    key: Refused<'a>,
) -> Running<'a, RepoError> {
    Box::pin(async move {
        let build = || {
            keyed(
                executor,
                table,
                table.tenant_column().is_some(),
                "exists",
                exists_by_id,
                PlanAction::Exists,
                &key.bind_key,
            )
        };
        let exists = executor.read_rows(table, true, &build).await?.len() > 0;
        Ok(if exists {
            (key.stale)()
        } else {
            RepoError::NotFound {
                entity: table.entity,
            }
        })
    })
}

/// Why an upsert of the row with key `id` wrote nothing: its version is another
/// ([`RepoError::StaleVersion`]), or a soft delete marked it, and its key is taken
/// ([`RepoError::Conflict`]: restore or purge it first).
async fn upsert_refused<E: Entity>(
    executor: &Executor,
    id: &E::Id,
    checked_version: bool,
) -> Result<RepoError, RepoError> {
    let refusal = refused::<E>(executor, id, checked_version).await?;
    if !refusal.is_not_found() || !E::TABLE.hides_rows() {
        return Ok(refusal);
    }
    Ok(held_by_hidden::<E>())
}

/// [`RepoError::Conflict`] on the primary key, which a row the handle does not see holds: one
/// a soft delete marked, or another tenant's.
fn held_by_hidden<E: Entity>() -> RepoError {
    let source = match (E::TABLE.deleted_column(), E::TABLE.tenant_column()) {
        (Some(_), None) => "a deleted row holds the key: restore or purge it first",
        (None, Some(_)) => "another tenant's row holds the key",
        _ => "a deleted row, or another tenant's, holds the key",
    };
    RepoError::Conflict {
        entity: E::NAME,
        constraint: E::TABLE.primary_key.name.to_owned(),
        field: Some(E::TABLE.primary_key.fields),
        source: source.into(),
    }
}

/// [`RepoError::StaleVersion`] for the row with key `id`, the key redacted when sensitive.
fn stale<E: Entity>(id: &E::Id) -> RepoError {
    stale_in(E::TABLE, E::KEY_COLUMNS, format!("{id:?}"))
}

/// [`stale`], compiled once.
fn stale_in(table: &'static crate::schema::Table, key_columns: &[&str], key: String) -> RepoError {
    let sensitive = table
        .columns
        .iter()
        .any(|column| column.sensitive && key_columns.contains(&column.name));
    RepoError::StaleVersion {
        entity: table.entity,
        key: if sensitive {
            "[redacted]".to_owned()
        } else {
            key
        },
    }
}

/// The insert inputs of `news`, as records.
fn new_records<E: Entity, M: Mapping<E>>(news: Vec<M::New>) -> Result<Vec<E::New>, RepoError> {
    news.into_iter().map(M::new_record).collect()
}

/// The condition that selects the row whose `key` columns take the bound values, in order.
fn key_condition(key: &'static [&'static str]) -> repo_sql::Condition {
    repo_sql::Condition::All(
        key.iter()
            .map(|column| repo_sql::Condition::Compare {
                column,
                operator: repo_sql::Operator::Equal,
                values: 1,
            })
            .collect(),
    )
}

/// The row whose `key` columns take the bound values, and, when `at_version`, whose version
/// (`table`'s, if it has one) takes the next.
fn key_at_version(
    table: &'static crate::schema::Table,
    key: &'static [&'static str],
    at_version: bool,
) -> repo_sql::Condition {
    let mut condition = key_condition(key);
    if let (Some(version), true) = (table.policy_column(Policy::Version), at_version)
        && let repo_sql::Condition::All(items) = &mut condition
    {
        items.push(repo_sql::Condition::Compare {
            column: version.name,
            operator: repo_sql::Operator::Equal,
            values: 1,
        });
    }
    condition
}

/// Binds what `entity`'s update writes and its key, then the version it was read at, if
/// versioned, which it returns.
fn bind_update_at_version<E: Entity>(
    entity: &E,
    stamp: &Stamp,
    statement: &mut Statement,
) -> Option<i64> {
    entity.bind_update(stamp, statement);
    let version = entity.version();
    if let Some(version) = version {
        statement.bind(version);
    }
    version
}

/// The row of a cached entity with key `id`, through the cache where it applies.
async fn read_by_key<E: Entity>(
    executor: &Executor,
    operation: &'static str,
    id: &E::Id,
) -> Result<Option<E>, RepoError> {
    crate::cache::by_key::<E, _>(executor, id, row_by_key::<E>(executor, operation, id)).await
}

/// The row of `E` with key `id`, read from the database.
async fn row_by_key<E: Entity>(
    executor: &Executor,
    operation: &'static str,
    id: &E::Id,
) -> Result<Option<E>, RepoError> {
    let build = || {
        by_key::<E>(
            executor,
            operation,
            &E::SQL.select_by_id,
            id,
            PlanAction::Select,
        )
    };
    executor
        .read_rows(E::TABLE, true, &build)
        .await?
        .first::<E>()
}

/// A statement on one row, by its key.
fn by_key<E: Entity>(
    executor: &Executor,
    operation: &'static str,
    sql: &'static Sql,
    id: &E::Id,
    action: PlanAction,
) -> Statement {
    let scoped = const { E::TABLE.tenant_column().is_some() };
    let statement = keyed(
        executor,
        E::TABLE,
        scoped,
        operation,
        sql,
        action,
        |statement| {
            E::bind_id(id, statement);
        },
    );
    match action {
        PlanAction::Delete => crate::cache::touching::<E>(executor, id, statement),
        PlanAction::Select | PlanAction::Count | PlanAction::Exists => statement,
    }
}

/// A statement on the row of `table` whose key `bind_key` binds: the derive's `sql`, scoped
/// to the handle's tenant where `scoped` (the table has a tenant column, which a generic
/// caller knows at compile time); on an unscoped handle, the same without the scope,
/// rendered from the key's condition (reads see the rows that live, a delete any row, as
/// `sql` does).
fn keyed(
    executor: &Executor,
    table: &'static crate::schema::Table,
    scoped: bool,
    operation: &'static str,
    sql: &'static Sql,
    action: PlanAction,
    bind_key: impl FnOnce(&mut Statement),
) -> Statement {
    if scoped && executor.tenancy().is_unscoped() {
        let key = key_condition(table.primary_key.columns);
        let condition = match action {
            PlanAction::Delete => Arc::new(key),
            _ => crate::filter::live_in(table, key),
        };
        return Selection::of(action).statement(executor, table, operation, &condition, bind_key);
    }
    let mut statement = executor
        .statement(operation, sql)
        .shaped(Shape::ByKey(action));
    bind_key(&mut statement);
    if scoped {
        statement.bind_scope(table);
    }
    statement
}

/// The count of every row of `table` that lives: the derive's `sql`, scoped as [`keyed`] has
/// it.
fn every_row(
    executor: &Executor,
    table: &'static crate::schema::Table,
    scoped: bool,
    operation: &'static str,
    sql: &'static Sql,
) -> Statement {
    if scoped && executor.tenancy().is_unscoped() {
        let condition = crate::filter::live_in(table, repo_sql::Condition::always());
        return Selection::of(PlanAction::Count).statement(
            executor,
            table,
            operation,
            &condition,
            |_| {},
        );
    }
    let mut statement = executor.statement(operation, sql).shaped(Shape::Count);
    if scoped {
        statement.bind_scope(table);
    }
    statement
}

/// The rows of `E` whose keys are in `ids`, in the order of `ids`; absent keys are skipped and
/// a repeated key yields its row once. One statement per chunk under the bind limit.
pub(crate) async fn records_by_keys<E: Entity>(
    executor: &Executor,
    ids: &[E::Id],
    operation: &'static str,
) -> Result<Vec<E>, RepoError> {
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
        if E::TABLE.hides_rows() {
            // The rows that live, of the handle's tenant, only: a filter on the keys, which
            // the scope applies to.
            let ids: Vec<E::Id> = chunk.iter().map(|id| (*id).clone()).collect();
            let filter = crate::filter::keys_filter::<E>(&ids);
            let selection = Selection::of(PlanAction::Select);
            let build = || filter.statement(executor, E::TABLE, operation, &selection);
            let mut decoding = Decoding::<E>::new(executor);
            executor.read_into(E::TABLE, &build, &mut decoding).await?;
            found.extend(decoding.rows);
            continue;
        }
        let sql = crate::rendered::by_keys(E::TABLE, dialect, chunk.len());
        let build = || {
            let mut statement = executor
                .assembled(operation, Arc::clone(&sql))
                .shaped(Shape::ByKeys);
            for id in chunk {
                E::bind_id(id, &mut statement);
            }
            statement
        };
        let mut decoding = Decoding::<E>::new(executor);
        executor.read_into(E::TABLE, &build, &mut decoding).await?;
        found.extend(decoding.rows);
    }
    found.sort_by_key(|entity| position.get(&entity.id()).copied().unwrap_or(usize::MAX));
    Ok(found)
}

/// How many rows of `E` `filter` selects.
pub(crate) async fn count_matching<E: Entity>(
    executor: &Executor,
    filter: &Filter<E>,
    operation: &'static str,
) -> Result<u64, RepoError> {
    let selection = Selection::of(PlanAction::Count);
    let build = || filter.statement(executor, E::TABLE, operation, &selection);
    executor
        .read_rows(E::TABLE, true, &build)
        .await?
        .count(E::TABLE)
}

/// Writes the encrypted columns of up to `limit` rows of `E` from `offset`, in key order (the
/// rows a soft delete marked included), encrypted afresh under the handle's newest key; how
/// many rows it read. Run inside a serializable transaction: a row written meanwhile by the
/// application is not overwritten with what was read before.
#[cfg(feature = "encryption")]
pub(crate) async fn reencrypt_batch<E: Entity>(
    executor: &Executor,
    offset: u64,
    limit: u64,
) -> Result<usize, RepoError> {
    let set: Vec<&'static str> = E::TABLE
        .encrypted_columns()
        .map(|column| column.name)
        .collect();
    let records = every_row_from::<E>(executor, offset, limit).await?;
    let condition = Arc::new(key_at_version(E::TABLE, E::KEY_COLUMNS, false));
    for record in &records {
        let mut statement = crate::filter::patch_statement(
            executor,
            E::TABLE,
            "reencrypt",
            set.clone(),
            &condition,
            false,
        );
        record.bind_encrypted(&mut statement);
        E::bind_id(&record.id(), &mut statement);
        statement.bind_scope(E::TABLE);
        executor.execute_in(E::TABLE, statement).await?;
    }
    Ok(records.len())
}

/// Up to `limit` rows of `E` from `offset`, in key order, the rows a soft delete marked
/// included.
#[cfg(feature = "encryption")]
pub(crate) async fn every_row_from<E: Entity>(
    executor: &Executor,
    offset: u64,
    limit: u64,
) -> Result<Vec<E>, RepoError> {
    let selection = select_in_order::<E>(&ListOptions::new().limit(limit).offset(offset));
    let every = Filter::<E>::all().with_deleted();
    let build = || every.statement(executor, E::TABLE, "reencrypt", &selection);
    let mut decoding = Decoding::<E>::new(executor);
    executor.read_into(E::TABLE, &build, &mut decoding).await?;
    Ok(decoding.rows)
}

/// A select in the order `options` ask for, then the key's columns, so that pages never
/// overlap; paged when `options` limit or skip rows.
pub(crate) fn select_in_order<E: Entity>(options: &ListOptions<E::Column>) -> Selection {
    let order = crate::list::order_then_key::<E>(options);
    let page = repo_core::Page {
        limit: options.get_limit(),
        offset: options.get_offset(),
    };
    let paged = page.limit.is_some() || page.offset > 0;
    Selection {
        action: PlanAction::Select,
        order: order.into(),
        page: paged.then(|| crate::ports::page_bounds(page)),
        locking: false,
    }
}
