//! Counters of what a [`Db`](crate::Db) did, readable at any time for export.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, shared by every clone of a `Db`.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    statements: AtomicU64,
    slow_statements: AtomicU64,
    retries: AtomicU64,
    pool_waits: AtomicU64,
    /// Errors by [`RepoError::kind`](crate::RepoError::kind); touched only on failure.
    errors: Mutex<BTreeMap<&'static str, u64>>,
}

/// A snapshot of a `Db`'s counters since it was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Statements run, successful or not.
    pub statements: u64,
    /// Statements slower than the slow-statement threshold.
    pub slow_statements: u64,
    /// Retries of transactions and reads after transient failures.
    pub retries: u64,
    /// Statements and transactions that found every pooled connection busy and had to wait.
    pub pool_waits: u64,
    /// Failures by error kind (`conflict`, `transient`, `pool_timeout`, ...).
    pub errors: BTreeMap<&'static str, u64>,
    /// Reads the entity cache answered (`DbOptions::cache`), a held absence included.
    pub cache_hits: u64,
    /// Reads of cached entities the cache could not answer.
    pub cache_misses: u64,
    /// Entries the cache dropped for room or age.
    pub cache_evictions: u64,
    /// Writes reported to the cache (each invalidates what it touched).
    pub cache_invalidations: u64,
    /// With read replicas: reads outside a transaction that stayed on the primary, no replica
    /// being healthy or having replayed the handle's writes.
    pub primary_reads: u64,
    /// The read replicas, each with its health, reads and lag.
    pub replicas: Vec<crate::replica::ReplicaStatus>,
    /// On the nodes of a cluster ([`Db::connect_to_cluster`](crate::Db::connect_to_cluster)):
    /// the node in use and how many times the handle moved; `None` for a single server.
    pub cluster: Option<crate::cluster::ClusterStatus>,
}

impl MetricsSnapshot {
    /// Failures of one kind.
    pub fn errors_of(&self, kind: &str) -> u64 {
        self.errors.get(kind).copied().unwrap_or(0)
    }
}

impl Metrics {
    pub(crate) fn statement(&self, slow: bool) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if slow {
            self.slow_statements.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn pool_waited(&self) {
        self.pool_waits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn error(&self, kind: &'static str) {
        let mut errors = self
            .errors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *errors.entry(kind).or_insert(0) += 1;
    }

    pub(crate) fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            cache_hits: 0,
            cache_misses: 0,
            cache_evictions: 0,
            cache_invalidations: 0,
            primary_reads: 0,
            replicas: Vec::new(),
            cluster: None,
            statements: self.statements.load(Ordering::Relaxed),
            slow_statements: self.slow_statements.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            pool_waits: self.pool_waits.load(Ordering::Relaxed),
            errors: self
                .errors
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
        }
    }
}
