//! The entity cache: rows of entities declared `#[repo(cache)]`, read by key and by unique key
//! through a `Db` opened with `DbOptions::cache`, held in a `moka` cache per entity.
//!
//! No entry is served once a write the library ran may have changed its row. Every write
//! statement passes through the executor, which reports what it touched here: a row by key
//! (the by-key writes name it), or, for anything else (filters, hand-written statements), the
//! whole table. An entry carries the generations it was read at, captured before its
//! statement ran; a write moves them after it ran (after its transaction committed), so an
//! entry read before a write never validates after it, whatever the interleaving:
//! - a row entry: its key's stripe generation and its table's bulk generation;
//! - an absent-row entry (a miss cached briefly): its table's write generation, which every
//!   write moves.
//!
//! Inside a transaction nothing is read from or written to the cache; the transaction's
//! writes are reported when it commits and dropped when it rolls back.

use std::any::Any;
#[cfg(feature = "cache")]
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
#[cfg(feature = "cache")]
use std::sync::RwLock;
#[cfg(feature = "cache")]
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::Executor;
#[cfg(feature = "cache")]
use crate::schema::{OnDelete, Table};

#[cfg(all(feature = "cache", feature = "postgres"))]
mod channel;

/// How an entity is cached: what `#[repo(cache(..))]` generates.
#[doc(hidden)]
pub struct CacheSpec<E: Entity> {
    /// Most rows held for the entity.
    pub capacity: u64,
    /// How long a row is held.
    pub ttl: Duration,
    /// The key as the cache holds it.
    pub key: fn(&E::Id) -> CacheKey,
    /// A copy of a held row, for the caller.
    pub copy: fn(&E) -> E,
}

/// A key of any hashable type, as the cache holds it.
#[doc(hidden)]
#[derive(Clone)]
pub struct CacheKey(Arc<dyn ErasedKey>);

trait ErasedKey: Send + Sync + 'static {
    fn hash_into(&self, state: &mut dyn Hasher);
    fn equals(&self, other: &dyn Any) -> bool;
    fn as_any(&self) -> &dyn Any;
}

impl<K: Hash + Eq + Send + Sync + 'static> ErasedKey for K {
    fn hash_into(&self, mut state: &mut dyn Hasher) {
        self.hash(&mut state);
    }

    fn equals(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<K>() == Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl CacheKey {
    /// The key `key`.
    pub fn new<K: Hash + Eq + Send + Sync + 'static>(key: K) -> Self {
        CacheKey(Arc::new(key))
    }

    /// Where its generation is kept: the same in every process of the same program, so that
    /// another handle's notice names it (FNV-1a over the key's `Hash` input).
    #[cfg(feature = "cache")]
    fn stripe(&self, table: &str) -> usize {
        let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
        table.hash(&mut hasher);
        self.hash(&mut hasher);
        // The remainder is below STRIPES, which fits a usize.
        (hasher.finish() % STRIPES as u64) as usize
    }
}

/// FNV-1a: a hash fixed by its definition, unlike the standard library's.
#[cfg(feature = "cache")]
struct Fnv(u64);

#[cfg(feature = "cache")]
impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash_into(state);
    }
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.equals(other.0.as_any())
    }
}

impl Eq for CacheKey {}

impl std::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A key may be sensitive: never printed.
        f.write_str("CacheKey(..)")
    }
}

/// What a write statement changed, as the cache needs to know and handles tell each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "cache"), allow(dead_code))]
pub(crate) enum Touch {
    /// The rows whose keys fall in this stripe: one row's key names it (the row may be new,
    /// gone, or have new unique values).
    Row(usize),
    /// Any rows of the table.
    Table,
    /// New rows only: none held changes, but absences may no longer hold.
    New,
}

#[cfg(feature = "cache")]
/// Generations of keys are kept in this many stripes, shared by every table.
const STRIPES: usize = 4096;

#[cfg(feature = "cache")]
/// Where an entry is found.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Slot {
    Key(CacheKey),
    /// A unique key, by its position among the entity's unique keys.
    Unique(usize, CacheKey),
}

#[cfg(feature = "cache")]
/// A held row, or a held absence, with the generations it was read at.
#[derive(Clone)]
struct Entry {
    row: Option<Arc<dyn Any + Send + Sync>>,
    tag: Tag,
}

#[cfg(feature = "cache")]
#[derive(Clone, Copy)]
enum Tag {
    Row {
        stripe: usize,
        stripe_generation: u64,
        bulk_generation: u64,
    },
    Absent {
        write_generation: u64,
    },
}

#[cfg(feature = "cache")]
/// The cache of one `Db`: one `moka` cache per cached entity, and the generations.
pub(crate) struct CacheStore {
    tables: RwLock<HashMap<&'static str, Arc<TableCache>>>,
    /// Tables whose rows a delete in the key's table changes (`ON DELETE CASCADE` or
    /// `SET NULL` to it), by the referenced table's name.
    dependents: RwLock<HashMap<&'static str, Vec<&'static str>>>,
    stripes: Box<[AtomicU64]>,
    absent_ttl: Duration,
    counters: Arc<Counters>,
    /// PostgreSQL: the channel to the other handles on the database.
    #[cfg(feature = "postgres")]
    channel: std::sync::OnceLock<channel::Channel>,
}

#[cfg(feature = "cache")]
struct TableCache {
    entries: moka::future::Cache<Slot, Entry>,
    /// Moved by every write to the table.
    write_generation: AtomicU64,
    /// Moved by writes to rows the statement does not name by key.
    bulk_generation: AtomicU64,
}

#[cfg(feature = "cache")]
/// What the cache did, for `db.metrics()`.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) invalidations: AtomicU64,
}

#[cfg(feature = "cache")]
struct Expiry {
    ttl: Duration,
    absent_ttl: Duration,
}

#[cfg(feature = "cache")]
impl moka::Expiry<Slot, Entry> for Expiry {
    fn expire_after_create(
        &self,
        _key: &Slot,
        entry: &Entry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(match entry.row {
            Some(_) => self.ttl,
            None => self.absent_ttl.min(self.ttl),
        })
    }
}

#[cfg(feature = "cache")]
/// The generations captured before a read.
struct Before {
    write_generation: u64,
    bulk_generation: u64,
}

#[cfg(feature = "cache")]
impl CacheStore {
    pub(crate) fn new(absent_ttl: Duration) -> Self {
        CacheStore {
            tables: RwLock::default(),
            dependents: RwLock::default(),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            absent_ttl,
            counters: Arc::default(),
            #[cfg(feature = "postgres")]
            channel: std::sync::OnceLock::new(),
        }
    }

    /// Opens the channel to the other handles on the PostgreSQL database at `url`: this
    /// store's writes are told to them, theirs to it. Returns once it listens (or its first
    /// attempt failed: it keeps trying, and forgets what was held when it succeeds).
    #[cfg(feature = "postgres")]
    pub(crate) async fn connect_channel(self: &Arc<Self>, url: &str) {
        let (ready, listening) = tokio::sync::oneshot::channel();
        let opened = channel::Channel::open(Arc::downgrade(self), url.to_owned(), ready);
        let _ = self.channel.set(opened);
        // Dropped unsent only without a runtime, where there is no listener to wait for.
        let _ = listening.await;
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The cache of `E`, made on first use.
    fn table<E: Entity>(&self, spec: &CacheSpec<E>) -> Arc<TableCache> {
        let name = E::TABLE.name;
        if let Some(table) = read(&self.tables).get(name) {
            return Arc::clone(table);
        }
        let mut tables = write(&self.tables);
        if let Some(table) = tables.get(name) {
            return Arc::clone(table);
        }
        let counters = Arc::clone(&self.counters);
        let entries = moka::future::Cache::builder()
            .max_capacity(spec.capacity)
            .expire_after(Expiry {
                ttl: spec.ttl,
                absent_ttl: self.absent_ttl,
            })
            .eviction_listener(move |_, _, cause| {
                if matches!(
                    cause,
                    moka::notification::RemovalCause::Size
                        | moka::notification::RemovalCause::Expired
                ) {
                    counters.evictions.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        let table = Arc::new(TableCache {
            entries,
            write_generation: AtomicU64::new(0),
            bulk_generation: AtomicU64::new(0),
        });
        tables.insert(name, Arc::clone(&table));
        drop(tables);
        let mut dependents = write(&self.dependents);
        for key in E::TABLE.foreign_keys {
            if matches!(key.on_delete, OnDelete::Cascade | OnDelete::SetNull) {
                let list = dependents.entry(key.table).or_default();
                if !list.contains(&name) {
                    list.push(name);
                }
            }
        }
        table
    }

    fn stripe_generation(&self, stripe: usize) -> u64 {
        self.stripes[stripe].load(Ordering::SeqCst)
    }

    fn is_valid(&self, table: &TableCache, entry: &Entry) -> bool {
        match entry.tag {
            Tag::Row {
                stripe,
                stripe_generation,
                bulk_generation,
            } => {
                self.stripe_generation(stripe) == stripe_generation
                    && table.bulk_generation.load(Ordering::SeqCst) == bulk_generation
            }
            Tag::Absent { write_generation } => {
                table.write_generation.load(Ordering::SeqCst) == write_generation
            }
        }
    }

    /// Reports a write to `table`: what it touched no longer validates, nor does any held
    /// absence in it, nor anything in the tables its deletes reach; and tells the other
    /// handles on the database, where there is a channel.
    pub(crate) fn touched(&self, table: &'static Table, touch: Touch) {
        self.apply(table.name, touch);
        #[cfg(feature = "postgres")]
        if let Some(channel) = self.channel.get() {
            channel.publish(table.name, touch);
        }
    }

    /// Applies a change to `table`, made here or reported by another handle.
    fn apply(&self, table: &str, change: Touch) {
        self.counters.invalidations.fetch_add(1, Ordering::Relaxed);
        let cached = read(&self.tables).get(table).cloned();
        if let Some(cached) = cached {
            // The write generation first: a reader that saw the old stripe generation after
            // its read sees this one moved, and keeps nothing.
            cached.write_generation.fetch_add(1, Ordering::SeqCst);
            if let Touch::Table = change {
                cached.bulk_generation.fetch_add(1, Ordering::SeqCst);
            }
        }
        match change {
            Touch::Row(stripe) => {
                if let Some(generation) = self.stripes.get(stripe) {
                    generation.fetch_add(1, Ordering::SeqCst);
                }
            }
            Touch::Table => {}
            Touch::New => return,
        }
        let dependents = read(&self.dependents).get(table).cloned();
        for name in dependents.into_iter().flatten() {
            if let Some(cached) = read(&self.tables).get(name).cloned() {
                cached.write_generation.fetch_add(1, Ordering::SeqCst);
                cached.bulk_generation.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// Forgets everything held: changes may have been missed.
    pub(crate) fn clear(&self) {
        for table in read(&self.tables).values() {
            table.write_generation.fetch_add(1, Ordering::SeqCst);
            table.bulk_generation.fetch_add(1, Ordering::SeqCst);
            table.entries.invalidate_all();
        }
    }
}

#[cfg(feature = "cache")]
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    // The maps only grow, each insert whole: a panic elsewhere leaves them consistent.
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(feature = "cache")]
fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The store and spec a read of `E` through `executor` uses, if it is cached: an entity
/// declared `cache`, on a handle opened with the cache, outside a transaction.
#[cfg(feature = "cache")]
fn applies<E: Entity>(executor: &Executor) -> Option<(&CacheStore, &'static CacheSpec<E>)> {
    let spec = E::CACHE?;
    let Executor::Db(db) = executor else {
        return None;
    };
    Some((db.cache()?, spec))
}

/// `statement`, stated to write only the row of `E` with key `id` (else the cache forgets the
/// whole table when it runs).
pub(crate) fn touching<E: Entity>(
    executor: &Executor,
    id: &E::Id,
    #[allow(unused_mut)] mut statement: crate::statement::Statement,
) -> crate::statement::Statement {
    #[cfg(feature = "cache")]
    if let Some(spec) = E::CACHE
        && executor.db().cache().is_some()
    {
        statement.touches = Some((spec.key)(id).stripe(E::TABLE.name));
    }
    #[cfg(not(feature = "cache"))]
    let _ = (executor, id);
    statement
}

/// The row of `E` with key `id`, from the cache or from `load`, which reads it.
pub(crate) async fn by_key<E, L>(
    executor: &Executor,
    id: &E::Id,
    load: L,
) -> Result<Option<E>, RepoError>
where
    E: Entity,
    L: std::future::Future<Output = Result<Option<E>, RepoError>>,
{
    #[cfg(feature = "cache")]
    if let Some((store, spec)) = applies::<E>(executor) {
        return read_through(store, spec, Slot::Key((spec.key)(id)), load).await;
    }
    #[cfg(not(feature = "cache"))]
    let _ = (executor, id);
    load.await
}

/// The row of `E` whose unique key at `position` holds `key`, from the cache or from `load`.
#[doc(hidden)]
pub async fn by_unique<E, K, L>(
    executor: &Executor,
    position: usize,
    key: K,
    load: L,
) -> Result<Option<E>, RepoError>
where
    E: Entity,
    K: FnOnce() -> CacheKey,
    L: std::future::Future<Output = Result<Option<E>, RepoError>>,
{
    #[cfg(feature = "cache")]
    if let Some((store, spec)) = applies::<E>(executor) {
        return read_through(store, spec, Slot::Unique(position, key()), load).await;
    }
    #[cfg(not(feature = "cache"))]
    let _ = (executor, position, key);
    load.await
}

#[cfg(feature = "cache")]
async fn read_through<E, L>(
    store: &CacheStore,
    spec: &'static CacheSpec<E>,
    slot: Slot,
    load: L,
) -> Result<Option<E>, RepoError>
where
    E: Entity,
    L: std::future::Future<Output = Result<Option<E>, RepoError>>,
{
    let table = store.table(spec);
    if let Some(held) = store.held(&table, spec, &slot).await {
        return Ok(held);
    }
    let before = table.before();
    let loaded = load.await?;
    store
        .keep(&table, spec, slot, loaded.as_ref(), &before)
        .await;
    Ok(loaded)
}

/// The rows of `E` with keys `ids`, in the order of `ids` (absent keys skipped, a repeated key
/// once): those the cache holds, and what `load` reads of the others.
pub(crate) async fn by_keys<E, L, F>(
    executor: &Executor,
    ids: &[E::Id],
    load: L,
) -> Result<Vec<E>, RepoError>
where
    E: Entity,
    L: FnOnce(Vec<E::Id>) -> F,
    F: std::future::Future<Output = Result<Vec<E>, RepoError>>,
{
    #[cfg(feature = "cache")]
    if let Some((store, spec)) = applies::<E>(executor) {
        let table = store.table(spec);
        let mut order: Vec<E::Id> = Vec::with_capacity(ids.len());
        let mut rows: std::collections::BTreeMap<E::Id, E> = std::collections::BTreeMap::new();
        let mut missing = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for id in ids {
            if !seen.insert(id.clone()) {
                continue;
            }
            order.push(id.clone());
            match store.held(&table, spec, &Slot::Key((spec.key)(id))).await {
                Some(Some(row)) => {
                    rows.insert(id.clone(), row);
                }
                Some(None) => {}
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            let before = table.before();
            let loaded = load(missing.clone()).await?;
            for row in loaded {
                let slot = Slot::Key((spec.key)(&row.id()));
                store.keep(&table, spec, slot, Some(&row), &before).await;
                rows.insert(row.id(), row);
            }
            for id in missing.iter().filter(|id| !rows.contains_key(id)) {
                store
                    .keep(&table, spec, Slot::Key((spec.key)(id)), None, &before)
                    .await;
            }
        }
        return Ok(order.iter().filter_map(|id| rows.remove(id)).collect());
    }
    #[cfg(not(feature = "cache"))]
    let _ = executor;
    load(ids.to_vec()).await
}

#[cfg(feature = "cache")]
impl TableCache {
    /// The generations a read about to start must be checked against.
    fn before(&self) -> Before {
        Before {
            write_generation: self.write_generation.load(Ordering::SeqCst),
            bulk_generation: self.bulk_generation.load(Ordering::SeqCst),
        }
    }
}

#[cfg(feature = "cache")]
impl CacheStore {
    /// What `slot` holds while it is valid: `Some(None)` for a held absence; counted as a hit
    /// or a miss.
    async fn held<E: Entity>(
        &self,
        table: &TableCache,
        spec: &CacheSpec<E>,
        slot: &Slot,
    ) -> Option<Option<E>> {
        if let Some(entry) = table.entries.get(slot).await {
            if self.is_valid(table, &entry) {
                let held = match &entry.row {
                    Some(row) => row.downcast_ref::<E>().map(|row| Some((spec.copy)(row))),
                    None => Some(None),
                };
                if held.is_some() {
                    self.counters.hits.fetch_add(1, Ordering::Relaxed);
                    #[cfg(feature = "metrics")]
                    crate::telemetry::figures::cache(E::TABLE.name, true);
                    tracing::trace!(table = E::TABLE.name, hit = true, "repo.cache");
                    return held;
                }
            }
            table.entries.invalidate(slot).await;
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        crate::telemetry::figures::cache(E::TABLE.name, false);
        tracing::trace!(table = E::TABLE.name, hit = false, "repo.cache");
        None
    }

    /// Holds in `slot` what a read begun at `before` found: `row`, or its absence.
    async fn keep<E: Entity>(
        &self,
        table: &TableCache,
        spec: &CacheSpec<E>,
        slot: Slot,
        row: Option<&E>,
        before: &Before,
    ) {
        let entry = match row {
            Some(row) => {
                let stripe = (spec.key)(&row.id()).stripe(E::TABLE.name);
                let stripe_generation = self.stripe_generation(stripe);
                // A write that ended since the read began may have moved the stripe before it
                // was read just now: then the row read may be older than that generation.
                if table.write_generation.load(Ordering::SeqCst) != before.write_generation {
                    return;
                }
                Entry {
                    row: Some(Arc::new((spec.copy)(row))),
                    tag: Tag::Row {
                        stripe,
                        stripe_generation,
                        bulk_generation: before.bulk_generation,
                    },
                }
            }
            None => Entry {
                row: None,
                tag: Tag::Absent {
                    write_generation: before.write_generation,
                },
            },
        };
        table.entries.insert(slot, entry).await;
    }
}

#[cfg(all(test, feature = "cache"))]
mod tests {
    use super::*;

    #[test]
    fn keys_of_equal_values_are_equal_and_of_other_types_are_not() {
        let a = CacheKey::new(7_i64);
        assert_eq!(a, CacheKey::new(7_i64));
        assert_ne!(a, CacheKey::new(8_i64));
        assert_ne!(a, CacheKey::new(7_i32));
        assert_eq!(
            CacheKey::new((String::from("a"), 1_u8)),
            CacheKey::new((String::from("a"), 1_u8))
        );
        assert_eq!(a.stripe("users"), CacheKey::new(7_i64).stripe("users"));
        assert!(a.stripe("users") < STRIPES);
    }
}
