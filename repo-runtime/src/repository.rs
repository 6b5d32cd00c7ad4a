//! The repository of an entity, written once: [`Repository`], the object-safe operations every
//! generated `{Entity}Repository` trait extends with its finders; their SQL implementation for
//! every generated `Sql{Entity}Repository` ([`SqlRepository`]); and fault injection through
//! [`Faulty`]. The derive emits none of this per entity.

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use repo_core::Faulty;

use crate::dispatch::{Dispatch, Owning, Repo};
use crate::domain::{AsRecord, Mapping};
use crate::entity::Entity;
use crate::error::RepoError;
use crate::filter::Filter;
use crate::keyset::{Cursor, KeysetPage};
use crate::list::ListOptions;
use crate::operations::{Operations, SqlRepository};
use crate::stream::RowStream;
use crate::unique::UniqueKey;

/// The operations every repository of `E` has, in the values `M` maps to (the record itself by
/// default, or its domain type). Object-safe: the generated `{Entity}Repository` trait extends
/// it with the entity's finders and is held as `Arc<dyn UserRepository>`.
///
/// Implemented for every generated SQL repository, on any backend, and for [`Faulty`] over
/// any implementation; a test double may implement it by hand.
#[async_trait]
pub trait Repository<E: Entity, M: Mapping<E> = AsRecord>: Send + Sync {
    /// Inserts a row and returns it as stored, with its key.
    async fn insert(&self, new: M::New) -> Result<M::Value, RepoError>;

    /// Inserts all rows in one transaction, in chunks under the backend's bind-parameter limit,
    /// and returns them as stored, in input order. Nothing is written if any row fails.
    async fn insert_many(&self, new: Vec<M::New>) -> Result<Vec<M::Value>, RepoError>;

    /// The row with this key, or [`RepoError::NotFound`].
    async fn get(&self, id: E::Id) -> Result<M::Value, RepoError>;

    /// The row with this key, if any.
    async fn find(&self, id: E::Id) -> Result<Option<M::Value>, RepoError>;

    /// The rows with these keys, in the order of `ids`; absent keys are skipped.
    async fn get_many(&self, ids: &[E::Id]) -> Result<Vec<M::Value>, RepoError>;

    /// Rows in the requested order (the key by default) and page.
    async fn list(&self, options: ListOptions<E::Column>) -> Result<Vec<M::Value>, RepoError>;

    /// The rows `filter` selects, in the requested order (the key by default) and page.
    async fn find_where(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
    ) -> Result<Vec<M::Value>, RepoError>;

    /// The first row `filter` selects in the requested order (the key by default), if any.
    async fn first_where(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
    ) -> Result<Option<M::Value>, RepoError>;

    /// A keyset page: the first rows `filter` selects in the order `options` ask for (the key
    /// last, breaking ties), at most `options`' limit, after the row `after` was taken from
    /// (from the first row without one). The page's `next` cursor continues it; `None` when
    /// no row follows. No offset: a deep page costs what the first does.
    async fn find_page(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
        after: Option<&Cursor>,
    ) -> Result<KeysetPage<M::Value>, RepoError>;

    /// The rows `filter` selects, in the requested order (the key by default) and page, as a
    /// stream read as it is consumed: for result sets that do not fit in memory. Inside a
    /// transaction, its other statements wait until the stream ends or is dropped.
    fn stream(&self, filter: &Filter<E>, options: ListOptions<E::Column>) -> RowStream<M::Value>;

    /// How many rows `filter` selects.
    async fn count_where(&self, filter: &Filter<E>) -> Result<u64, RepoError>;

    /// Whether `filter` selects any row.
    async fn exists_where(&self, filter: &Filter<E>) -> Result<bool, RepoError>;

    /// Deletes the rows `filter` selects, and returns how many there were.
    async fn delete_where(&self, filter: &Filter<E>) -> Result<u64, RepoError>;

    /// The number of rows.
    async fn count(&self) -> Result<u64, RepoError>;

    /// Whether a row has this key.
    async fn exists(&self, id: E::Id) -> Result<bool, RepoError>;

    /// Writes every non-key field of the row with this entity's key and returns it as stored,
    /// or [`RepoError::NotFound`].
    async fn update(&self, entity: &M::Value) -> Result<M::Value, RepoError>;

    /// Writes every non-key field of the row with this entity's key, as
    /// [`Repository::update`] does, and returns nothing: one statement on every backend (an
    /// update that returns the row is two on MySQL and MariaDB, whose `UPDATE` has no
    /// `RETURNING`). [`RepoError::NotFound`] when no row has the key, and
    /// [`RepoError::StaleVersion`] for a versioned entity written since it was read; on
    /// success the stored version is one past the entity's.
    async fn write(&self, entity: &M::Value) -> Result<(), RepoError>;

    /// Deletes the row with this key; `false` when there was none. With soft delete
    /// (`#[repo(deleted_at)]`) the row is marked, not removed: every read leaves it out,
    /// [`Repository::restore`] brings it back and [`Repository::purge`] removes it. It checks
    /// no version: a versioned row is deleted whatever its version (use
    /// [`Repository::remove`] to delete a row as read).
    async fn delete(&self, id: E::Id) -> Result<bool, RepoError>;

    /// Brings back the row with this key that a soft delete marked, and returns it as
    /// stored; [`RepoError::NotFound`] when no deleted row has the key, and
    /// [`RepoError::InvalidInput`] for an entity without `#[repo(deleted_at)]`.
    async fn restore(&self, id: E::Id) -> Result<M::Value, RepoError>;

    /// Deletes the row with this key for good, marked deleted or not (with its owned
    /// children, for an aggregate root); `false` when there was none. For an entity without
    /// soft delete, the same as [`Repository::delete`].
    async fn purge(&self, id: E::Id) -> Result<bool, RepoError>;

    /// Deletes the row with this entity's key, as it was read: [`RepoError::NotFound`] when no
    /// row has that key and, for a versioned entity (`#[repo(version)]`),
    /// [`RepoError::StaleVersion`] when the row was written since (nothing is deleted).
    async fn remove(&self, entity: &M::Value) -> Result<(), RepoError>;

    /// Inserts the entity, or updates the row with its key; returns it as stored.
    async fn upsert(&self, entity: &M::Value) -> Result<M::Value, RepoError>;

    /// Inserts the rows whose `key` values no stored row holds (nor an earlier row of `new`),
    /// skipping the others, in one statement per chunk (row by row on MySQL) and one
    /// transaction; returns the rows it inserted, in key order. Race-free: a row another
    /// writer inserts first is skipped too. A conflict on another unique key is
    /// [`RepoError::Conflict`] and writes nothing.
    async fn insert_or_ignore(
        &self,
        new: Vec<M::New>,
        key: UniqueKey<E>,
    ) -> Result<Vec<M::Value>, RepoError>;

    /// Inserts `new`, or when a stored row holds its `key` values, writes its other fields
    /// (outside the primary key, which the stored row keeps) into that row; returns the row as
    /// stored. A conflict on another unique key is [`RepoError::Conflict`] and writes nothing.
    async fn upsert_on(&self, new: M::New, key: UniqueKey<E>) -> Result<M::Value, RepoError>;

    /// Writes the fields `patch` gives to the row with this key and returns it as stored, or
    /// [`RepoError::NotFound`]. The other fields keep their stored values.
    async fn patch(&self, id: E::Id, patch: E::Patch) -> Result<M::Value, RepoError>;

    /// Writes the fields `patch` gives to every row `filter` selects, in one statement (one
    /// transaction on MySQL), and returns them as stored, in key order.
    async fn patch_where(
        &self,
        filter: &Filter<E>,
        patch: E::Patch,
    ) -> Result<Vec<M::Value>, RepoError>;
}

/// The future of a [`Repository`] method, as `async_trait` declares it.
type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, RepoError>> + Send + 'a>>;

/// Each method boxes the future of its `Operations` function, one state machine per call
/// (what `#[async_trait]` would write wraps it in a second one), through the entity's
/// [`Dispatch`]: an aggregate root's operations load and write its children.
impl<R: Repo> Repository<R::Entity, R::Mapping> for R {
    fn insert<'life0, 'async_trait>(&'life0 self, new: NewValue<R>) -> Boxed<'async_trait, Value<R>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::insert::<R>(self.executor(), new)
    }

    fn insert_many<'life0, 'async_trait>(
        &'life0 self,
        new: Vec<NewValue<R>>,
    ) -> Boxed<'async_trait, Vec<Value<R>>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::insert_many::<R>(self.executor(), new)
    }

    fn get<'life0, 'async_trait>(&'life0 self, id: Id<R>) -> Boxed<'async_trait, Value<R>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::get::<R>(self.executor(), id)
    }

    fn find<'life0, 'async_trait>(&'life0 self, id: Id<R>) -> Boxed<'async_trait, Option<Value<R>>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::find::<R>(self.executor(), id)
    }

    fn get_many<'life0, 'life1, 'async_trait>(
        &'life0 self,
        ids: &'life1 [Id<R>],
    ) -> Boxed<'async_trait, Vec<Value<R>>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::get_many::<R>(self.executor(), ids)
    }

    fn list<'life0, 'async_trait>(
        &'life0 self,
        options: ListOptions<<R::Entity as Entity>::Column>,
    ) -> Boxed<'async_trait, Vec<Value<R>>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::select::<R>(self.executor(), None, options, "list")
    }

    fn find_where<'life0, 'life1, 'async_trait>(
        &'life0 self,
        filter: &'life1 Filter<R::Entity>,
        options: ListOptions<<R::Entity as Entity>::Column>,
    ) -> Boxed<'async_trait, Vec<Value<R>>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::select::<R>(
            self.executor(),
            Some(filter),
            options,
            "find_where",
        )
    }

    fn first_where<'life0, 'life1, 'async_trait>(
        &'life0 self,
        filter: &'life1 Filter<R::Entity>,
        options: ListOptions<<R::Entity as Entity>::Column>,
    ) -> Boxed<'async_trait, Option<Value<R>>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        let options = options.limit(1);
        let select = <Dispatched<R> as Dispatch>::select::<R>(
            self.executor(),
            Some(filter),
            options,
            "first_where",
        );
        Box::pin(async move { Ok(select.await?.into_iter().next()) })
    }

    fn find_page<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        filter: &'life1 Filter<R::Entity>,
        options: ListOptions<<R::Entity as Entity>::Column>,
        after: Option<&'life2 Cursor>,
    ) -> Boxed<'async_trait, KeysetPage<Value<R>>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::find_page::<R>(self.executor(), filter, options, after)
    }

    fn stream(
        &self,
        filter: &Filter<R::Entity>,
        options: ListOptions<<R::Entity as Entity>::Column>,
    ) -> RowStream<Value<R>> {
        <Dispatched<R> as Dispatch>::stream::<R>(self.executor(), filter, options)
    }

    fn count_where<'life0, 'life1, 'async_trait>(
        &'life0 self,
        filter: &'life1 Filter<R::Entity>,
    ) -> Boxed<'async_trait, u64>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(<R as Operations>::count_where(self.executor(), filter))
    }

    fn exists_where<'life0, 'life1, 'async_trait>(
        &'life0 self,
        filter: &'life1 Filter<R::Entity>,
    ) -> Boxed<'async_trait, bool>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(<R as Operations>::exists_where(self.executor(), filter))
    }

    fn delete_where<'life0, 'life1, 'async_trait>(
        &'life0 self,
        filter: &'life1 Filter<R::Entity>,
    ) -> Boxed<'async_trait, u64>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::delete_where::<R>(self.executor(), filter)
    }

    fn count<'life0, 'async_trait>(&'life0 self) -> Boxed<'async_trait, u64>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(<R as Operations>::count(self.executor()))
    }

    fn exists<'life0, 'async_trait>(&'life0 self, id: Id<R>) -> Boxed<'async_trait, bool>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(<R as Operations>::exists(self.executor(), id))
    }

    fn update<'life0, 'life1, 'async_trait>(
        &'life0 self,
        entity: &'life1 Value<R>,
    ) -> Boxed<'async_trait, Value<R>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::update::<R>(self.executor(), entity)
    }

    fn delete<'life0, 'async_trait>(&'life0 self, id: Id<R>) -> Boxed<'async_trait, bool>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::delete::<R>(self.executor(), id)
    }

    fn write<'life0, 'life1, 'async_trait>(
        &'life0 self,
        entity: &'life1 Value<R>,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::write::<R>(self.executor(), entity)
    }

    fn remove<'life0, 'life1, 'async_trait>(
        &'life0 self,
        entity: &'life1 Value<R>,
    ) -> Boxed<'async_trait, ()>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::remove::<R>(self.executor(), entity)
    }

    fn restore<'life0, 'async_trait>(&'life0 self, id: Id<R>) -> Boxed<'async_trait, Value<R>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::restore::<R>(self.executor(), id)
    }

    fn purge<'life0, 'async_trait>(&'life0 self, id: Id<R>) -> Boxed<'async_trait, bool>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::purge::<R>(self.executor(), id)
    }

    fn upsert<'life0, 'life1, 'async_trait>(
        &'life0 self,
        entity: &'life1 Value<R>,
    ) -> Boxed<'async_trait, Value<R>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::upsert::<R>(self.executor(), entity)
    }

    fn insert_or_ignore<'life0, 'async_trait>(
        &'life0 self,
        new: Vec<NewValue<R>>,
        key: UniqueKey<R::Entity>,
    ) -> Boxed<'async_trait, Vec<Value<R>>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::insert_or_ignore::<R>(self.executor(), new, key)
    }

    fn upsert_on<'life0, 'async_trait>(
        &'life0 self,
        new: NewValue<R>,
        key: UniqueKey<R::Entity>,
    ) -> Boxed<'async_trait, Value<R>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::upsert_on::<R>(self.executor(), new, key)
    }

    fn patch<'life0, 'async_trait>(
        &'life0 self,
        id: Id<R>,
        patch: Patch<R>,
    ) -> Boxed<'async_trait, Value<R>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::patch::<R>(self.executor(), id, patch)
    }

    fn patch_where<'life0, 'life1, 'async_trait>(
        &'life0 self,
        filter: &'life1 Filter<R::Entity>,
        patch: Patch<R>,
    ) -> Boxed<'async_trait, Vec<Value<R>>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        <Dispatched<R> as Dispatch>::patch_where::<R>(self.executor(), filter, patch)
    }
}

/// How a repository's entity runs its operations on whole rows.
type Dispatched<R> = <<R as SqlRepository>::Entity as Owning>::Dispatch;

/// The key of a repository's entity.
type Id<R> = <<R as SqlRepository>::Entity as Entity>::Id;
/// What a repository's reads return.
type Value<R> = <<R as SqlRepository>::Mapping as Mapping<<R as SqlRepository>::Entity>>::Value;
/// A repository's patch type.
type Patch<R> = <<R as SqlRepository>::Entity as Entity>::Patch;
/// What a repository's `insert` takes.
type NewValue<R> = <<R as SqlRepository>::Mapping as Mapping<<R as SqlRepository>::Entity>>::New;

/// Each call first passes through the faults, named by the method.
#[async_trait]
impl<E, M, R> Repository<E, M> for Faulty<R>
where
    E: Entity,
    M: Mapping<E>,
    R: Repository<E, M>,
{
    async fn insert(&self, new: M::New) -> Result<M::Value, RepoError> {
        self.faults().check("insert")?;
        self.inner().insert(new).await
    }

    async fn insert_many(&self, new: Vec<M::New>) -> Result<Vec<M::Value>, RepoError> {
        self.faults().check("insert_many")?;
        self.inner().insert_many(new).await
    }

    async fn get(&self, id: E::Id) -> Result<M::Value, RepoError> {
        self.faults().check("get")?;
        self.inner().get(id).await
    }

    async fn find(&self, id: E::Id) -> Result<Option<M::Value>, RepoError> {
        self.faults().check("find")?;
        self.inner().find(id).await
    }

    async fn get_many(&self, ids: &[E::Id]) -> Result<Vec<M::Value>, RepoError> {
        self.faults().check("get_many")?;
        self.inner().get_many(ids).await
    }

    async fn list(&self, options: ListOptions<E::Column>) -> Result<Vec<M::Value>, RepoError> {
        self.faults().check("list")?;
        self.inner().list(options).await
    }

    async fn find_where(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
    ) -> Result<Vec<M::Value>, RepoError> {
        self.faults().check("find_where")?;
        self.inner().find_where(filter, options).await
    }

    async fn first_where(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
    ) -> Result<Option<M::Value>, RepoError> {
        self.faults().check("first_where")?;
        self.inner().first_where(filter, options).await
    }

    async fn find_page(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
        after: Option<&Cursor>,
    ) -> Result<KeysetPage<M::Value>, RepoError> {
        self.faults().check("find_page")?;
        self.inner().find_page(filter, options, after).await
    }

    fn stream(&self, filter: &Filter<E>, options: ListOptions<E::Column>) -> RowStream<M::Value> {
        match self.faults().check("stream") {
            Ok(()) => self.inner().stream(filter, options),
            Err(error) => crate::stream::failed(error),
        }
    }

    async fn count_where(&self, filter: &Filter<E>) -> Result<u64, RepoError> {
        self.faults().check("count_where")?;
        self.inner().count_where(filter).await
    }

    async fn exists_where(&self, filter: &Filter<E>) -> Result<bool, RepoError> {
        self.faults().check("exists_where")?;
        self.inner().exists_where(filter).await
    }

    async fn delete_where(&self, filter: &Filter<E>) -> Result<u64, RepoError> {
        self.faults().check("delete_where")?;
        self.inner().delete_where(filter).await
    }

    async fn count(&self) -> Result<u64, RepoError> {
        self.faults().check("count")?;
        self.inner().count().await
    }

    async fn exists(&self, id: E::Id) -> Result<bool, RepoError> {
        self.faults().check("exists")?;
        self.inner().exists(id).await
    }

    async fn update(&self, entity: &M::Value) -> Result<M::Value, RepoError> {
        self.faults().check("update")?;
        self.inner().update(entity).await
    }

    async fn delete(&self, id: E::Id) -> Result<bool, RepoError> {
        self.faults().check("delete")?;
        self.inner().delete(id).await
    }

    async fn write(&self, entity: &M::Value) -> Result<(), RepoError> {
        self.faults().check("write")?;
        self.inner().write(entity).await
    }

    async fn remove(&self, entity: &M::Value) -> Result<(), RepoError> {
        self.faults().check("remove")?;
        self.inner().remove(entity).await
    }

    async fn restore(&self, id: E::Id) -> Result<M::Value, RepoError> {
        self.faults().check("restore")?;
        self.inner().restore(id).await
    }

    async fn purge(&self, id: E::Id) -> Result<bool, RepoError> {
        self.faults().check("purge")?;
        self.inner().purge(id).await
    }

    async fn upsert(&self, entity: &M::Value) -> Result<M::Value, RepoError> {
        self.faults().check("upsert")?;
        self.inner().upsert(entity).await
    }

    async fn insert_or_ignore(
        &self,
        new: Vec<M::New>,
        key: UniqueKey<E>,
    ) -> Result<Vec<M::Value>, RepoError> {
        self.faults().check("insert_or_ignore")?;
        self.inner().insert_or_ignore(new, key).await
    }

    async fn upsert_on(&self, new: M::New, key: UniqueKey<E>) -> Result<M::Value, RepoError> {
        self.faults().check("upsert_on")?;
        self.inner().upsert_on(new, key).await
    }

    async fn patch(&self, id: E::Id, patch: E::Patch) -> Result<M::Value, RepoError> {
        self.faults().check("patch")?;
        self.inner().patch(id, patch).await
    }

    async fn patch_where(
        &self,
        filter: &Filter<E>,
        patch: E::Patch,
    ) -> Result<Vec<M::Value>, RepoError> {
        self.faults().check("patch_where")?;
        self.inner().patch_where(filter, patch).await
    }
}

/// Where a generated SQL repository may run, fixed by its type parameter: [`AnyDb`], or
/// `MemoryDb` for the in-memory repository. It decides only the constructors.
pub trait Backing: sealed::Sealed + std::fmt::Debug + Clone + Copy + Send + Sync + 'static {}

mod sealed {
    pub trait Sealed {}
}

/// Any database, or a transaction on one: `Sql{Entity}Repository`, from `Entity::repository`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyDb;

impl sealed::Sealed for AnyDb {}
impl Backing for AnyDb {}

/// Only a `Db::memory()`, or a transaction on one: `InMemory{Entity}Repository`.
#[cfg(feature = "memory")]
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryDb;

#[cfg(feature = "memory")]
impl sealed::Sealed for MemoryDb {}
#[cfg(feature = "memory")]
impl Backing for MemoryDb {}
