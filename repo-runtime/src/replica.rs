//! Read replicas ([`Db::connect_with_replicas`](crate::Db::connect_with_replicas)): reads
//! outside a transaction go to a replica that has replayed every write made through the
//! handle; writes, transactions and every other read go to the primary.
//!
//! Read-your-writes is a comparison of positions, not a guess: after a write, the next read
//! asks the primary where its log stands (PostgreSQL `pg_current_wal_lsn()`, MariaDB
//! `@@gtid_binlog_pos`), which covers that write, and takes a replica only once the replica
//! has replayed that far (`pg_last_wal_replay_lsn()`, `@@gtid_slave_pos`). A replica that is
//! behind is passed over; one that fails is left out for a while and its read done again on
//! the primary.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use repo_sql::Dialect;

use crate::backend::SqlPool;
use crate::error::{FromSqlx, RepoError};

/// How long a replica that failed stays out before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How often a replica that was behind is asked again where it stands, at most: meanwhile its
/// reads go to the primary.
const RECHECK_AFTER: Duration = Duration::from_millis(5);

/// Where a server's log stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    /// PostgreSQL: a WAL location, in bytes.
    Lsn(u64),
    /// MariaDB: the last sequence number of each replication domain.
    Gtid(BTreeMap<u32, u64>),
}

impl Position {
    /// Reads PostgreSQL's `X/Y` or MariaDB's `domain-server-seq,...` text.
    fn parse(dialect: Dialect, text: &str) -> Option<Position> {
        match dialect {
            Dialect::Postgres => {
                let (high, low) = text.trim().split_once('/')?;
                let high = u64::from_str_radix(high, 16).ok()?;
                let low = u64::from_str_radix(low, 16).ok()?;
                Some(Position::Lsn((high << 32) | low))
            }
            _ => {
                let mut domains = BTreeMap::new();
                for gtid in text
                    .split(',')
                    .map(str::trim)
                    .filter(|gtid| !gtid.is_empty())
                {
                    let mut parts = gtid.split('-');
                    let domain = parts.next()?.parse().ok()?;
                    let _server: u64 = parts.next()?.parse().ok()?;
                    let sequence = parts.next()?.parse().ok()?;
                    domains.insert(domain, sequence);
                }
                Some(Position::Gtid(domains))
            }
        }
    }

    /// Whether a server at `self` has replayed everything up to `wanted`.
    fn covers(&self, wanted: &Position) -> bool {
        match (self, wanted) {
            (Position::Lsn(at), Position::Lsn(wanted)) => at >= wanted,
            (Position::Gtid(at), Position::Gtid(wanted)) => wanted
                .iter()
                .all(|(domain, sequence)| at.get(domain).is_some_and(|at| at >= sequence)),
            _ => false,
        }
    }

    /// How far `self` is behind `ahead`: WAL bytes, or transactions summed over domains.
    fn behind(&self, ahead: &Position) -> u64 {
        match (self, ahead) {
            (Position::Lsn(at), Position::Lsn(ahead)) => ahead.saturating_sub(*at),
            (Position::Gtid(at), Position::Gtid(ahead)) => ahead
                .iter()
                .map(|(domain, sequence)| {
                    sequence.saturating_sub(at.get(domain).copied().unwrap_or(0))
                })
                .sum(),
            _ => 0,
        }
    }
}

/// The statement that reads where a server's log stands: the primary's, or a replica's replay.
fn position_query(dialect: Dialect, primary: bool) -> &'static str {
    match (dialect, primary) {
        (Dialect::Postgres, true) => "SELECT pg_current_wal_lsn()::text",
        (Dialect::Postgres, false) => "SELECT COALESCE(pg_last_wal_replay_lsn(), '0/0')::text",
        (_, true) => "SELECT @@gtid_binlog_pos",
        (_, false) => "SELECT @@gtid_slave_pos",
    }
}

/// Asks `pool`'s server where its log stands.
async fn position_of(
    pool: &SqlPool,
    dialect: Dialect,
    primary: bool,
) -> Result<Position, RepoError> {
    let failed = |error: sqlx::Error| RepoError::from_sqlx(error, None);
    let sql = position_query(dialect, primary);
    let mut connection = pool.acquire_for(true).await.map_err(failed)?;
    let text = connection.fetch_text(sql).await.map_err(failed)?;
    Position::parse(dialect, &text).ok_or_else(|| {
        RepoError::config(format!("a replication position that does not read: {text}"))
    })
}

/// One replica: its pool and what is known of it.
pub(crate) struct Replica {
    /// Its URL without a password, for the figures.
    url: String,
    pub(crate) pool: SqlPool,
    state: Mutex<ReplicaState>,
    reads: AtomicU64,
}

#[derive(Default)]
struct ReplicaState {
    /// Where it had replayed to when last asked, and when.
    replayed: Option<(Position, Instant)>,
    /// Left out until then after a failure.
    down_until: Option<Instant>,
    /// How far behind the primary's position it was when last compared.
    behind: Option<u64>,
}

/// What [`Db::metrics`](crate::Db::metrics) reports of a replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// Its URL, without a password.
    pub url: String,
    /// Whether it is in use: `false` for a while after it failed.
    pub healthy: bool,
    /// Reads it served.
    pub reads: u64,
    /// How far behind the primary it was when last compared, if it was: bytes of WAL on
    /// PostgreSQL, transactions on MariaDB.
    pub behind: Option<u64>,
}

/// The writes made through a handle and its clones (a session: [`Db::session`]
/// (crate::Db::session) starts another), and where the primary's log stood after them.
#[derive(Default)]
pub(crate) struct Freshness {
    /// Writes, counted when they end.
    writes: AtomicU64,
    /// The primary's position covering the first `.0` writes.
    needed: Mutex<(u64, Option<Position>)>,
}

impl Freshness {
    /// A write ended (committed, or perhaps: a failed one may have applied).
    pub(crate) fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
    }

    /// The primary's position that covers every write counted so far, `None` before the
    /// first.
    async fn needed(
        &self,
        dialect: Dialect,
        primary: &SqlPool,
    ) -> Result<Option<Position>, RepoError> {
        let writes = self.writes.load(Ordering::Acquire);
        if writes == 0 {
            return Ok(None);
        }
        {
            let needed = lock(&self.needed);
            if needed.0 >= writes {
                return Ok(needed.1.clone());
            }
        }
        // Asked after the writes counted above ended: the answer covers them.
        let position = position_of(primary, dialect, true).await?;
        let mut needed = lock(&self.needed);
        if needed.0 < writes {
            *needed = (writes, Some(position.clone()));
        }
        Ok(Some(position))
    }
}

/// A handle's replicas.
pub(crate) struct Replicas {
    dialect: Dialect,
    members: Vec<Replica>,
    next: AtomicUsize,
    /// Reads that went to the primary because no replica had replayed the session's writes
    /// or none was healthy.
    primary_reads: AtomicU64,
}

impl Replicas {
    pub(crate) fn new(dialect: Dialect, members: Vec<(String, SqlPool)>) -> Replicas {
        Replicas {
            dialect,
            members: members
                .into_iter()
                .map(|(url, pool)| Replica {
                    url,
                    pool,
                    state: Mutex::new(ReplicaState::default()),
                    reads: AtomicU64::new(0),
                })
                .collect(),
            next: AtomicUsize::new(0),
            primary_reads: AtomicU64::new(0),
        }
    }

    /// The replica a read goes to, or `None` for the primary: the next healthy one that has
    /// replayed the session's writes.
    pub(crate) async fn route(&self, primary: &SqlPool, session: &Freshness) -> Option<&Replica> {
        let needed = match session.needed(self.dialect, primary).await {
            Ok(needed) => needed,
            // The primary's own failure is the read's to report.
            Err(_) => return None,
        };
        let count = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            let replica = &self.members[(start + offset) % count];
            if replica.ready(self.dialect, needed.as_ref()).await {
                replica.reads.fetch_add(1, Ordering::Relaxed);
                return Some(replica);
            }
        }
        self.primary_reads.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// What the figures report.
    pub(crate) fn status(&self) -> (u64, Vec<ReplicaStatus>) {
        let now = Instant::now();
        let members = self
            .members
            .iter()
            .map(|replica| {
                let state = lock(&replica.state);
                ReplicaStatus {
                    url: replica.url.clone(),
                    healthy: state.down_until.is_none_or(|until| until <= now),
                    reads: replica.reads.load(Ordering::Relaxed),
                    behind: state.behind,
                }
            })
            .collect();
        (self.primary_reads.load(Ordering::Relaxed), members)
    }

    /// Closes every replica's pool.
    pub(crate) async fn close(&self) {
        for replica in &self.members {
            replica.pool.close().await;
        }
    }
}

impl Replica {
    /// Leaves the replica out for a while: it failed.
    pub(crate) fn failed(&self) {
        let mut state = lock(&self.state);
        state.down_until = Some(Instant::now() + RETRY_AFTER);
        state.replayed = None;
        tracing::warn!(replica = %self.url, "replica failed: its reads go to the primary for now");
    }

    /// Whether the replica may serve a read that must see `needed`.
    async fn ready(&self, dialect: Dialect, needed: Option<&Position>) -> bool {
        let now = Instant::now();
        let needed = {
            let mut state = lock(&self.state);
            match state.down_until {
                Some(until) if until > now => return false,
                Some(_) => state.down_until = None,
                None => {}
            }
            let Some(needed) = needed else {
                return true;
            };
            if let Some((replayed, when)) = &state.replayed {
                if replayed.covers(needed) {
                    return true;
                }
                if now.duration_since(*when) < RECHECK_AFTER {
                    return false;
                }
            }
            needed
        };
        match position_of(&self.pool, dialect, false).await {
            Ok(replayed) => {
                let covers = replayed.covers(needed);
                let mut state = lock(&self.state);
                state.behind = Some(replayed.behind(needed));
                state.replayed = Some((replayed, Instant::now()));
                covers
            }
            Err(_) => {
                self.failed();
                false
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_and_compare_as_each_server_writes_them() {
        let lsn = |text| Position::parse(Dialect::Postgres, text).unwrap();
        assert_eq!(lsn("0/16B3748"), Position::Lsn(0x16B_3748));
        assert_eq!(lsn("1/0"), Position::Lsn(1 << 32));
        assert!(lsn("1/0").covers(&lsn("0/FFFFFFFF")));
        assert!(!lsn("0/10").covers(&lsn("0/11")));
        assert_eq!(lsn("0/10").behind(&lsn("0/18")), 8);
        let gtid = |text| Position::parse(Dialect::MySql, text).unwrap();
        assert!(gtid("0-11-13").covers(&gtid("0-11-13")));
        assert!(!gtid("0-11-12").covers(&gtid("0-11-13")));
        assert!(gtid("0-11-13,1-12-4").covers(&gtid("1-12-3")));
        assert!(!gtid("0-11-13").covers(&gtid("0-11-2,1-12-1")));
        assert!(gtid("").covers(&gtid("")));
        assert_eq!(gtid("0-11-10").behind(&gtid("0-11-13,1-12-2")), 5);
        assert_eq!(Position::parse(Dialect::Postgres, "nonsense"), None);
    }
}
