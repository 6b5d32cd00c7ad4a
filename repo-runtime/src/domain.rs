//! What a repository speaks: its records as they are ([`AsRecord`]), or the domain types they
//! map to (`#[repo(domain = path)]`, [`AsDomain`] over the [`DomainMapping`] the derive
//! implements). [`Mapping`] is the one parameter that tells the two apart, so the repository's
//! operations are written once.

use std::ops::Deref;

use crate::entity::Entity;
use crate::error::RepoError;

/// How a repository's values map to the records of `E`: what its reads return and its writes
/// take. [`AsRecord`] for the record itself, [`AsDomain`] for its domain type.
pub trait Mapping<E: Entity>: Send + Sync + 'static {
    /// What reads return and `update` / `upsert` take.
    type Value: Send + Sync + 'static;
    /// What `insert` takes.
    type New: Send + Sync + 'static;

    /// The value of a stored record.
    fn value(record: E) -> Result<Self::Value, RepoError>;

    /// The values of stored records, in order.
    fn values(records: Vec<E>) -> Result<Vec<Self::Value>, RepoError> {
        records.into_iter().map(Self::value).collect()
    }

    /// The record a value is written as.
    fn record(value: &Self::Value) -> Result<RecordOf<'_, E>, RepoError>;

    /// The insert input of a value.
    fn new_record(new: Self::New) -> Result<E::New, RepoError>;
}

/// A record borrowed from the value it is written from, or built from it.
#[derive(Debug)]
pub enum RecordOf<'a, E> {
    /// The value is the record.
    Borrowed(&'a E),
    /// The record converted from a domain value.
    Built(E),
}

impl<E> Deref for RecordOf<'_, E> {
    type Target = E;

    #[inline(always)]
    fn deref(&self) -> &E {
        match self {
            RecordOf::Borrowed(record) => record,
            RecordOf::Built(record) => record,
        }
    }
}

/// A repository of records as they are: the default [`Mapping`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AsRecord;

impl<E: Entity> Mapping<E> for AsRecord {
    type Value = E;
    type New = E::New;

    #[inline(always)]
    fn value(record: E) -> Result<E, RepoError> {
        Ok(record)
    }

    #[inline(always)]
    fn values(records: Vec<E>) -> Result<Vec<E>, RepoError> {
        Ok(records)
    }

    #[inline(always)]
    fn record(value: &E) -> Result<RecordOf<'_, E>, RepoError> {
        Ok(RecordOf::Borrowed(value))
    }

    #[inline(always)]
    fn new_record(new: E::New) -> Result<E::New, RepoError> {
        Ok(new)
    }
}

/// A repository that speaks the record's domain type (`#[repo(domain = path)]`): a generated
/// key in an inserted value is ignored and the stored one returned.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsDomain;

impl<E: DomainMapping> Mapping<E> for AsDomain {
    type Value = E::Domain;
    type New = E::Domain;

    fn value(record: E) -> Result<E::Domain, RepoError> {
        record.into_domain()
    }

    fn record(value: &E::Domain) -> Result<RecordOf<'_, E>, RepoError> {
        E::from_domain(value).map(RecordOf::Built)
    }

    fn new_record(new: E::Domain) -> Result<E::New, RepoError> {
        E::new_from_domain(new)
    }
}

/// A persistence record that converts to and from its domain type, field by field.
///
/// Implemented by `#[derive(Repository)]` with `#[repo(domain = path::to::Type)]`, which also
/// implements `From` (or `TryFrom` when a field conversion can fail) in both directions.
pub trait DomainMapping: Entity {
    /// The domain type the repository speaks.
    type Domain: Send + Sync + 'static;

    /// The domain value of this record; a failed field conversion is
    /// [`RepoError::InvalidInput`] naming the field.
    fn into_domain(self) -> Result<Self::Domain, RepoError>;

    /// The record of a domain value.
    fn from_domain(domain: &Self::Domain) -> Result<Self, RepoError>;

    /// The insert input of a domain value: its record without the generated key, if any.
    fn new_from_domain(domain: Self::Domain) -> Result<Self::New, RepoError>;
}

/// A field conversion that failed: `InvalidInput` naming the entity and the field.
#[doc(hidden)]
pub fn field_error(
    entity: &'static str,
    field: &'static str,
    sensitive: bool,
    error: impl std::fmt::Display,
) -> RepoError {
    if sensitive {
        RepoError::invalid_input(
            entity,
            format!("field `{field}`: {}", crate::conversion::REDACTED),
        )
    } else {
        RepoError::invalid_input(entity, format!("field `{field}`: {error}"))
    }
}

/// A finder's record, as the repository's value.
#[doc(hidden)]
pub fn found<E: Entity, M: Mapping<E>>(record: Option<E>) -> Result<Option<M::Value>, RepoError> {
    record.map(M::value).transpose()
}
