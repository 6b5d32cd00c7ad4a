//! Aggregate roots (`owns(lines = OrderLine::order_id)`): an entity whose owned children have
//! no life of their own. Its repository's reads load the children (one statement per
//! collection), its writes write them in the same unit of work (new ones inserted, changed ones
//! updated, the others deleted) and its deletes delete them first. The root's operations are
//! the plain ones, run on its records ([`Records`]); this module wraps them, and the generated
//! hooks (`Owning::load_owned`, ...) call the functions at the end, once per collection.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;

use crate::dispatch::{
    Boxed, Column, Dispatch, Id, NewValue, Owning, Patch, Repo, Root, Value, dispatch, loaded,
};
use crate::domain::{AsRecord, Mapping};
use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::Executor;
use crate::filter::{Filter, keys_filter};
use crate::keyset::{Cursor, KeysetPage};
use crate::list::ListOptions;
use crate::operations::{Operations, SqlRepository};
use crate::relation::{ForeignKeyField, HasMany, grouped, in_order_of};
use crate::stream::RowStream;
use crate::unique::UniqueKey;

/// The plain repository of `E`'s records: what an aggregate's operations run on. Never built;
/// its operations are associated functions given an executor.
pub(crate) struct Records<E> {
    executor: Executor,
    entity: PhantomData<fn() -> E>,
}

impl<E: Entity> SqlRepository for Records<E> {
    type Entity = E;
    type Mapping = AsRecord;

    fn executor(&self) -> &Executor {
        &self.executor
    }
}

/// Inserts `news` and the children they hold (inside the caller's unit of work).
async fn insert_records<E: Owning>(
    executor: &Executor,
    news: Vec<E::New>,
) -> Result<Vec<E>, RepoError> {
    let mut rows = <Records<E> as Operations>::insert_chunks(executor, news).await?;
    if E::OWNS {
        E::save_owned(executor, &mut rows, true).await?;
    }
    Ok(rows)
}

/// Writes `given` over its row and its children as it holds them (inside the caller's unit).
async fn update_record<E: Owning>(executor: &Executor, given: &E) -> Result<E, RepoError> {
    let stored = <Records<E> as Operations>::update(executor, given).await?;
    with_children_saved(executor, given, stored).await
}

/// `stored`, the row `given` was written to, with the children `given` holds written too.
async fn with_children_saved<E: Owning>(
    executor: &Executor,
    given: &E,
    mut stored: E,
) -> Result<E, RepoError> {
    if E::OWNS {
        E::copy_owned(given, &mut stored);
        E::save_owned(executor, std::slice::from_mut(&mut stored), false).await?;
    }
    Ok(stored)
}

/// Deletes the rows `filter` selects, their children first (inside the caller's unit). A root
/// with soft delete is only marked: its children stay with it, to come back with a restore
/// or go with a purge.
async fn delete_records<E: Owning>(
    executor: &Executor,
    filter: &Filter<E>,
) -> Result<u64, RepoError> {
    if E::OWNS && E::TABLE.deleted_column().is_none() {
        E::delete_owned(executor, filter).await?;
    }
    <Records<E> as Operations>::delete_where(executor, filter).await
}

/// Conditional writes would have to tell which children belong to the rows they skipped.
fn refused<E: Entity>(operation: &str) -> RepoError {
    RepoError::invalid_input(
        E::NAME,
        format!(
            "`{operation}` of an aggregate root is not supported: its owned children would be \
             written for rows it skips; use `insert` or `update` in a transaction"
        ),
    )
}

/// An aggregate root's operations, with its owned children: its entity's `Owning::Dispatch`.
#[doc(hidden)]
pub struct Aggregate;

dispatch!(Aggregate, |R| Ops<R>, Ops::<R>::stream);

/// An aggregate root's operations for the repository `R`, in its values: what [`Aggregate`]
/// dispatches to.
pub(crate) struct Ops<R>(PhantomData<fn() -> R>);

impl<R: Repo> Ops<R> {
    /// The root with key `id` and its children, if any.
    pub(crate) async fn find(
        executor: &Executor,
        id: Id<R>,
    ) -> Result<Option<Value<R>>, RepoError> {
        let rows = <Records<Root<R>> as Operations>::records_by_keys(executor, &[id]).await?;
        let row = loaded(executor, rows).await?.into_iter().next();
        row.map(R::Mapping::value).transpose()
    }

    pub(crate) async fn get(executor: &Executor, id: Id<R>) -> Result<Value<R>, RepoError> {
        Self::find(executor, id).await?.ok_or(RepoError::NotFound {
            entity: Root::<R>::NAME,
        })
    }

    pub(crate) async fn get_many(
        executor: &Executor,
        ids: &[Id<R>],
    ) -> Result<Vec<Value<R>>, RepoError> {
        let rows = <Records<Root<R>> as Operations>::records_by_keys(executor, ids).await?;
        R::Mapping::values(loaded(executor, rows).await?)
    }

    /// `list`, `find_where` and `first_where` (with a limit of one).
    pub(crate) async fn select(
        executor: &Executor,
        filter: Option<&Filter<Root<R>>>,
        options: ListOptions<Column<R>>,
        operation: &'static str,
    ) -> Result<Vec<Value<R>>, RepoError> {
        let rows =
            <Records<Root<R>> as Operations>::select_records(executor, filter, options, operation)
                .await?;
        R::Mapping::values(loaded(executor, rows).await?)
    }

    pub(crate) async fn find_page(
        executor: &Executor,
        filter: &Filter<Root<R>>,
        options: ListOptions<Column<R>>,
        after: Option<&Cursor>,
    ) -> Result<KeysetPage<Value<R>>, RepoError> {
        let page =
            <Records<Root<R>> as Operations>::find_page(executor, filter, options, after).await?;
        Ok(KeysetPage {
            rows: R::Mapping::values(loaded(executor, page.rows).await?)?,
            next: page.next,
        })
    }

    /// A stream would read the children of each row apart: refused, as its first item.
    pub(crate) fn stream(
        _executor: &Executor,
        _filter: &Filter<Root<R>>,
        _options: ListOptions<Column<R>>,
    ) -> RowStream<Value<R>> {
        let error = RepoError::invalid_input(
            Root::<R>::NAME,
            "a stream of an aggregate root is not supported: read it by keyset pages (`find_page`)",
        );
        crate::stream::failed(error)
    }

    pub(crate) async fn insert(
        executor: &Executor,
        new: NewValue<R>,
    ) -> Result<Value<R>, RepoError> {
        let mut stored = Self::insert_many(executor, vec![new]).await?;
        stored.pop().ok_or(RepoError::NotFound {
            entity: Root::<R>::NAME,
        })
    }

    pub(crate) async fn insert_many(
        executor: &Executor,
        news: Vec<NewValue<R>>,
    ) -> Result<Vec<Value<R>>, RepoError> {
        let news = news
            .into_iter()
            .map(R::Mapping::new_record)
            .collect::<Result<Vec<_>, _>>()?;
        if news.is_empty() {
            return Ok(Vec::new());
        }
        let stored = executor
            .unit_once(async |unit| insert_records::<Root<R>>(unit, news).await)
            .await?;
        R::Mapping::values(stored)
    }

    pub(crate) async fn update(
        executor: &Executor,
        value: &Value<R>,
    ) -> Result<Value<R>, RepoError> {
        let record = R::Mapping::record(value)?;
        let stored = executor
            .unit_once(async |unit| update_record::<Root<R>>(unit, &record).await)
            .await?;
        R::Mapping::value(stored)
    }

    /// The root and its children written; the children's keys are the database's to give, so
    /// the aggregate is read back anyway and dropped.
    pub(crate) async fn write(executor: &Executor, value: &Value<R>) -> Result<(), RepoError> {
        Self::update(executor, value).await.map(drop)
    }

    pub(crate) async fn upsert(
        executor: &Executor,
        value: &Value<R>,
    ) -> Result<Value<R>, RepoError> {
        let record = R::Mapping::record(value)?;
        let stored = executor
            .unit_once(async |unit| {
                let stored = <Records<Root<R>> as Operations>::upsert(unit, &record).await?;
                with_children_saved(unit, &*record, stored).await
            })
            .await?;
        R::Mapping::value(stored)
    }

    pub(crate) async fn delete(executor: &Executor, id: Id<R>) -> Result<bool, RepoError> {
        let filter = keys_filter::<Root<R>>(std::slice::from_ref(&id));
        let deleted = Self::delete_where(executor, &filter).await?;
        Ok(deleted > 0)
    }

    /// Deletes the root as read (at its version, if versioned) and its children, in one unit
    /// (marks the root, with soft delete).
    pub(crate) async fn remove(executor: &Executor, value: &Value<R>) -> Result<(), RepoError> {
        let record = R::Mapping::record(value)?;
        executor
            .unit_once(async |unit| {
                if Root::<R>::OWNS && Root::<R>::TABLE.deleted_column().is_none() {
                    let filter = keys_filter::<Root<R>>(std::slice::from_ref(&record.id()));
                    Root::<R>::delete_owned(unit, &filter).await?;
                }
                <Records<Root<R>> as Operations>::remove(unit, &*record).await
            })
            .await
    }

    /// Deletes the root for good, marked deleted or not, and its children, in one unit.
    pub(crate) async fn purge(executor: &Executor, id: Id<R>) -> Result<bool, RepoError> {
        executor
            .unit_once(async |unit| {
                if Root::<R>::OWNS {
                    let filter = keys_filter::<Root<R>>(std::slice::from_ref(&id)).with_deleted();
                    Root::<R>::delete_owned(unit, &filter).await?;
                }
                <Records<Root<R>> as Operations>::purge(unit, id).await
            })
            .await
    }

    /// Brings back a root a soft delete marked, with the children it kept.
    pub(crate) async fn restore(executor: &Executor, id: Id<R>) -> Result<Value<R>, RepoError> {
        let row = <Records<Root<R>> as Operations>::restore(executor, id).await?;
        let row = loaded(executor, vec![row]).await?.into_iter().next();
        R::Mapping::value(row.ok_or(RepoError::NotFound {
            entity: Root::<R>::NAME,
        })?)
    }

    pub(crate) async fn delete_where(
        executor: &Executor,
        filter: &Filter<Root<R>>,
    ) -> Result<u64, RepoError> {
        executor
            .unit_once(async |unit| delete_records::<Root<R>>(unit, filter).await)
            .await
    }

    pub(crate) async fn patch(
        executor: &Executor,
        id: Id<R>,
        patch: Patch<R>,
    ) -> Result<Value<R>, RepoError> {
        let row = <Records<Root<R>> as Operations>::patch(executor, id, patch).await?;
        let row = loaded(executor, vec![row]).await?.into_iter().next();
        R::Mapping::value(row.ok_or(RepoError::NotFound {
            entity: Root::<R>::NAME,
        })?)
    }

    pub(crate) async fn patch_where(
        executor: &Executor,
        filter: &Filter<Root<R>>,
        patch: Patch<R>,
    ) -> Result<Vec<Value<R>>, RepoError> {
        let rows = <Records<Root<R>> as Operations>::patch_where(executor, filter, patch).await?;
        R::Mapping::values(loaded(executor, rows).await?)
    }

    pub(crate) async fn insert_or_ignore(
        _executor: &Executor,
        _news: Vec<NewValue<R>>,
        _key: UniqueKey<Root<R>>,
    ) -> Result<Vec<Value<R>>, RepoError> {
        Err(refused::<Root<R>>("insert_or_ignore"))
    }

    pub(crate) async fn upsert_on(
        _executor: &Executor,
        _new: NewValue<R>,
        _key: UniqueKey<Root<R>>,
    ) -> Result<Value<R>, RepoError> {
        Err(refused::<Root<R>>("upsert_on"))
    }
}

/// Where a root holds one collection of its owned children.
pub type Holder<P, C> = fn(&mut P) -> &mut Vec<C>;

/// Loads the children of `rows` through `relation` into the collection `holder` names (and
/// theirs in turn): one statement per collection.
pub async fn load_children<P, C, const F: u64>(
    executor: &Executor,
    relation: HasMany<P, C, F>,
    rows: &mut [P],
    holder: Holder<P, C>,
) -> Result<(), RepoError>
where
    P: Entity<Id = <C as ForeignKeyField<F>>::Key>,
    C: ForeignKeyField<F, Target = P> + Clone,
{
    let keys: Vec<P::Id> = rows.iter().map(Entity::id).collect();
    let groups = grouped(
        executor,
        C::FIELD,
        &keys,
        &ListOptions::new(),
        relation.name(),
    )
    .await?;
    for (row, group) in rows.iter_mut().zip(in_order_of(&keys, groups)) {
        *holder(row) = group.unwrap_or_default();
    }
    Ok(())
}

/// Writes the children `rows` hold in the collection `holder` names, each made to refer to
/// its root: all inserted for rows just `inserted`; otherwise against those stored, new ones
/// inserted, changed ones updated, the others deleted. Each row then holds its children as
/// stored.
pub async fn save_children<P, C, const F: u64>(
    executor: &Executor,
    relation: HasMany<P, C, F>,
    rows: &mut [P],
    holder: Holder<P, C>,
    inserted: bool,
) -> Result<(), RepoError>
where
    P: Entity<Id = <C as ForeignKeyField<F>>::Key>,
    C: ForeignKeyField<F, Target = P> + Clone + PartialEq,
{
    for row in rows.iter_mut() {
        let key = row.id();
        for child in holder(row).iter_mut() {
            child.set_key(key.clone());
        }
    }
    let keys: Vec<P::Id> = rows.iter().map(Entity::id).collect();
    let stored = if inserted {
        BTreeMap::new()
    } else {
        grouped(
            executor,
            C::FIELD,
            &keys,
            &ListOptions::new(),
            relation.name(),
        )
        .await?
    };
    let mut removed: Vec<C::Id> = Vec::new();
    let mut changed: Vec<(usize, usize)> = Vec::new();
    let mut new: Vec<(usize, usize)> = Vec::new();
    for (at, row) in rows.iter_mut().enumerate() {
        let given = holder(row);
        let before: BTreeMap<C::Id, &C> = stored
            .get(&keys[at])
            .into_iter()
            .flatten()
            .map(|child| (child.id(), child))
            .collect();
        let kept: BTreeSet<C::Id> = given.iter().map(Entity::id).collect();
        removed.extend(before.keys().filter(|key| !kept.contains(key)).cloned());
        for (index, child) in given.iter().enumerate() {
            match before.get(&child.id()) {
                Some(old) if *old == child => {}
                Some(_) => changed.push((at, index)),
                None => new.push((at, index)),
            }
        }
    }
    if !removed.is_empty() {
        delete_records::<C>(executor, &keys_filter::<C>(&removed)).await?;
    }
    for &(at, index) in &changed {
        let child = &mut holder(&mut rows[at])[index];
        *child = update_record::<C>(executor, child).await?;
    }
    if !new.is_empty() {
        let news = new
            .iter()
            .map(|&(at, index)| holder(&mut rows[at])[index].clone().into_new())
            .collect();
        let written = insert_records::<C>(executor, news).await?;
        for (&(at, index), child) in new.iter().zip(written) {
            holder(&mut rows[at])[index] = child;
        }
    }
    Ok(())
}

/// Deletes the children, through `relation`, of the rows `roots` selects (theirs first).
pub async fn delete_children<P, C, const F: u64>(
    executor: &Executor,
    relation: HasMany<P, C, F>,
    roots: &Filter<P>,
) -> Result<(), RepoError>
where
    P: Entity<Id = <C as ForeignKeyField<F>>::Key>,
    C: ForeignKeyField<F, Target = P>,
{
    let _ = relation;
    let children = C::FIELD.exists_in(crate::relation::key_field::<P>(), roots.clone());
    delete_records::<C>(executor, &children).await?;
    Ok(())
}
