//! Pool exhaustion and cancellation, on every backend, with pools sized for the test.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

use entities::{NewNote, Note};
use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, RetryPolicy};
use repo_tests::{Backend, TestDb};

fn one_connection() -> DbOptions {
    DbOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(500),
        retry: RetryPolicy::never(),
        ..DbOptions::default()
    }
}

async fn pool_exhaustion_is_a_pool_timeout_within_the_acquire_timeout(backend: Backend) {
    let Some(test) = TestDb::with_options(backend, "pool_exhaustion", one_connection()).await
    else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let holder = db.begin().await.unwrap();
    let started = Instant::now();
    let error = Note::repository(db).count().await.unwrap_err();
    assert!(matches!(error, RepoError::PoolTimeout), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(db.metrics().errors_of("pool_timeout"), 1);
    assert!(db.metrics().pool_waits >= 1, "{:?}", db.metrics());
    holder.rollback().await.unwrap();
    assert_eq!(
        Note::repository(db).count().await.unwrap(),
        0,
        "the pool serves again"
    );
}

/// Polls `future` at most `polls` times, then drops it; says whether it finished.
async fn poll_then_drop<F: Future>(future: F, polls: usize) -> bool {
    let mut future = std::pin::pin!(future);
    let mut count = 0;
    std::future::poll_fn(|cx| {
        if count == polls {
            return Poll::Ready(false);
        }
        count += 1;
        future.as_mut().poll(cx).map(|_| true)
    })
    .await
}

async fn cancelled_transactions_leave_no_partial_write(backend: Backend) {
    let Some(test) = TestDb::with_options(backend, "cancellation", one_connection()).await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let mut previous = 0;
    for polls in 1..200 {
        let unit = db.transaction(async |tx| {
            let notes = Note::repository(&tx);
            notes
                .insert(NewNote {
                    body: "first".into(),
                })
                .await?;
            notes
                .insert(NewNote {
                    body: "second".into(),
                })
                .await?;
            Ok(())
        });
        let finished = poll_then_drop(unit, polls).await;
        // The only connection must be usable at once: not lost, not left inside a transaction.
        let count = tokio::time::timeout(Duration::from_secs(5), Note::repository(db).count())
            .await
            .expect("the pool serves the next request")
            .expect("count after a cancelled transaction");
        assert_eq!(
            count % 2,
            0,
            "a cancelled transaction left half its writes (after {polls} polls)"
        );
        assert!(count >= previous);
        previous = count;
        if finished {
            assert_eq!(count, previous);
            assert!(count >= 2, "the completed transaction committed");
            return;
        }
    }
    panic!("the transaction never completed within 200 polls");
}

fn with_timeout() -> DbOptions {
    DbOptions {
        statement_timeout: Some(Duration::from_millis(300)),
        retry: RetryPolicy::never(),
        ..DbOptions::default()
    }
}

async fn statement_over_its_timeout_is_a_timeout(backend: Backend) {
    let Some(test) = TestDb::with_options(backend, "statement_timeout", with_timeout()).await
    else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let note = Note::repository(db)
        .insert(NewNote {
            body: "locked".into(),
        })
        .await
        .unwrap();
    if backend.dialect() == repo_runtime::Dialect::Sqlite {
        // SQLite reports a locked database at once instead of waiting in a statement: time out
        // a long read instead, which the client enforces.
        let rows = (0..100_000)
            .map(|i| NewNote {
                body: format!("row {i}"),
            })
            .collect();
        Note::repository(db).insert_many(rows).await.unwrap();
        let strict = DbOptions {
            statement_timeout: Some(Duration::from_millis(1)),
            ..with_timeout()
        };
        let strict = Db::connect_with(db.url(), strict).await.unwrap();
        let started = Instant::now();
        let outcome = Note::repository(&strict)
            .list(ListOptions::new())
            .await
            .map(|rows| rows.len());
        assert!(
            matches!(outcome, Err(RepoError::Timeout { .. })),
            "{outcome:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let options = TxOptions::new().statement_timeout(Duration::from_millis(1));
        let outcome = db
            .transaction_with(&options, async |tx| {
                Note::repository(&tx).list(ListOptions::new()).await
            })
            .await
            .map(|rows| rows.len());
        assert!(
            matches!(outcome, Err(RepoError::Timeout { .. })),
            "{outcome:?}"
        );
        assert_eq!(
            Note::repository(db).get(note.id).await.unwrap(),
            note,
            "the pool serves again"
        );
        strict.close().await;
        return;
    }
    // Another transaction holds the row locked: the statement waits until its timeout.
    let holder = db.begin().await.unwrap();
    Note::repository(&holder).update(&note).await.unwrap();

    let started = Instant::now();
    let error = Note::repository(db).update(&note).await.unwrap_err();
    assert!(matches!(error, RepoError::Timeout { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A handle without a statement timeout: only the transaction's own may stop it.
    let unbounded = DbOptions {
        statement_timeout: None,
        ..with_timeout()
    };
    let unbounded = Db::connect_with(db.url(), unbounded).await.unwrap();
    let options = TxOptions::new().statement_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let error = unbounded
        .transaction_with(&options, async |tx| {
            Note::repository(&tx).update(&note).await
        })
        .await
        .unwrap_err();
    assert!(matches!(error, RepoError::Timeout { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    assert_eq!(
        unbounded.metrics().errors_of("timeout"),
        1,
        "{:?}",
        unbounded.metrics()
    );
    unbounded.close().await;
    holder.rollback().await.unwrap();
    assert_eq!(
        Note::repository(db).get(note.id).await.unwrap(),
        note,
        "the pool serves again"
    );
    assert!(db.metrics().errors_of("timeout") >= 1, "{:?}", db.metrics());
}

/// Ends, from another connection, the server session that holds an open transaction.
async fn kill_the_transaction_session(db: &Db) {
    use repo_runtime::sqlx;
    match db.dialect() {
        repo_runtime::Dialect::Postgres => {
            let sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                       WHERE datname = current_database() AND pid <> pg_backend_pid() \
                       AND state LIKE 'idle in transaction%'";
            // As on MariaDB below: the session may be marked idle a moment after it answers.
            let mut killed: Vec<bool> = Vec::new();
            for _ in 0..250 {
                killed = sqlx::query_scalar(sql)
                    .fetch_all(db.as_postgres().unwrap())
                    .await
                    .unwrap();
                if !killed.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert_eq!(killed, [true]);
        }
        repo_runtime::Dialect::MySql => {
            // Every idle session of this database: the transaction's, and idle pooled ones,
            // which the pool then finds broken.
            let pool = db.as_mysql().unwrap();
            let sql = "SELECT ID FROM information_schema.PROCESSLIST \
                       WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND = 'Sleep'";
            // The server marks a session idle just after it answers, so the listing may
            // come a moment too early: look again for up to five seconds.
            let mut ids: Vec<i64> = Vec::new();
            for _ in 0..250 {
                ids = sqlx::query_scalar(sql).fetch_all(pool).await.unwrap();
                if !ids.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(!ids.is_empty(), "no idle session to end");
            for id in ids {
                let kill = sqlx::AssertSqlSafe(format!("KILL {id}"));
                // A session may end by itself between the listing and the kill.
                let _ = sqlx::raw_sql(kill).execute(pool).await;
            }
        }
        repo_runtime::Dialect::Sqlite => unreachable!("SQLite has no server session"),
    }
}

async fn killed_connection_mid_transaction_writes_nothing_and_the_pool_recovers(backend: Backend) {
    if backend.dialect() == repo_runtime::Dialect::Sqlite {
        // An embedded database has no server connection to lose.
        return;
    }
    let Some(test) = TestDb::new(backend, "killed_connection").await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let tx = db.begin().await.unwrap();
    Note::repository(&tx)
        .insert(NewNote {
            body: "lost".into(),
        })
        .await
        .unwrap();
    kill_the_transaction_session(db).await;
    let error = Note::repository(&tx)
        .insert(NewNote {
            body: "after".into(),
        })
        .await
        .unwrap_err();
    assert!(
        error.is_transient(),
        "a lost connection is transient: {error:?}"
    );
    tx.rollback().await.unwrap();
    assert_eq!(Note::repository(db).count().await.unwrap(), 0);
    // A unit of work that loses its connection runs again, whole.
    let attempts = std::sync::atomic::AtomicUsize::new(0);
    let notes = db
        .transaction(async |tx| {
            let repository = Note::repository(&tx);
            repository.insert(NewNote { body: "one".into() }).await?;
            if attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                kill_the_transaction_session(db).await;
            }
            repository.insert(NewNote { body: "two".into() }).await?;
            repository.count().await
        })
        .await
        .unwrap();
    assert_eq!(notes, 2);
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(Note::repository(db).count().await.unwrap(), 2);
}

/// Ends, from a connection of its own, every idle session of the handle's database: the
/// connections its pool holds.
async fn kill_idle_sessions(db: &Db) {
    use repo_runtime::sqlx::{self, Connection};
    match db.dialect() {
        repo_runtime::Dialect::Postgres => {
            let database: String = sqlx::query_scalar("SELECT current_database()::text")
                .fetch_one(db.as_postgres().unwrap())
                .await
                .unwrap();
            let admin = std::env::var("DATABASE_URL_POSTGRES").unwrap();
            let mut own = sqlx::PgConnection::connect(&admin).await.unwrap();
            // The pooled connection turns idle a moment after it answers.
            for _ in 0..250 {
                let killed: Vec<bool> = sqlx::query_scalar(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = $1 AND state = 'idle'",
                )
                .bind(&database)
                .fetch_all(&mut own)
                .await
                .unwrap();
                if !killed.is_empty() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("no idle session to end");
        }
        repo_runtime::Dialect::MySql => {
            let database: String = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
                .fetch_one(db.as_mysql().unwrap())
                .await
                .unwrap();
            let admin = std::env::var("DATABASE_URL_MYSQL").unwrap();
            let mut own = sqlx::MySqlConnection::connect(&admin).await.unwrap();
            for _ in 0..250 {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Sleep'",
                )
                .bind(&database)
                .fetch_all(&mut own)
                .await
                .unwrap();
                if !ids.is_empty() {
                    for id in ids {
                        let kill = sqlx::AssertSqlSafe(format!("KILL {id}"));
                        // A session may end by itself between the listing and the kill.
                        let _ = sqlx::raw_sql(kill).execute(&mut own).await;
                    }
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("no idle session to end");
        }
        repo_runtime::Dialect::Sqlite => unreachable!("SQLite has no server session"),
    }
}

/// Without a ping before each statement (the default), a pooled connection that died while
/// idle is found closed by the pool, or fails the statement that draws it as a transient error,
/// which a read retries on a new connection: the read succeeds, and the pool goes on.
async fn a_connection_that_died_idle_is_replaced_by_the_retried_read(backend: Backend) {
    if backend.dialect() == repo_runtime::Dialect::Sqlite {
        // An embedded database has no server connection to lose.
        return;
    }
    let options = DbOptions {
        max_connections: 1,
        ..DbOptions::default()
    };
    assert!(!options.test_before_acquire);
    let Some(test) = TestDb::with_options(backend, "died_idle", options).await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let notes = Note::repository(db);
    notes
        .insert(NewNote {
            body: "kept".into(),
        })
        .await
        .unwrap();
    assert_eq!(notes.count().await.unwrap(), 1);
    kill_idle_sessions(db).await;
    // Either the pool finds the connection closed before handing it out, or the read that
    // draws it fails as transient and runs again on a new one: the read succeeds.
    assert_eq!(notes.count().await.unwrap(), 1);
    assert_eq!(notes.count().await.unwrap(), 1);
    test.db.close().await;
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Sqlite).await } )* }
        mod rusqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Rusqlite).await } )* }
        // rusqlite moves scans to blocking threads on a current-thread runtime instead.
        mod rusqlite_current_thread { $( #[tokio::test] async fn $case() { super::$case(repo_tests::Backend::Rusqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::MySql).await } )* }
    };
}

on_every_backend!(
    pool_exhaustion_is_a_pool_timeout_within_the_acquire_timeout,
    cancelled_transactions_leave_no_partial_write,
    statement_over_its_timeout_is_a_timeout,
    killed_connection_mid_transaction_writes_nothing_and_the_pool_recovers,
    a_connection_that_died_idle_is_replaced_by_the_retried_read,
);
