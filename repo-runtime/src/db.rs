//! `Db`: the database handle. One backend is chosen at run time from the URL scheme; the pool
//! settings come from [`DbOptions`] or the environment.

use repo_sql::Dialect;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use crate::backend::MySqlBatchKeys;
use crate::backend::{Opened, PoolSettings, SqlPool, SqliteDriver, SqliteSynchronous};
use crate::cluster::{Node, Nodes};
use crate::entity::Entity;
use crate::error::{FromSqlx, RepoError};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::policy::{Actor, Tenancy, Tenant, TenantField};
use crate::retry::RetryPolicy;
use crate::telemetry::Peer;

/// The URL [`Db::from_env`] opens when `DATABASE_URL` is unset: an SQLite file in the working
/// directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://repo.db";

/// Pool settings for [`Db::connect_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbOptions {
    /// Most connections the pool opens. Default: 10 (1 for an in-memory SQLite database,
    /// whose contents belong to a single connection). SQLite through rusqlite opens one writer
    /// and up to `max_connections - 1` readers.
    pub max_connections: u32,
    /// How long a caller waits for a free connection before [`RepoError::PoolTimeout`].
    /// Default: 30 s.
    pub acquire_timeout: Duration,
    /// Connections the pool keeps open even when idle, opened at connect. Default: 0.
    pub min_connections: u32,
    /// How long a connection above `min_connections` may sit idle before the pool closes it.
    /// Default: 10 minutes; `None` keeps it. SQLite through rusqlite keeps its connections (they
    /// are open files, not sessions on a server).
    pub idle_timeout: Option<Duration>,
    /// How long a connection lives before the pool replaces it (a server's memory per session
    /// grows; a load balancer's routes change). Default: 30 minutes; `None` keeps it. Not on
    /// SQLite through rusqlite, as `idle_timeout`.
    pub max_lifetime: Option<Duration>,
    /// Whether the pool pings a connection before handing it out. Default: `false`: the ping
    /// doubles every statement's round trips on the servers, and buys little: a connection
    /// that died while idle fails its statement, which is classified
    /// [`RepoError::Transient`] (the connection is discarded), and reads and units of work
    /// are retried under [`DbOptions::retry`]. Turn it on where a failed single write outside
    /// a transaction must not reach the caller.
    pub test_before_acquire: bool,
    /// How long a connection whose statement completed stays with the handle for the next
    /// statement or transaction before going back to the pool. Default: 1 s. sqlx's pool pings
    /// every connection given back to it, a round trip more per statement on the servers; a
    /// held connection skips it. One that failed or was cancelled mid-statement goes back at
    /// once, and to be pinged. Zero gives each back after its statement; with
    /// `test_before_acquire` none is held. Not on SQLite through rusqlite, whose pool is the
    /// runtime's own.
    pub connection_hold: Duration,
    /// SQLite's `synchronous` for a database file (in WAL mode). Default:
    /// [`SqliteSynchronous::Normal`], durable against crashes of the application and
    /// consistent against power loss, which may lose the last transactions; `Full` keeps them
    /// too, at an fsync per commit.
    pub sqlite_synchronous: SqliteSynchronous,
    /// How long SQLite waits on a locked database before reporting it busy. Default: 5 s.
    pub sqlite_busy_timeout: Duration,
    /// Which driver runs a `sqlite:` URL when both are compiled in. Default: rusqlite (feature
    /// `rusqlite`) when it is, else sqlx's (feature `sqlite`).
    pub sqlite_driver: SqliteDriver,
    /// How transactions and reads outside a transaction retry transient failures.
    pub retry: RetryPolicy,
    /// Statements slower than this are logged at `warn` and counted. Default: 1 s.
    pub slow_statement_threshold: Duration,
    /// Whether a slow statement's plan is read and logged (feature `explain`): the planner's
    /// plan of the same text with the same values, asked on another connection after the
    /// statement, summed up at `warn` under the target `repo_runtime::plan` (tables scanned,
    /// indexes used, sorts, estimated rows; never the values). Costs a copy of every
    /// statement's values while on. Not on the in-memory store, which has no planner.
    /// Default: off.
    pub explain_slow_statements: bool,
    /// Longest a statement may run before [`RepoError::Timeout`]: enforced by the server on
    /// PostgreSQL (`statement_timeout`) and MariaDB (`max_statement_time`; MySQL's
    /// `max_execution_time` covers reads only), by the client on SQLite. Default: none.
    ///
    /// A statement the client stops waiting for on SQLite may still complete: inside a
    /// transaction, the transaction is then rolled back instead of committed.
    pub statement_timeout: Option<Duration>,
    /// PostgreSQL: each transaction of a handle scoped to a tenant ([`Db::for_tenant`]) names
    /// it in the setting `repo.tenant` (one statement more per transaction), which the
    /// Row-Level Security policies of `#[repo(tenant, row_level_security)]` tables read, so
    /// that hand-written SQL inside the transaction is scoped too. Default: off.
    pub row_level_security: bool,
    /// Whether the entities declared `#[repo(cache)]` are cached (feature `cache`): lookups by
    /// key and by unique key outside a transaction read through it. Default: off.
    pub cache: bool,
    /// How long the cache holds that a row is absent, so that a hot miss does not reach the
    /// database each time (never longer than the entity's time to live). Default: 1 s.
    pub cache_absent_ttl: Duration,
    /// The keys of the encrypted fields (`#[repo(encrypted)]`, feature `encryption`); from
    /// `DATABASE_ENCRYPTION_KEYS` and `DATABASE_BLIND_INDEX_KEY`. Default: none, and an
    /// encrypted field then fails to write or read with [`RepoError::Config`].
    #[cfg(feature = "encryption")]
    pub encryption: Option<Arc<crate::encryption::Keyring>>,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            min_connections: 0,
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            test_before_acquire: false,
            connection_hold: Duration::from_secs(1),
            sqlite_synchronous: SqliteSynchronous::Normal,
            sqlite_busy_timeout: Duration::from_secs(5),
            sqlite_driver: SqliteDriver::default(),
            retry: RetryPolicy::default(),
            slow_statement_threshold: Duration::from_secs(1),
            explain_slow_statements: false,
            statement_timeout: None,
            row_level_security: false,
            cache: false,
            cache_absent_ttl: Duration::from_secs(1),
            #[cfg(feature = "encryption")]
            encryption: None,
        }
    }
}

impl DbOptions {
    /// The defaults, with what the environment sets: `DATABASE_MAX_CONNECTIONS`,
    /// `DATABASE_MIN_CONNECTIONS`, `DATABASE_ACQUIRE_TIMEOUT_MS`, `DATABASE_IDLE_TIMEOUT_MS`
    /// and `DATABASE_MAX_LIFETIME_MS` (`0`: none), `DATABASE_CONNECTION_HOLD_MS`,
    /// `DATABASE_CACHE_ABSENT_TTL_MS`, `DATABASE_SLOW_STATEMENT_MS`,
    /// `DATABASE_TEST_BEFORE_ACQUIRE`, `DATABASE_CACHE`, `DATABASE_EXPLAIN_SLOW` and
    /// `DATABASE_ROW_LEVEL_SECURITY` (`true` or `false`),
    /// `DATABASE_SQLITE_SYNCHRONOUS` (`off`, `normal`, `full` or `extra`),
    /// `DATABASE_SQLITE_DRIVER` (`sqlx` or `rusqlite`), `DATABASE_SQLITE_BUSY_TIMEOUT_MS`,
    /// `DATABASE_STATEMENT_TIMEOUT_MS` (`0`: none), and the retry policy's
    /// `DATABASE_RETRY_MAX_ATTEMPTS`, `DATABASE_RETRY_MIN_DELAY_MS`,
    /// `DATABASE_RETRY_MAX_DELAY_MS` and `DATABASE_RETRY_MAX_TOTAL_DELAY_MS`, and the keys of
    /// encrypted fields, `DATABASE_ENCRYPTION_KEYS` and `DATABASE_BLIND_INDEX_KEY` (each also
    /// from the file its `_FILE` variable names; feature `encryption`) (the list is
    /// [`DbOptions::VARIABLES`]). A value that does not parse is [`RepoError::Config`] naming
    /// the variable. Files per environment under the variables: `DbConfig` (feature `config`).
    pub fn from_env() -> Result<Self, RepoError> {
        DbOptions::from_vars(|name| std::env::var(name))
    }

    /// The environment variables [`DbOptions::from_env`] reads, one per option.
    pub const VARIABLES: &'static [&'static str] = &[
        "DATABASE_MAX_CONNECTIONS",
        "DATABASE_MIN_CONNECTIONS",
        "DATABASE_ACQUIRE_TIMEOUT_MS",
        "DATABASE_IDLE_TIMEOUT_MS",
        "DATABASE_MAX_LIFETIME_MS",
        "DATABASE_CONNECTION_HOLD_MS",
        "DATABASE_TEST_BEFORE_ACQUIRE",
        "DATABASE_ROW_LEVEL_SECURITY",
        "DATABASE_CACHE",
        "DATABASE_CACHE_ABSENT_TTL_MS",
        "DATABASE_SLOW_STATEMENT_MS",
        "DATABASE_EXPLAIN_SLOW",
        "DATABASE_SQLITE_SYNCHRONOUS",
        "DATABASE_SQLITE_DRIVER",
        "DATABASE_SQLITE_BUSY_TIMEOUT_MS",
        "DATABASE_STATEMENT_TIMEOUT_MS",
        "DATABASE_RETRY_MAX_ATTEMPTS",
        "DATABASE_RETRY_MIN_DELAY_MS",
        "DATABASE_RETRY_MAX_DELAY_MS",
        "DATABASE_RETRY_MAX_TOTAL_DELAY_MS",
        "DATABASE_ENCRYPTION_KEYS",
        "DATABASE_BLIND_INDEX_KEY",
    ];

    /// [`DbOptions::from_env`] over any source of variables.
    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, RepoError> {
        let mut options = DbOptions::default();
        let count = |name: &str| -> Result<Option<u32>, RepoError> {
            env_number(&var, name)?
                .map(|value| {
                    u32::try_from(value)
                        .map_err(|_| RepoError::config(format!("{name} is larger than u32::MAX")))
                })
                .transpose()
        };
        if let Some(value) = count("DATABASE_MAX_CONNECTIONS")? {
            options.max_connections = value;
        }
        if let Some(value) = count("DATABASE_MIN_CONNECTIONS")? {
            options.min_connections = value;
        }
        if let Some(value) = env_number(&var, "DATABASE_ACQUIRE_TIMEOUT_MS")? {
            options.acquire_timeout = Duration::from_millis(value);
        }
        let optional = |millis: u64| (millis > 0).then(|| Duration::from_millis(millis));
        if let Some(value) = env_number(&var, "DATABASE_IDLE_TIMEOUT_MS")? {
            options.idle_timeout = optional(value);
        }
        if let Some(value) = env_number(&var, "DATABASE_MAX_LIFETIME_MS")? {
            options.max_lifetime = optional(value);
        }
        if let Some(value) = env_number(&var, "DATABASE_CONNECTION_HOLD_MS")? {
            options.connection_hold = Duration::from_millis(value);
        }
        let flag = |name: &str| -> Result<Option<bool>, RepoError> {
            let Some(text) = env_text(&var, name)? else {
                return Ok(None);
            };
            match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Some(true)),
                "false" | "0" | "no" => Ok(Some(false)),
                _ => Err(RepoError::config(format!("{name} must be true or false"))),
            }
        };
        if let Some(value) = flag("DATABASE_TEST_BEFORE_ACQUIRE")? {
            options.test_before_acquire = value;
        }
        if let Some(value) = flag("DATABASE_ROW_LEVEL_SECURITY")? {
            options.row_level_security = value;
        }
        if let Some(value) = flag("DATABASE_CACHE")? {
            options.cache = value;
        }
        if let Some(value) = env_number(&var, "DATABASE_CACHE_ABSENT_TTL_MS")? {
            options.cache_absent_ttl = Duration::from_millis(value);
        }
        if let Some(value) = env_number(&var, "DATABASE_SLOW_STATEMENT_MS")? {
            options.slow_statement_threshold = Duration::from_millis(value);
        }
        if let Some(value) = flag("DATABASE_EXPLAIN_SLOW")? {
            options.explain_slow_statements = value;
        }
        if let Some(text) = env_text(&var, "DATABASE_SQLITE_SYNCHRONOUS")? {
            options.sqlite_synchronous = text.parse()?;
        }
        if let Some(text) = env_text(&var, "DATABASE_SQLITE_DRIVER")? {
            options.sqlite_driver = text.parse()?;
        }
        if let Some(value) = env_number(&var, "DATABASE_SQLITE_BUSY_TIMEOUT_MS")? {
            options.sqlite_busy_timeout = Duration::from_millis(value);
        }
        if let Some(value) = env_number(&var, "DATABASE_STATEMENT_TIMEOUT_MS")? {
            options.statement_timeout = optional(value);
        }
        if let Some(value) = count("DATABASE_RETRY_MAX_ATTEMPTS")? {
            options.retry.max_attempts = value;
        }
        if let Some(value) = env_number(&var, "DATABASE_RETRY_MIN_DELAY_MS")? {
            options.retry.min_delay = Duration::from_millis(value);
        }
        if let Some(value) = env_number(&var, "DATABASE_RETRY_MAX_DELAY_MS")? {
            options.retry.max_delay = Duration::from_millis(value);
        }
        if let Some(value) = env_number(&var, "DATABASE_RETRY_MAX_TOTAL_DELAY_MS")? {
            options.retry.max_total_delay = Duration::from_millis(value);
        }
        #[cfg(feature = "encryption")]
        {
            options.encryption = crate::encryption::Keyring::from_vars(&var)?.map(Arc::new);
        }
        #[cfg(not(feature = "encryption"))]
        for name in ["DATABASE_ENCRYPTION_KEYS", "DATABASE_BLIND_INDEX_KEY"] {
            if var(name).is_ok() || var(&format!("{name}_FILE")).is_ok() {
                return Err(RepoError::config(format!(
                    "{name} is set, and the runtime is built without its `encryption` feature"
                )));
            }
        }
        Ok(options)
    }
}

/// An option asked for without the feature that builds it.
fn check_features(options: &DbOptions) -> Result<(), RepoError> {
    if options.cache && !cfg!(feature = "cache") {
        return Err(RepoError::config(
            "DbOptions::cache needs the runtime's `cache` feature",
        ));
    }
    if options.explain_slow_statements && !cfg!(feature = "explain") {
        return Err(RepoError::config(
            "DbOptions::explain_slow_statements needs the runtime's `explain` feature",
        ));
    }
    Ok(())
}

#[cfg(feature = "cache")]
fn cache_store(options: &DbOptions) -> Option<Arc<crate::cache::CacheStore>> {
    options
        .cache
        .then(|| Arc::new(crate::cache::CacheStore::new(options.cache_absent_ttl)))
}

fn env_number(
    var: &impl Fn(&str) -> Result<String, std::env::VarError>,
    name: &str,
) -> Result<Option<u64>, RepoError> {
    env_text(var, name)?
        .map(|text| {
            text.trim()
                .parse()
                .map_err(|_| RepoError::config(format!("{name} must be a whole number")))
        })
        .transpose()
}

/// The environment the application runs in: `REPO_ENV`, else `dev`. It chooses the seeds and
/// the configuration file of the environment.
#[cfg(any(feature = "migrate", feature = "config"))]
pub(crate) fn environment() -> String {
    std::env::var("REPO_ENV")
        .ok()
        .map(|env| env.trim().to_owned())
        .filter(|env| !env.is_empty())
        .unwrap_or_else(|| "dev".to_owned())
}

/// The URLs of a comma-separated list.
pub(crate) fn url_list(list: Option<&str>) -> impl Iterator<Item = &str> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
}

/// The contents of the file `path` that the variable `variable` names (a secret mounted as a
/// file), less a final newline.
#[cfg(any(feature = "config", feature = "encryption"))]
pub(crate) fn read_secret_file(variable: &str, path: &str) -> Result<String, RepoError> {
    let mut text = std::fs::read_to_string(path)
        .map_err(|error| RepoError::config(format!("{variable}: cannot read {path}: {error}")))?;
    // Trimmed in place: a secret is not copied (the caller may zeroize the one buffer).
    if text.ends_with('\n') {
        text.pop();
    }
    if text.ends_with('\r') {
        text.pop();
    }
    Ok(text)
}

pub(crate) fn env_text(
    var: &impl Fn(&str) -> Result<String, std::env::VarError>,
    name: &str,
) -> Result<Option<String>, RepoError> {
    match var(name) {
        Ok(text) => Ok(Some(text)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(RepoError::config(format!("{name} is not valid UTF-8")))
        }
    }
}

/// A handle to one database: a connection pool of the backend named by the URL.
///
/// Cloning is cheap (a reference count); every clone shares the pool.
#[derive(Clone)]
pub struct Db {
    inner: Arc<DbInner>,
    /// Who works through this handle ([`Db::acting_as`]): what the policy columns record.
    actor: Option<Actor>,
    /// Which tenant's rows the handle reaches ([`Db::for_tenant`], [`Db::unscoped`]).
    tenancy: Tenancy,
    /// Whether its reads stay on the primary ([`Db::primary`]).
    primary_only: bool,
    /// Whether it only reads ([`Db::read_only`]).
    read_only: bool,
    /// With replicas: the writes of this handle's session ([`Db::session`]), shared by its
    /// clones.
    session: Option<Arc<crate::replica::Freshness>>,
    /// The keys of encrypted fields ([`Db::with_keyring`]; at first
    /// [`DbOptions::encryption`]).
    #[cfg(feature = "encryption")]
    keyring: Option<Arc<crate::encryption::Keyring>>,
}

struct DbInner {
    storage: Storage,
    options: DbOptions,
    metrics: Metrics,
    url: String,
    /// How a MySQL/MariaDB batch learns its generated keys; `None` on other backends.
    mysql_batch_keys: Option<MySqlBatchKeys>,
    /// The entity cache, when `DbOptions::cache` is on.
    #[cfg(feature = "cache")]
    cache: Option<Arc<crate::cache::CacheStore>>,
    /// The read replicas ([`Db::connect_with_replicas`]).
    replicas: Option<crate::replica::Replicas>,
}

/// What a handle runs on: the pools of its SQL servers (one, or a cluster's nodes), or the
/// in-memory store and its name in telemetry.
enum Storage {
    Sql(Nodes),
    #[cfg(feature = "memory")]
    Memory(crate::memory::Store, Peer),
}

/// Opens the pool of `dialect`'s backend, or says it is not compiled in.
async fn open(dialect: Dialect, url: &str, options: &DbOptions) -> Result<Opened, RepoError> {
    match SqlPool::open(dialect, url, &pool_settings(options)).await {
        Some(opened) => opened.map_err(|error| RepoError::from_sqlx(error, None)),
        None => Err(not_compiled(dialect)),
    }
}

/// Opens the pool of `dialect`'s backend without connecting: its first connection opens when
/// first used (a cluster's other nodes, a replica).
fn open_lazy(dialect: Dialect, url: &str, options: &DbOptions) -> Result<SqlPool, RepoError> {
    match SqlPool::open_lazy(dialect, url, &pool_settings(options)) {
        Some(pool) => pool.map_err(|error| RepoError::from_sqlx(error, None)),
        None => Err(not_compiled(dialect)),
    }
}

/// The pool settings of `options`.
fn pool_settings(options: &DbOptions) -> PoolSettings {
    PoolSettings {
        max_connections: options.max_connections,
        acquire_timeout: options.acquire_timeout,
        min_connections: options.min_connections,
        idle_timeout: options.idle_timeout,
        max_lifetime: options.max_lifetime,
        test_before_acquire: options.test_before_acquire,
        connection_hold: options.connection_hold,
        sqlite_synchronous: options.sqlite_synchronous,
        sqlite_busy_timeout: options.sqlite_busy_timeout,
        sqlite_driver: options.sqlite_driver,
        statement_timeout: options.statement_timeout,
    }
}

/// Opens the nodes at `urls`, servers of one `dialect`: the first that answers is connected to
/// and used first, the others are opened to connect when the handle moves to them. Fails with
/// the first node's error when none answers.
async fn open_nodes<S: AsRef<str>>(
    dialect: Dialect,
    urls: &[S],
    options: &DbOptions,
) -> Result<(Nodes, Option<MySqlBatchKeys>), RepoError> {
    if urls.len() > 1 && !matches!(dialect, Dialect::Postgres | Dialect::MySql) {
        return Err(RepoError::config(
            "the nodes of a cluster are PostgreSQL or MySQL/MariaDB servers",
        ));
    }
    let mut first_error = None;
    let mut connected = None;
    for (index, url) in urls.iter().enumerate() {
        let url = url.as_ref();
        if index > 0 && (is_memory_url(url) || dialect_of(url)? != dialect) {
            return Err(RepoError::config(format!(
                "node {} is not a {dialect} database like the first",
                redact_url(url)
            )));
        }
        if connected.is_some() {
            continue;
        }
        match open(dialect, url, options).await {
            Ok(opened) => connected = Some((index, opened)),
            Err(error) => {
                tracing::warn!(node = %redact_url(url), kind = error.kind().as_str(), "a node of the cluster did not answer");
                first_error.get_or_insert(error);
            }
        }
    }
    let Some((active, opened)) = connected else {
        return Err(first_error.unwrap_or_else(|| RepoError::config("a database URL is needed")));
    };
    let mut members = Vec::with_capacity(urls.len());
    let system = opened.system;
    let mut first = Some(opened.pool);
    for (index, url) in urls.iter().enumerate() {
        let redacted = redact_url(url.as_ref());
        let pool = match first.take_if(|_| index == active) {
            Some(pool) => pool,
            None => open_lazy(dialect, url.as_ref(), options)?,
        };
        let peer = Peer::of_url(&redacted, system);
        members.push(Node::new(pool, peer, redacted));
    }
    Ok((Nodes::new(members, active), opened.mysql_batch_keys))
}

/// How long a read waits for a replica's connection before it is done on the primary.
const REPLICA_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens a pool on each of `urls`, replicas of a `dialect` primary; `None` without any.
async fn open_replicas<S: AsRef<str>>(
    dialect: Dialect,
    urls: &[S],
    options: &DbOptions,
) -> Result<Option<crate::replica::Replicas>, RepoError> {
    if urls.is_empty() {
        return Ok(None);
    }
    if !matches!(dialect, Dialect::Postgres | Dialect::MySql) {
        return Err(RepoError::config(
            "read replicas are for PostgreSQL and MySQL/MariaDB primaries",
        ));
    }
    // A replica that is down must not hold a read for the primary's whole acquire timeout:
    // its read fails soon and is done again on the primary.
    let replica_options = DbOptions {
        acquire_timeout: options.acquire_timeout.min(REPLICA_ACQUIRE_TIMEOUT),
        ..options.clone()
    };
    let mut members = Vec::with_capacity(urls.len());
    for url in urls {
        let url = url.as_ref();
        if is_memory_url(url) || dialect_of(url)? != dialect {
            return Err(RepoError::config(format!(
                "replica {} is not a {dialect} database like its primary",
                redact_url(url)
            )));
        }
        // Opened without connecting: a replica that is down when the handle connects is
        // passed over by its first read, as one that goes down later is.
        members.push((redact_url(url), open_lazy(dialect, url, &replica_options)?));
    }
    Ok(Some(crate::replica::Replicas::new(dialect, members)))
}

impl Db {
    /// Connects with [`DbOptions::from_env`] to `DATABASE_URL`, or to [`DEFAULT_DATABASE_URL`]
    /// (an embedded SQLite file) when it is unset, with the other nodes of its cluster listed
    /// in `DATABASE_FAILOVER_URLS` (see [`Db::connect_to_cluster`]) and the read replicas
    /// listed in `DATABASE_REPLICA_URLS` (see [`Db::connect_with_replicas`]); lists are
    /// comma-separated.
    pub async fn from_env() -> Result<Db, RepoError> {
        let url = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => url,
            Ok(_) | Err(std::env::VarError::NotPresent) => DEFAULT_DATABASE_URL.to_owned(),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(RepoError::config("DATABASE_URL is not valid UTF-8"));
            }
        };
        let var = |name: &str| std::env::var(name);
        let failover = env_text(&var, "DATABASE_FAILOVER_URLS")?;
        let replicas = env_text(&var, "DATABASE_REPLICA_URLS")?;
        let mut nodes = vec![url.as_str()];
        nodes.extend(url_list(failover.as_deref()));
        let replicas: Vec<&str> = url_list(replicas.as_deref()).collect();
        Db::connect_nodes(&nodes, &replicas, DbOptions::from_env()?).await
    }

    /// Connects to `url` with default pool settings.
    ///
    /// Schemes: `sqlite:` (file or `sqlite::memory:`), `postgres:` / `postgresql:`,
    /// `mysql:` / `mariadb:`, and `memory:` for a new, empty in-memory store (feature
    /// `memory`, see [`Db::memory`]). A backend whose cargo feature is off is an error that
    /// names it.
    pub async fn connect(url: &str) -> Result<Db, RepoError> {
        Db::connect_with(url, DbOptions::default()).await
    }

    /// Connects to `url` with the given pool settings.
    pub async fn connect_with(url: &str, options: DbOptions) -> Result<Db, RepoError> {
        Db::connect_with_replicas(url, &[] as &[&str], options).await
    }

    /// Connects to the primary at `url` and to read replicas of it at `replicas` (PostgreSQL
    /// streaming replicas, MySQL/MariaDB replicas with GTIDs), each with a pool of its own
    /// sized by `options`.
    ///
    /// Reads outside a transaction go to a replica, in turn, once it has replayed every write
    /// made through this handle and its clones, or in its [`Db::session`] (read-your-writes by
    /// log position: see the README's "Scaling out"); writes, transactions and
    /// [`Db::primary`]'s reads go to the primary. A replica that is behind is passed over; one that fails leaves the rotation
    /// for a second and the read is done again on the primary. Writes made with hand-written
    /// SQL on the raw pools (`Db::as_postgres` and its siblings) are not seen: read after them
    /// through `db.primary()`.
    pub async fn connect_with_replicas<S: AsRef<str>>(
        url: &str,
        replicas: &[S],
        options: DbOptions,
    ) -> Result<Db, RepoError> {
        Db::connect_nodes(&[url], replicas, options).await
    }

    /// Connects to the nodes of a multi-primary cluster (MariaDB Galera; PostgreSQL or
    /// MySQL/MariaDB servers of one database), which all take writes. The handle works on one
    /// node at a time: the first that answers at connect, then, when a statement finds it
    /// gone (its connection lost, the server shut down or cut off from the cluster, no
    /// connection to be had), the next that has not failed in the last 5 s. That statement
    /// fails as [`RepoError::Transient`]; reads and units of work retry it on the next node
    /// (a commit in flight when its node went is [`RepoError::CommitUnknown`]: check before
    /// doing it again). Statements waiting for a connection of the gone node fail at once.
    /// `db.metrics().cluster` names the node in use. See the README's "Scaling out".
    pub async fn connect_to_cluster<S: AsRef<str>>(
        nodes: &[S],
        options: DbOptions,
    ) -> Result<Db, RepoError> {
        Db::connect_nodes(nodes, &[] as &[&str], options).await
    }

    /// Connects to `nodes` (one server, or a cluster's nodes) with read `replicas`.
    pub(crate) async fn connect_nodes<N: AsRef<str>, R: AsRef<str>>(
        nodes: &[N],
        replicas: &[R],
        options: DbOptions,
    ) -> Result<Db, RepoError> {
        let Some(url) = nodes.first().map(AsRef::as_ref) else {
            return Err(RepoError::config("a database URL is needed"));
        };
        if is_memory_url(url) && replicas.is_empty() && nodes.len() == 1 {
            return Db::memory_with(options);
        }
        let dialect = dialect_of(url)?;
        let redacted = redact_url(url);
        tracing::debug!(url = %redacted, %dialect, nodes = nodes.len(), "connecting");
        check_features(&options)?;
        let replicas = open_replicas(dialect, replicas, &options).await?;
        let (nodes, mysql_batch_keys) = open_nodes(dialect, nodes, &options).await?;
        #[cfg(feature = "cache")]
        let cache = cache_store(&options);
        #[cfg(all(feature = "cache", feature = "postgres"))]
        if let (Some(cache), Dialect::Postgres) = (&cache, dialect) {
            cache.connect_channel(url).await;
        }
        Ok(Db {
            actor: None,
            tenancy: Tenancy::Unset,
            session: replicas.as_ref().map(|_| Arc::default()),
            #[cfg(feature = "encryption")]
            keyring: options.encryption.clone(),
            inner: Arc::new(DbInner {
                storage: Storage::Sql(nodes),
                #[cfg(feature = "cache")]
                cache,
                options,
                metrics: Metrics::default(),
                url: redacted,
                mysql_batch_keys,
                replicas,
            }),
            primary_only: false,
            read_only: false,
        })
    }

    /// The same database, its reads kept on the primary: for a read that must see what was
    /// written by other means (hand-written SQL, another process) or is part of a decision
    /// the primary's latest state must back. A cheap clone; without replicas, the same handle.
    pub fn primary(&self) -> Db {
        Db {
            primary_only: true,
            ..self.clone()
        }
    }

    /// The same database, for reading only: for query-side code, reports, and any code that
    /// must not write. Its repositories refuse every write outside a transaction with
    /// [`RepoError::Forbidden`] before it reaches the database; its transactions are
    /// read-only on the server (`READ ONLY` on PostgreSQL and MySQL/MariaDB, `PRAGMA
    /// query_only` on SQLite, the same rule on the in-memory store), so a write inside one,
    /// hand-written SQL included, is refused by the database, also as `Forbidden`; DDL and
    /// migrations are refused. A cheap clone; hand-written SQL on the raw pools
    /// (`Db::as_postgres` and its siblings) is not covered: run it in a transaction.
    pub fn read_only(&self) -> Db {
        Db {
            read_only: true,
            ..self.clone()
        }
    }

    /// The same handle, encrypting and decrypting the fields of `#[repo(encrypted)]` with
    /// `keyring` (feature `encryption`): for a job that needs other keys than the application's.
    /// A cheap clone.
    #[cfg(feature = "encryption")]
    pub fn with_keyring(&self, keyring: impl Into<Arc<crate::encryption::Keyring>>) -> Db {
        Db {
            keyring: Some(keyring.into()),
            ..self.clone()
        }
    }

    /// The keys of the handle's encrypted fields, if it has any.
    #[cfg(feature = "encryption")]
    pub fn keyring(&self) -> Option<&Arc<crate::encryption::Keyring>> {
        self.keyring.as_ref()
    }

    /// Whether the handle only reads ([`Db::read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Refuses what a read-only handle may not do (`what`: DDL, a migration), before the
    /// database.
    pub(crate) fn refuse_if_read_only(&self, what: &'static str) -> Result<(), RepoError> {
        if self.read_only {
            return Err(RepoError::Forbidden {
                entity: crate::error::NO_ENTITY,
                reason: what,
                source: None,
            });
        }
        Ok(())
    }

    /// Whether the handle reads from replicas.
    #[inline]
    pub(crate) fn has_replicas(&self) -> bool {
        self.inner.replicas.is_some() && !self.primary_only
    }

    /// The replica a read outside a transaction goes to, one that has replayed the handle's
    /// writes; `None` for the primary.
    pub(crate) async fn replica_for_read(&self) -> Option<&crate::replica::Replica> {
        let replicas = self.inner.replicas.as_ref()?;
        replicas
            .route(self.sql_pool().ok()?, self.session.as_deref()?)
            .await
    }

    /// A write through the handle ended: its next read waits for a replica that has it.
    #[inline]
    pub(crate) fn note_write(&self) {
        if let Some(session) = &self.session {
            session.wrote();
        }
    }

    /// The same database in a session of its own: its reads wait for a replica that has
    /// replayed the session's own writes only (a clone shares its handle's). For a server,
    /// one per request or per user, so that one request's writes do not send every other
    /// request's reads to the primary. A cheap clone; without replicas, the same handle.
    pub fn session(&self) -> Db {
        Db {
            session: self.session.as_ref().map(|_| Arc::default()),
            ..self.clone()
        }
    }

    /// A new, empty in-memory database (feature `memory`): tables in Rust data structures
    /// with the semantics of the SQL backends, for tests that need no I/O. Every repository,
    /// transaction and finder works on it; what needs SQL (migrations, `#[query]` methods,
    /// the raw pools) is a [`RepoError::Config`]. Tables are created on first use.
    #[cfg(feature = "memory")]
    pub fn memory() -> Db {
        Db::from_memory(DbOptions::default())
    }

    #[cfg(feature = "memory")]
    fn from_memory(options: DbOptions) -> Db {
        Db {
            actor: None,
            tenancy: Tenancy::Unset,
            #[cfg(feature = "encryption")]
            keyring: options.encryption.clone(),
            inner: Arc::new(DbInner {
                storage: Storage::Memory(crate::memory::Store::default(), Peer::memory()),
                #[cfg(feature = "cache")]
                cache: cache_store(&options),
                options,
                metrics: Metrics::default(),
                url: String::from("memory:"),
                mysql_batch_keys: None,
                replicas: None,
            }),
            primary_only: false,
            read_only: false,
            session: None,
        }
    }

    fn memory_with(options: DbOptions) -> Result<Db, RepoError> {
        check_features(&options)?;
        #[cfg(feature = "memory")]
        return Ok(Db::from_memory(options));
        #[cfg(not(feature = "memory"))]
        {
            let _ = options;
            Err(RepoError::config(
                "the in-memory store is not compiled in: enable the `memory` feature of repo-runtime",
            ))
        }
    }

    /// Whether this is an in-memory database ([`Db::memory`]).
    pub fn is_memory(&self) -> bool {
        #[cfg(feature = "memory")]
        if let Storage::Memory(..) = self.inner.storage {
            return true;
        }
        false
    }

    #[cfg(feature = "memory")]
    pub(crate) fn memory_store(&self) -> Option<&crate::memory::Store> {
        match &self.inner.storage {
            Storage::Memory(store, _) => Some(store),
            Storage::Sql(_) => None,
        }
    }

    /// The backend's name in traces: `sqlite`, `postgres`, `mysql` or `memory`.
    pub fn backend_name(&self) -> &'static str {
        if self.is_memory() {
            "memory"
        } else {
            self.dialect().name()
        }
    }

    /// The dialect of this database. The in-memory store reports SQLite's, whose semantics it
    /// follows where the backends differ (text compared byte by byte, `NULL` first in
    /// ascending order, one writer at a time); tell it apart with [`Db::is_memory`].
    pub fn dialect(&self) -> Dialect {
        match &self.inner.storage {
            Storage::Sql(nodes) => nodes.dialect(),
            #[cfg(feature = "memory")]
            Storage::Memory(..) => Dialect::Sqlite,
        }
    }

    /// The connection URL with any password replaced by `***`.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// Creates the entity's table and indexes if they do not exist (`CREATE TABLE IF NOT
    /// EXISTS`). For versioned schemas use generated migrations instead.
    pub async fn create_schema<E: Entity>(&self) -> Result<(), RepoError> {
        self.refuse_if_read_only("DDL through a read-only handle")?;
        #[cfg(feature = "memory")]
        if let Some(store) = self.memory_store() {
            store.create_table(E::TABLE);
            return Ok(());
        }
        let dialect = self.dialect();
        for statement in E::TABLE.create_statements(dialect) {
            self.execute_ddl(&statement)
                .await
                .map_err(|e| e.in_entity(E::NAME))?;
        }
        Ok(())
    }

    /// Drops the entity's table if it exists. Meant for tests and tooling.
    pub async fn drop_schema<E: Entity>(&self) -> Result<(), RepoError> {
        self.refuse_if_read_only("DDL through a read-only handle")?;
        #[cfg(feature = "cache")]
        if let Some(cache) = self.cache() {
            cache.touched(E::TABLE, crate::cache::Touch::Table);
        }
        #[cfg(feature = "memory")]
        if let Some(store) = self.memory_store() {
            store.drop_table(E::TABLE);
            return Ok(());
        }
        let statement = E::TABLE.drop_statement(self.dialect());
        self.execute_ddl(&statement)
            .await
            .map_err(|e| e.in_entity(E::NAME))
    }

    /// Runs one DDL statement assembled from derive-validated identifiers.
    /// Its callers refuse it on a read-only handle.
    pub(crate) async fn execute_ddl(&self, sql: &str) -> Result<(), RepoError> {
        let ran = self.sql_pool()?.script(sql.to_owned()).await;
        self.note_write();
        ran.map_err(|e| RepoError::from_sqlx(e, None))
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        match &self.inner.storage {
            Storage::Sql(nodes) => {
                for node in nodes.all() {
                    node.pool.close().await;
                }
            }
            #[cfg(feature = "memory")]
            Storage::Memory(..) => {}
        }
        if let Some(replicas) = &self.inner.replicas {
            replicas.close().await;
        }
    }

    /// The SQLite pool behind this handle, for statements the repositories do not cover. The
    /// connections the handle holds between its statements go back to it first.
    #[cfg(feature = "sqlite")]
    pub fn as_sqlite(&self) -> Option<&sqlx::SqlitePool> {
        match &self.sql_pool() {
            Ok(SqlPool::Sqlite(lender)) => Some(lender.pool()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The PostgreSQL pool behind this handle, for statements the repositories do not cover.
    /// The connections the handle holds between its statements go back to it first.
    #[cfg(feature = "postgres")]
    pub fn as_postgres(&self) -> Option<&sqlx::PgPool> {
        match &self.sql_pool() {
            Ok(SqlPool::Postgres(lender)) => Some(lender.pool()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The MySQL/MariaDB pool behind this handle, for statements the repositories do not cover.
    /// The connections the handle holds between its statements go back to it first.
    #[cfg(feature = "mysql")]
    pub fn as_mysql(&self) -> Option<&sqlx::MySqlPool> {
        match &self.sql_pool() {
            Ok(SqlPool::MySql(lender)) => Some(lender.pool()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Counters of statements, slow statements, retries and errors by kind since connecting.
    pub fn metrics(&self) -> MetricsSnapshot {
        #[allow(unused_mut)]
        let mut snapshot = self.inner.metrics.snapshot();
        #[cfg(feature = "cache")]
        if let Some(cache) = self.cache() {
            use std::sync::atomic::Ordering::Relaxed;
            let counters = cache.counters();
            snapshot.cache_hits = counters.hits.load(Relaxed);
            snapshot.cache_misses = counters.misses.load(Relaxed);
            snapshot.cache_evictions = counters.evictions.load(Relaxed);
            snapshot.cache_invalidations = counters.invalidations.load(Relaxed);
        }
        if let Some(replicas) = &self.inner.replicas {
            (snapshot.primary_reads, snapshot.replicas) = replicas.status();
        }
        snapshot.cluster = self.nodes().and_then(Nodes::status);
        snapshot
    }

    /// Forgets every row the cache holds: statements it does not see (a migration's) may have
    /// changed them.
    #[cfg_attr(not(feature = "migrate"), allow(dead_code))]
    pub(crate) fn forget_cached(&self) {
        #[cfg(feature = "cache")]
        if let Some(cache) = self.cache() {
            cache.clear();
        }
    }

    /// The entity cache, when the handle was opened with it.
    #[cfg(feature = "cache")]
    #[inline]
    pub(crate) fn cache(&self) -> Option<&crate::cache::CacheStore> {
        self.inner.cache.as_deref()
    }

    /// The settings this handle was opened with.
    pub fn options(&self) -> &DbOptions {
        &self.inner.options
    }

    pub(crate) fn counters(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Counts a wait when every connection the pool may open is in use, so that the caller
    /// is about to queue for one.
    pub(crate) fn note_pool_pressure(&self) {
        let exhausted = match &self.inner.storage {
            Storage::Sql(nodes) => {
                let node = nodes.active();
                #[cfg(feature = "metrics")]
                node.peer.figures.pool(node.pool.occupancy());
                node.pool.is_exhausted()
            }
            #[cfg(feature = "memory")]
            Storage::Memory(..) => false,
        };
        if exhausted {
            self.inner.metrics.pool_waited();
        }
    }

    /// Counts a retry of a read or a unit of work after a transient failure.
    pub(crate) fn note_retry(&self) {
        self.inner.metrics.retried();
        #[cfg(feature = "metrics")]
        self.peer().figures.retry();
    }

    /// Counts `error` and passes it on.
    pub(crate) fn observe_error(&self, error: RepoError) -> RepoError {
        self.note_error(error.kind().as_str());
        error
    }

    /// Counts a failure of `kind`, in the snapshot and the figures alike.
    pub(crate) fn note_error(&self, kind: &'static str) {
        self.inner.metrics.error(kind);
        #[cfg(feature = "metrics")]
        self.peer().figures.error(kind);
    }

    /// The SQL pool, or `Config` on the in-memory store, which runs no SQL.
    pub(crate) fn sql_pool(&self) -> Result<&SqlPool, RepoError> {
        match &self.inner.storage {
            Storage::Sql(nodes) => Ok(&nodes.active().pool),
            #[cfg(feature = "memory")]
            Storage::Memory(..) => Err(no_sql()),
        }
    }

    /// The node of the handle's cluster in use (0 for a single server or the in-memory
    /// store): what a statement notes before it starts, for [`Db::node_failed`].
    #[inline]
    pub(crate) fn node(&self) -> usize {
        self.nodes().map_or(0, Nodes::active_index)
    }

    /// A statement that started on `node` failed: when the error says the node is gone, the
    /// handle moves to the next node of its cluster (nothing happens on a single server).
    pub(crate) fn node_failed(&self, node: usize, error: &RepoError) {
        if let Some(nodes) = self.nodes() {
            nodes.failed(node, error);
        }
    }

    /// The SQL servers of the handle; `None` on the in-memory store.
    fn nodes(&self) -> Option<&Nodes> {
        match &self.inner.storage {
            Storage::Sql(nodes) => Some(nodes),
            #[cfg(feature = "memory")]
            Storage::Memory(..) => None,
        }
    }

    /// Whether SQLite runs through rusqlite on this handle.
    #[cfg(feature = "rusqlite")]
    #[inline]
    pub(crate) fn is_rusqlite(&self) -> bool {
        matches!(self.sql_pool(), Ok(SqlPool::Rusqlite(_)))
    }

    /// The database as telemetry names it.
    pub(crate) fn peer(&self) -> &Peer {
        match &self.inner.storage {
            Storage::Sql(nodes) => &nodes.active().peer,
            #[cfg(feature = "memory")]
            Storage::Memory(_, peer) => peer,
        }
    }

    pub(crate) fn mysql_batch_keys(&self) -> Option<MySqlBatchKeys> {
        self.inner.mysql_batch_keys
    }

    /// The same database, with writes done as `actor`: the `#[repo(created_by)]` and
    /// `#[repo(updated_by)]` fields of what its repositories write (and its transactions'
    /// repositories) take this value. `actor` has the type of those fields, or of what their
    /// `Option` holds (`i64`, `String`, `Uuid`, ...). A cheap clone: the pool is shared.
    pub fn acting_as<A: Clone + Send + Sync + 'static>(&self, actor: A) -> Db {
        Db {
            actor: Some(Actor::new(actor)),
            ..self.clone()
        }
    }

    /// The same database, scoped to `tenant`: the entities with a `#[repo(tenant)]` field
    /// are reached through it (and through its transactions) for that tenant's rows only.
    /// Every statement selects them, inserts write `tenant` into the field, and no write
    /// reaches or moves a row of another tenant. `tenant` has the field's type (`i64`,
    /// `String`, `Uuid`, ...). A cheap clone: the pool is shared.
    ///
    /// A handle that names no tenant cannot reach such an entity at all: its statements fail
    /// with [`RepoError::Config`].
    pub fn for_tenant<T: TenantField>(&self, tenant: T) -> Db {
        Db {
            tenancy: Tenancy::Scoped(Tenant::new(tenant)),
            ..self.clone()
        }
    }

    /// The same database, reaching every tenant's rows of the entities with a
    /// `#[repo(tenant)]` field: for administration and jobs that work across tenants, and
    /// named so that every such place can be found by searching for it. Writes of stored rows
    /// keep each row in its own tenant; inserts need a tenant ([`Db::for_tenant`]).
    pub fn unscoped(&self) -> Db {
        Db {
            tenancy: Tenancy::Unscoped,
            ..self.clone()
        }
    }

    /// Who writes through this handle, if it says ([`Db::acting_as`]).
    pub(crate) fn actor(&self) -> Option<&Actor> {
        self.actor.as_ref()
    }

    /// Which tenant's rows the handle reaches.
    pub(crate) fn tenancy(&self) -> &Tenancy {
        &self.tenancy
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("dialect", &self.dialect())
            .field("url", &self.inner.url)
            .field("actor", &self.actor.as_ref().map(Actor::type_name))
            .field("tenant", &self.tenancy.describe())
            .finish()
    }
}

/// Whether `url` names the in-memory store: `memory:` (anything after the colon is ignored).
fn is_memory_url(url: &str) -> bool {
    url.split_once(':')
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("memory"))
}

/// The dialect named by a URL's scheme.
pub(crate) fn dialect_of(url: &str) -> Result<Dialect, RepoError> {
    let scheme = url
        .split_once(':')
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => Ok(Dialect::Sqlite),
        Some("postgres" | "postgresql") => Ok(Dialect::Postgres),
        Some("mysql" | "mariadb") => Ok(Dialect::MySql),
        _ => Err(RepoError::config(format!(
            "unsupported database URL `{}`: expected a sqlite:, postgres: or mysql: URL",
            redact_url(url)
        ))),
    }
}

/// The URL with the password of its authority, if any, replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

/// What asking the in-memory store for SQL is.
#[cfg(feature = "memory")]
pub(crate) fn no_sql() -> RepoError {
    RepoError::config(
        "the in-memory store runs no SQL: use a sqlite:, postgres: or mysql: database",
    )
}

pub(crate) fn not_compiled(dialect: Dialect) -> RepoError {
    RepoError::config(format!(
        "the {dialect} backend is not compiled in: enable the `{dialect}` feature of repo-runtime"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cr%40t@db.local:5432/app?sslmode=require"),
            "postgres://app:***@db.local:5432/app?sslmode=require"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1/test"),
            "mysql://root@127.0.0.1/test"
        );
        assert_eq!(redact_url("sqlite://repo.db"), "sqlite://repo.db");
    }

    #[test]
    fn the_scheme_chooses_the_dialect() {
        assert_eq!(dialect_of("sqlite::memory:").ok(), Some(Dialect::Sqlite));
        assert_eq!(dialect_of("postgresql://x/y").ok(), Some(Dialect::Postgres));
        assert_eq!(dialect_of("MariaDB://x/y").ok(), Some(Dialect::MySql));
        let error = dialect_of("oracle://scott:tiger@x/y")
            .unwrap_err()
            .to_string();
        assert!(error.contains("oracle://scott:***@x/y"), "{error}");
        assert!(!error.contains("tiger"), "{error}");
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Result<String, std::env::VarError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .ok_or(std::env::VarError::NotPresent)
        }
    }

    #[test]
    fn pool_settings_come_from_the_environment_over_the_defaults() {
        let defaults = DbOptions::from_vars(vars(&[])).unwrap();
        assert_eq!(defaults, DbOptions::default());
        assert!(!defaults.test_before_acquire);
        assert_eq!(defaults.sqlite_synchronous, SqliteSynchronous::Normal);
        let set = DbOptions::from_vars(vars(&[
            ("DATABASE_MAX_CONNECTIONS", "4"),
            ("DATABASE_MIN_CONNECTIONS", "2"),
            ("DATABASE_IDLE_TIMEOUT_MS", "0"),
            ("DATABASE_MAX_LIFETIME_MS", "60000"),
            ("DATABASE_TEST_BEFORE_ACQUIRE", "true"),
            ("DATABASE_CONNECTION_HOLD_MS", "0"),
            ("DATABASE_SQLITE_SYNCHRONOUS", "FULL"),
            ("DATABASE_SLOW_STATEMENT_MS", "250"),
            ("DATABASE_EXPLAIN_SLOW", "yes"),
        ]))
        .unwrap();
        assert_eq!(set.slow_statement_threshold, Duration::from_millis(250));
        assert!(set.explain_slow_statements);
        assert_eq!((set.max_connections, set.min_connections), (4, 2));
        assert_eq!(set.idle_timeout, None);
        assert_eq!(set.max_lifetime, Some(Duration::from_secs(60)));
        assert!(set.test_before_acquire);
        assert_eq!(set.connection_hold, Duration::ZERO);
        assert_eq!(set.sqlite_synchronous, SqliteSynchronous::Full);
        #[cfg(not(feature = "explain"))]
        {
            let error = check_features(&set).unwrap_err();
            assert!(error.to_string().contains("`explain` feature"), "{error}");
        }
        // Each variable is read: a value none of them takes is refused, naming it.
        for name in DbOptions::VARIABLES {
            let error = DbOptions::from_vars(vars(&[(*name, "x")])).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
        for (name, value) in [
            ("DATABASE_MIN_CONNECTIONS", "many"),
            ("DATABASE_CONNECTION_HOLD_MS", "1s"),
            ("DATABASE_TEST_BEFORE_ACQUIRE", "sometimes"),
            ("DATABASE_SQLITE_SYNCHRONOUS", "fast"),
            ("DATABASE_EXPLAIN_SLOW", "maybe"),
        ] {
            let error = DbOptions::from_vars(vars(&[(name, value)])).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }
}
