//! The primaries of a handle: one server, or the nodes of a multi-primary cluster (MariaDB
//! Galera) taken in turn. A handle works on one node at a time. When a statement finds that
//! node gone (its connection lost, the server shutting down or out of the cluster, no
//! connection to be had), the handle moves to the next node that has not failed lately; the
//! statement's error is transient, so a retry (a read's, a unit of work's) runs there.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use repo_sql::Dialect;

use crate::backend::SqlPool;
use crate::error::{RedactedDatabaseError, RepoError};
use crate::telemetry::Peer;

/// How long a node that failed is passed over when the handle looks for another.
const PASSED_OVER_FOR: Duration = Duration::from_secs(5);

/// The nodes a handle writes to, and the one in use.
pub(crate) struct Nodes {
    members: Vec<Node>,
    /// The dialect every node speaks.
    dialect: Dialect,
    /// The node in use, an index into `members`.
    active: AtomicUsize,
    /// Moves from a node that failed to another.
    failovers: AtomicU64,
}

/// One server of the handle.
pub(crate) struct Node {
    pub(crate) pool: SqlPool,
    /// The server as telemetry names it.
    pub(crate) peer: Peer,
    /// Its URL, password redacted.
    url: String,
    /// When a statement last found it gone.
    failed_at: Mutex<Option<Instant>>,
}

/// Where a handle works, for [`MetricsSnapshot`](crate::MetricsSnapshot): the node in use and
/// how many times the handle moved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterStatus {
    /// The URL of the node in use, password redacted.
    pub active: String,
    /// The nodes, in the order they are taken.
    pub nodes: Vec<String>,
    /// Times the handle moved from a node that failed to the next.
    pub failovers: u64,
}

impl Node {
    pub(crate) fn new(pool: SqlPool, peer: Peer, url: String) -> Node {
        Node {
            pool,
            peer,
            url,
            failed_at: Mutex::new(None),
        }
    }

    fn failed_lately(&self, now: Instant) -> bool {
        let failed_at = self
            .failed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        failed_at.is_some_and(|at| now.duration_since(at) < PASSED_OVER_FOR)
    }
}

impl Nodes {
    /// `members` in the order they are taken, starting at `active`.
    pub(crate) fn new(members: Vec<Node>, active: usize) -> Nodes {
        assert!(active < members.len(), "a handle works on one of its nodes");
        Nodes {
            dialect: members[active].pool.dialect(),
            members,
            active: AtomicUsize::new(active),
            failovers: AtomicU64::new(0),
        }
    }

    /// The index of the node in use: what a statement or transaction notes before it starts,
    /// to report a failure of that node and not of one the handle has moved to since.
    #[inline]
    pub(crate) fn active_index(&self) -> usize {
        if self.members.len() == 1 {
            0
        } else {
            self.active.load(Ordering::Acquire)
        }
    }

    /// The node in use.
    #[inline]
    pub(crate) fn active(&self) -> &Node {
        &self.members[self.active_index()]
    }

    /// The dialect of the nodes.
    #[inline]
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Every node.
    pub(crate) fn all(&self) -> &[Node] {
        &self.members
    }

    /// A statement that started on node `index` failed with `error`: when that says the node
    /// is gone and the handle is still on it, the handle moves to the next node that has not
    /// failed lately (or simply the next one), and what waits for the gone node's connections
    /// fails at once.
    pub(crate) fn failed(&self, index: usize, error: &RepoError) {
        let Some(node) = self.members.get(index) else {
            return;
        };
        if self.members.len() < 2 || !gone(error, &node.pool) {
            return;
        }
        let now = Instant::now();
        *node
            .failed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(now);
        let count = self.members.len();
        let next = (1..count)
            .map(|step| (index + step) % count)
            .find(|&other| !self.members[other].failed_lately(now))
            .unwrap_or((index + 1) % count);
        if self
            .active
            .compare_exchange(index, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.failovers.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                failed = %node.url,
                next = %self.members[next].url,
                kind = error.kind().as_str(),
                "a node of the cluster is gone: the handle moves to the next"
            );
            node.pool.give_up_waiting();
        }
    }

    /// The handle's place in its cluster; `None` for a single server.
    pub(crate) fn status(&self) -> Option<ClusterStatus> {
        if self.members.len() < 2 {
            return None;
        }
        Some(ClusterStatus {
            active: self.active().url.clone(),
            nodes: self.members.iter().map(|node| node.url.clone()).collect(),
            failovers: self.failovers.load(Ordering::Relaxed),
        })
    }
}

/// Whether `error` says the server is gone rather than the statement at fault: a connection
/// lost (I/O), a server shutting down or cut off from its cluster, a commit whose answer never
/// came, or a pool that timed out with no connection open.
fn gone(error: &RepoError, pool: &SqlPool) -> bool {
    match error {
        RepoError::Transient { source, .. } => {
            if let Some(error) = source.downcast_ref::<sqlx::Error>() {
                return matches!(error, sqlx::Error::Io(_) | sqlx::Error::Tls(_));
            }
            source
                .downcast_ref::<RedactedDatabaseError>()
                .and_then(RedactedDatabaseError::code)
                .is_some_and(gone_code)
        }
        RepoError::CommitUnknown { .. } => true,
        RepoError::PoolTimeout => pool.is_unconnected(),
        _ => false,
    }
}

/// The codes of a server going away: MySQL/MariaDB's shutdown, killed connection and Galera's
/// node outside the primary component; PostgreSQL's shutdowns and connection exceptions.
fn gone_code(code: &str) -> bool {
    matches!(code, "1053" | "1927" | "1047" | "57P01" | "57P02" | "57P03")
        || (code.starts_with("08") && code.len() == 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdowns_and_lost_connections_are_gone_and_deadlocks_are_not() {
        for code in ["1053", "1047", "57P01", "08006"] {
            assert!(gone_code(code), "{code}");
        }
        for code in ["1213", "40001", "23505", "1062"] {
            assert!(!gone_code(code), "{code}");
        }
    }
}
