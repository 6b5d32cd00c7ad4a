//! What an entity owns ([`Owning`], implemented by the derive for every entity: nothing, or an
//! aggregate root's children) and how its repository runs the operations that read or write
//! whole rows: as they are ([`Rows`]), or an aggregate root's, with its owned children
//! (`Aggregate`, in `aggregate.rs`). Chosen by the derive through `Owning::Dispatch`, a type
//! rather than a branch, so that an entity that owns nothing never compiles the aggregate's
//! code.

use std::future::Future;
use std::pin::Pin;

use crate::domain::Mapping;
use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::{Executor, Running};
use crate::filter::Filter;
use crate::keyset::{Cursor, KeysetPage};
use crate::list::ListOptions;
use crate::operations::{Operations, SqlRepository};
use crate::stream::RowStream;
use crate::unique::UniqueKey;

/// A repository whose entity says what it owns: every generated one.
pub trait Repo: SqlRepository<Entity: Owning> {}

impl<R: SqlRepository<Entity: Owning>> Repo for R {}

/// A boxed future of a repository method.
pub(crate) type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, RepoError>> + Send + 'a>>;

pub(crate) type Root<R> = <R as SqlRepository>::Entity;
pub(crate) type Id<R> = <Root<R> as Entity>::Id;
pub(crate) type Column<R> = <Root<R> as Entity>::Column;
pub(crate) type Patch<R> = <Root<R> as Entity>::Patch;
pub(crate) type Value<R> = <<R as SqlRepository>::Mapping as Mapping<Root<R>>>::Value;
pub(crate) type NewValue<R> = <<R as SqlRepository>::Mapping as Mapping<Root<R>>>::New;

/// What an entity owns, implemented by the derive for every entity: nothing (the defaults),
/// or, for an aggregate root (`owns(..)`), children its reads load, its writes write and its
/// deletes delete, in one unit of work.
#[doc(hidden)]
pub trait Owning: Entity {
    /// How its repository runs its operations on whole rows: [`Rows`], or `Aggregate`.
    type Dispatch: Dispatch;
    /// Whether it owns children.
    const OWNS: bool = false;

    /// Loads the owned children of `rows` into them: one statement per collection.
    fn load_owned<'a>(executor: &'a Executor, rows: &'a mut [Self]) -> Running<'a, ()> {
        let _ = (executor, rows);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Writes the owned children `rows` hold, after the rows themselves (just `inserted`, or
    /// written over): new ones inserted, changed ones updated, the others deleted; each row
    /// then holds its children as stored.
    fn save_owned<'a>(
        executor: &'a Executor,
        rows: &'a mut [Self],
        inserted: bool,
    ) -> Running<'a, ()> {
        let _ = (executor, rows, inserted);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Deletes the owned children of the rows `roots` selects.
    fn delete_owned<'a>(executor: &'a Executor, roots: &'a Filter<Self>) -> Running<'a, ()> {
        let _ = (executor, roots);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Copies the owned children `from` holds into `into` (a row as written, as stored).
    fn copy_owned(from: &Self, into: &mut Self) {
        let _ = (from, into);
    }
}

/// `rows` with their owned children (none for an entity that owns none).
pub async fn loaded<E: Owning>(executor: &Executor, mut rows: Vec<E>) -> Result<Vec<E>, RepoError> {
    if E::OWNS && !rows.is_empty() {
        E::load_owned(executor, &mut rows).await?;
    }
    Ok(rows)
}

/// `row` with its owned children: what a generated finder of an aggregate root returns.
pub async fn load_one<E: Owning>(
    executor: &Executor,
    row: Option<E>,
) -> Result<Option<E>, RepoError> {
    Ok(loaded(executor, row.into_iter().collect()).await?.pop())
}

/// The operations on whole rows of the repository `R`, each a boxed future.
#[doc(hidden)]
pub trait Dispatch: Send + Sync + 'static {
    fn insert<'a, R: Repo + 'a>(executor: &'a Executor, new: NewValue<R>) -> Boxed<'a, Value<R>>;
    fn insert_many<'a, R: Repo + 'a>(
        executor: &'a Executor,
        news: Vec<NewValue<R>>,
    ) -> Boxed<'a, Vec<Value<R>>>;
    fn get<'a, R: Repo + 'a>(executor: &'a Executor, id: Id<R>) -> Boxed<'a, Value<R>>;
    fn find<'a, R: Repo + 'a>(executor: &'a Executor, id: Id<R>) -> Boxed<'a, Option<Value<R>>>;
    fn get_many<'a, R: Repo + 'a>(
        executor: &'a Executor,
        ids: &'a [Id<R>],
    ) -> Boxed<'a, Vec<Value<R>>>;
    /// `list`, `find_where` and `first_where`.
    fn select<'a, R: Repo + 'a>(
        executor: &'a Executor,
        filter: Option<&'a Filter<Root<R>>>,
        options: ListOptions<Column<R>>,
        operation: &'static str,
    ) -> Boxed<'a, Vec<Value<R>>>;
    fn find_page<'a, R: Repo + 'a>(
        executor: &'a Executor,
        filter: &'a Filter<Root<R>>,
        options: ListOptions<Column<R>>,
        after: Option<&'a Cursor>,
    ) -> Boxed<'a, KeysetPage<Value<R>>>;
    fn stream<R: Repo>(
        executor: &Executor,
        filter: &Filter<Root<R>>,
        options: ListOptions<Column<R>>,
    ) -> RowStream<Value<R>>;
    fn delete_where<'a, R: Repo + 'a>(
        executor: &'a Executor,
        filter: &'a Filter<Root<R>>,
    ) -> Boxed<'a, u64>;
    fn update<'a, R: Repo + 'a>(executor: &'a Executor, value: &'a Value<R>)
    -> Boxed<'a, Value<R>>;
    fn upsert<'a, R: Repo + 'a>(executor: &'a Executor, value: &'a Value<R>)
    -> Boxed<'a, Value<R>>;
    fn write<'a, R: Repo + 'a>(executor: &'a Executor, value: &'a Value<R>) -> Boxed<'a, ()>;
    fn delete<'a, R: Repo + 'a>(executor: &'a Executor, id: Id<R>) -> Boxed<'a, bool>;
    fn remove<'a, R: Repo + 'a>(executor: &'a Executor, value: &'a Value<R>) -> Boxed<'a, ()>;
    fn restore<'a, R: Repo + 'a>(executor: &'a Executor, id: Id<R>) -> Boxed<'a, Value<R>>;
    fn purge<'a, R: Repo + 'a>(executor: &'a Executor, id: Id<R>) -> Boxed<'a, bool>;
    fn insert_or_ignore<'a, R: Repo + 'a>(
        executor: &'a Executor,
        news: Vec<NewValue<R>>,
        key: UniqueKey<Root<R>>,
    ) -> Boxed<'a, Vec<Value<R>>>;
    fn upsert_on<'a, R: Repo + 'a>(
        executor: &'a Executor,
        new: NewValue<R>,
        key: UniqueKey<Root<R>>,
    ) -> Boxed<'a, Value<R>>;
    fn patch<'a, R: Repo + 'a>(
        executor: &'a Executor,
        id: Id<R>,
        patch: Patch<R>,
    ) -> Boxed<'a, Value<R>>;
    fn patch_where<'a, R: Repo + 'a>(
        executor: &'a Executor,
        filter: &'a Filter<Root<R>>,
        patch: Patch<R>,
    ) -> Boxed<'a, Vec<Value<R>>>;
}

/// The operations as they are: every entity that owns no children.
#[doc(hidden)]
pub struct Rows;

/// The impls of [`Dispatch`], written once: `$ops` names where each operation lives.
macro_rules! dispatch {
    ($kind:ty, |$r:ident| $ops:ty, $stream:expr) => {
        impl Dispatch for $kind {
            fn insert<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                new: NewValue<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::insert(executor, new))
            }

            fn insert_many<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                news: Vec<NewValue<$r>>,
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::insert_many(executor, news))
            }

            fn get<'a, $r: Repo + 'a>(executor: &'a Executor, id: Id<$r>) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::get(executor, id))
            }

            fn find<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                id: Id<$r>,
            ) -> Boxed<'a, Option<Value<$r>>> {
                Box::pin(<$ops>::find(executor, id))
            }

            fn get_many<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                ids: &'a [Id<$r>],
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::get_many(executor, ids))
            }

            fn select<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                filter: Option<&'a Filter<Root<$r>>>,
                options: ListOptions<Column<$r>>,
                operation: &'static str,
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::select(executor, filter, options, operation))
            }

            fn find_page<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                filter: &'a Filter<Root<$r>>,
                options: ListOptions<Column<$r>>,
                after: Option<&'a Cursor>,
            ) -> Boxed<'a, KeysetPage<Value<$r>>> {
                Box::pin(<$ops>::find_page(executor, filter, options, after))
            }

            fn stream<$r: Repo>(
                executor: &Executor,
                filter: &Filter<Root<$r>>,
                options: ListOptions<Column<$r>>,
            ) -> RowStream<Value<$r>> {
                $stream(executor, filter, options)
            }

            fn delete_where<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                filter: &'a Filter<Root<$r>>,
            ) -> Boxed<'a, u64> {
                Box::pin(<$ops>::delete_where(executor, filter))
            }

            fn update<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                value: &'a Value<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::update(executor, value))
            }

            fn upsert<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                value: &'a Value<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::upsert(executor, value))
            }

            fn write<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                value: &'a Value<$r>,
            ) -> Boxed<'a, ()> {
                Box::pin(<$ops>::write(executor, value))
            }

            fn delete<'a, $r: Repo + 'a>(executor: &'a Executor, id: Id<$r>) -> Boxed<'a, bool> {
                Box::pin(<$ops>::delete(executor, id))
            }

            fn remove<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                value: &'a Value<$r>,
            ) -> Boxed<'a, ()> {
                Box::pin(<$ops>::remove(executor, value))
            }

            fn restore<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                id: Id<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::restore(executor, id))
            }

            fn purge<'a, $r: Repo + 'a>(executor: &'a Executor, id: Id<$r>) -> Boxed<'a, bool> {
                Box::pin(<$ops>::purge(executor, id))
            }

            fn insert_or_ignore<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                news: Vec<NewValue<$r>>,
                key: UniqueKey<Root<$r>>,
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::insert_or_ignore(executor, news, key))
            }

            fn upsert_on<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                new: NewValue<$r>,
                key: UniqueKey<Root<$r>>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::upsert_on(executor, new, key))
            }

            fn patch<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                id: Id<$r>,
                patch: Patch<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::patch(executor, id, patch))
            }

            fn patch_where<'a, $r: Repo + 'a>(
                executor: &'a Executor,
                filter: &'a Filter<Root<$r>>,
                patch: Patch<$r>,
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::patch_where(executor, filter, patch))
            }
        }
    };
}

pub(crate) use dispatch;

dispatch!(Rows, |R| R, <R as Operations>::stream);
