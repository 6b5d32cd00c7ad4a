//! Persistence records mapped to and from domain types (`#[repo(domain = path)]`): the
//! [`DomainMapping`] trait the derive implements, and the repository operations in domain terms,
//! written once here over the record's operations.

use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::Executor;
use crate::list::ListOptions;
use crate::operations as records;

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

fn all_into_domain<R: DomainMapping>(records: Vec<R>) -> Result<Vec<R::Domain>, RepoError> {
    records.into_iter().map(R::into_domain).collect()
}

/// Inserts a domain value; a generated key in it is ignored and the stored key returned.
pub async fn insert<R: DomainMapping>(
    executor: &Executor,
    domain: R::Domain,
) -> Result<R::Domain, RepoError> {
    let new = R::new_from_domain(domain)?;
    records::insert::<R>(executor, new).await?.into_domain()
}

/// Inserts every domain value in one transaction; see the record's `insert_many`.
pub async fn insert_many<R: DomainMapping>(
    executor: &Executor,
    domains: Vec<R::Domain>,
) -> Result<Vec<R::Domain>, RepoError> {
    let news = domains
        .into_iter()
        .map(R::new_from_domain)
        .collect::<Result<Vec<_>, _>>()?;
    all_into_domain(records::insert_many::<R>(executor, news).await?)
}

/// The domain value with this key, or [`RepoError::NotFound`].
pub async fn get<R: DomainMapping>(
    executor: &Executor,
    id: &R::Id,
) -> Result<R::Domain, RepoError> {
    records::get::<R>(executor, id).await?.into_domain()
}

/// The domain value with this key, if any.
pub async fn find<R: DomainMapping>(
    executor: &Executor,
    id: &R::Id,
) -> Result<Option<R::Domain>, RepoError> {
    records::find::<R>(executor, id)
        .await?
        .map(R::into_domain)
        .transpose()
}

/// The domain values with these keys, in the order of `ids`.
pub async fn get_many<R: DomainMapping>(
    executor: &Executor,
    ids: &[R::Id],
) -> Result<Vec<R::Domain>, RepoError> {
    all_into_domain(records::get_many::<R>(executor, ids).await?)
}

/// Domain values in the requested order and page.
pub async fn list<R: DomainMapping>(
    executor: &Executor,
    options: &ListOptions<R::Column>,
) -> Result<Vec<R::Domain>, RepoError> {
    all_into_domain(records::list::<R>(executor, options).await?)
}

/// Writes the domain value over the row with its key.
pub async fn update<R: DomainMapping>(
    executor: &Executor,
    domain: &R::Domain,
) -> Result<R::Domain, RepoError> {
    let record = R::from_domain(domain)?;
    records::update::<R>(executor, &record).await?.into_domain()
}

/// Inserts the domain value, or updates the row with its key.
pub async fn upsert<R: DomainMapping>(
    executor: &Executor,
    domain: &R::Domain,
) -> Result<R::Domain, RepoError> {
    let record = R::from_domain(domain)?;
    records::upsert::<R>(executor, &record).await?.into_domain()
}

/// A finder's record, as its domain value.
pub fn found<R: DomainMapping>(record: Option<R>) -> Result<Option<R::Domain>, RepoError> {
    record.map(R::into_domain).transpose()
}
