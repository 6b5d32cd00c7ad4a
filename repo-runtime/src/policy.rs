//! What the library writes into an entity's policy columns (`#[repo(version)]`,
//! `#[repo(created_at)]`, `#[repo(updated_at)]`, `#[repo(deleted_at)]`, `#[repo(created_by)]`,
//! `#[repo(updated_by)]`): the [`Stamp`] of one write (its time, read once from the one
//! clock, [`now_micros`], and the actor of the handle it runs on), and the traits a policy
//! field's type implements ([`Version`], [`Timestamp`], [`DeletionMark`], [`ActorField`]),
//! which the derive's generated code names so that a field of the wrong type fails at
//! compile time, at the field.

use std::any::Any;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::column::ColumnValue;
use crate::error::RepoError;
use crate::executor::Executor;
use crate::schema::{Column, ColumnType, Table};
use crate::statement::Statement;

/// Who writes through a handle ([`Db::acting_as`](crate::Db::acting_as)): any value, kept
/// with its type's name for the error that says it does not fit a field.
#[derive(Clone)]
pub(crate) struct Actor {
    value: Arc<dyn Any + Send + Sync>,
    type_name: &'static str,
}

impl Actor {
    pub(crate) fn new<A: Clone + Send + Sync + 'static>(actor: A) -> Actor {
        Actor {
            value: Arc::new(actor),
            type_name: std::any::type_name::<A>(),
        }
    }

    pub(crate) fn type_name(&self) -> &'static str {
        self.type_name
    }
}

/// The tenant a handle works for ([`Db::for_tenant`](crate::Db::for_tenant)): any column
/// value, kept with how to bind it and its column type, which a tenant column must share.
#[derive(Clone)]
pub(crate) struct Tenant {
    value: Arc<dyn Any + Send + Sync>,
    bind: fn(&(dyn Any + Send + Sync), &mut Statement),
    ty: ColumnType,
    type_name: &'static str,
}

impl Tenant {
    pub(crate) fn new<T: TenantField>(tenant: T) -> Tenant {
        Tenant {
            value: Arc::new(tenant),
            bind: bind_as::<T>,
            ty: T::COLUMN.ty,
            type_name: std::any::type_name::<T>(),
        }
    }

    /// Binds the tenant as its own type, whatever column it is for.
    pub(crate) fn bind_to(&self, statement: &mut Statement) {
        (self.bind)(&*self.value, statement);
    }
}

fn bind_as<T: ColumnValue + 'static>(value: &(dyn Any + Send + Sync), statement: &mut Statement) {
    if let Some(value) = value.downcast_ref::<T>() {
        value.bind(statement);
    }
}

/// Which rows of a table with a `#[repo(tenant)]` column a handle's statements reach.
#[derive(Clone, Default)]
pub(crate) enum Tenancy {
    /// The handle names no tenant: a statement on such a table fails.
    #[default]
    Unset,
    /// One tenant's rows only ([`Db::for_tenant`](crate::Db::for_tenant)).
    Scoped(Tenant),
    /// Every tenant's rows ([`Db::unscoped`](crate::Db::unscoped)).
    Unscoped,
}

impl Tenancy {
    /// Whether the statements drop the tenant conditions: an unscoped handle's.
    pub(crate) fn is_unscoped(&self) -> bool {
        matches!(self, Tenancy::Unscoped)
    }

    /// How the handle is scoped, for `Debug`.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Tenancy::Unset => "none",
            Tenancy::Scoped(tenant) => tenant.type_name,
            Tenancy::Unscoped => "unscoped",
        }
    }

    /// Binds the tenant a statement on `table`'s `column` (its tenant column) selects; an
    /// error fails the statement: no tenant named, or one of another type.
    pub(crate) fn bind(
        &self,
        table: &'static Table,
        column: &'static Column,
        statement: &mut Statement,
    ) {
        match self {
            Tenancy::Scoped(tenant) if tenant.ty == column.ty => tenant.bind_to(statement),
            Tenancy::Scoped(tenant) => statement.fail(mismatch(table, column, tenant.type_name)),
            // Its statements were built without the tenant's conditions.
            Tenancy::Unscoped => {}
            Tenancy::Unset => statement.fail(unset(table.entity)),
        }
    }

    /// The tenant as the type of `entity`'s tenant field `field`, for a new row: a handle
    /// scoped to one; an unscoped handle does not know whose row it would be.
    fn value<T: ColumnValue + Clone + 'static>(
        &self,
        entity: &'static str,
        field: &'static str,
    ) -> Result<T, RepoError> {
        match self {
            Tenancy::Scoped(tenant) => tenant.value.downcast_ref::<T>().cloned().ok_or_else(|| {
                RepoError::config(format!(
                    "the handle is scoped to a `{}` tenant, which `{entity}::{field}` cannot hold \
                     (`{}`)",
                    tenant.type_name,
                    std::any::type_name::<T>()
                ))
            }),
            Tenancy::Unscoped => Err(RepoError::config(format!(
                "an unscoped handle inserts no `{entity}`: a new row belongs to a tenant, so \
                 insert through `db.for_tenant(..)`"
            ))),
            Tenancy::Unset => Err(unset(entity)),
        }
    }
}

/// The error of a statement on a scoped entity through a handle that names no tenant.
fn unset(entity: &'static str) -> RepoError {
    RepoError::config(format!(
        "`{entity}` is scoped by tenant (`#[repo(tenant)]`): reach it through \
         `db.for_tenant(..)`, or through `db.unscoped()` for every tenant's rows"
    ))
}

fn mismatch(table: &'static Table, column: &'static Column, tenant: &'static str) -> RepoError {
    RepoError::config(format!(
        "the handle is scoped to a `{tenant}` tenant, which `{}::{}` cannot hold",
        table.entity, column.field
    ))
}

/// The moment and the actor of one write, shared by every row and column it stamps: a batch's
/// rows get one time, and an insert's `created_at` equals its `updated_at`. Read from the
/// clock on first use, so a write to an entity without timestamps never reads it.
#[doc(hidden)]
#[derive(Default)]
pub struct Stamp {
    micros: OnceLock<i64>,
    actor: Option<Actor>,
    tenancy: Tenancy,
}

impl Stamp {
    /// A stamp for one write through `executor`, yet to read the clock.
    pub(crate) fn new(executor: &Executor) -> Stamp {
        Stamp {
            micros: OnceLock::new(),
            actor: executor.db().actor().cloned(),
            tenancy: executor.db().tenancy().clone(),
        }
    }

    /// The tenant of a new row of `entity`, as the type of its tenant field `field`: the
    /// handle's.
    pub fn tenant<T: ColumnValue + Clone + 'static>(
        &self,
        entity: &'static str,
        field: &'static str,
    ) -> Result<T, RepoError> {
        self.tenancy.value(entity, field)
    }

    /// The tenant a write of a stored row binds (with its `own` tenant): the handle's, so that
    /// no write reaches another tenant's row, or on an unscoped handle the row's own, so that
    /// none moves a row to another tenant.
    pub fn tenant_or<T: ColumnValue + Clone + 'static>(
        &self,
        own: &T,
        entity: &'static str,
        field: &'static str,
    ) -> Result<T, RepoError> {
        match self.tenancy {
            Tenancy::Unscoped => Ok(own.clone()),
            _ => self.tenancy.value(entity, field),
        }
    }

    /// The actor of the write as the type of the field `field` of `entity`: an error when
    /// the handle names none and the field needs one, or one of another type.
    pub fn actor<T: ActorField>(
        &self,
        entity: &'static str,
        field: &'static str,
    ) -> Result<T, RepoError> {
        let actor = self.actor.as_ref();
        T::from_actor(actor.map(|actor| &*actor.value)).ok_or_else(|| match actor {
            None => RepoError::invalid_input(
                entity,
                format!(
                    "`{field}` records who writes, and the handle names no one: write through \
                     `db.acting_as(..)`"
                ),
            ),
            Some(actor) => RepoError::config(format!(
                "the handle acts as a `{}`, which `{entity}::{field}` cannot hold (`{}`)",
                actor.type_name,
                std::any::type_name::<T>()
            )),
        })
    }

    /// The write's time in microseconds since the Unix epoch, UTC.
    pub fn micros(&self) -> i64 {
        *self.micros.get_or_init(now_micros)
    }

    /// The write's time as the field's type.
    #[inline]
    pub fn time<T: Timestamp>(&self) -> T {
        T::from_micros(self.micros())
    }

    /// The write's time as a deletion mark.
    #[inline]
    pub fn deleted<T: DeletionMark>(&self) -> T {
        T::deleted(self.micros())
    }
}

/// The last time [`now_micros`] gave: the clock never goes back within a process.
static LAST_MICROS: AtomicI64 = AtomicI64::new(i64::MIN);

/// The clock of every timestamp the library writes: the client's, in UTC, at microsecond
/// precision (what every backend keeps), and never earlier than a time it gave before in this
/// process, so that `updated_at` only moves forward even if the system clock is set back.
///
/// The client's clock rather than the database's: the same on every backend and on the
/// in-memory store, known without reading the row back (MySQL returns nothing from a write),
/// and the same for every row of a batch. Servers of one application should keep their clocks
/// in sync (NTP), as they must for any time they compare.
pub fn now_micros() -> i64 {
    let system = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
        });
    let previous = LAST_MICROS.fetch_max(system, Ordering::AcqRel);
    system.max(previous)
}

/// The type of a `#[repo(version)]` field: an integer that starts at 1 and moves on by one
/// with each write.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a version",
    label = "`#[repo(version)]` needs an integer field",
    note = "use i16, i32 or i64"
)]
pub trait Version: ColumnValue + Copy {
    /// The version of a row just inserted.
    const INITIAL: Self;

    /// The version as the runtime binds and reports it.
    fn get(self) -> i64;
}

macro_rules! version {
    ($($ty:ty),*) => {$(
        impl Version for $ty {
            const INITIAL: Self = 1;

            #[inline]
            fn get(self) -> i64 {
                i64::from(self)
            }
        }
    )*};
}

version!(i16, i32, i64);

/// The type of a `#[repo(created_at)]` or `#[repo(updated_at)]` field: a date and time the
/// library sets from [`now_micros`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the time of a write",
    label = "a timestamp policy needs a date and time field",
    note = "use chrono::DateTime<Utc> or chrono::NaiveDateTime (feature `chrono`), or time::OffsetDateTime or time::PrimitiveDateTime (feature `time`); UTC"
)]
pub trait Timestamp: ColumnValue {
    /// The time `micros` microseconds after the Unix epoch, UTC.
    fn from_micros(micros: i64) -> Self;
}

/// The type of a `#[repo(deleted_at)]` field: `None` while the row lives, the time of its
/// delete once deleted.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot mark a deleted row",
    label = "`#[repo(deleted_at)]` needs an optional date and time field",
    note = "use Option of chrono::DateTime<Utc>, chrono::NaiveDateTime, time::OffsetDateTime or time::PrimitiveDateTime"
)]
pub trait DeletionMark: ColumnValue {
    /// The mark of a row that lives.
    fn live() -> Self;

    /// The mark of a row deleted `micros` microseconds after the Unix epoch, UTC.
    fn deleted(micros: i64) -> Self;
}

impl<T: Timestamp> DeletionMark for Option<T> {
    fn live() -> Self {
        None
    }

    fn deleted(micros: i64) -> Self {
        Some(T::from_micros(micros))
    }
}

#[cfg(feature = "chrono")]
impl Timestamp for chrono::DateTime<chrono::Utc> {
    fn from_micros(micros: i64) -> Self {
        chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
    }
}

#[cfg(feature = "chrono")]
impl Timestamp for chrono::NaiveDateTime {
    fn from_micros(micros: i64) -> Self {
        chrono::DateTime::from_timestamp_micros(micros)
            .unwrap_or_default()
            .naive_utc()
    }
}

#[cfg(feature = "time")]
impl Timestamp for time::OffsetDateTime {
    fn from_micros(micros: i64) -> Self {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
}

#[cfg(feature = "time")]
impl Timestamp for time::PrimitiveDateTime {
    fn from_micros(micros: i64) -> Self {
        let utc = <time::OffsetDateTime as Timestamp>::from_micros(micros);
        time::PrimitiveDateTime::new(utc.date(), utc.time())
    }
}

/// A value a statement being bound needed: its error fails the statement.
#[doc(hidden)]
pub trait OrFail<T> {
    /// The value, or `None` with the statement failed by the error.
    fn or_fail(self, statement: &mut Statement) -> Option<T>;
}

impl<T> OrFail<T> for Result<T, RepoError> {
    fn or_fail(self, statement: &mut Statement) -> Option<T> {
        match self {
            Ok(value) => Some(value),
            Err(error) => {
                statement.fail(error);
                None
            }
        }
    }
}

/// The type of a `#[repo(tenant)]` field, and of the tenant a handle is scoped to
/// ([`Db::for_tenant`](crate::Db::for_tenant)): a column value every row has (not an
/// `Option`, which the derive refuses).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot name a tenant",
    label = "`#[repo(tenant)]` needs a column value",
    note = "use an integer, a String or a Uuid, or a newtype with #[derive(DbValue)]"
)]
pub trait TenantField: ColumnValue + Clone + Send + Sync + 'static {}

impl<T: ColumnValue + Clone + Send + Sync + 'static> TenantField for T {}

/// The type of a `#[repo(created_by)]` or `#[repo(updated_by)]` field: the actor of the
/// handle ([`Db::acting_as`](crate::Db::acting_as)) as that type, or for an `Option`, `None`
/// when the handle names no one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot record who writes",
    label = "an actor policy needs an identifier field",
    note = "use i32, i64, String or Uuid, or an Option of one"
)]
pub trait ActorField: ColumnValue + Sized {
    /// The actor as this type: `None` when it is another type, or absent and required.
    fn from_actor(actor: Option<&(dyn Any + Send + Sync)>) -> Option<Self>;
}

macro_rules! actor_field {
    ($($(#[$cfg:meta])* $ty:ty),*) => {$(
        $(#[$cfg])*
        impl ActorField for $ty {
            fn from_actor(actor: Option<&(dyn Any + Send + Sync)>) -> Option<Self> {
                actor?.downcast_ref::<$ty>().cloned()
            }
        }

        $(#[$cfg])*
        impl ActorField for Option<$ty> {
            fn from_actor(actor: Option<&(dyn Any + Send + Sync)>) -> Option<Self> {
                match actor {
                    None => Some(None),
                    Some(actor) => actor.downcast_ref::<$ty>().cloned().map(Some),
                }
            }
        }
    )*};
}

actor_field!(
    i32,
    i64,
    String,
    #[cfg(feature = "uuid")]
    uuid::Uuid
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_never_goes_back_and_a_stamp_reads_it_once() {
        let first = now_micros();
        let second = now_micros();
        assert!(second >= first);
        let stamp = Stamp::default();
        let at = stamp.micros();
        assert!(at >= second);
        assert_eq!(stamp.micros(), at);
    }

    #[test]
    fn a_version_starts_at_one() {
        assert_eq!(<i32 as Version>::INITIAL, 1);
        assert_eq!(Version::get(7_i16), 7);
    }
}
