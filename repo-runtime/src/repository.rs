//! The repository of an entity, written once: [`Repository`], the object-safe operations every
//! generated `{Entity}Repository` trait extends with its finders; their SQL implementation for
//! every generated `Sql{Entity}Repository` ([`SqlRepository`]); and fault injection through
//! [`Faulty`]. The derive emits none of this per entity.

use async_trait::async_trait;
use repo_core::Faulty;

use crate::domain::{AsRecord, Mapping, found};
use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::Executor;
use crate::list::ListOptions;
use crate::operations;

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

    /// The number of rows.
    async fn count(&self) -> Result<u64, RepoError>;

    /// Whether a row has this key.
    async fn exists(&self, id: E::Id) -> Result<bool, RepoError>;

    /// Writes every non-key field of the row with this entity's key and returns it as stored,
    /// or [`RepoError::NotFound`].
    async fn update(&self, entity: &M::Value) -> Result<M::Value, RepoError>;

    /// Deletes the row with this key; `false` when there was none.
    async fn delete(&self, id: E::Id) -> Result<bool, RepoError>;

    /// Inserts the entity, or updates the row with its key; returns it as stored.
    async fn upsert(&self, entity: &M::Value) -> Result<M::Value, RepoError>;
}

/// A generated `Sql{Entity}Repository`: which entity, in which values, and where its statements
/// run. Every such repository is a [`Repository`] through this trait.
pub trait SqlRepository: Send + Sync {
    /// The record.
    type Entity: Entity;
    /// What the repository's values are: the record, or its domain type.
    type Mapping: Mapping<Self::Entity>;

    /// Where this repository runs its statements: a database, or a transaction on one.
    fn executor(&self) -> &Executor;
}

#[async_trait]
impl<R: SqlRepository> Repository<R::Entity, R::Mapping> for R {
    async fn insert(
        &self,
        new: <R::Mapping as Mapping<R::Entity>>::New,
    ) -> Result<<R::Mapping as Mapping<R::Entity>>::Value, RepoError> {
        let new = R::Mapping::new_record(new)?;
        R::Mapping::value(operations::insert::<R::Entity>(self.executor(), new).await?)
    }

    async fn insert_many(
        &self,
        new: Vec<<R::Mapping as Mapping<R::Entity>>::New>,
    ) -> Result<Vec<<R::Mapping as Mapping<R::Entity>>::Value>, RepoError> {
        let news = new
            .into_iter()
            .map(R::Mapping::new_record)
            .collect::<Result<Vec<_>, _>>()?;
        R::Mapping::values(operations::insert_many::<R::Entity>(self.executor(), news).await?)
    }

    async fn get(
        &self,
        id: <R::Entity as Entity>::Id,
    ) -> Result<<R::Mapping as Mapping<R::Entity>>::Value, RepoError> {
        R::Mapping::value(operations::get::<R::Entity>(self.executor(), &id).await?)
    }

    async fn find(
        &self,
        id: <R::Entity as Entity>::Id,
    ) -> Result<Option<<R::Mapping as Mapping<R::Entity>>::Value>, RepoError> {
        found::<R::Entity, R::Mapping>(operations::find(self.executor(), &id).await?)
    }

    async fn get_many(
        &self,
        ids: &[<R::Entity as Entity>::Id],
    ) -> Result<Vec<<R::Mapping as Mapping<R::Entity>>::Value>, RepoError> {
        R::Mapping::values(operations::get_many::<R::Entity>(self.executor(), ids).await?)
    }

    async fn list(
        &self,
        options: ListOptions<<R::Entity as Entity>::Column>,
    ) -> Result<Vec<<R::Mapping as Mapping<R::Entity>>::Value>, RepoError> {
        R::Mapping::values(operations::list::<R::Entity>(self.executor(), &options).await?)
    }

    async fn count(&self) -> Result<u64, RepoError> {
        operations::count::<R::Entity>(self.executor()).await
    }

    async fn exists(&self, id: <R::Entity as Entity>::Id) -> Result<bool, RepoError> {
        operations::exists::<R::Entity>(self.executor(), &id).await
    }

    async fn update(
        &self,
        entity: &<R::Mapping as Mapping<R::Entity>>::Value,
    ) -> Result<<R::Mapping as Mapping<R::Entity>>::Value, RepoError> {
        let record = R::Mapping::record(entity)?;
        R::Mapping::value(operations::update::<R::Entity>(self.executor(), &*record).await?)
    }

    async fn delete(&self, id: <R::Entity as Entity>::Id) -> Result<bool, RepoError> {
        operations::delete::<R::Entity>(self.executor(), &id).await
    }

    async fn upsert(
        &self,
        entity: &<R::Mapping as Mapping<R::Entity>>::Value,
    ) -> Result<<R::Mapping as Mapping<R::Entity>>::Value, RepoError> {
        let record = R::Mapping::record(entity)?;
        R::Mapping::value(operations::upsert::<R::Entity>(self.executor(), &*record).await?)
    }
}

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

    async fn upsert(&self, entity: &M::Value) -> Result<M::Value, RepoError> {
        self.faults().check("upsert")?;
        self.inner().upsert(entity).await
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
