//! Loading relations for many rows at once: [`Load`] for each relation kind, nested with
//! [`Related::with`] and side by side in tuples. One statement per relation and chunk of keys
//! (an `IN` list under the bind limit, one array on PostgreSQL), never one per row; results
//! come back per row, in the rows' order.

use std::collections::BTreeMap;
use std::future::Future;

use repo_sql::Linked;

use super::{BelongsTo, ForeignKeyField, IdOf, Many, ManyToMany, One, Referring, TargetOf};
use crate::column::ColumnValue;
use crate::dispatch::Owning;
use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::{Executor, Running};
use crate::filter::{Field, Filter};
use crate::list::ListOptions;
use crate::statement::Shape;
use crate::stream::DecodingKeyed;

/// Keys a load binds in one statement where each is a placeholder (SQLite, MySQL).
pub(crate) const LOADED_KEYS_PER_STATEMENT: usize = 10_000;

/// A relation, or several, loaded for many rows of `P` at once.
pub trait Load<P: Entity>: Send + Sync {
    /// What each row gets: `Option<T>` (belongs-to, has-one), `Vec<T>` (has-many,
    /// many-to-many), with what is nested inside.
    type Output: Send;

    /// The related rows of each of `parents`, in their order. Called by [`Load::load`].
    #[doc(hidden)]
    fn load_for<'a>(
        &'a self,
        executor: &'a Executor,
        parents: &'a [&'a P],
    ) -> Running<'a, Vec<Self::Output>>;

    /// The related rows of each of `parents`, in their order, on a `Db` or in a transaction:
    /// `Article::AUTHOR.load(&db, &articles)`.
    fn load<'a>(
        &'a self,
        handle: impl Into<Executor>,
        parents: &'a [P],
    ) -> impl Future<Output = Result<Vec<Self::Output>, RepoError>> + Send + 'a
    where
        Self: Sized,
    {
        let executor = handle.into();
        async move {
            let parents: Vec<&P> = parents.iter().collect();
            self.load_for(&executor, &parents).await
        }
    }
}

/// One relation (not a nesting or a tuple): each row gets a [`Group`] of its rows of
/// [`Related::Target`], which a nested load continues from.
pub trait Related<P: Entity>: Load<P, Output: Group<Item = Self::Target>> + Sized {
    /// The entity it reaches.
    type Target: Entity;

    /// This relation, and for each row it reaches, `inner` (a relation of the target, a
    /// nesting, or a tuple of them): `Article::AUTHOR.with(Author::PROFILE)` gives each
    /// article `Option<(Author, Option<Profile>)>`. One more statement per relation nested.
    fn with<I: Load<Self::Target>>(self, inner: I) -> With<Self, I> {
        With {
            relation: self,
            inner,
        }
    }
}

/// What one row gets from a relation: `Option<T>` or `Vec<T>`.
pub trait Group: Send {
    /// The related row's type.
    type Item;
    /// The same with something beside each row.
    type Zipped<Y: Send>: Send;

    /// The rows, in order.
    fn items(&self) -> impl Iterator<Item = &Self::Item>;

    /// Each row with the next of `beside`; `None` if `beside` runs out.
    fn zip<Y: Send>(self, beside: &mut impl Iterator<Item = Y>) -> Option<Self::Zipped<Y>>;
}

impl<X: Send> Group for Option<X> {
    type Item = X;
    type Zipped<Y: Send> = Option<(X, Y)>;

    fn items(&self) -> impl Iterator<Item = &X> {
        self.iter()
    }

    fn zip<Y: Send>(self, beside: &mut impl Iterator<Item = Y>) -> Option<Option<(X, Y)>> {
        match self {
            Some(item) => Some(Some((item, beside.next()?))),
            None => Some(None),
        }
    }
}

impl<X: Send> Group for Vec<X> {
    type Item = X;
    type Zipped<Y: Send> = Vec<(X, Y)>;

    fn items(&self) -> impl Iterator<Item = &X> {
        self.iter()
    }

    fn zip<Y: Send>(self, beside: &mut impl Iterator<Item = Y>) -> Option<Vec<(X, Y)>> {
        self.into_iter()
            .map(|item| Some((item, beside.next()?)))
            .collect()
    }
}

/// A relation with another loaded for each row it reaches: see [`Related::with`].
#[derive(Debug, Clone, Copy)]
pub struct With<R, I> {
    relation: R,
    inner: I,
}

/// A nested or side-by-side load that came back with fewer rows than it was asked for.
fn misaligned() -> RepoError {
    RepoError::config("a relation load returned fewer results than rows")
}

impl<P, R, I> Load<P> for With<R, I>
where
    P: Entity,
    R: Related<P>,
    I: Load<R::Target>,
{
    type Output = <R::Output as Group>::Zipped<I::Output>;

    fn load_for<'a>(
        &'a self,
        executor: &'a Executor,
        parents: &'a [&'a P],
    ) -> Running<'a, Vec<Self::Output>> {
        Box::pin(async move {
            let groups = self.relation.load_for(executor, parents).await?;
            let inner = {
                let reached: Vec<&R::Target> = groups.iter().flat_map(Group::items).collect();
                self.inner.load_for(executor, &reached).await?
            };
            let mut inner = inner.into_iter();
            groups
                .into_iter()
                .map(|group| group.zip(&mut inner).ok_or_else(misaligned))
                .collect()
        })
    }
}

macro_rules! load_tuple {
    ($($load:ident $value:ident $index:tt),+) => {
        /// Each relation of the tuple, one after the other; each row gets a tuple of theirs.
        impl<P: Entity, $($load: Load<P>),+> Load<P> for ($($load,)+) {
            type Output = ($($load::Output,)+);

            fn load_for<'a>(
                &'a self,
                executor: &'a Executor,
                parents: &'a [&'a P],
            ) -> Running<'a, Vec<Self::Output>> {
                Box::pin(async move {
                    $(let mut $value = self.$index.load_for(executor, parents).await?.into_iter();)+
                    (0..parents.len())
                        .map(|_| Some(($($value.next()?,)+)))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(misaligned)
                })
            }
        }
    };
}

load_tuple!(A a 0, B b 1);
load_tuple!(A a 0, B b 1, C c 2);
load_tuple!(A a 0, B b 1, C c 2, D d 3);
load_tuple!(A a 0, B b 1, C c 2, D d 3, E e 4);

impl<C, const F: u64> Load<C> for BelongsTo<C, F>
where
    C: ForeignKeyField<F>,
    TargetOf<C, F>: Clone,
{
    type Output = Option<TargetOf<C, F>>;

    fn load_for<'a>(
        &'a self,
        executor: &'a Executor,
        parents: &'a [&'a C],
    ) -> Running<'a, Vec<Self::Output>> {
        Box::pin(async move {
            let keys: Vec<Option<IdOf<TargetOf<C, F>>>> =
                parents.iter().map(|row| row.key().cloned()).collect();
            let present: Vec<IdOf<TargetOf<C, F>>> = keys.iter().flatten().cloned().collect();
            let by_key = super::key_field::<TargetOf<C, F>>();
            let load = async |keys: Vec<IdOf<TargetOf<C, F>>>| {
                let rows = grouped(executor, by_key, &keys, &ListOptions::new(), self.name).await?;
                Ok(rows
                    .into_values()
                    .filter_map(|rows| rows.into_iter().next())
                    .collect::<Vec<_>>())
            };
            // A cached target is read through the cache: what it holds, one statement for
            // the rest.
            let targets = if TargetOf::<C, F>::CACHE.is_some() {
                crate::cache::by_keys::<TargetOf<C, F>, _, _>(executor, &present, load).await?
            } else {
                load(present).await?
            };
            let found = targets
                .into_iter()
                .map(|target| (Some(target.id()), target))
                .collect();
            Ok(in_order_of(&keys, found))
        })
    }
}

impl<C, const F: u64> Related<C> for BelongsTo<C, F>
where
    C: ForeignKeyField<F>,
    TargetOf<C, F>: Clone,
{
    type Target = TargetOf<C, F>;
}

/// What each row gets of a [`Referring`] relation's rows: all of them, or the first.
pub trait Cardinality: Send + Sync + 'static {
    /// The rows as each row gets them.
    type Of<C: Send>: Group<Item = C>;

    /// Those of `rows` a row gets.
    fn pick<C: Send>(rows: Vec<C>) -> Self::Of<C>;
}

impl Cardinality for Many {
    type Of<C: Send> = Vec<C>;

    fn pick<C: Send>(rows: Vec<C>) -> Vec<C> {
        rows
    }
}

impl Cardinality for One {
    type Of<C: Send> = Option<C>;

    fn pick<C: Send>(rows: Vec<C>) -> Option<C> {
        rows.into_iter().next()
    }
}

impl<P, C, S: Cardinality, const F: u64> Load<P> for Referring<P, C, S, F>
where
    P: Entity<Id = <C as ForeignKeyField<F>>::Key>,
    C: ForeignKeyField<F, Target = P> + Clone,
{
    type Output = S::Of<C>;

    fn load_for<'a>(
        &'a self,
        executor: &'a Executor,
        parents: &'a [&'a P],
    ) -> Running<'a, Vec<Self::Output>> {
        Box::pin(async move {
            let keys: Vec<P::Id> = parents.iter().map(|row| row.id()).collect();
            let groups =
                grouped(executor, C::FIELD, &keys, &ListOptions::new(), self.name()).await?;
            Ok(in_order_of(&keys, groups)
                .into_iter()
                .map(|group| S::pick(group.unwrap_or_default()))
                .collect())
        })
    }
}

impl<P, C, S: Cardinality, const F: u64> Related<P> for Referring<P, C, S, F>
where
    P: Entity<Id = <C as ForeignKeyField<F>>::Key>,
    C: ForeignKeyField<F, Target = P> + Clone,
{
    type Target = C;
}

impl<P, L, const FROM: u64, const TO: u64> Load<P> for ManyToMany<P, L, FROM, TO>
where
    P: Entity<Id = <L as ForeignKeyField<FROM>>::Key>,
    L: ForeignKeyField<FROM, Target = P> + ForeignKeyField<TO>,
    TargetOf<L, TO>: Clone,
{
    type Output = Vec<TargetOf<L, TO>>;

    fn load_for<'a>(
        &'a self,
        executor: &'a Executor,
        parents: &'a [&'a P],
    ) -> Running<'a, Vec<Self::Output>> {
        Box::pin(async move {
            let keys: Vec<P::Id> = parents.iter().map(|row| row.id()).collect();
            let link = Linked {
                link: L::TABLE_NAME,
                from: <L as ForeignKeyField<FROM>>::FIELD.column(),
                to: <L as ForeignKeyField<TO>>::FIELD.column(),
                keys: 0,
                target_deleted: TargetOf::<L, TO>::TABLE.deleted_column(),
                link_deleted: L::TABLE.deleted_column(),
                target_tenant: None,
                link_tenant: None,
            };
            let groups =
                linked::<TargetOf<L, TO>, P::Id>(executor, link, L::TABLE, &keys, self.name)
                    .await?;
            Ok(in_order_of(&keys, groups)
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect())
        })
    }
}

impl<P, L, const FROM: u64, const TO: u64> Related<P> for ManyToMany<P, L, FROM, TO>
where
    P: Entity<Id = <L as ForeignKeyField<FROM>>::Key>,
    L: ForeignKeyField<FROM, Target = P> + ForeignKeyField<TO>,
    TargetOf<L, TO>: Clone,
{
    type Target = TargetOf<L, TO>;
}

impl<P, C, S, const F: u64> Referring<P, C, S, F>
where
    P: Entity<Id = <C as ForeignKeyField<F>>::Key>,
    C: ForeignKeyField<F, Target = P>,
{
    /// For each of `parents`, how many of its rows meet `filter` (`Filter::all()`: all of
    /// them), in one statement (per chunk of keys): a `GROUP BY` of the foreign key.
    pub async fn count(
        self,
        handle: impl Into<Executor>,
        parents: &[P],
        filter: Filter<C>,
    ) -> Result<Vec<u64>, RepoError> {
        let keys: Vec<P::Id> = parents.iter().map(Entity::id).collect();
        let counts = counted(&handle.into(), C::FIELD, &keys, &filter, None, self.name()).await?;
        Ok(counts.into_iter().map(|counts| counts.all).collect())
    }

    /// For each of `parents`, how many rows it has and how many of them meet `matching`
    /// (an article's comments, and those the viewer wrote), in one statement (per chunk of
    /// keys).
    pub async fn count_matching(
        self,
        handle: impl Into<Executor>,
        parents: &[P],
        matching: Filter<C>,
    ) -> Result<Vec<Counts>, RepoError> {
        let keys: Vec<P::Id> = parents.iter().map(Entity::id).collect();
        let every = Filter::all();
        let executor = handle.into();
        counted(
            &executor,
            C::FIELD,
            &keys,
            &every,
            Some(&matching),
            self.name(),
        )
        .await
    }
}

impl<P, L, const FROM: u64, const TO: u64> ManyToMany<P, L, FROM, TO>
where
    P: Entity<Id = <L as ForeignKeyField<FROM>>::Key>,
    L: ForeignKeyField<FROM, Target = P> + ForeignKeyField<TO>,
{
    /// For each of `parents`, how many targets it is linked to that meet `filter`
    /// (`Filter::all()`: all of them), in one statement (per chunk of keys): a `GROUP BY` of
    /// the link table.
    pub async fn count(
        self,
        handle: impl Into<Executor>,
        parents: &[P],
        filter: Filter<TargetOf<L, TO>>,
    ) -> Result<Vec<u64>, RepoError> {
        let keys: Vec<P::Id> = parents.iter().map(Entity::id).collect();
        let links = Self::links_to(filter);
        let field = <L as ForeignKeyField<FROM>>::FIELD;
        let counts = counted(&handle.into(), field, &keys, &links, None, self.name).await?;
        Ok(counts.into_iter().map(|counts| counts.all).collect())
    }

    /// For each of `parents`, how many targets it is linked to and how many of them meet
    /// `matching` (an article's favourites, and whether the viewer is among them), in one
    /// statement (per chunk of keys).
    pub async fn count_matching(
        self,
        handle: impl Into<Executor>,
        parents: &[P],
        matching: Filter<TargetOf<L, TO>>,
    ) -> Result<Vec<Counts>, RepoError> {
        let keys: Vec<P::Id> = parents.iter().map(Entity::id).collect();
        let links = Self::links_to(matching);
        let field = <L as ForeignKeyField<FROM>>::FIELD;
        let every = Filter::all();
        counted(
            &handle.into(),
            field,
            &keys,
            &every,
            Some(&links),
            self.name,
        )
        .await
    }
}

/// How many related rows a row has, and how many of them meet a condition: what
/// `count_matching` returns for each row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Every related row.
    pub all: u64,
    /// Those that meet the condition.
    pub matching: u64,
}

/// `keys` without repeats, in chunks a statement binds.
fn key_chunks<K: Ord + Clone>(executor: &Executor, keys: &[K]) -> Vec<Vec<K>> {
    let mut unique: Vec<K> = keys.to_vec();
    unique.sort();
    unique.dedup();
    let per_statement = match executor.dialect() {
        repo_sql::Dialect::Postgres => usize::MAX,
        _ => LOADED_KEYS_PER_STATEMENT,
    };
    unique
        .chunks(per_statement.min(unique.len()).max(1))
        .map(<[K]>::to_vec)
        .collect()
}

/// The rows of `E` whose `field` holds each of `keys`, in key order, by key: one statement per
/// chunk of keys (and per owned collection of an aggregate root).
pub(crate) async fn grouped<E: Owning, K: ColumnValue + Ord + Clone>(
    executor: &Executor,
    field: Field<E, K>,
    keys: &[K],
    options: &ListOptions<E::Column>,
    operation: &'static str,
) -> Result<BTreeMap<K, Vec<E>>, RepoError> {
    let position = E::TABLE
        .columns
        .iter()
        .position(|column| column.name == field.column())
        .ok_or_else(|| RepoError::config(format!("no column `{}`", field.column())))?;
    let selection = crate::operations::select_in_order::<E>(options);
    let mut groups: BTreeMap<K, Vec<E>> = BTreeMap::new();
    for chunk in key_chunks(executor, keys) {
        let filter = field.is_in(chunk);
        let build = || filter.statement(executor, E::TABLE, operation, &selection);
        let mut decoding = DecodingKeyed::<K, E>::new(position, field.column(), executor);
        executor.read_into(E::TABLE, &build, &mut decoding).await?;
        for (key, row) in decoding.rows {
            groups.entry(key).or_default().push(row);
        }
    }
    with_owned(executor, groups).await
}

/// `groups` with the owned children of their rows, when they are aggregate roots.
async fn with_owned<K: Ord, E: Owning>(
    executor: &Executor,
    groups: BTreeMap<K, Vec<E>>,
) -> Result<BTreeMap<K, Vec<E>>, RepoError> {
    if !E::OWNS {
        return Ok(groups);
    }
    let (keys, rows): (Vec<(K, usize)>, Vec<Vec<E>>) = groups
        .into_iter()
        .map(|(key, rows)| ((key, rows.len()), rows))
        .unzip();
    let mut rows = crate::dispatch::loaded(executor, rows.into_iter().flatten().collect())
        .await?
        .into_iter();
    Ok(keys
        .into_iter()
        .map(|(key, size)| (key, rows.by_ref().take(size).collect()))
        .collect())
}

/// The rows of `T` that `link` ties to each of `keys`, in `T`'s key order, by key: one
/// statement per chunk of keys.
async fn linked<T: Owning, K: ColumnValue + Ord + Clone>(
    executor: &Executor,
    link: Linked<'static>,
    link_table: &'static crate::schema::Table,
    keys: &[K],
    operation: &'static str,
) -> Result<BTreeMap<K, Vec<T>>, RepoError> {
    let position = T::TABLE.columns.len();
    let mut groups: BTreeMap<K, Vec<T>> = BTreeMap::new();
    // Targets and links of the handle's tenant only, where scoped; every tenant's on an
    // unscoped handle.
    let tenant = |table: &'static crate::schema::Table| match executor.tenancy().is_unscoped() {
        true => None,
        false => table.tenant_column().map(|column| column.name),
    };
    let link = Linked {
        target_tenant: tenant(T::TABLE),
        link_tenant: tenant(link_table),
        ..link
    };
    for chunk in key_chunks(executor, keys) {
        let link = Linked {
            keys: chunk.len(),
            ..link
        };
        let build = || {
            let sql = crate::rendered::linked(T::TABLE, executor.dialect(), link);
            let mut statement = executor
                .assembled(operation, sql)
                .shaped(Shape::Linked(link));
            crate::ports::bind_list(&mut statement, &chunk);
            if link.target_tenant.is_some() {
                statement.bind_scope(T::TABLE);
            }
            if link.link_tenant.is_some() {
                statement.bind_scope(link_table);
            }
            statement
        };
        let rows = executor.read_rows(T::TABLE, false, &build).await?;
        for (key, row) in rows.decode_keyed::<T, K>(position, link.from)? {
            groups.entry(key).or_default().push(row);
        }
    }
    with_owned(executor, groups).await
}

/// For each of `keys` in its order, how many rows of `E` that meet `filter` hold it in
/// `field`, and how many of those meet `matching` (all of them without one): one grouped
/// count per chunk of keys.
async fn counted<E: Entity, K: ColumnValue + Ord + Clone>(
    executor: &Executor,
    field: Field<E, K>,
    keys: &[K],
    filter: &Filter<E>,
    matching: Option<&Filter<E>>,
    operation: &'static str,
) -> Result<Vec<Counts>, RepoError> {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let mut counts = BTreeMap::new();
    for chunk in key_chunks(executor, keys) {
        let filter = filter.clone().and(field.is_in(chunk));
        let counted =
            crate::projection::count_groups(executor, field, &filter, matching, operation).await?;
        for (key, all, matched) in counted {
            let counted = Counts {
                all: count(all),
                matching: count(matched),
            };
            counts.insert(key, counted);
        }
    }
    Ok(keys
        .iter()
        .map(|key| counts.get(key).copied().unwrap_or_default())
        .collect())
}

/// The value of each of `keys` in `found`, in the order of `keys`: a value moves to its key's
/// last place among them, and only a key given twice is cloned.
pub(crate) fn in_order_of<K: Ord, V: Clone>(
    keys: &[K],
    mut found: BTreeMap<K, V>,
) -> Vec<Option<V>> {
    let mut left: BTreeMap<&K, usize> = BTreeMap::new();
    for key in keys {
        *left.entry(key).or_default() += 1;
    }
    keys.iter()
        .map(|key| {
            let count = left.entry(key).or_default();
            *count -= 1;
            if *count == 0 {
                found.remove(key)
            } else {
                found.get(key).cloned()
            }
        })
        .collect()
}
