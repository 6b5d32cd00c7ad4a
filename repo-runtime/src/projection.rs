//! Reads of less than whole rows: [`Projection`]s (some columns of an entity, or aggregates
//! grouped by some, from `#[derive(Projection)]`) and grouped counts, through
//! [`RepositoryExt`]. Each is a `repo_sql::Projected` statement on the rows a [`Filter`]
//! selects, rendered once per shape; the in-memory store evaluates the same description.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use repo_sql::{Numeric, PlanLimit, Selected};

use crate::column::ColumnValue;
use crate::domain::Mapping;
use crate::entity::{Entity, RowSource};
use crate::error::RepoError;
use crate::executor::Executor;
use crate::filter::{Field, Filter};
use crate::list::ListOptions;
use crate::operations::{Operations, SqlRepository};
use crate::relation::in_order_of;
use crate::statement::{ProjectedShape, Shape, Statement};

/// A row type read by position, as a projection's statement returns it. Implemented by
/// `#[derive(Projection)]`.
#[doc(hidden)]
pub trait RowDecode: Sized + Send + 'static {
    /// Reads the row whose columns are the projection's items, in order.
    fn decode_row<R: RowSource>(row: &R) -> Result<Self, RepoError>;
}

/// A read-only row type: some columns of [`Projection::Entity`], or aggregates of its rows
/// grouped by some columns. It has no table, key or repository of its own. Implemented by
/// `#[derive(Projection)]`:
///
/// ```
/// # use repo_runtime::prelude::*;
/// # #[derive(Debug, Clone, PartialEq, Repository)]
/// # pub struct Article { #[repo(id, generated)] pub id: i64, pub author: i64,
/// #     pub title: String, pub views: i64 }
/// /// Per author: how many articles, how many views in all.
/// #[derive(Debug, PartialEq, Projection)]
/// #[repo(entity = Article)]
/// pub struct AuthorStats {
///     pub author: i64,
///     #[repo(count)]
///     pub articles: i64,
///     #[repo(sum = views)]
///     pub views: Option<i64>,
/// }
/// ```
pub trait Projection: RowDecode {
    /// The entity whose rows it reads.
    type Entity: Entity;
    /// What each column of its rows is: a column, or an aggregate.
    const ITEMS: &'static [Selected<'static>];
    /// The names a hand-written query's rows give them: a column's own name, an aggregate's
    /// field's (`COUNT(*) AS articles`).
    const NAMES: &'static [&'static str];
}

/// Column types whose values add up on every backend, and the type of their sum: `i64` for
/// integers, `f64` for floats (decimals are text on SQLite, so they have no sum).
#[diagnostic::on_unimplemented(message = "a `{Self}` column has no sum on every backend")]
pub trait Summable: ColumnValue {
    /// The sum's type.
    type Sum: ColumnValue;
    /// How the backends compute it.
    const NUMERIC: Numeric;
}

/// Column types with a mean (an `f64`) on every backend.
#[diagnostic::on_unimplemented(message = "a `{Self}` column has no mean on every backend")]
pub trait Averaged: ColumnValue {}

/// Column types with a least and a greatest value on every backend.
#[diagnostic::on_unimplemented(
    message = "a `{Self}` column has no least or greatest value on every backend"
)]
pub trait Ordered: ColumnValue {}

macro_rules! summable {
    ($($ty:ty => $sum:ty, $numeric:ident);* $(;)?) => {$(
        impl Summable for $ty {
            type Sum = $sum;
            const NUMERIC: Numeric = Numeric::$numeric;
        }
        impl Averaged for $ty {}
        impl Ordered for $ty {}
    )*};
}

summable! {
    i16 => i64, Integer;
    i32 => i64, Integer;
    i64 => i64, Integer;
    f32 => f64, Float;
    f64 => f64, Float;
}

macro_rules! ordered {
    ($($(#[$cfg:meta])* $ty:ty),* $(,)?) => {$(
        $(#[$cfg])*
        impl Ordered for $ty {}
    )*};
}

ordered! {
    String,
    #[cfg(feature = "chrono")]
    chrono::NaiveDateTime,
    #[cfg(feature = "chrono")]
    chrono::DateTime<chrono::Utc>,
    #[cfg(feature = "chrono")]
    chrono::NaiveDate,
    #[cfg(feature = "chrono")]
    chrono::NaiveTime,
    #[cfg(feature = "time")]
    time::PrimitiveDateTime,
    #[cfg(feature = "time")]
    time::OffsetDateTime,
    #[cfg(feature = "time")]
    time::Date,
    #[cfg(feature = "time")]
    time::Time,
}

/// What `#[derive(Projection)]` calls: each item of a projection from the entity's typed
/// fields, and the Rust type each item reads as, so that a field of the wrong type fails to
/// compile naming both.
#[doc(hidden)]
pub(crate) mod items {
    use super::*;

    pub const fn column<E, T>(field: Field<E, T>) -> Selected<'static> {
        Selected::Column(field.column())
    }

    pub const fn sum<E, T: Summable>(field: Field<E, T>) -> Selected<'static> {
        Selected::Sum(field.column(), T::NUMERIC)
    }

    pub const fn avg<E, T: Averaged>(field: Field<E, T>) -> Selected<'static> {
        Selected::Avg(field.column())
    }

    pub const fn min<E, T: Ordered>(field: Field<E, T>) -> Selected<'static> {
        Selected::Min(field.column())
    }

    pub const fn max<E, T: Ordered>(field: Field<E, T>) -> Selected<'static> {
        Selected::Max(field.column())
    }

    /// A column read as `T`, or as `Option<T>`.
    pub fn column_type<E, T, F: OptionOf<T>>(_: Field<E, T>, _: PhantomData<F>) {}

    /// A sum read as `Option<T::Sum>`.
    pub fn sum_type<E, T: Summable>(_: Field<E, T>) -> PhantomData<Option<T::Sum>> {
        PhantomData
    }

    /// A mean read as `Option<f64>`.
    pub fn avg_type<E, T: Averaged>(_: Field<E, T>) -> PhantomData<Option<f64>> {
        PhantomData
    }

    /// A least or greatest value read as `Option<T>`.
    pub fn extreme_type<E, T: Ordered>(_: Field<E, T>) -> PhantomData<Option<T>> {
        PhantomData
    }

    /// A count read as `i64`.
    pub fn count_type() -> PhantomData<i64> {
        PhantomData
    }

    /// `T` or `Option<T>`: how a projection's field reads a column of `T`.
    #[diagnostic::on_unimplemented(
        message = "a `{T}` column cannot be read as `{Self}`",
        label = "expected `{T}` or `Option<{T}>`"
    )]
    pub trait OptionOf<T> {}

    impl<T> OptionOf<T> for T {}
    impl<T> OptionOf<T> for Option<T> {}
}

/// The generic operations of every generated SQL repository: projections, grouped counts,
/// grouped loads of children and links of a many-to-many relation. They are generic over a
/// row or key type, so not part of the object-safe [`Repository`](crate::Repository): call
/// them on the concrete repository (`User::repository(&db)`).
pub trait RepositoryExt<E: Entity>: Send + Sync {
    /// What the repository's reads return: its records, or their domain type.
    type Mapping: Mapping<E>;

    /// The rows `filter` selects, read as the projection `P`, in the order `options` ask (the
    /// key by default; with aggregates, the grouped columns) and page.
    fn project<P: Projection<Entity = E>>(
        &self,
        filter: &Filter<E>,
        options: ListOptions<E::Column>,
    ) -> impl Future<Output = Result<Vec<P>, RepoError>> + Send;

    /// For each of `keys`, the rows whose `field` holds it (a parent's children, by their
    /// foreign key), in the order `options` ask for, in one statement whatever the number of
    /// keys (one per 10,000 keys on SQLite and MySQL, whose placeholders are bounded; one
    /// array on PostgreSQL). The groups come in the order of `keys`; a key given twice gets
    /// its rows twice. Limits and offsets of `options` are refused: they would apply to all
    /// groups at once.
    fn load_grouped<K>(
        &self,
        field: Field<E, K>,
        keys: &[K],
        options: ListOptions<E::Column>,
    ) -> impl Future<Output = Result<Groups<E, Self::Mapping>, RepoError>> + Send
    where
        K: ColumnValue + Ord + Clone,
        ValueOf<E, Self::Mapping>: Clone;

    /// For each of `keys` (children's foreign keys, say), the row with that key if any, in the
    /// order of `keys`: a belongs-to relation of many rows in one statement per chunk of keys,
    /// as [`Repository::get_many`](crate::Repository::get_many) reads them.
    fn load_by_keys(
        &self,
        keys: &[E::Id],
    ) -> impl Future<Output = Result<Found<E, Self::Mapping>, RepoError>> + Send
    where
        ValueOf<E, Self::Mapping>: Clone;

    /// Links `parent` to each of `children` with rows of this link entity (`parent_field` and
    /// `child_field` its two keys, under one unique key), built by `row`; links already there
    /// are kept. Returns how many rows it inserted. Idempotent, race-free as
    /// [`Repository::insert_or_ignore`](crate::Repository::insert_or_ignore) is.
    fn link<P, C>(
        &self,
        parent_field: Field<E, P>,
        parent: P,
        child_field: Field<E, C>,
        children: &[C],
        row: impl Fn(P, C) -> NewOf<E, Self::Mapping> + Send + Sync,
    ) -> impl Future<Output = Result<u64, RepoError>> + Send
    where
        P: ColumnValue + Clone,
        C: ColumnValue + Clone;

    /// Removes the links of `parent` to `children`; returns how many there were.
    fn unlink<P, C>(
        &self,
        parent_field: Field<E, P>,
        parent: P,
        child_field: Field<E, C>,
        children: &[C],
    ) -> impl Future<Output = Result<u64, RepoError>> + Send
    where
        P: ColumnValue + Clone,
        C: ColumnValue + Clone;

    /// Makes `children` exactly the children linked to `parent`, in one unit of work: the
    /// other links are removed, the missing ones inserted (built by `row`). Returns how many
    /// rows it inserted and how many it removed.
    fn set_links<P, C>(
        &self,
        parent_field: Field<E, P>,
        parent: P,
        child_field: Field<E, C>,
        children: &[C],
        row: impl Fn(P, C) -> NewOf<E, Self::Mapping> + Send + Sync,
    ) -> impl Future<Output = Result<(u64, u64), RepoError>> + Send
    where
        P: ColumnValue + Clone,
        C: ColumnValue + Clone;

    /// How many rows `filter` selects per value of `group`, in one statement, collected into
    /// `C`: a `HashMap<K, i64>`, a `BTreeMap`, or a `Vec<(K, i64)>` in ascending order of the
    /// group. Rows whose `group` column is `NULL` count in no group.
    fn count_by<K, C>(
        &self,
        group: Field<E, K>,
        filter: &Filter<E>,
    ) -> impl Future<Output = Result<C, RepoError>> + Send
    where
        K: ColumnValue,
        C: FromIterator<(K, i64)>;
}

impl<R: crate::dispatch::Repo> RepositoryExt<R::Entity> for R {
    type Mapping = R::Mapping;

    async fn load_grouped<K>(
        &self,
        field: Field<R::Entity, K>,
        keys: &[K],
        options: ListOptions<<R::Entity as Entity>::Column>,
    ) -> Result<Groups<R::Entity, R::Mapping>, RepoError>
    where
        K: ColumnValue + Ord + Clone,
        ValueOf<R::Entity, R::Mapping>: Clone,
    {
        type Record<R> = <R as SqlRepository>::Entity;
        if options.get_limit().is_some() || options.get_offset() > 0 {
            return Err(RepoError::invalid_input(
                Record::<R>::NAME,
                "a grouped load has no page: a limit would apply to every group at once",
            ));
        }
        let groups =
            crate::relation::grouped(self.executor(), field, keys, &options, "load_grouped")
                .await?;
        let mut values = ByKey::new();
        for (key, records) in groups {
            values.insert(key, <R::Mapping as Mapping<R::Entity>>::values(records)?);
        }
        Ok(in_order_of(keys, values)
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    }

    async fn project<P: Projection<Entity = R::Entity>>(
        &self,
        filter: &Filter<R::Entity>,
        options: ListOptions<<R::Entity as Entity>::Column>,
    ) -> Result<Vec<P>, RepoError> {
        let order = crate::list::asked_order::<R::Entity>(&options);
        let page = repo_core::Page {
            limit: options.get_limit(),
            offset: options.get_offset(),
        };
        let request = Request::new::<R::Entity>(P::ITEMS.into(), &order, page)?;
        read::<R::Entity, P>(self.executor(), filter, &request, "project", None).await
    }

    async fn load_by_keys(
        &self,
        keys: &[<R::Entity as Entity>::Id],
    ) -> Result<Found<R::Entity, R::Mapping>, RepoError>
    where
        ValueOf<R::Entity, R::Mapping>: Clone,
    {
        let records = <R as Operations>::records_by_keys(self.executor(), keys).await?;
        let records = crate::dispatch::loaded(self.executor(), records).await?;
        let mut found = std::collections::BTreeMap::new();
        for record in records {
            let id = record.id();
            found.insert(id, <R::Mapping as Mapping<R::Entity>>::value(record)?);
        }
        Ok(in_order_of(keys, found))
    }

    async fn link<P, C>(
        &self,
        parent_field: Field<R::Entity, P>,
        parent: P,
        child_field: Field<R::Entity, C>,
        children: &[C],
        row: impl Fn(P, C) -> NewOf<R::Entity, R::Mapping> + Send + Sync,
    ) -> Result<u64, RepoError>
    where
        P: ColumnValue + Clone,
        C: ColumnValue + Clone,
    {
        let key = link_key::<R::Entity, P, C>(parent_field, child_field)?;
        let rows = link_rows(&parent, children, row);
        let inserted = <R as Operations>::insert_or_ignore(self.executor(), rows, key).await?;
        Ok(inserted.len() as u64)
    }

    async fn unlink<P, C>(
        &self,
        parent_field: Field<R::Entity, P>,
        parent: P,
        child_field: Field<R::Entity, C>,
        children: &[C],
    ) -> Result<u64, RepoError>
    where
        P: ColumnValue + Clone,
        C: ColumnValue + Clone,
    {
        let links = parent_field
            .eq(parent)
            .and(child_field.is_in(children.iter().cloned()));
        <R as Operations>::delete_where(self.executor(), &links).await
    }

    async fn set_links<P, C>(
        &self,
        parent_field: Field<R::Entity, P>,
        parent: P,
        child_field: Field<R::Entity, C>,
        children: &[C],
        row: impl Fn(P, C) -> NewOf<R::Entity, R::Mapping> + Send + Sync,
    ) -> Result<(u64, u64), RepoError>
    where
        P: ColumnValue + Clone,
        C: ColumnValue + Clone,
    {
        let key = link_key::<R::Entity, P, C>(parent_field, child_field)?;
        let others = parent_field
            .eq(parent.clone())
            .and(child_field.not_in(children.iter().cloned()));
        let rows = link_rows(&parent, children, row);
        self.executor()
            .unit_once(async |unit| {
                let removed = <R as Operations>::delete_where(unit, &others).await?;
                let inserted = <R as Operations>::insert_or_ignore(unit, rows, key).await?;
                Ok((inserted.len() as u64, removed))
            })
            .await
    }

    async fn count_by<K, C>(
        &self,
        group: Field<R::Entity, K>,
        filter: &Filter<R::Entity>,
    ) -> Result<C, RepoError>
    where
        K: ColumnValue,
        C: FromIterator<(K, i64)>,
    {
        let filter = filter.clone().and(group.is_not_null());
        let counted = count_groups(self.executor(), group, &filter, None, "count_by").await?;
        Ok(counted
            .into_iter()
            .map(|(key, all, _)| (key, all))
            .collect())
    }
}

/// How many rows `filter` selects per value of `group` (which the filter keeps non-null), and
/// how many of them meet `matching` (all of them without one), in one statement.
pub(crate) async fn count_groups<E: Entity, K: ColumnValue>(
    executor: &Executor,
    group: Field<E, K>,
    filter: &Filter<E>,
    matching: Option<&Filter<E>>,
    operation: &'static str,
) -> Result<Vec<(K, i64, i64)>, RepoError> {
    let column = Selected::Column(group.column());
    let items: Arc<[Selected<'static>]> = match matching {
        Some(_) => Arc::new([column, Selected::Count, Selected::CountMatching]),
        None => Arc::new([column, Selected::Count]),
    };
    let request = Request::new::<E>(items, &[], repo_core::Page::default())?;
    Ok(match matching {
        Some(_) => read::<E, CountedMatching<K>>(executor, filter, &request, operation, matching)
            .await?
            .into_iter()
            .map(|CountedMatching(key, all, matched)| (key, all, matched))
            .collect(),
        None => read::<E, Counted<K>>(executor, filter, &request, operation, None)
            .await?
            .into_iter()
            .map(|Counted(key, all)| (key, all, all))
            .collect(),
    })
}

/// The link rows of `parent` to each of `children`, built by `row`.
fn link_rows<P: Clone, C: Clone, N>(parent: &P, children: &[C], row: impl Fn(P, C) -> N) -> Vec<N> {
    children
        .iter()
        .map(|child| row(parent.clone(), child.clone()))
        .collect()
}

/// The unique key over exactly a link entity's two keys, which its links are told apart by.
fn link_key<E: Entity, P, C>(
    parent: Field<E, P>,
    child: Field<E, C>,
) -> Result<crate::unique::UniqueKey<E>, RepoError> {
    let columns = [parent.column(), child.column()];
    let constraint = E::TABLE.constraint_on(&columns).ok_or_else(|| {
        RepoError::invalid_input(
            E::NAME,
            format!(
                "no unique key over exactly `{}` and `{}` tells its links apart: declare one",
                columns[0], columns[1]
            ),
        )
    })?;
    Ok(
        match E::TABLE
            .unique
            .iter()
            .position(|unique| unique.name == constraint.name)
        {
            Some(index) => crate::unique::UniqueKey::unique(index),
            None => crate::unique::UniqueKey::primary(),
        },
    )
}

/// What a repository of `E` in mapping `M` inserts: a record's insert input, or a domain value.
type NewOf<E, M> = <M as Mapping<E>>::New;

/// What a repository of `E` in mapping `M` reads: a record, or its domain type.
type ValueOf<E, M> = <M as Mapping<E>>::Value;

/// The row of each key asked, if any, in the keys' order.
type Found<E, M> = Vec<Option<ValueOf<E, M>>>;

/// The rows of each parent, in the parents' order.
type Groups<E, M> = Vec<Vec<ValueOf<E, M>>>;

/// The rows of each key.
type ByKey<K, V> = std::collections::BTreeMap<K, Vec<V>>;

/// A group's value and its count, as `count_by` reads them.
struct Counted<K>(K, i64);

impl<K: ColumnValue> RowDecode for Counted<K> {
    fn decode_row<R: RowSource>(row: &R) -> Result<Self, RepoError> {
        Ok(Counted(
            K::decode(row, 0, "group")?,
            i64::decode(row, 1, "count")?,
        ))
    }
}

/// A group's value, its count and how many of its rows match, as `count_groups` reads them
/// with a condition to match.
struct CountedMatching<K>(K, i64, i64);

impl<K: ColumnValue> RowDecode for CountedMatching<K> {
    fn decode_row<R: RowSource>(row: &R) -> Result<Self, RepoError> {
        Ok(CountedMatching(
            K::decode(row, 0, "group")?,
            i64::decode(row, 1, "count")?,
            i64::decode(row, 2, "matching")?,
        ))
    }
}

/// What a projection's statement reads, in which order, which page: the part that does not
/// depend on the entity.
pub(crate) struct Request {
    items: Arc<[Selected<'static>]>,
    /// Sort keys: with aggregates the grouped columns (those asked first), else those asked
    /// and then the key's columns, so that pages never overlap.
    order: Arc<[(&'static str, bool)]>,
    page: Option<(i64, i64)>,
}

impl Request {
    fn new<E: Entity>(
        items: Arc<[Selected<'static>]>,
        asked: &[(&'static str, bool)],
        page: repo_core::Page,
    ) -> Result<Request, RepoError> {
        let grouped = items.iter().any(Selected::is_aggregate);
        let mut order: Vec<(&'static str, bool)> = asked.to_vec();
        let then: Vec<&'static str> = if grouped {
            let group: Vec<&'static str> = items
                .iter()
                .filter_map(|item| match item {
                    Selected::Column(column) => Some(*column),
                    _ => None,
                })
                .collect();
            if let Some((column, _)) = order.iter().find(|(column, _)| !group.contains(column)) {
                return Err(RepoError::invalid_input(
                    E::NAME,
                    format!("aggregates are ordered by their grouped columns only, not `{column}`"),
                ));
            }
            group
        } else {
            E::TABLE.primary_key.columns.to_vec()
        };
        for column in then {
            if !order.iter().any(|(ordered, _)| *ordered == column) {
                order.push((column, false));
            }
        }
        let paged = page.limit.is_some() || page.offset > 0;
        Ok(Request {
            items,
            order: order.into(),
            page: paged.then(|| crate::ports::page_bounds(page)),
        })
    }

    fn statement(
        &self,
        executor: &Executor,
        operation: &'static str,
        table: &'static crate::Table,
        filter_condition: &Arc<repo_sql::Condition>,
        matching: Option<&Arc<repo_sql::Condition>>,
    ) -> Statement {
        let limit = match self.page {
            Some(_) => PlanLimit::Page,
            None => PlanLimit::All,
        };
        let filter_condition = &crate::filter::for_handle(executor, filter_condition);
        let matching = matching.map(|matching| crate::filter::for_handle(executor, matching));
        let matching = matching.as_ref();
        let sql = crate::rendered::projected(
            table,
            executor.dialect(),
            &self.items,
            filter_condition,
            &self.order,
            limit,
            matching,
        );
        let shape = ProjectedShape {
            items: Arc::clone(&self.items),
            condition: Arc::clone(filter_condition),
            order: Arc::clone(&self.order),
            limit,
            matching: matching.cloned(),
        };
        executor
            .assembled(operation, sql)
            .shaped(Shape::Projected(Box::new(shape)))
    }
}

/// The rows of `E` that `filter` selects, as `request` reads them, decoded as `T`;
/// `matching` is what a `Selected::CountMatching` counts.
async fn read<E: Entity, T: RowDecode>(
    executor: &Executor,
    filter: &Filter<E>,
    request: &Request,
    operation: &'static str,
    matching: Option<&Filter<E>>,
) -> Result<Vec<T>, RepoError> {
    let condition = filter.scoped(E::TABLE);
    let build = || {
        let mut statement = request.statement(
            executor,
            operation,
            E::TABLE,
            &condition,
            matching.map(Filter::shared_condition),
        );
        if let Some(matching) = matching {
            matching.bind_values(&mut statement);
        }
        filter.bind_scoped_values(E::TABLE, &mut statement);
        if let Some((limit, offset)) = request.page {
            statement.bind(limit);
            statement.bind(offset);
        }
        statement
    };
    let rows = executor.read_rows(E::TABLE, false, &build).await?;
    rows.decode_rows::<T>()
        .map_err(|error| error.in_entity(E::NAME))
}
