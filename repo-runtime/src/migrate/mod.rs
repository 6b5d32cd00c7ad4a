//! Migrations from the entities: the schema registry and its snapshot, the diff against the
//! last snapshot rendered as reviewable SQL per dialect, the runner, the drift check and
//! seeding.
//!
//! The workflow:
//! 1. [`Schema`] lists the entities: `Schema::new().entity::<User>().entity::<Order>()`.
//! 2. [`generate`] compares it with `migrations/snapshot.json` and writes
//!    `migrations/<dialect>/<version>_<name>.up.sql` and `.down.sql` for each dialect, in the
//!    layout `sqlx migrate` reads, then the new snapshot. Renames come only from
//!    `#[repo(renamed_from = "...")]`; changes that lose data or may fail on existing rows are
//!    refused with what to do, unless [`GenerateOptions::allow_unsafe`] is set.
//! 3. [`Migrator`] applies them (or reverts them) recording each in `_sqlx_migrations`, the
//!    table `sqlx migrate` uses, one runner at a time.
//! 4. [`check_drift`] compares the live database with the entities; [`assert_no_drift`] is
//!    its test form.
//! 5. [`Seeds`] loads idempotent seed data for the environment in `REPO_ENV`.

mod catalog;
mod conn;
mod diagram;
mod drift;
mod files;
mod history;
mod migrations;
mod plan;
mod render;
mod runner;
mod seed;
mod snapshot;

pub use crate::schema::{
    ColumnKind, ColumnSnapshot, DefaultValue, ForeignKeySnapshot, TableSnapshot,
};
pub use drift::{Difference, Drift, assert_no_drift, check_drift};
pub use files::{GenerateOptions, Generated, generate, last_snapshot};
pub use runner::{
    Applied, Migration, MigrationState, MigrationStatus, Migrations, Migrator, Progress,
};
pub use seed::{SeedFuture, Seeds, environment};
pub use snapshot::Snapshot;

use repo_sql::Dialect;

use crate::entity::Entity;
use crate::error::RepoError;
use crate::schema::Table;

/// The tables of an application, registered explicitly:
/// `Schema::new().entity::<User>().entity::<Order>()`.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: Vec<&'static Table>,
    /// The entities with encrypted fields, typed away.
    #[cfg(feature = "encryption")]
    encrypted: Vec<crate::encryption::EncryptedEntity>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Schema {
        Schema::default()
    }

    /// Adds `E`'s table; adding the same entity twice keeps one.
    pub fn entity<E: Entity>(mut self) -> Schema {
        if !self
            .tables
            .iter()
            .any(|table| std::ptr::eq(*table, E::TABLE))
        {
            self.tables.push(E::TABLE);
            #[cfg(feature = "encryption")]
            self.encrypted
                .extend(crate::encryption::EncryptedEntity::of::<E>());
        }
        self
    }

    /// Checks, at start-up, that `db` has the keys the encrypted fields of the registered
    /// entities need (feature `encryption`), and that they decrypt a stored row of each: a
    /// missing key, or a wrong one under a configured id, is a [`RepoError::Config`] naming the
    /// entity, before any request meets it.
    #[cfg(feature = "encryption")]
    pub async fn verify_keys(&self, db: &crate::db::Db) -> Result<(), RepoError> {
        for entity in &self.encrypted {
            entity.verify(db).await?;
        }
        Ok(())
    }

    /// Rewrites the encrypted fields of every registered entity under `db`'s newest key, in
    /// batches of `batch` rows (see [`reencrypt`](crate::reencrypt)); `progress` hears of each
    /// batch. One report per entity with encrypted fields.
    #[cfg(feature = "encryption")]
    pub async fn reencrypt(
        &self,
        db: &crate::db::Db,
        batch: u64,
        mut progress: impl FnMut(crate::encryption::Reencryption) + Send,
    ) -> Result<Vec<crate::encryption::Reencryption>, RepoError> {
        let mut done = Vec::with_capacity(self.encrypted.len());
        for entity in &self.encrypted {
            done.push(entity.reencrypt(db, batch, &mut progress).await?);
        }
        Ok(done)
    }

    /// The registered tables, in registration order.
    pub fn tables(&self) -> &[&'static Table] {
        &self.tables
    }

    /// Every read of the registered tables that no index serves ([`Table::index_advice`]):
    /// derived queries whose conditions or order no index leads, foreign keys without an
    /// index. What the CLI's `check` prints; empty when every read has its index.
    pub fn index_advice(&self) -> Vec<crate::IndexAdvice> {
        self.tables
            .iter()
            .flat_map(|table| table.index_advice())
            .collect()
    }

    /// The plain-data form of the schema. Two entities claiming one table name are an error:
    /// a snapshot has one definition per table.
    pub fn snapshot(&self) -> Result<Snapshot, RepoError> {
        Snapshot::of(&self.tables)
    }
}

/// The difference between two snapshots, ready to render as SQL for any dialect.
#[derive(Debug, Clone)]
pub struct Diff {
    up: plan::Plan,
    down: plan::Plan,
    changes: Vec<String>,
}

impl Diff {
    /// What turns `old` into `new`. Changes that lose data or may fail on existing rows (a
    /// dropped table or column, a type change other than an enum gaining values, a new
    /// `NOT NULL` column without a default, a column becoming `NOT NULL`, a new primary key)
    /// are a [`RepoError::Migration`] listing each with what to do, unless `allow_unsafe`.
    pub fn between(old: &Snapshot, new: &Snapshot, allow_unsafe: bool) -> Result<Diff, RepoError> {
        let invalid = plan::invalid_defaults(new);
        if !invalid.is_empty() {
            return Err(RepoError::migration(list(
                "some defaults do not fit their columns:",
                &invalid,
            )));
        }
        let up = plan::plan(old, new);
        let refusals = plan::refusals(&up);
        if !refusals.is_empty() && !allow_unsafe {
            return Err(RepoError::migration(list(
                "these changes need a decision (or --allow-unsafe / GenerateOptions::allow_unsafe):",
                &refusals,
            )));
        }
        let down = plan::plan(&strip_hints(new), &reverse_hints(old, &up));
        let changes = plan::summary(&up);
        Ok(Diff { up, down, changes })
    }

    /// Whether there is nothing to migrate.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// One line per change: `create table users`, `add column users.age`, ...
    pub fn changes(&self) -> &[String] {
        &self.changes
    }

    /// The statements that apply the change on `dialect`.
    pub fn up(&self, dialect: Dialect) -> Vec<String> {
        render::render(&self.up, dialect)
    }

    /// The statements that undo it.
    pub fn down(&self, dialect: Dialect) -> Vec<String> {
        render::render(&self.down, dialect)
    }
}

fn list(title: &str, lines: &[String]) -> String {
    let mut message = title.to_owned();
    for line in lines {
        message.push_str("\n  - ");
        message.push_str(line);
    }
    message
}

fn strip_hints(snapshot: &Snapshot) -> Snapshot {
    let mut snapshot = snapshot.clone();
    for table in snapshot.tables.values_mut() {
        table.renamed_from = None;
        for column in &mut table.columns {
            column.renamed_from = None;
        }
    }
    snapshot
}

/// `old` with the hints that take the new names back to it.
fn reverse_hints(old: &Snapshot, up: &plan::Plan) -> Snapshot {
    let mut old = strip_hints(old);
    for change in &up.alters {
        let Some(table) = old.tables.get_mut(change.old_name()) else {
            continue;
        };
        if change.old_name.is_some() {
            table.renamed_from = Some(change.name.clone());
        }
        for (from, to) in &change.column_renames {
            if let Some(column) = table.columns.iter_mut().find(|c| c.name == *from) {
                column.renamed_from = Some(to.clone());
            }
        }
    }
    old
}
