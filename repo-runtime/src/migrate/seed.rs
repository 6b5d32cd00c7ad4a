//! Seed data per environment, run after the migrations. Each seed runs once per database: it
//! is recorded in `_repo_seeds` in the same transaction as its writes, so running the seeds
//! again (or concurrently) adds nothing. An SQL seed whose text changed after it ran is an
//! error, as for migrations: put new rows in a new seed.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use repo_sql::Dialect;
use sha2::{Digest, Sha384};

use super::files::io_error;
use crate::db::Db;
use crate::error::RepoError;
use crate::repository::Repository;
use crate::transaction::Tx;

/// The future a code seed returns: `|tx| Box::pin(async move { ...; Ok(()) })`.
pub type SeedFuture<'a> = Pin<Box<dyn Future<Output = Result<(), RepoError>> + Send + 'a>>;

type SeedFn = Arc<dyn for<'a> Fn(&'a Tx) -> SeedFuture<'a> + Send + Sync>;

/// The environment seeds are chosen for: `REPO_ENV`, else `dev`.
pub fn environment() -> String {
    crate::db::environment()
}

#[derive(Clone)]
enum Source {
    Sql(String),
    Code(SeedFn),
}

#[derive(Clone)]
struct Step {
    name: String,
    /// Empty: every environment.
    environments: Vec<String>,
    /// `Some` for SQL written for one dialect.
    dialect: Option<Dialect>,
    source: Source,
}

impl Step {
    fn applies(&self, environment: &str, dialect: Dialect) -> bool {
        (self.environments.is_empty() || self.environments.iter().any(|e| e == environment))
            && self.dialect.is_none_or(|d| d == dialect)
    }

    fn checksum(&self) -> String {
        match &self.source {
            Source::Sql(sql) => Sha384::digest(sql.as_bytes())
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect(),
            Source::Code(_) => "code".to_owned(),
        }
    }
}

/// The seeds of an application, in the order they run.
#[derive(Clone, Default)]
pub struct Seeds {
    steps: Vec<Step>,
}

impl std::fmt::Debug for Seeds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.steps.iter().map(|step| &step.name))
            .finish()
    }
}

/// The record of a seed that ran.
#[derive(Debug, Clone, PartialEq, crate::Repository)]
#[repo(crate = crate, table = "_repo_seeds")]
pub(crate) struct SeedRecord {
    #[repo(id)]
    name: String,
    checksum: String,
    environment: String,
}

impl Seeds {
    /// No seeds.
    pub fn new() -> Seeds {
        Seeds::default()
    }

    /// SQL run in the given environments (none: every environment).
    pub fn sql(mut self, name: &str, environments: &[&str], sql: impl Into<String>) -> Seeds {
        self.steps.push(Step {
            name: name.to_owned(),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
            dialect: None,
            source: Source::Sql(sql.into()),
        });
        self
    }

    /// Code run in a transaction in the given environments (none: every environment), for
    /// seeds written with the repositories: `|tx| Box::pin(async move { ... })`.
    pub fn code<F>(mut self, name: &str, environments: &[&str], seed: F) -> Seeds
    where
        F: for<'a> Fn(&'a Tx) -> SeedFuture<'a> + Send + Sync + 'static,
    {
        self.steps.push(Step {
            name: name.to_owned(),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
            dialect: None,
            source: Source::Code(Arc::new(seed)),
        });
        self
    }

    /// `self`'s seeds, then `next`'s.
    pub fn then(mut self, next: Seeds) -> Seeds {
        self.steps.extend(next.steps);
        self
    }

    /// Adds the SQL files under `dir`: `dir/<environment>/<name>.sql` runs in that
    /// environment, `dir/all/<name>.sql` in every one; `<name>.<dialect>.sql` only on that
    /// dialect (`sqlite`, `postgres`, `mysql`). Files run in name order, after the seeds
    /// added before. A missing `dir` adds nothing.
    pub fn load(mut self, dir: &Path) -> Result<Seeds, RepoError> {
        let folders = match std::fs::read_dir(dir) {
            Ok(folders) => folders,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(self),
            Err(error) => return Err(io_error(dir, &error)),
        };
        let mut found = Vec::new();
        for folder in folders {
            let folder = folder.map_err(|e| io_error(dir, &e))?.path();
            let Some(environment) = folder
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_owned)
            else {
                continue;
            };
            if !folder.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&folder).map_err(|e| io_error(&folder, &e))? {
                let path = file.map_err(|e| io_error(&folder, &e))?.path();
                let Some(stem) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".sql"))
                else {
                    continue;
                };
                let (stem, dialect) = match stem.rsplit_once('.') {
                    Some((stem, dialect)) => {
                        let dialect = Dialect::ALL
                            .into_iter()
                            .find(|d| d.name() == dialect)
                            .ok_or_else(|| {
                                RepoError::config(format!(
                                    "{}: `{dialect}` is not a dialect (sqlite, postgres, mysql)",
                                    path.display()
                                ))
                            })?;
                        (stem, Some(dialect))
                    }
                    None => (stem, None),
                };
                let sql = std::fs::read_to_string(&path).map_err(|e| io_error(&path, &e))?;
                let environments = if environment == "all" {
                    Vec::new()
                } else {
                    vec![environment.clone()]
                };
                let name = match dialect {
                    Some(dialect) => format!("{environment}/{stem}.{}", dialect.name()),
                    None => format!("{environment}/{stem}"),
                };
                found.push(Step {
                    name,
                    environments,
                    dialect,
                    source: Source::Sql(sql),
                });
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        self.steps.extend(found);
        Ok(self)
    }

    /// The names of the seeds that apply to `environment` on `dialect`, in order.
    pub fn names(&self, environment: &str, dialect: Dialect) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|step| step.applies(environment, dialect))
            .map(|step| step.name.as_str())
            .collect()
    }

    /// Runs the seeds of `environment` that have not run on this database yet, each in its
    /// own transaction with its record, and returns the names of those it ran.
    pub async fn run(&self, db: &Db, environment: &str) -> Result<Vec<String>, RepoError> {
        self.run_with(db, environment, |_| {}).await
    }

    /// [`Seeds::run`], calling `report` with each seed's name before it runs (for progress).
    pub async fn run_with(
        &self,
        db: &Db,
        environment: &str,
        report: impl Fn(&str),
    ) -> Result<Vec<String>, RepoError> {
        // A concurrent `CREATE TABLE IF NOT EXISTS` can fail on PostgreSQL; the table exists then.
        if db.create_schema::<SeedRecord>().await.is_err() {
            db.create_schema::<SeedRecord>().await?;
        }
        let mut ran = Vec::new();
        for step in self
            .steps
            .iter()
            .filter(|step| step.applies(environment, db.dialect()))
        {
            report(&step.name);
            let tx = db.begin().await?;
            match run_step(&tx, step, environment).await {
                Ok(true) => {
                    tx.commit().await?;
                    ran.push(step.name.clone());
                }
                Ok(false) => tx.rollback().await?,
                Err(error) => {
                    // The seed's own error matters more than a failed rollback.
                    let _ = tx.rollback().await;
                    return Err(error);
                }
            }
        }
        Ok(ran)
    }
}

/// Runs one seed unless it ran before; `Ok(false)` when it had.
async fn run_step(tx: &Tx, step: &Step, environment: &str) -> Result<bool, RepoError> {
    let records = SeedRecord::repository(tx);
    let checksum = step.checksum();
    if let Some(record) = records.find(step.name.clone()).await? {
        if record.checksum != checksum {
            return Err(RepoError::migration(format!(
                "seed `{}` changed after it ran (in {}): put new rows in a new seed",
                step.name, record.environment
            )));
        }
        return Ok(false);
    }
    // Claims the seed first: a concurrent run conflicts here instead of seeding twice.
    records
        .insert(SeedRecord {
            name: step.name.clone(),
            checksum,
            environment: environment.to_owned(),
        })
        .await
        .map_err(|error| seed_failed(step, error))?;
    match &step.source {
        Source::Sql(sql) => tx.execute_script(sql).await,
        Source::Code(seed) => seed(tx).await,
    }
    .map_err(|error| seed_failed(step, error))?;
    Ok(true)
}

fn seed_failed(step: &Step, error: RepoError) -> RepoError {
    RepoError::Migration {
        message: format!("seed `{}` failed: {error}", step.name),
        source: Some(Box::new(error)),
    }
}
