//! A migrations command line for the application's own small binary (feature `cli`):
//!
//! ```no_run
//! # use repo_runtime::migrate::Schema;
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let schema = Schema::new(); // .entity::<User>().entity::<Order>()
//!     repo_runtime::cli::run(schema).await
//! }
//! ```
//!
//! Commands: `generate <name> [--allow-unsafe] [--check]`, `up [--seed [--env <env>]]`,
//! `down [--to <version>]`,
//! `status`, `check [--strict] [--plans]` (drift, and the reads no index serves: from the
//! schema, and with `--plans` as the database plans them), `diagram`,
//! `seed [--env <env>]`, `config` (the resolved configuration, passwords redacted), and with
//! the feature `encryption` `keygen` (a new random key) and `reencrypt [--batch <rows>]`
//! (every encrypted field under the newest key, through the application's URL). The
//! database is `--database-url`, else the layered configuration's `migration_url`, else its
//! `url` ([`DbConfig`]: `config/{REPO_ENV}.toml` under `DATABASE_*`, read from
//! a `.env` file too), else the embedded SQLite default.
//!
//! Exit codes, for scripts: `0` done; `1` failed (database, files); `2` bad usage; `3` not in
//! the expected state: a change refused as unsafe, `generate --check` finding entities ahead
//! of the migrations, `check` finding drift (or, with `--strict`, a read no index serves), `status` finding a changed, missing or partly
//! applied migration.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use console::style;
use indicatif::{ProgressBar, ProgressStyle};
use repo_sql::Dialect;

use crate::config::DbConfig;
use crate::db::Db;
use crate::error::RepoError;
use crate::migrate::{
    self, GenerateOptions, MigrationState, Migrations, Migrator, Progress, Schema, Seeds,
};

/// Exit code: done.
pub const SUCCESS: u8 = 0;
/// Exit code: the command failed.
pub const FAILURE: u8 = 1;
/// Exit code: the command line was wrong.
pub const USAGE: u8 = 2;
/// Exit code: the database or the migrations are not in the expected state.
pub const NOT_CLEAN: u8 = 3;

/// Runs the command line of `std::env::args` for `schema`, with the migrations in
/// `./migrations` and the seeds in `./seeds`.
pub async fn run(schema: Schema) -> ExitCode {
    Cli::new(schema).run().await
}

/// The command line, configured: `Cli::new(schema).seeds(seeds).run().await`.
#[derive(Debug, Clone)]
pub struct Cli {
    schema: Schema,
    seeds: Seeds,
    migrations_dir: PathBuf,
    seeds_dir: PathBuf,
}

impl Cli {
    /// The command line for `schema`.
    pub fn new(schema: Schema) -> Cli {
        Cli {
            schema,
            seeds: Seeds::new(),
            migrations_dir: PathBuf::from("migrations"),
            seeds_dir: PathBuf::from("seeds"),
        }
    }

    /// Seeds written in code, run after the SQL files of the seeds directory.
    pub fn seeds(mut self, seeds: Seeds) -> Cli {
        self.seeds = seeds;
        self
    }

    /// The default migrations directory (`--migrations` overrides it).
    pub fn migrations_dir(mut self, dir: impl Into<PathBuf>) -> Cli {
        self.migrations_dir = dir.into();
        self
    }

    /// The default seeds directory (`--seeds` overrides it).
    pub fn seeds_dir(mut self, dir: impl Into<PathBuf>) -> Cli {
        self.seeds_dir = dir.into();
        self
    }

    /// Reads `.env` if there is one, then runs `std::env::args`.
    pub async fn run(self) -> ExitCode {
        // A missing .env is the normal case; a broken one is worth saying.
        if let Err(error) = dotenvy::dotenv()
            && !error.not_found()
        {
            eprintln!("{} .env: {error}", style("warning:").yellow().bold());
        }
        ExitCode::from(self.run_from(std::env::args_os()).await)
    }

    /// Runs the command line `args` (the program name first) and returns the exit code.
    pub async fn run_from<I, T>(self, args: I) -> u8
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = match command().try_get_matches_from(args) {
            Ok(matches) => matches,
            Err(error) => {
                let _ = error.print();
                return if error.use_stderr() { USAGE } else { SUCCESS };
            }
        };
        match self.dispatch(&matches).await {
            Ok(code) => code,
            Err(error) => {
                eprintln!("{} {error}", style("error:").red().bold());
                FAILURE
            }
        }
    }

    async fn dispatch(mut self, matches: &ArgMatches) -> Result<u8, RepoError> {
        if let Some(dir) = matches.get_one::<PathBuf>("migrations") {
            self.migrations_dir = dir.clone();
        }
        if let Some(dir) = matches.get_one::<PathBuf>("seeds") {
            self.seeds_dir = dir.clone();
        }
        let url = matches.get_one::<String>("database-url").cloned();
        match matches.subcommand() {
            Some(("generate", args)) => self.generate(args),
            Some(("up", args)) => {
                let db = connect(url).await?;
                let code = self.up(&db).await?;
                if code != SUCCESS || !args.get_flag("seed") {
                    return Ok(code);
                }
                let environment = args
                    .get_one::<String>("env")
                    .cloned()
                    .unwrap_or_else(migrate::environment);
                self.seed(&db, &environment).await
            }
            Some(("down", args)) => {
                let to = args.get_one::<i64>("to").copied();
                self.down(&connect(url).await?, to).await
            }
            Some(("diagram", _)) => {
                print!("{}", self.schema.mermaid());
                Ok(SUCCESS)
            }
            Some(("status", _)) => self.status(&connect(url).await?).await,
            Some(("config", _)) => {
                print!("{}", DbConfig::load()?);
                Ok(SUCCESS)
            }
            Some(("check", args)) => {
                let plans = args.get_flag("plans");
                self.check(&connect(url).await?, args.get_flag("strict"), plans)
                    .await
            }
            Some(("seed", args)) => {
                let environment = args
                    .get_one::<String>("env")
                    .cloned()
                    .unwrap_or_else(migrate::environment);
                self.seed(&connect(url).await?, &environment).await
            }
            #[cfg(feature = "encryption")]
            Some(("keygen", _)) => {
                println!("{}", *crate::encryption::Keyring::generate_key()?);
                Ok(SUCCESS)
            }
            #[cfg(feature = "encryption")]
            Some(("reencrypt", args)) => {
                let batch = args.get_one::<u64>("batch").copied().unwrap_or(500);
                self.reencrypt(&connect_application(url).await?, batch)
                    .await
            }
            _ => Ok(USAGE),
        }
    }

    /// Moves every encrypted field to the newest key, a bar per entity.
    #[cfg(feature = "encryption")]
    async fn reencrypt(&self, db: &Db, batch: u64) -> Result<u8, RepoError> {
        let key = db
            .keyring()
            .and_then(|keys| keys.current_key_id())
            .unwrap_or("none")
            .to_owned();
        let bar = progress_bar(0);
        let mut entity = "";
        let done = self
            .schema
            .reencrypt(db, batch, |progress| {
                if progress.entity != entity {
                    entity = progress.entity;
                    bar.set_length(progress.total);
                    bar.set_message(progress.entity);
                }
                bar.set_position(progress.rows);
            })
            .await;
        bar.finish_and_clear();
        for report in done? {
            println!(
                "{} {}: {} of {} rows under the key `{key}`",
                style("done").green(),
                report.entity,
                report.rows,
                report.total
            );
        }
        Ok(SUCCESS)
    }

    fn generate(&self, args: &ArgMatches) -> Result<u8, RepoError> {
        let name = args
            .get_one::<String>("name")
            .map_or("migration", String::as_str);
        let dialects: Vec<Dialect> = args
            .get_many::<String>("dialect")
            .map(|names| {
                names
                    .filter_map(|name| Dialect::ALL.into_iter().find(|d| d.name() == name))
                    .collect()
            })
            .unwrap_or_else(|| Dialect::ALL.to_vec());
        let options = GenerateOptions {
            allow_unsafe: args.get_flag("allow-unsafe"),
            dialects,
            version: None,
        };
        if args.get_flag("check") {
            let old = migrate::last_snapshot(&self.migrations_dir)?;
            let diff = migrate::Diff::between(&old, &self.schema.snapshot()?, true)?;
            if diff.is_empty() {
                println!(
                    "{} the migrations are up to date with the entities",
                    style("ok:").green().bold()
                );
                return Ok(SUCCESS);
            }
            println!(
                "{} the entities changed since the last migration:",
                style("pending:").yellow().bold()
            );
            for change in diff.changes() {
                println!("  {change}");
            }
            return Ok(NOT_CLEAN);
        }
        match migrate::generate(&self.schema, &self.migrations_dir, name, &options) {
            Ok(None) => {
                println!(
                    "{} nothing to generate: the entities match the last snapshot",
                    style("ok:").green().bold()
                );
                Ok(SUCCESS)
            }
            Ok(Some(generated)) => {
                println!(
                    "{} migration {}",
                    style("generated").green().bold(),
                    generated.version
                );
                for change in &generated.changes {
                    println!("  {change}");
                }
                for file in &generated.files {
                    println!("  {} {}", style("wrote").dim(), file.display());
                }
                Ok(SUCCESS)
            }
            Err(error @ RepoError::Migration { .. }) => {
                eprintln!("{} {error}", style("refused:").red().bold());
                Ok(NOT_CLEAN)
            }
            Err(error) => Err(error),
        }
    }

    fn migrator(&self, db: &Db, bar: &ProgressBar) -> Result<Migrator, RepoError> {
        let migrations = Migrations::load(&self.migrations_dir, db.dialect())?;
        Ok(with_progress(migrations, bar))
    }

    async fn up(&self, db: &Db) -> Result<u8, RepoError> {
        let migrations = Migrations::load(&self.migrations_dir, db.dialect())?;
        let bar = progress_bar(migrations.len() as u64);
        let applied = with_progress(migrations, &bar).run(db).await;
        bar.finish_and_clear();
        let applied = applied?;
        if applied.is_empty() {
            println!("{} the database is up to date", style("ok:").green().bold());
        } else {
            println!(
                "{} applied {} migration(s)",
                style("ok:").green().bold(),
                applied.len()
            );
        }
        Ok(SUCCESS)
    }

    async fn down(&self, db: &Db, to: Option<i64>) -> Result<u8, RepoError> {
        let bar = progress_bar(0);
        let reverted = self.migrator(db, &bar)?.undo(db, to).await;
        bar.finish_and_clear();
        let reverted = reverted?;
        println!(
            "{} reverted {} migration(s)",
            style("ok:").green().bold(),
            reverted.len()
        );
        Ok(SUCCESS)
    }

    async fn status(&self, db: &Db) -> Result<u8, RepoError> {
        let migrations = Migrations::load(&self.migrations_dir, db.dialect())?;
        let status = Migrator::new(migrations).status(db).await?;
        let mut clean = true;
        if status.is_empty() {
            println!(
                "no migrations in {}",
                self.migrations_dir.join(db.dialect().name()).display()
            );
        }
        for line in &status {
            let state = match &line.state {
                MigrationState::Applied { execution_time } => {
                    style(format!("applied ({} ms)", execution_time.as_millis())).green()
                }
                MigrationState::Pending => style("pending".to_owned()).yellow(),
                MigrationState::ChecksumMismatch => style("changed since applied".to_owned()).red(),
                MigrationState::Dirty => style("partly applied".to_owned()).red(),
                MigrationState::Missing => style("applied, file missing".to_owned()).red(),
            };
            clean &= matches!(
                line.state,
                MigrationState::Applied { .. } | MigrationState::Pending
            );
            println!("{:>16}  {:<40} {state}", line.version, line.description);
        }
        Ok(if clean { SUCCESS } else { NOT_CLEAN })
    }

    /// Drift of the live database, then the reads no index serves (which fail the check
    /// only when `strict`), as the schema says and, with `plans`, as the database plans them.
    async fn check(&self, db: &Db, strict: bool, plans: bool) -> Result<u8, RepoError> {
        let drift = migrate::check_drift(db, &self.schema).await?;
        let mut code = if drift.is_clean() {
            println!("{} {drift}", style("ok:").green().bold());
            SUCCESS
        } else {
            println!("{} {drift}", style("drift:").red().bold());
            NOT_CLEAN
        };
        let advice = self.schema.index_advice();
        if advice.is_empty() {
            println!(
                "{} every derived query and foreign key has an index",
                style("ok:").green().bold()
            );
        }
        for line in &advice {
            println!("{} {line}", style("index:").yellow().bold());
        }
        let scans = if plans {
            self.print_scans(db).await?
        } else {
            0
        };
        if strict && (!advice.is_empty() || scans > 0) {
            code = NOT_CLEAN;
        }
        Ok(code)
    }

    /// Prints the reads whose plan on `db` scans a table; returns how many.
    #[cfg(feature = "explain")]
    async fn print_scans(&self, db: &Db) -> Result<usize, RepoError> {
        let mut scans = 0;
        for read in self.schema.explain_queries(db).await? {
            if read.plan.scans_a_table() {
                scans += 1;
                println!("{} {read}", style("plan:").yellow().bold());
            }
        }
        Ok(scans)
    }

    #[cfg(not(feature = "explain"))]
    async fn print_scans(&self, _: &Db) -> Result<usize, RepoError> {
        Err(RepoError::config(
            "check --plans needs the runtime's `explain` feature",
        ))
    }

    async fn seed(&self, db: &Db, environment: &str) -> Result<u8, RepoError> {
        let seeds = Seeds::new().load(&self.seeds_dir)?.then(self.seeds.clone());
        let bar = progress_bar(seeds.names(environment, db.dialect()).len() as u64);
        let ran = seeds
            .run_with(db, environment, |name| {
                bar.set_message(name.to_owned());
                bar.inc(1);
            })
            .await;
        bar.finish_and_clear();
        let ran = ran?;
        println!(
            "{} {} seed(s) run for `{environment}`{}",
            style("ok:").green().bold(),
            ran.len(),
            if ran.is_empty() {
                String::new()
            } else {
                format!(": {}", ran.join(", "))
            }
        );
        Ok(SUCCESS)
    }
}

/// The database migrations run on: `--database-url`, else the configuration's
/// `migration_url` (the schema's owner, when the application connects as a role that may only
/// read and write rows), else its `url`.
async fn connect(url: Option<String>) -> Result<Db, RepoError> {
    let config = DbConfig::load()?;
    match url.or_else(|| config.migration_url.clone()) {
        Some(url) => Db::connect_with(&url, config.options).await,
        None => Db::from_config(&config).await,
    }
}

/// The application's handle, not the migrations': re-encryption writes rows, with the
/// application's keys.
#[cfg(feature = "encryption")]
async fn connect_application(url: Option<String>) -> Result<Db, RepoError> {
    let config = DbConfig::load()?;
    match url {
        Some(url) => Db::connect_with(&url, config.options).await,
        None => Db::from_config(&config).await,
    }
}

/// A runner for `migrations` that moves `bar` along.
fn with_progress(migrations: Migrations, bar: &ProgressBar) -> Migrator {
    let bar = bar.clone();
    Migrator::new(migrations).on_progress(move |progress| match progress {
        Progress::Started(migration) => {
            bar.set_message(format!("{} {}", migration.version, migration.description));
        }
        Progress::Finished(migration, elapsed) => {
            bar.inc(1);
            bar.println(format!(
                "{} {} {} ({} ms)",
                style("done").green(),
                migration.version,
                migration.description,
                elapsed.as_millis()
            ));
        }
    })
}

/// A bar on stderr, drawn only when stderr is a terminal.
fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(bar_style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        bar.set_style(bar_style);
    }
    bar
}

fn command() -> Command {
    let command = Command::new("migrate")
        .about("Migrations generated from the entities: generate, apply, revert, check, seed")
        .subcommand_required(true)
        .arg(
            Arg::new("database-url")
                .long("database-url")
                .global(true)
                .help("The database; default: DATABASE_URL, else the embedded SQLite file"),
        )
        .arg(
            Arg::new("migrations")
                .long("migrations")
                .global(true)
                .value_parser(value_parser!(PathBuf))
                .help("The migrations directory [default: migrations]"),
        )
        .arg(
            Arg::new("seeds")
                .long("seeds")
                .global(true)
                .value_parser(value_parser!(PathBuf))
                .help("The seeds directory [default: seeds]"),
        )
        .subcommand(
            Command::new("generate")
                .about("Writes the migration from the last snapshot to the entities, for each dialect")
                .arg(Arg::new("name").required_unless_present("check").help("What the migration does: add_user_age"))
                .arg(
                    Arg::new("allow-unsafe")
                        .long("allow-unsafe")
                        .action(ArgAction::SetTrue)
                        .help("Also write changes that lose data or may fail on existing rows"),
                )
                .arg(
                    Arg::new("check")
                        .long("check")
                        .action(ArgAction::SetTrue)
                        .help("Write nothing; exit 3 when the entities changed since the last migration"),
                )
                .arg(
                    Arg::new("dialect")
                        .long("dialect")
                        .action(ArgAction::Append)
                        .value_parser(["sqlite", "postgres", "mysql"])
                        .help("Only this dialect (repeatable) [default: all]"),
                ),
        )
        .subcommand(
            Command::new("up")
                .about("Applies the pending migrations")
                .arg(
                    Arg::new("seed")
                        .long("seed")
                        .action(ArgAction::SetTrue)
                        .help("Then runs the seeds, as `seed` does"),
                )
                .arg(
                    Arg::new("env")
                        .long("env")
                        .requires("seed")
                        .help("The seeds' environment [default: REPO_ENV, else dev]"),
                ),
        )
        .subcommand(
            Command::new("down")
                .about("Reverts the latest migration, or every one after --to")
                .arg(
                    Arg::new("to")
                        .long("to")
                        .value_parser(value_parser!(i64))
                        .help("Revert the migrations after this version (0: all)"),
                ),
        )
        .subcommand(Command::new("status").about("Lists the migrations and where each stands"))
        .subcommand(Command::new("config").about(
            "Prints the database configuration the layers resolve to, passwords redacted",
        ))
        .subcommand(
            Command::new("diagram")
                .about("Prints the entities as a Mermaid entity-relationship diagram"),
        )
        .subcommand(
            Command::new("check")
                .about("Compares the live database with the entities, and lists the reads no index serves")
                .arg(
                    Arg::new("strict")
                        .long("strict")
                        .action(ArgAction::SetTrue)
                        .help("Exit 3 when a read has no index, as for drift"),
                )
                .arg(
                    Arg::new("plans")
                        .long("plans")
                        .action(ArgAction::SetTrue)
                        .help("Also ask the database to plan each read and list those that scan a table (feature `explain`)"),
                ),
        )
        .subcommand(
            Command::new("seed")
                .about("Runs the seeds of the environment that have not run yet")
                .arg(Arg::new("env").long("env").help("The environment [default: REPO_ENV, else dev]")),
        );
    #[cfg(feature = "encryption")]
    let command = command
        .subcommand(Command::new("keygen").about(
            "Prints a new random key, in base64: for DATABASE_ENCRYPTION_KEYS (as id:key) or DATABASE_BLIND_INDEX_KEY",
        ))
        .subcommand(
            Command::new("reencrypt")
                .about("Rewrites every encrypted field under the newest key, with fresh blind indexes")
                .arg(
                    Arg::new("batch")
                        .long("batch")
                        .value_parser(value_parser!(u64).range(1..))
                        .help("Rows per transaction [default: 500]"),
                ),
        );
    command
}
