//! What the runtime reports of its statements, in the names of OpenTelemetry's database
//! conventions: the span of each statement and transaction (through `tracing`, which
//! `tracing-opentelemetry` exports as they are), and with feature `metrics` the figures of the
//! `metrics` facade (`db.client.operation.duration` and the pool's connections). Bound values
//! never appear: a statement's text has placeholders only.

use tracing::field::Empty;

use crate::schema::Table;
use crate::statement::Statement;

/// The database a handle talks to, as the conventions name it.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    /// `db.system.name`: `sqlite`, `postgresql`, `mysql`, `mariadb`, or `other_sql` for the
    /// in-memory store.
    pub(crate) system: &'static str,
    /// `db.namespace`: the database's name on a server.
    pub(crate) namespace: Option<String>,
    /// `server.address` and `server.port`, for a server.
    pub(crate) server: Option<(String, u16)>,
    /// The handles of its figures.
    #[cfg(feature = "metrics")]
    pub(crate) figures: std::sync::Arc<figures::Figures>,
}

impl Peer {
    /// The peer of a database URL (its password already removed from `redacted`).
    pub(crate) fn of_url(redacted: &str, system: &'static str) -> Peer {
        let parsed = url::Url::parse(redacted)
            .ok()
            .filter(|_| system != "sqlite");
        let server = parsed.as_ref().and_then(|url| {
            let host = url.host_str()?.to_owned();
            let port = url.port().unwrap_or(match system {
                "postgresql" => 5432,
                _ => 3306,
            });
            Some((host, port))
        });
        let namespace = parsed
            .as_ref()
            .map(|url| url.path().trim_start_matches('/').to_owned())
            .filter(|name| !name.is_empty());
        Peer {
            #[cfg(feature = "metrics")]
            figures: std::sync::Arc::new(figures::Figures::new(
                system,
                namespace.clone(),
                redacted,
            )),
            system,
            namespace,
            server,
        }
    }

    /// The in-memory store.
    #[cfg(feature = "memory")]
    pub(crate) fn memory() -> Peer {
        Peer {
            system: "other_sql",
            namespace: None,
            server: None,
            #[cfg(feature = "metrics")]
            figures: std::sync::Arc::new(figures::Figures::new("other_sql", None, "memory:")),
        }
    }
}

/// `db.operation.name`: the statement's SQL keyword, from its text when it has one (the
/// in-memory store's have none), else from the repository operation that built it.
pub(crate) fn operation_name(statement: &Statement) -> &'static str {
    match statement.sql() {
        Some(sql) => keyword(sql),
        None => keyword_of_operation(statement.operation),
    }
}

fn keyword(sql: &str) -> &'static str {
    let word = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    const KEYWORDS: [&str; 11] = [
        "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE", "CREATE", "ALTER", "DROP",
        "SET", "SHOW",
    ];
    KEYWORDS
        .into_iter()
        .find(|keyword| keyword.eq_ignore_ascii_case(word))
        .unwrap_or("OTHER")
}

fn keyword_of_operation(operation: &str) -> &'static str {
    const INSERTS: [&str; 4] = ["insert", "upsert", "link", "set_links"];
    const UPDATES: [&str; 4] = ["update", "patch", "restore", "write"];
    const DELETES: [&str; 4] = ["delete", "purge", "remove", "unlink"];
    if INSERTS.iter().any(|prefix| operation.starts_with(prefix)) {
        "INSERT"
    } else if UPDATES.iter().any(|prefix| operation.starts_with(prefix)) {
        "UPDATE"
    } else if DELETES.iter().any(|prefix| operation.starts_with(prefix)) {
        "DELETE"
    } else {
        "SELECT"
    }
}

/// The span of one statement: named by its summary (`SELECT users`), kind client, with the
/// conventions' attributes and the repository operation that built it. Its result fields
/// (`db.response.returned_rows`, `error.type`) are recorded by [`finish`].
pub(crate) fn statement_span(peer: &Peer, table: &Table, statement: &Statement) -> tracing::Span {
    let span = tracing::debug_span!(
        "repo.statement",
        otel.name = Empty,
        otel.kind = "client",
        otel.status_code = Empty,
        db.system.name = peer.system,
        db.namespace = Empty,
        db.collection.name = table.name,
        db.operation.name = Empty,
        db.query.summary = Empty,
        db.query.text = Empty,
        db.response.returned_rows = Empty,
        server.address = Empty,
        server.port = Empty,
        error.type = Empty,
        repo.operation = statement.operation,
    );
    if span.is_disabled() {
        return span;
    }
    let operation = operation_name(statement);
    let summary = format!("{operation} {}", table.name);
    span.record("otel.name", summary.as_str());
    span.record("db.query.summary", summary.as_str());
    span.record("db.operation.name", operation);
    if let Some(sql) = statement.sql() {
        span.record("db.query.text", sql);
    }
    record_peer(&span, peer);
    span
}

/// The span of a transaction: its statements are its children, its retries its events.
pub(crate) fn transaction_span(peer: &Peer) -> tracing::Span {
    let span = tracing::debug_span!(
        "repo.transaction",
        otel.name = "TRANSACTION",
        otel.kind = "client",
        otel.status_code = Empty,
        db.system.name = peer.system,
        db.namespace = Empty,
        server.address = Empty,
        server.port = Empty,
        error.type = Empty,
    );
    if !span.is_disabled() {
        record_peer(&span, peer);
    }
    span
}

fn record_peer(span: &tracing::Span, peer: &Peer) {
    if let Some(namespace) = &peer.namespace {
        span.record("db.namespace", namespace.as_str());
    }
    if let Some((address, port)) = &peer.server {
        span.record("server.address", address.as_str());
        span.record("server.port", i64::from(*port));
    }
}

/// Records how a statement or transaction ended on its span: the rows it returned, or the
/// kind of its failure.
pub(crate) fn finish(span: &tracing::Span, rows: Option<u64>, error: Option<&'static str>) {
    if span.is_disabled() {
        return;
    }
    if let Some(rows) = rows {
        span.record(
            "db.response.returned_rows",
            i64::try_from(rows).unwrap_or(i64::MAX),
        );
    }
    if let Some(kind) = error {
        span.record("error.type", kind);
        span.record("otel.status_code", "ERROR");
    }
}

/// The figures of the `metrics` facade, in the conventions' names; nothing is recorded
/// without an installed recorder. Each handle is registered once, with the recorder installed
/// when the `Db` connects (install it before): a statement then costs a map lookup and an
/// atomic update, not a registration.
#[cfg(feature = "metrics")]
pub(crate) mod figures {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::Duration;

    use metrics::{Counter, Gauge, Histogram};

    /// A duration histogram's labels: table, operation, error kind.
    type Labels = (&'static str, &'static str, Option<&'static str>);

    /// The handles of one `Db`'s figures.
    pub(crate) struct Figures {
        system: &'static str,
        namespace: Option<String>,
        durations: Mutex<HashMap<Labels, Histogram>>,
        errors: Mutex<HashMap<&'static str, Counter>>,
        used: Gauge,
        idle: Gauge,
        max: Gauge,
        pending: Gauge,
        retries: Counter,
    }

    impl std::fmt::Debug for Figures {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Figures").finish_non_exhaustive()
        }
    }

    impl Figures {
        /// Registers the pool's figures of `pool` with the recorder installed now.
        pub(crate) fn new(system: &'static str, namespace: Option<String>, pool: &str) -> Figures {
            describe();
            let pool = pool.to_owned();
            let count = |state: &'static str| {
                metrics::gauge!(
                    "db.client.connection.count",
                    "db.client.connection.pool.name" => pool.clone(),
                    "db.client.connection.state" => state,
                )
            };
            Figures {
                used: count("used"),
                idle: count("idle"),
                max: metrics::gauge!(
                    "db.client.connection.max",
                    "db.client.connection.pool.name" => pool.clone()
                ),
                pending: metrics::gauge!(
                    "db.client.connection.pending_requests",
                    "db.client.connection.pool.name" => pool
                ),
                retries: metrics::counter!("repo.retries", "db.system.name" => system),
                durations: Mutex::new(HashMap::new()),
                errors: Mutex::new(HashMap::new()),
                system,
                namespace,
            }
        }

        /// `db.client.operation.duration`, in seconds, by system, namespace (on a server),
        /// table, operation and error (when it failed).
        pub(crate) fn statement(
            &self,
            table: &'static str,
            operation: &'static str,
            elapsed: Duration,
            error: Option<&'static str>,
        ) {
            let histogram = {
                let mut durations = self
                    .durations
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                durations
                    .entry((table, operation, error))
                    .or_insert_with(|| self.duration(table, operation, error))
                    .clone()
            };
            histogram.record(elapsed.as_secs_f64());
        }

        /// `repo.errors` by kind: a failed statement, or a transaction that could not begin
        /// or end.
        pub(crate) fn error(&self, kind: &'static str) {
            let mut errors = self
                .errors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            errors
                .entry(kind)
                .or_insert_with(|| {
                    metrics::counter!(
                        "repo.errors",
                        "db.system.name" => self.system,
                        "error.type" => kind
                    )
                })
                .increment(1);
        }

        fn duration(
            &self,
            table: &'static str,
            operation: &'static str,
            error: Option<&'static str>,
        ) -> Histogram {
            let system = self.system;
            macro_rules! duration {
                ($($label:expr => $value:expr),*) => {
                    metrics::histogram!(
                        "db.client.operation.duration",
                        "db.system.name" => system,
                        "db.collection.name" => table,
                        "db.operation.name" => operation
                        $(, $label => $value)*
                    )
                };
            }
            match (&self.namespace, error) {
                (None, None) => duration!(),
                (None, Some(kind)) => duration!("error.type" => kind),
                (Some(namespace), None) => duration!("db.namespace" => namespace.clone()),
                (Some(namespace), Some(kind)) => {
                    duration!("db.namespace" => namespace.clone(), "error.type" => kind)
                }
            }
        }

        /// The pool's connections by state, its maximum and the loans waiting.
        pub(crate) fn pool(&self, occupancy: crate::backend::Occupancy) {
            self.used.set(f64::from(occupancy.used));
            self.idle.set(f64::from(occupancy.idle));
            self.max.set(f64::from(occupancy.max));
            self.pending.set(f64::from(occupancy.waiting));
        }

        /// A read or unit of work run again after a transient failure.
        pub(crate) fn retry(&self) {
            self.retries.increment(1);
        }
    }

    /// Says what each figure is, to the recorder installed now.
    fn describe() {
        use metrics::Unit;
        metrics::describe_histogram!(
            "db.client.operation.duration",
            Unit::Seconds,
            "Duration of database client operations."
        );
        metrics::describe_gauge!(
            "db.client.connection.count",
            "The number of connections that are currently in the state described by the state attribute."
        );
        metrics::describe_gauge!(
            "db.client.connection.max",
            "The maximum number of open connections allowed."
        );
        metrics::describe_gauge!(
            "db.client.connection.pending_requests",
            "The number of current pending requests for an open connection."
        );
        metrics::describe_counter!(
            "repo.retries",
            "Reads and units of work run again after a transient failure."
        );
        metrics::describe_counter!("repo.errors", "Failed statements, by error kind.");
        metrics::describe_counter!(
            "repo.cache.requests",
            "Reads of cached entities, by outcome."
        );
    }

    /// A read the entity cache answered or could not.
    #[cfg(feature = "cache")]
    pub(crate) fn cache(table: &'static str, hit: bool) {
        let outcome = if hit { "hit" } else { "miss" };
        metrics::counter!("repo.cache.requests", "db.collection.name" => table, "outcome" => outcome)
            .increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::{Peer, keyword, keyword_of_operation};

    #[test]
    fn the_operation_is_the_statements_keyword() {
        assert_eq!(keyword("SELECT \"id\" FROM \"users\""), "SELECT");
        assert_eq!(keyword("  insert INTO t VALUES (?)"), "INSERT");
        assert_eq!(keyword("WITH x AS (SELECT 1) SELECT * FROM x"), "WITH");
        assert_eq!(keyword("VACUUM"), "OTHER");
        assert_eq!(keyword_of_operation("insert_many"), "INSERT");
        assert_eq!(keyword_of_operation("patch_where"), "UPDATE");
        assert_eq!(keyword_of_operation("delete_by_email"), "DELETE");
        assert_eq!(keyword_of_operation("find_by_email"), "SELECT");
    }

    #[test]
    fn a_server_url_gives_address_port_and_database() {
        let peer = Peer::of_url(
            "postgres://app:***@db.internal/blog?sslmode=require",
            "postgresql",
        );
        assert_eq!(peer.server, Some(("db.internal".to_owned(), 5432)));
        assert_eq!(peer.namespace.as_deref(), Some("blog"));
        let peer = Peer::of_url("mysql://root@127.0.0.1:3307/test", "mysql");
        assert_eq!(peer.server, Some(("127.0.0.1".to_owned(), 3307)));
        let peer = Peer::of_url("sqlite://data/app.db?mode=rwc", "sqlite");
        assert_eq!((peer.server, peer.namespace), (None, None));
    }
}
