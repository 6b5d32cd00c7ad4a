//! The migration runner: applies pending migrations in order and reverts them, recording each
//! in `_sqlx_migrations` exactly as `sqlx migrate` does (version, description, success,
//! SHA-384 checksum, duration in nanoseconds), so either tool can continue the other's work.
//!
//! One runner at a time: PostgreSQL takes the advisory lock and MySQL the `GET_LOCK` lock that
//! sqlx takes for the same database; SQLite applies each migration in a `BEGIN EXCLUSIVE`
//! transaction that first checks the migration is still pending. Each migration runs in a
//! transaction where the backend can roll DDL back (SQLite, PostgreSQL); MySQL commits DDL as
//! it goes, so a migration that fails there is left marked unsuccessful ("dirty").

use repo_sql::Dialect;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conn::{Conn, on_conn, sql_error};
use super::history::{
    Record, TABLE, delete_record, elapsed_nanos, ensure_table, insert_record, is_recorded, lock,
    nanos, records, set_success, unlock,
};
pub use super::migrations::{Migration, Migrations};
use crate::db::Db;
use crate::error::RepoError;

/// A migration the runner applied or reverted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its version.
    pub version: i64,
    /// Its description.
    pub description: String,
    /// How long its SQL took.
    pub elapsed: Duration,
}

/// Where one migration stands on a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    /// Not applied yet.
    Pending,
    /// Applied, with the file unchanged since.
    Applied {
        /// How long it took.
        execution_time: Duration,
    },
    /// Applied, but the file changed since: the checksums differ.
    ChecksumMismatch,
    /// Started but not finished (MySQL, whose DDL commits as it goes): repair by hand.
    Dirty,
    /// Applied, but no file has this version any more.
    Missing,
}

/// One line of [`Migrator::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The version.
    pub version: i64,
    /// The description (from the file, or from the database when the file is missing).
    pub description: String,
    /// Where it stands.
    pub state: MigrationState,
}

/// A step reported to [`Migrator::on_progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// About to run this migration (its up or down SQL).
    Started(&'a Migration),
    /// Done with it.
    Finished(&'a Migration, Duration),
}

type ProgressFn = Arc<dyn Fn(Progress<'_>) + Send + Sync>;

/// Applies and reverts [`Migrations`] on a [`Db`].
#[derive(Clone)]
pub struct Migrator {
    migrations: Migrations,
    lock_timeout: Duration,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.migrations.len())
            .field("lock_timeout", &self.lock_timeout)
            .finish_non_exhaustive()
    }
}

impl Migrator {
    /// A runner for `migrations`, waiting up to five minutes for another runner to finish.
    pub fn new(migrations: Migrations) -> Migrator {
        Migrator {
            migrations,
            lock_timeout: Duration::from_secs(300),
            progress: None,
        }
    }

    /// How long to wait for another runner before giving up.
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.lock_timeout = timeout;
        self
    }

    /// Calls `report` before and after each migration (for progress bars).
    pub fn on_progress(
        mut self,
        report: impl Fn(Progress<'_>) + Send + Sync + 'static,
    ) -> Migrator {
        self.progress = Some(Arc::new(report));
        self
    }

    /// The migrations this runner knows.
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// Every migration known to the files or the database, in version order, with its state.
    pub async fn status(&self, db: &Db) -> Result<Vec<MigrationStatus>, RepoError> {
        let mut conn = Conn::acquire(db).await?;
        ensure_table(&mut conn).await?;
        let records = records(&mut conn).await?;
        let mut status: Vec<MigrationStatus> = self
            .migrations
            .iter()
            .map(|migration| {
                let record = records.iter().find(|r| r.version == migration.version);
                MigrationStatus {
                    version: migration.version,
                    description: migration.description.clone(),
                    state: match record {
                        None => MigrationState::Pending,
                        Some(record) if !record.success => MigrationState::Dirty,
                        Some(record) if record.checksum != migration.checksum => {
                            MigrationState::ChecksumMismatch
                        }
                        Some(record) => MigrationState::Applied {
                            execution_time: nanos(record.execution_time),
                        },
                    },
                }
            })
            .collect();
        for record in &records {
            if self.migrations.get(record.version).is_none() {
                status.push(MigrationStatus {
                    version: record.version,
                    description: record.description.clone(),
                    state: if record.success {
                        MigrationState::Missing
                    } else {
                        MigrationState::Dirty
                    },
                });
            }
        }
        status.sort_by_key(|line| line.version);
        Ok(status)
    }

    /// Applies every pending migration in version order and returns those it applied. Stops
    /// at the first failure, which names the migration; earlier ones stay applied.
    pub async fn run(&self, db: &Db) -> Result<Vec<Applied>, RepoError> {
        self.locked(db, async |this, conn| {
            let records = records(conn).await?;
            this.validate(&records)?;
            let mut applied = Vec::new();
            for migration in this.migrations.iter() {
                if records.iter().any(|r| r.version == migration.version) {
                    continue;
                }
                if let Some(elapsed) = this.step(conn, migration, Direction::Up).await? {
                    applied.push(Applied {
                        version: migration.version,
                        description: migration.description.clone(),
                        elapsed,
                    });
                }
            }
            Ok(applied)
        })
        .await
    }

    /// Reverts applied migrations newer than `to`, newest first; `None` reverts the latest
    /// one only. A migration without a down file stops the revert with an error.
    pub async fn undo(&self, db: &Db, to: Option<i64>) -> Result<Vec<Applied>, RepoError> {
        self.locked(db, async |this, conn| {
            let records = records(conn).await?;
            this.validate(&records)?;
            let mut versions: Vec<i64> = records.iter().map(|r| r.version).collect();
            versions.sort_unstable();
            let target = match to {
                Some(to) => to,
                None => versions.iter().rev().nth(1).copied().unwrap_or(0),
            };
            let mut reverted = Vec::new();
            for version in versions.into_iter().rev().filter(|v| *v > target) {
                let Some(migration) = this.migrations.get(version) else {
                    return Err(RepoError::migration(format!(
                        "migration {version} is applied but has no file to revert it with"
                    )));
                };
                if let Some(elapsed) = this.step(conn, migration, Direction::Down).await? {
                    reverted.push(Applied {
                        version,
                        description: migration.description.clone(),
                        elapsed,
                    });
                }
            }
            Ok(reverted)
        })
        .await
    }

    /// Runs `work` on one connection holding the runner lock.
    async fn locked<T>(
        &self,
        db: &Db,
        work: impl AsyncFnOnce(&Self, &mut Conn) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        db.refuse_if_read_only("a migration through a read-only handle")?;
        let mut conn = Conn::acquire(db).await?;
        // Locked first: concurrent `CREATE TABLE IF NOT EXISTS` can collide on PostgreSQL.
        let held = match lock(&mut conn, self.lock_timeout).await {
            Ok(held) => held,
            Err(error) => {
                conn.discard();
                return Err(error);
            }
        };
        if let Err(error) = ensure_table(&mut conn).await {
            let _ = unlock(&mut conn, &held).await;
            conn.discard();
            return Err(error);
        }
        let result = work(self, &mut conn).await;
        // What a migration changed in rows the cache holds is unknown; replicas must replay
        // it before the handle reads there.
        db.forget_cached();
        db.note_write();
        if unlock(&mut conn, &held).await.is_err() || result.is_err() {
            conn.discard();
        }
        result
    }

    /// Every applied migration must still have its file, unchanged, and none may be dirty.
    fn validate(&self, records: &[Record]) -> Result<(), RepoError> {
        for record in records {
            let label = format!("{} ({})", record.version, record.description);
            if !record.success {
                return Err(RepoError::migration(format!(
                    "migration {label} is partly applied (success = false in {TABLE}): repair the schema by hand, then delete its row"
                )));
            }
            let Some(migration) = self.migrations.get(record.version) else {
                return Err(RepoError::migration(format!(
                    "migration {label} is applied but its file is missing"
                )));
            };
            if migration.checksum != record.checksum {
                return Err(RepoError::migration(format!(
                    "migration {label} was changed after it was applied (checksum mismatch): restore the file and put the change in a new migration"
                )));
            }
        }
        Ok(())
    }

    /// Applies or reverts one migration; `None` when another runner did it meanwhile
    /// (SQLite).
    async fn step(
        &self,
        conn: &mut Conn,
        migration: &Migration,
        direction: Direction,
    ) -> Result<Option<Duration>, RepoError> {
        if direction == Direction::Down && migration.down.is_none() {
            return Err(RepoError::migration(format!(
                "migration {} has no down file: it cannot be reverted",
                migration.label()
            )));
        }
        self.report(Progress::Started(migration));
        let started = Instant::now();
        let done = match conn.dialect() {
            Dialect::Sqlite => self.sqlite_step(conn, migration, direction).await?,
            Dialect::Postgres => postgres_step(conn, migration, direction).await?,
            Dialect::MySql => mysql_step(conn, migration, direction).await?,
        };
        let elapsed = started.elapsed();
        if done {
            self.report(Progress::Finished(migration, elapsed));
        }
        Ok(done.then_some(elapsed))
    }

    fn report(&self, progress: Progress<'_>) {
        if let Some(report) = &self.progress {
            report(progress);
        }
    }

    /// SQLite: foreign keys off (the table-rebuild procedure needs it, and it only changes
    /// outside a transaction), `BEGIN EXCLUSIVE`, check the migration is still to do, run it,
    /// check every foreign key, record it, commit.
    async fn sqlite_step(
        &self,
        conn: &mut Conn,
        migration: &Migration,
        direction: Direction,
    ) -> Result<bool, RepoError> {
        conn.script("PRAGMA foreign_keys = OFF").await?;
        let deadline = Instant::now() + self.lock_timeout;
        loop {
            match conn.script("BEGIN EXCLUSIVE").await {
                Ok(()) => break,
                Err(error) if error.is_transient() && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) if error.is_transient() => return Err(lock_timeout()),
                Err(error) => return Err(error),
            }
        }
        let result = async {
            let applied = is_recorded(conn, migration.version).await?;
            if applied != (direction == Direction::Down) {
                return Ok(false);
            }
            let started = Instant::now();
            conn.script(direction.sql(migration))
                .await
                .map_err(|error| failed(migration, direction, error))?;
            const VIOLATIONS: &str = "SELECT count(*) FROM pragma_foreign_key_check";
            let violations = on_conn!(conn, c => sqlx::query_scalar::<_, i64>(VIOLATIONS)
                .fetch_one(&mut **c)
                .await, rusqlite => crate::backend::rusqlite::own_rows(c, VIOLATIONS, &[], |r| r.get::<_, i64>(0))
                    .map(|counts| counts.into_iter().sum::<i64>()))
            .map_err(sql_error)?;
            if violations > 0 {
                return Err(RepoError::migration(format!(
                    "migration {} leaves {violations} row(s) whose foreign key matches nothing: rolled back",
                    migration.label()
                )));
            }
            direction.record(conn, migration, started.elapsed()).await?;
            Ok(true)
        }
        .await;
        let end = if matches!(result, Ok(true)) {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = conn.script(end).await;
        let restored = conn.script("PRAGMA foreign_keys = ON").await;
        if ended.is_err() || restored.is_err() {
            conn.discard();
        }
        let done = result?;
        ended?;
        restored?;
        Ok(done)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

impl Direction {
    fn sql(self, migration: &Migration) -> &str {
        match self {
            Direction::Up => &migration.up,
            Direction::Down => migration.down.as_deref().unwrap_or_default(),
        }
    }

    /// Records an applied migration, or forgets a reverted one.
    async fn record(
        self,
        conn: &mut Conn,
        migration: &Migration,
        elapsed: Duration,
    ) -> Result<(), RepoError> {
        match self {
            Direction::Up => insert_record(conn, migration, true, elapsed_nanos(elapsed)).await,
            Direction::Down => delete_record(conn, migration.version).await,
        }
    }
}

/// PostgreSQL: the migration and its record in one transaction (unless `-- no-transaction`).
async fn postgres_step(
    conn: &mut Conn,
    migration: &Migration,
    direction: Direction,
) -> Result<bool, RepoError> {
    let transactional = !migration.no_transaction;
    if transactional {
        conn.script("BEGIN").await?;
    }
    let result = async {
        let started = Instant::now();
        conn.script(direction.sql(migration))
            .await
            .map_err(|error| failed(migration, direction, error))?;
        direction.record(conn, migration, started.elapsed()).await
    }
    .await;
    if transactional {
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        if let Err(error) = conn.script(end).await {
            conn.discard();
            result?;
            return Err(error);
        }
    }
    result.map(|()| true)
}

/// MySQL: marked unsuccessful first, since its DDL commits as it goes; marked done after.
async fn mysql_step(
    conn: &mut Conn,
    migration: &Migration,
    direction: Direction,
) -> Result<bool, RepoError> {
    match direction {
        Direction::Up => insert_record(conn, migration, false, -1).await?,
        Direction::Down => set_success(conn, migration.version, false, None).await?,
    }
    let started = Instant::now();
    if let Err(error) = conn.script(direction.sql(migration)).await {
        let mut error = failed(migration, direction, error);
        if let RepoError::Migration { message, .. } = &mut error {
            message.push_str(&format!(
                "; MySQL commits DDL as it runs, so the migration is marked partly applied in {TABLE}: repair the schema by hand, then delete its row"
            ));
        }
        return Err(error);
    }
    match direction {
        Direction::Up => {
            set_success(
                conn,
                migration.version,
                true,
                Some(elapsed_nanos(started.elapsed())),
            )
            .await?;
        }
        Direction::Down => delete_record(conn, migration.version).await?,
    }
    Ok(true)
}

fn failed(migration: &Migration, direction: Direction, error: RepoError) -> RepoError {
    let verb = match direction {
        Direction::Up => "failed",
        Direction::Down => "failed to revert",
    };
    RepoError::Migration {
        message: format!("migration {} {verb}: {error}", migration.label()),
        source: Some(Box::new(error)),
    }
}

pub(super) fn lock_timeout() -> RepoError {
    RepoError::migration("timed out waiting for another migration runner to finish")
}
