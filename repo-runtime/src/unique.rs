//! [`UniqueKey`]: which unique key of an entity a conditional write tests (`insert_or_ignore`,
//! `upsert_on`). The derive names each one after its fields: `User::BY_ID`, `User::BY_EMAIL`.

use std::fmt;
use std::marker::PhantomData;

use crate::entity::Entity;
use crate::error::RepoError;
use crate::schema::Constraint;

/// The primary key or one unique constraint of `E`.
pub struct UniqueKey<E> {
    /// `None` for the primary key, else the position in `E::TABLE.unique`.
    index: Option<usize>,
    entity: PhantomData<fn() -> E>,
}

impl<E> Clone for UniqueKey<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for UniqueKey<E> {}

impl<E> PartialEq for UniqueKey<E> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}

impl<E> Eq for UniqueKey<E> {}

impl<E: Entity> fmt::Debug for UniqueKey<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UniqueKey")
            .field(&self.constraint().fields)
            .finish()
    }
}

impl<E> UniqueKey<E> {
    /// The primary key.
    pub const fn primary() -> Self {
        UniqueKey {
            index: None,
            entity: PhantomData,
        }
    }

    /// The unique constraint at `index` of the entity's table. Written by the derive, whose
    /// constraints it counts: never call it with a position of your own.
    #[doc(hidden)]
    pub const fn unique(index: usize) -> Self {
        UniqueKey {
            index: Some(index),
            entity: PhantomData,
        }
    }

    /// `None` for the primary key, else the position of the unique constraint.
    pub(crate) fn index(self) -> Option<usize> {
        self.index
    }
}

impl<E: Entity> UniqueKey<E> {
    /// The constraint in the entity's table.
    pub fn constraint(&self) -> &'static Constraint {
        match self.index {
            Some(index) => &E::TABLE.unique[index],
            None => &E::TABLE.primary_key,
        }
    }

    /// Whether `error` is a conflict on this key (and not on another).
    pub(crate) fn refused(&self, error: &RepoError) -> bool {
        let RepoError::Conflict { constraint, .. } = error else {
            return false;
        };
        E::TABLE
            .constraint(constraint)
            .is_some_and(|found| found.name == self.constraint().name)
    }
}
