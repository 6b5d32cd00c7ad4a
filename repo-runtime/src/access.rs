//! Least-privilege views of a repository: [`ReadRepository`], its reads only, and
//! [`WriteRepository`], its reads and the writes that keep rows (no delete), with the wrappers
//! that give them, [`ReadOnly`] and [`NoDelete`]. The derive extends each with the entity's
//! finders (`{Entity}Reader`, `{Entity}Writer`), so that query-side code or a use case that
//! must not delete holds an `Arc<dyn UserReader>` or an `Arc<dyn UserWriter>` and the
//! compiler refuses the rest. A view of the caller's code, not of the database's: the
//! database enforces [`Db::read_only`](crate::Db::read_only) and the roles it is connected as.

use async_trait::async_trait;

use crate::domain::{AsRecord, Mapping};
use crate::entity::Entity;
use crate::error::RepoError;
use crate::filter::Filter;
use crate::keyset::{Cursor, KeysetPage};
use crate::list::ListOptions;
use crate::repository::Repository;
use crate::stream::RowStream;
use crate::unique::UniqueKey;

/// The reads of a repository of `E`, and nothing that writes: for query-side code. Each
/// method is [`Repository`]'s of the same name. Object-safe; the generated `{Entity}Reader`
/// extends it with the entity's finders. [`ReadOnly`] gives it over any repository.
#[async_trait]
pub trait ReadRepository<E: Entity, M: Mapping<E> = AsRecord>: Send + Sync {
    /// The row with this key, or [`RepoError::NotFound`] ([`Repository::get`]).
    async fn get(&self, id: E::Id) -> Result<M::Value, RepoError>;

    /// The row with this key, if any ([`Repository::find`]).
    async fn find(&self, id: E::Id) -> Result<Option<M::Value>, RepoError>;

    /// The rows with these keys, in the order of `ids` ([`Repository::get_many`]).
    async fn get_many(&self, ids: &[E::Id]) -> Result<Vec<M::Value>, RepoError>;

    /// Rows in the requested order and page ([`Repository::list`]).
    async fn list(&self, options: ListOptions<E::Column>) -> Result<Vec<M::Value>, RepoError>;

    /// The rows `filter` selects ([`Repository::find_where`]).
    async fn find_where(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
    ) -> Result<Vec<M::Value>, RepoError>;

    /// The first row `filter` selects ([`Repository::first_where`]).
    async fn first_where(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
    ) -> Result<Option<M::Value>, RepoError>;

    /// A keyset page of the rows `filter` selects ([`Repository::find_page`]).
    async fn find_page(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
        after: Option<&Cursor>,
    ) -> Result<KeysetPage<M::Value>, RepoError>;

    /// The rows `filter` selects, as a stream ([`Repository::stream`]).
    fn stream(&self, filter: &Filter<E>, options: ListOptions<E::Column>) -> RowStream<M::Value>;

    /// How many rows `filter` selects ([`Repository::count_where`]).
    async fn count_where(&self, filter: &Filter<E>) -> Result<u64, RepoError>;

    /// Whether `filter` selects any row ([`Repository::exists_where`]).
    async fn exists_where(&self, filter: &Filter<E>) -> Result<bool, RepoError>;

    /// The number of rows ([`Repository::count`]).
    async fn count(&self) -> Result<u64, RepoError>;

    /// Whether a row has this key ([`Repository::exists`]).
    async fn exists(&self, id: E::Id) -> Result<bool, RepoError>;
}

/// The reads of a repository of `E` and the writes that keep rows: inserts, updates, upserts,
/// patches, and bringing back a soft-deleted row; no `delete`, `delete_where`, `remove` or
/// `purge`. For a use case that must not delete. Each method is [`Repository`]'s of the same
/// name. Object-safe; the generated `{Entity}Writer` extends it with the entity's finders.
/// [`NoDelete`] gives it over any repository.
#[async_trait]
pub trait WriteRepository<E: Entity, M: Mapping<E> = AsRecord>: ReadRepository<E, M> {
    /// Inserts a row and returns it as stored ([`Repository::insert`]).
    async fn insert(&self, new: M::New) -> Result<M::Value, RepoError>;

    /// Inserts all rows in one transaction ([`Repository::insert_many`]).
    async fn insert_many(&self, new: Vec<M::New>) -> Result<Vec<M::Value>, RepoError>;

    /// Writes every non-key field and returns the row as stored ([`Repository::update`]).
    async fn update(&self, entity: &M::Value) -> Result<M::Value, RepoError>;

    /// Writes every non-key field, returning nothing ([`Repository::write`]).
    async fn write(&self, entity: &M::Value) -> Result<(), RepoError>;

    /// Inserts the entity, or updates the row with its key ([`Repository::upsert`]).
    async fn upsert(&self, entity: &M::Value) -> Result<M::Value, RepoError>;

    /// Inserts the rows no stored row holds the `key` of ([`Repository::insert_or_ignore`]).
    async fn insert_or_ignore(
        &self,
        new: Vec<M::New>,
        key: UniqueKey<E>,
    ) -> Result<Vec<M::Value>, RepoError>;

    /// Inserts the row, or updates the one holding its `key` ([`Repository::upsert_on`]).
    async fn upsert_on(&self, new: M::New, key: UniqueKey<E>) -> Result<M::Value, RepoError>;

    /// Writes the fields `patch` gives of the row with this key ([`Repository::patch`]).
    async fn patch(&self, id: E::Id, patch: E::Patch) -> Result<M::Value, RepoError>;

    /// Writes the fields `patch` gives of every row `filter` selects
    /// ([`Repository::patch_where`]).
    async fn patch_where(
        &self,
        filter: &Filter<E>,
        patch: E::Patch,
    ) -> Result<Vec<M::Value>, RepoError>;

    /// Brings back a soft-deleted row ([`Repository::restore`]).
    async fn restore(&self, id: E::Id) -> Result<M::Value, RepoError>;
}

/// A repository that only reads: [`ReadRepository`], and the entity's generated
/// `{Entity}Reader`, over the repository it wraps, which it does not give back.
///
/// ```no_run
/// # use repo_runtime::prelude::*;
/// # #[derive(Debug, Clone, PartialEq, Repository)]
/// # pub struct Note { #[repo(id, generated)] pub id: i64, #[repo(unique)] pub slug: String }
/// # async fn demo(db: &Db) -> Result<(), RepoError> {
/// let notes: std::sync::Arc<dyn NoteReader> = std::sync::Arc::new(ReadOnly::new(Note::repository(db)));
/// let note = notes.find_by_slug("hello").await?;
/// # let _ = note; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ReadOnly<R>(R);

/// A repository that cannot delete: [`WriteRepository`], and the entity's generated
/// `{Entity}Writer`, over the repository it wraps, which it does not give back.
#[derive(Debug, Clone)]
pub struct NoDelete<R>(R);

impl<R> ReadOnly<R> {
    /// The reads of `repository`.
    pub fn new(repository: R) -> Self {
        ReadOnly(repository)
    }

    /// The wrapped repository, for the generated finders only.
    #[doc(hidden)]
    pub fn __unrestricted(&self) -> &R {
        &self.0
    }
}

impl<R> NoDelete<R> {
    /// `repository` without its deletes.
    pub fn new(repository: R) -> Self {
        NoDelete(repository)
    }

    /// The wrapped repository, for the generated finders only.
    #[doc(hidden)]
    pub fn __unrestricted(&self) -> &R {
        &self.0
    }
}

/// `ReadRepository` for a wrapper of a `Repository`, each method the wrapped one's.
macro_rules! reads_of {
    ($wrapper:ident) => {
        #[async_trait]
        impl<E, M, R> ReadRepository<E, M> for $wrapper<R>
        where
            E: Entity,
            M: Mapping<E>,
            R: Repository<E, M>,
        {
            async fn get(&self, id: E::Id) -> Result<M::Value, RepoError> {
                Repository::get(&self.0, id).await
            }

            async fn find(&self, id: E::Id) -> Result<Option<M::Value>, RepoError> {
                Repository::find(&self.0, id).await
            }

            async fn get_many(&self, ids: &[E::Id]) -> Result<Vec<M::Value>, RepoError> {
                Repository::get_many(&self.0, ids).await
            }

            async fn list(
                &self,
                options: ListOptions<E::Column>,
            ) -> Result<Vec<M::Value>, RepoError> {
                Repository::list(&self.0, options).await
            }

            async fn find_where(
                &self,
                filter: &Filter<E>,
                options: ListOptions<E::Column>,
            ) -> Result<Vec<M::Value>, RepoError> {
                Repository::find_where(&self.0, filter, options).await
            }

            async fn first_where(
                &self,
                filter: &Filter<E>,
                options: ListOptions<E::Column>,
            ) -> Result<Option<M::Value>, RepoError> {
                Repository::first_where(&self.0, filter, options).await
            }

            async fn find_page(
                &self,
                filter: &Filter<E>,
                options: ListOptions<E::Column>,
                after: Option<&Cursor>,
            ) -> Result<KeysetPage<M::Value>, RepoError> {
                Repository::find_page(&self.0, filter, options, after).await
            }

            fn stream(
                &self,
                filter: &Filter<E>,
                options: ListOptions<E::Column>,
            ) -> RowStream<M::Value> {
                Repository::stream(&self.0, filter, options)
            }

            async fn count_where(&self, filter: &Filter<E>) -> Result<u64, RepoError> {
                Repository::count_where(&self.0, filter).await
            }

            async fn exists_where(&self, filter: &Filter<E>) -> Result<bool, RepoError> {
                Repository::exists_where(&self.0, filter).await
            }

            async fn count(&self) -> Result<u64, RepoError> {
                Repository::count(&self.0).await
            }

            async fn exists(&self, id: E::Id) -> Result<bool, RepoError> {
                Repository::exists(&self.0, id).await
            }
        }
    };
}

reads_of!(ReadOnly);
reads_of!(NoDelete);

#[async_trait]
impl<E, M, R> WriteRepository<E, M> for NoDelete<R>
where
    E: Entity,
    M: Mapping<E>,
    R: Repository<E, M>,
{
    async fn insert(&self, new: M::New) -> Result<M::Value, RepoError> {
        Repository::insert(&self.0, new).await
    }

    async fn insert_many(&self, new: Vec<M::New>) -> Result<Vec<M::Value>, RepoError> {
        Repository::insert_many(&self.0, new).await
    }

    async fn update(&self, entity: &M::Value) -> Result<M::Value, RepoError> {
        Repository::update(&self.0, entity).await
    }

    async fn write(&self, entity: &M::Value) -> Result<(), RepoError> {
        Repository::write(&self.0, entity).await
    }

    async fn upsert(&self, entity: &M::Value) -> Result<M::Value, RepoError> {
        Repository::upsert(&self.0, entity).await
    }

    async fn insert_or_ignore(
        &self,
        new: Vec<M::New>,
        key: UniqueKey<E>,
    ) -> Result<Vec<M::Value>, RepoError> {
        Repository::insert_or_ignore(&self.0, new, key).await
    }

    async fn upsert_on(&self, new: M::New, key: UniqueKey<E>) -> Result<M::Value, RepoError> {
        Repository::upsert_on(&self.0, new, key).await
    }

    async fn patch(&self, id: E::Id, patch: E::Patch) -> Result<M::Value, RepoError> {
        Repository::patch(&self.0, id, patch).await
    }

    async fn patch_where(
        &self,
        filter: &Filter<E>,
        patch: E::Patch,
    ) -> Result<Vec<M::Value>, RepoError> {
        Repository::patch_where(&self.0, filter, patch).await
    }

    async fn restore(&self, id: E::Id) -> Result<M::Value, RepoError> {
        Repository::restore(&self.0, id).await
    }
}
