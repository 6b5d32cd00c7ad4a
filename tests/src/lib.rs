//! Test harness: a fresh database per test on each backend, and the skip rule for servers.
//!
//! SQLite always runs, on a temporary file. PostgreSQL and MySQL/MariaDB run when
//! `DATABASE_URL_POSTGRES` / `DATABASE_URL_MYSQL` point at a server the tests may create
//! databases on; when unset, their tests are skipped with a line on stderr, unless
//! `REPO_TEST_REQUIRE_SERVERS=1`, which makes a missing server a failure (CI sets it).

use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use repo_runtime::{Db, DbOptions, Dialect, SqliteDriver};

/// A backend the conformance suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite on a temporary file, through sqlx's driver.
    Sqlite,
    /// Embedded SQLite on a temporary file, through rusqlite.
    Rusqlite,
    /// The PostgreSQL server at `DATABASE_URL_POSTGRES`.
    Postgres,
    /// The MySQL or MariaDB server at `DATABASE_URL_MYSQL`.
    MySql,
    /// The in-memory store (`Db::memory()`).
    Memory,
    /// The first node of the three-node MariaDB Galera cluster at `DATABASE_URL_GALERA`
    /// (`scripts/galera.sh`); not among [`Backend::ALL`].
    Galera,
}

impl Backend {
    /// Every backend, SQLite through sqlx's driver first (the reference of the differential
    /// tests).
    pub const ALL: [Backend; 5] = [
        Backend::Sqlite,
        Backend::Rusqlite,
        Backend::Postgres,
        Backend::MySql,
        Backend::Memory,
    ];

    /// The dialect of this backend (the in-memory store follows SQLite's).
    pub fn dialect(self) -> Dialect {
        match self {
            Backend::Sqlite | Backend::Rusqlite | Backend::Memory => Dialect::Sqlite,
            Backend::Postgres => Dialect::Postgres,
            Backend::MySql | Backend::Galera => Dialect::MySql,
        }
    }

    fn server_variable(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite | Backend::Rusqlite | Backend::Memory => None,
            Backend::Postgres => Some("DATABASE_URL_POSTGRES"),
            Backend::MySql => Some("DATABASE_URL_MYSQL"),
            Backend::Galera => Some("DATABASE_URL_GALERA"),
        }
    }
}

/// A database made for one test and removed when the test ends, however it ends.
pub struct TestDb {
    /// The handle the test uses.
    pub db: Db,
    cleanup: Cleanup,
}

enum Cleanup {
    Nothing,
    File(std::path::PathBuf),
    Server {
        admin_url: String,
        dialect: Dialect,
        name: String,
    },
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_name(test: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let short: String = test
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(30)
        .collect();
    format!("repo_t_{short}_{}_{n}_{nanos}", std::process::id())
}

/// Says once per process and backend, past the test harness's output capture, that a backend
/// was skipped.
fn announce_skip(variable: &str) {
    static POSTGRES: Once = Once::new();
    static MYSQL: Once = Once::new();
    static REPLICAS: Once = Once::new();
    static GALERA: Once = Once::new();
    let once = if variable.ends_with("REPLICA") {
        &REPLICAS
    } else if variable.contains("GALERA") {
        &GALERA
    } else if variable.contains("POSTGRES") {
        &POSTGRES
    } else {
        &MYSQL
    };
    once.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: {variable} is unset, so the tests of that backend did not run ***\n"
        );
    });
}

impl TestDb {
    /// A fresh database on `backend` for the test `test`, or `None` (after saying so) when the
    /// backend's server is not configured.
    ///
    /// # Panics
    /// When the server is configured but unusable, or required and not configured.
    pub async fn new(backend: Backend, test: &str) -> Option<TestDb> {
        Self::with_options(backend, test, DbOptions::default()).await
    }

    /// Like [`TestDb::new`] with pool settings.
    ///
    /// # Panics
    /// When the server is configured but unusable, or required and not configured.
    pub async fn with_options(
        backend: Backend,
        test: &str,
        mut options: DbOptions,
    ) -> Option<TestDb> {
        options.sqlite_driver = match backend {
            Backend::Rusqlite => SqliteDriver::Rusqlite,
            _ => SqliteDriver::Sqlx,
        };
        if backend == Backend::Memory {
            let db = Db::connect_with("memory:", options)
                .await
                .expect("open an in-memory database");
            return Some(TestDb {
                db,
                cleanup: Cleanup::Nothing,
            });
        }
        let name = unique_name(test);
        let Some(variable) = backend.server_variable() else {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            let url = format!("sqlite://{}", path.display());
            let db = Db::connect_with(&url, options)
                .await
                .expect("open SQLite test database");
            return Some(TestDb {
                db,
                cleanup: Cleanup::File(path),
            });
        };
        let admin_url = server_url(variable, &format!("the {backend:?} tests must run"))?;
        // The cluster's variable lists its nodes: the tests' databases are made on the first.
        let admin_url = admin_url.split(',').next().unwrap_or_default().to_owned();
        let dialect = backend.dialect();
        let url = create_database(dialect, &admin_url, &name).await;
        let db = Db::connect_with(&url, options)
            .await
            .expect("connect to the fresh test database");
        Some(TestDb {
            db,
            cleanup: Cleanup::Server {
                admin_url,
                dialect,
                name,
            },
        })
    }
}

/// The server URL in `variable`; when it is unset, `None` after saying so, or a failure with
/// `REPO_TEST_REQUIRE_SERVERS=1` (`why` says what to do).
pub fn server_url(variable: &str, why: &str) -> Option<String> {
    let Ok(url) = std::env::var(variable) else {
        if std::env::var("REPO_TEST_REQUIRE_SERVERS").is_ok_and(|v| v == "1") {
            panic!("{variable} is unset but REPO_TEST_REQUIRE_SERVERS=1: {why}");
        }
        announce_skip(variable);
        return None;
    };
    Some(url)
}

/// Creates the database `name` on the server at `admin_url`; its URL.
async fn create_database(dialect: Dialect, admin_url: &str, name: &str) -> String {
    admin_execute(
        dialect,
        admin_url,
        &format!("CREATE DATABASE {}", dialect.quote(name)),
    )
    .await;
    with_database(admin_url, name)
}

/// `url` with its path (the database name) replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let path_start = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &head[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn admin_execute(dialect: Dialect, admin_url: &str, statement: &str) {
    use sqlx::Executor as _;
    let sql = sqlx::AssertSqlSafe(statement.to_owned());
    match dialect {
        Dialect::Postgres => {
            let pool = sqlx::PgPool::connect(admin_url)
                .await
                .expect("connect to PostgreSQL");
            pool.execute(sql)
                .await
                .expect("administrative statement on PostgreSQL");
            pool.close().await;
        }
        Dialect::MySql => {
            let url = admin_url.replacen("mariadb:", "mysql:", 1);
            let pool = sqlx::MySqlPool::connect(&url)
                .await
                .expect("connect to MySQL");
            pool.execute(sql)
                .await
                .expect("administrative statement on MySQL");
            pool.close().await;
        }
        Dialect::Sqlite => {}
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let db = self.db.clone();
        let cleanup = std::mem::replace(&mut self.cleanup, Cleanup::Nothing);
        if let Cleanup::Nothing = cleanup {
            return;
        }
        // Drop cannot await, and may run on a runtime that is shutting down: clean up on a
        // thread of its own with its own runtime.
        let worker = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                // A connection whose statement failed goes back to sqlx's pool through a task
                // on the test's runtime, which this drop blocks when it has one thread: the
                // database goes anyway.
                let _ = tokio::time::timeout(std::time::Duration::from_secs(2), db.close()).await;
                match cleanup {
                    Cleanup::Nothing => {}
                    Cleanup::File(path) => {
                        for suffix in ["", "-wal", "-shm"] {
                            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                        }
                    }
                    Cleanup::Server {
                        admin_url,
                        dialect,
                        name,
                    } => {
                        let statement = match dialect {
                            Dialect::Postgres => {
                                format!(
                                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                                    dialect.quote(&name)
                                )
                            }
                            _ => format!("DROP DATABASE IF EXISTS {}", dialect.quote(&name)),
                        };
                        admin_execute(dialect, &admin_url, &statement).await;
                    }
                }
            });
        });
        let _ = worker.join();
    }
}

/// A primary and its read replica, as `scripts/replicas.sh` starts them: PostgreSQL's
/// standby of the local server, and a MariaDB primary with its GTID replica.
pub struct Replicated {
    /// A handle on the test's database with the replica configured.
    pub test: TestDb,
    /// The test database on the primary, without replicas.
    pub primary_url: String,
    /// The test database on the replica.
    pub replica_url: String,
}

impl Replicated {
    /// A fresh database on `backend`'s primary (PostgreSQL or MySql), once its replica has
    /// it, and a handle reading from the replica; `None` (after saying so) when the replica's
    /// URL is unset, a failure instead with `REPO_TEST_REQUIRE_SERVERS=1`.
    ///
    /// # Panics
    /// When the servers are configured but unusable, or required and not configured.
    pub async fn new(backend: Backend, test: &str, options: DbOptions) -> Option<Replicated> {
        let (primary, replica) = match backend {
            Backend::Postgres => ("DATABASE_URL_POSTGRES", "DATABASE_URL_POSTGRES_REPLICA"),
            Backend::MySql => ("DATABASE_URL_MYSQL_PRIMARY", "DATABASE_URL_MYSQL_REPLICA"),
            _ => return None,
        };
        let start = "start the replicas with `eval \"$(scripts/replicas.sh)\"`";
        let admin_url = server_url(primary, start)?;
        let replica_admin = server_url(replica, start)?;
        let name = unique_name(test);
        let dialect = backend.dialect();
        let primary_url = create_database(dialect, &admin_url, &name).await;
        let replica_url = with_database(&replica_admin, &name);
        // The replica has the database once it replayed its creation.
        let started = std::time::Instant::now();
        loop {
            if let Ok(probe) = Db::connect(&replica_url).await {
                probe.close().await;
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the replica at {replica} did not replay the creation of {name}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let db = Db::connect_with_replicas(&primary_url, &[&replica_url], options)
            .await
            .expect("connect to the primary and its replica");
        Some(Replicated {
            test: TestDb {
                db,
                cleanup: Cleanup::Server {
                    admin_url,
                    dialect,
                    name,
                },
            },
            primary_url,
            replica_url,
        })
    }
}

/// A database of its own on every backend there is, SQLite's first (the reference of the
/// differential tests); a server whose URL is unset is skipped as [`TestDb::new`] says.
pub async fn every_backend(test: &str) -> Vec<(Backend, TestDb)> {
    let mut databases = Vec::new();
    for backend in Backend::ALL {
        if let Some(test) = TestDb::new(backend, test).await {
            databases.push((backend, test));
        }
    }
    databases
}

/// Everything a `tracing` subscriber writes, kept for a test to read: hand
/// `move || log.clone()` to `tracing_subscriber::fmt().with_writer(..)`.
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    /// What was written so far.
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Cases per property test: 200, or `PROPTEST_CASES` for a longer one-off run.
pub fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(200)
}

/// Runs one conformance case on one backend, skipping it when the backend is not configured.
pub async fn run_case<F>(backend: Backend, test: &str, case: F)
where
    F: AsyncFnOnce(&Db),
{
    if let Some(test_db) = TestDb::new(backend, test).await {
        case(&test_db.db).await;
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_replaces_the_urls_path() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("mysql://root@127.0.0.1:3306", "t2"),
            "mysql://root@127.0.0.1:3306/t2"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t3"),
            "postgres://u@h/t3?sslmode=disable"
        );
    }
}

/// Runs each sequence of `steps` proptest draws (`cases` of them) through `run` on every
/// backend there is, one database each where `E`'s table was created; a failure names the
/// backend, and proptest shrinks it.
///
/// # Panics
///
/// When a sequence fails on some backend, with the smallest one proptest found.
pub fn sequences_on_every_backend<E, T>(
    name: &str,
    cases: u32,
    steps: impl proptest::strategy::Strategy<Value = Vec<T>>,
    run: impl AsyncFn(&Db, &[T]) -> Result<(), proptest::test_runner::TestCaseError>,
) where
    E: repo_runtime::Entity,
    T: std::fmt::Debug + Clone,
{
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let databases: Vec<(Backend, TestDb)> = runtime.block_on(async {
        let databases = every_backend(name).await;
        for (_, test) in &databases {
            test.db.create_schema::<E>().await.expect("schema");
        }
        databases
    });
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let result = runner.run(&steps, |steps| {
        runtime.block_on(async {
            for (backend, test) in &databases {
                run(&test.db, &steps)
                    .await
                    .map_err(|error| TestCaseError::fail(format!("{backend:?}: {error}")))?;
            }
            Ok(())
        })
    });
    // Closed on the runtime their connections live on, before a failed assertion drops them.
    runtime.block_on(async {
        for (_, test) in &databases {
            test.db.close().await;
        }
    });
    result.unwrap();
}

/// An application with encrypted fields, for the command line's `keygen` and `reencrypt`
/// (its binary is `vault-migrate`).
pub mod vault {
    use repo_runtime::Repository;

    /// A secret note: its label is looked up through a blind index, its body never. (Its
    /// `Debug`, which redacts them, is the derive's.)
    #[derive(Clone, PartialEq, Repository)]
    #[repo(table = "vault_secrets")]
    pub struct Secret {
        /// The key.
        #[repo(id, generated)]
        pub id: i64,
        /// Unique, encrypted.
        #[repo(encrypted, unique)]
        pub label: String,
        /// Encrypted.
        #[repo(encrypted)]
        pub body: String,
    }

    /// The same table as stored: ciphertext.
    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(table = "vault_secrets")]
    pub struct StoredSecret {
        /// The key.
        #[repo(id, generated)]
        pub id: i64,
        /// Ciphertext.
        pub label: Vec<u8>,
        /// The blind index.
        pub label_bidx: Vec<u8>,
        /// Ciphertext.
        pub body: Vec<u8>,
    }

    /// The schema the binary's command line works on.
    pub fn schema() -> repo_runtime::migrate::Schema {
        repo_runtime::migrate::Schema::new().entity::<Secret>()
    }
}
