//! Relations between entities, declared on the records: a belongs-to for each field declared
//! `references = Target`, and `has_many`, `has_one` and `many_to_many` on the entity they
//! start from. A relation is a constant of its entity (`Article::AUTHOR`, `Author::ARTICLES`,
//! `Article::TAGS`) that loads the related rows of many rows at once ([`Load`]: one statement
//! per relation and chunk of keys, whatever the number of rows, nested to any depth with
//! [`Related::with`]) and turns a filter on the related rows into one on its own
//! (`Article::AUTHOR.has(Author::USERNAME.eq("jake"))`, an `EXISTS`).
//!
//! The derive checks a declaration against the other entity at compile time: a relation
//! follows a field only through [`ForeignKeyField`], which only a `references` field has.

mod load;

use std::marker::PhantomData;

pub use load::{Cardinality, Counts, Group, Load, Related, With};
pub(crate) use load::{grouped, in_order_of};

use crate::column::ColumnValue;
use crate::dispatch::Owning;
use crate::entity::Entity;
use crate::filter::{Field, Filter};

/// A field of `Self` declared `references = Target`, keyed by [`Field::key`] of its column.
/// Implemented by the derive; what a relation declared on another entity follows, so that a
/// relation through a field that is no foreign key, or not one to that entity, fails to
/// compile.
#[diagnostic::on_unimplemented(
    message = "this field of `{Self}` is not a foreign key",
    label = "a relation follows a field declared `#[repo(references = ...)]`"
)]
pub trait ForeignKeyField<const FIELD: u64>: Owning {
    /// The entity it refers to, whose key is the field's type: the one check that a foreign
    /// key holds its target's key type, reported at `references = ...`.
    type Target: Owning<Id = Self::Key>;
    /// The field's type (inside its `Option`, for a nullable one).
    type Key: ColumnValue + Ord + Clone + std::fmt::Debug + Send + Sync + 'static;
    /// The field, for filters; a nullable one compares with the key inside its `Option`.
    const FIELD: Field<Self, Self::Key>;

    /// The key it holds, `None` when it is `NULL`.
    fn key(&self) -> Option<&Self::Key>;

    /// Makes it refer to the row with `key` (an owned child, to its root).
    fn set_key(&mut self, key: Self::Key);
}

/// The types a relation is between, held by no value.
type Types<T> = PhantomData<fn() -> T>;

/// The entity a foreign key field refers to.
type TargetOf<C, const F: u64> = <C as ForeignKeyField<F>>::Target;

/// The key of an entity.
type IdOf<E> = <E as Entity>::Id;

/// The field of `E`'s key, which relations reach it by (one column: only such a key is
/// referred to).
pub(crate) fn key_field<E: Entity>() -> Field<E, E::Id> {
    Field::new(E::KEY_COLUMNS.first().copied().unwrap_or_default())
}

macro_rules! copy_relation {
    ($name:ident < $($param:ident),* ; $($konst:ident),* >) => {
        impl<$($param,)* $(const $konst: u64),*> Clone for $name<$($param,)* $($konst),*> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<$($param,)* $(const $konst: u64),*> Copy for $name<$($param,)* $($konst),*> {}

        impl<$($param,)* $(const $konst: u64),*> std::fmt::Debug for $name<$($param,)* $($konst),*> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.name)
            }
        }
    };
}

/// The row a foreign key of `C` refers to: `Article::AUTHOR`, from `author_id` declared
/// `references = Author`. Each row gets `Option<Target>` (`None` for a `NULL` key).
pub struct BelongsTo<C, const F: u64> {
    name: &'static str,
    types: PhantomData<fn() -> C>,
}

copy_relation!(BelongsTo<C; F>);

impl<C, const F: u64> BelongsTo<C, F> {
    /// The relation called `name`. Written by the derive.
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self
    where
        C: ForeignKeyField<F>,
    {
        BelongsTo {
            name,
            types: PhantomData,
        }
    }
}

impl<C: ForeignKeyField<F>, const F: u64> BelongsTo<C, F> {
    /// The rows whose related row meets `filter`: `EXISTS` on the target's key.
    pub fn has(self, filter: Filter<TargetOf<C, F>>) -> Filter<C> {
        C::FIELD.exists_in(key_field::<TargetOf<C, F>>(), filter)
    }
}

/// The rows of `C` whose foreign key `F` refers to a row of `P`, which each row gets as `S`
/// says: all of them ([`HasMany`]) or the first by key ([`HasOne`]).
pub struct Referring<P, C, S, const F: u64> {
    name: &'static str,
    types: Types<(P, C, S)>,
}

copy_relation!(Referring<P, C, S; F>);

/// The rows of `C` whose foreign key refers to a row of `P`: `Author::ARTICLES`, declared
/// `#[repo(has_many(articles = Article::author_id))]`. Each row gets a `Vec<C>`.
pub type HasMany<P, C, const F: u64> = Referring<P, C, Many, F>;

/// The row of `C` whose foreign key refers to a row of `P`, when at most one does:
/// `User::PROFILE`, declared `#[repo(has_one(profile = Profile::user_id))]`. Each row gets an
/// `Option<C>` (the first by key, should several refer to it).
pub type HasOne<P, C, const F: u64> = Referring<P, C, One, F>;

/// A [`Referring`] relation's rows, all of them: [`HasMany`].
#[derive(Debug, Clone, Copy)]
pub struct Many;

/// A [`Referring`] relation's first row: [`HasOne`].
#[derive(Debug, Clone, Copy)]
pub struct One;

impl<P, C, S, const F: u64> Referring<P, C, S, F> {
    /// The relation's name, as declared.
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// The relation called `name`. Written by the derive.
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self
    where
        P: Entity<Id = <C as ForeignKeyField<F>>::Key>,
        C: ForeignKeyField<F, Target = P>,
    {
        Referring {
            name,
            types: PhantomData,
        }
    }
}

impl<P, C, S, const F: u64> Referring<P, C, S, F>
where
    P: Entity<Id = <C as ForeignKeyField<F>>::Key>,
    C: ForeignKeyField<F, Target = P>,
{
    /// The rows with at least one related row that meets `filter`: `EXISTS`.
    pub fn has(self, filter: Filter<C>) -> Filter<P> {
        key_field::<P>().exists_in(C::FIELD, filter)
    }
}

/// The rows of another entity that rows of the link entity `L` tie to rows of `P`:
/// `Article::TAGS`, declared `#[repo(many_to_many(tags = ArticleTag::article_id, to =
/// tag_id))]` (`FROM` refers to `P`, `TO` to the target). Each row gets a `Vec` of targets.
pub struct ManyToMany<P, L, const FROM: u64, const TO: u64> {
    name: &'static str,
    types: PhantomData<fn() -> (P, L)>,
}

copy_relation!(ManyToMany<P, L; FROM, TO>);

impl<P, L, const FROM: u64, const TO: u64> ManyToMany<P, L, FROM, TO> {
    /// The relation called `name`. Written by the derive.
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self
    where
        P: Entity<Id = <L as ForeignKeyField<FROM>>::Key>,
        L: ForeignKeyField<FROM, Target = P> + ForeignKeyField<TO>,
    {
        ManyToMany {
            name,
            types: PhantomData,
        }
    }
}

impl<P, L, const FROM: u64, const TO: u64> ManyToMany<P, L, FROM, TO>
where
    P: Entity<Id = <L as ForeignKeyField<FROM>>::Key>,
    L: ForeignKeyField<FROM, Target = P> + ForeignKeyField<TO>,
{
    /// The rows linked to at least one target that meets `filter`: `EXISTS` on the link
    /// table, and on the target's unless `filter` selects every row.
    pub fn has(self, filter: Filter<TargetOf<L, TO>>) -> Filter<P> {
        key_field::<P>().exists_in(<L as ForeignKeyField<FROM>>::FIELD, Self::links_to(filter))
    }

    /// The link entity's filter for the links to targets that meet `filter`.
    fn links_to(filter: Filter<TargetOf<L, TO>>) -> Filter<L> {
        // Any link will do, unless a target may be deleted: then only one to a target that lives.
        if filter.condition().is_always() && TargetOf::<L, TO>::TABLE.deleted_column().is_none() {
            return Filter::all();
        }
        <L as ForeignKeyField<TO>>::FIELD.exists_in(key_field::<TargetOf<L, TO>>(), filter)
    }
}
