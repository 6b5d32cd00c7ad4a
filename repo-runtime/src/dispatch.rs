//! How the repository of an entity runs the operations that read or write whole rows: as they
//! are ([`Rows`]), or an aggregate root's, with its owned children ([`Aggregate`]). Chosen by
//! the derive through `Entity::Dispatch`, a type rather than a branch, so that an entity that
//! owns nothing never compiles the aggregate's code.

use std::future::Future;
use std::pin::Pin;

use crate::aggregate;
use crate::domain::Mapping;
use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::Executor;
use crate::filter::Filter;
use crate::keyset::{Cursor, KeysetPage};
use crate::list::ListOptions;
use crate::operations::{Operations, SqlRepository};
use crate::stream::RowStream;
use crate::unique::UniqueKey;

/// A boxed future of a repository method.
pub(crate) type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, RepoError>> + Send + 'a>>;

type Root<R> = <R as SqlRepository>::Entity;
type Id<R> = <Root<R> as Entity>::Id;
type Column<R> = <Root<R> as Entity>::Column;
type Patch<R> = <Root<R> as Entity>::Patch;
type Value<R> = <<R as SqlRepository>::Mapping as Mapping<Root<R>>>::Value;
type NewValue<R> = <<R as SqlRepository>::Mapping as Mapping<Root<R>>>::New;

/// The operations on whole rows of the repository `R`, each a boxed future.
#[doc(hidden)]
pub trait Dispatch: Send + Sync + 'static {
    fn insert<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        new: NewValue<R>,
    ) -> Boxed<'a, Value<R>>;
    fn insert_many<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        news: Vec<NewValue<R>>,
    ) -> Boxed<'a, Vec<Value<R>>>;
    fn get<'a, R: SqlRepository + 'a>(executor: &'a Executor, id: Id<R>) -> Boxed<'a, Value<R>>;
    fn find<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        id: Id<R>,
    ) -> Boxed<'a, Option<Value<R>>>;
    fn get_many<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        ids: &'a [Id<R>],
    ) -> Boxed<'a, Vec<Value<R>>>;
    /// `list`, `find_where` and `first_where`.
    fn select<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        filter: Option<&'a Filter<Root<R>>>,
        options: ListOptions<Column<R>>,
        operation: &'static str,
    ) -> Boxed<'a, Vec<Value<R>>>;
    fn find_page<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        filter: &'a Filter<Root<R>>,
        options: ListOptions<Column<R>>,
        after: Option<&'a Cursor>,
    ) -> Boxed<'a, KeysetPage<Value<R>>>;
    fn stream<R: SqlRepository>(
        executor: &Executor,
        filter: &Filter<Root<R>>,
        options: ListOptions<Column<R>>,
    ) -> RowStream<Value<R>>;
    fn delete_where<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        filter: &'a Filter<Root<R>>,
    ) -> Boxed<'a, u64>;
    fn update<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        value: &'a Value<R>,
    ) -> Boxed<'a, Value<R>>;
    fn upsert<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        value: &'a Value<R>,
    ) -> Boxed<'a, Value<R>>;
    fn delete<'a, R: SqlRepository + 'a>(executor: &'a Executor, id: Id<R>) -> Boxed<'a, bool>;
    fn insert_or_ignore<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        news: Vec<NewValue<R>>,
        key: UniqueKey<Root<R>>,
    ) -> Boxed<'a, Vec<Value<R>>>;
    fn upsert_on<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        new: NewValue<R>,
        key: UniqueKey<Root<R>>,
    ) -> Boxed<'a, Value<R>>;
    fn patch<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        id: Id<R>,
        patch: Patch<R>,
    ) -> Boxed<'a, Value<R>>;
    fn patch_where<'a, R: SqlRepository + 'a>(
        executor: &'a Executor,
        filter: &'a Filter<Root<R>>,
        patch: Patch<R>,
    ) -> Boxed<'a, Vec<Value<R>>>;
}

/// The operations as they are: every entity that owns no children.
#[doc(hidden)]
pub struct Rows;

/// An aggregate root's operations, with its owned children.
#[doc(hidden)]
pub struct Aggregate;

/// The two impls, written once: `$ops` names where each operation lives.
macro_rules! dispatch {
    ($kind:ty, |$r:ident| $ops:ty, $stream:expr) => {
        impl Dispatch for $kind {
            fn insert<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                new: NewValue<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::insert(executor, new))
            }

            fn insert_many<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                news: Vec<NewValue<$r>>,
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::insert_many(executor, news))
            }

            fn get<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                id: Id<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::get(executor, id))
            }

            fn find<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                id: Id<$r>,
            ) -> Boxed<'a, Option<Value<$r>>> {
                Box::pin(<$ops>::find(executor, id))
            }

            fn get_many<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                ids: &'a [Id<$r>],
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::get_many(executor, ids))
            }

            fn select<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                filter: Option<&'a Filter<Root<$r>>>,
                options: ListOptions<Column<$r>>,
                operation: &'static str,
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::select(executor, filter, options, operation))
            }

            fn find_page<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                filter: &'a Filter<Root<$r>>,
                options: ListOptions<Column<$r>>,
                after: Option<&'a Cursor>,
            ) -> Boxed<'a, KeysetPage<Value<$r>>> {
                Box::pin(<$ops>::find_page(executor, filter, options, after))
            }

            fn stream<$r: SqlRepository>(
                executor: &Executor,
                filter: &Filter<Root<$r>>,
                options: ListOptions<Column<$r>>,
            ) -> RowStream<Value<$r>> {
                $stream(executor, filter, options)
            }

            fn delete_where<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                filter: &'a Filter<Root<$r>>,
            ) -> Boxed<'a, u64> {
                Box::pin(<$ops>::delete_where(executor, filter))
            }

            fn update<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                value: &'a Value<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::update(executor, value))
            }

            fn upsert<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                value: &'a Value<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::upsert(executor, value))
            }

            fn delete<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                id: Id<$r>,
            ) -> Boxed<'a, bool> {
                Box::pin(<$ops>::delete(executor, id))
            }

            fn insert_or_ignore<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                news: Vec<NewValue<$r>>,
                key: UniqueKey<Root<$r>>,
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::insert_or_ignore(executor, news, key))
            }

            fn upsert_on<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                new: NewValue<$r>,
                key: UniqueKey<Root<$r>>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::upsert_on(executor, new, key))
            }

            fn patch<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                id: Id<$r>,
                patch: Patch<$r>,
            ) -> Boxed<'a, Value<$r>> {
                Box::pin(<$ops>::patch(executor, id, patch))
            }

            fn patch_where<'a, $r: SqlRepository + 'a>(
                executor: &'a Executor,
                filter: &'a Filter<Root<$r>>,
                patch: Patch<$r>,
            ) -> Boxed<'a, Vec<Value<$r>>> {
                Box::pin(<$ops>::patch_where(executor, filter, patch))
            }
        }
    };
}

dispatch!(Rows, |R| R, <R as Operations>::stream);
dispatch!(Aggregate, |R| aggregate::Ops<R>, aggregate::Ops::<R>::stream);
