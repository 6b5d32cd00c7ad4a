//! The pool settings of `DbOptions` reach each backend's pool: no ping before a connection is
//! handed out unless asked, minimum connections, idle timeout and lifetime, and SQLite's
//! `synchronous` (`NORMAL` in WAL mode by default).

use std::time::Duration;

use repo_runtime::{DbOptions, SqliteSynchronous};
use repo_tests::{Backend, TestDb};

/// The options a service would tune, all away from their defaults.
fn tuned() -> DbOptions {
    DbOptions {
        max_connections: 4,
        min_connections: 2,
        idle_timeout: Some(Duration::from_secs(5)),
        max_lifetime: None,
        test_before_acquire: true,
        sqlite_synchronous: SqliteSynchronous::Full,
        ..DbOptions::default()
    }
}

macro_rules! assert_pool {
    ($pool:expr, $options:expr) => {{
        let (pool, options) = ($pool, $options);
        let set = pool.options();
        assert_eq!(set.get_max_connections(), options.max_connections);
        assert_eq!(set.get_min_connections(), options.min_connections);
        assert_eq!(set.get_idle_timeout(), options.idle_timeout);
        assert_eq!(set.get_max_lifetime(), options.max_lifetime);
        assert_eq!(set.get_test_before_acquire(), options.test_before_acquire);
    }};
}

#[tokio::test]
async fn the_servers_pools_take_the_settings_and_ping_only_when_asked() {
    for backend in [Backend::Postgres, Backend::MySql] {
        for options in [DbOptions::default(), tuned()] {
            let Some(test) = TestDb::with_options(backend, "pool_settings", options.clone()).await
            else {
                continue;
            };
            assert!(!DbOptions::default().test_before_acquire);
            match backend {
                Backend::Postgres => assert_pool!(test.db.as_postgres().unwrap(), &options),
                _ => assert_pool!(test.db.as_mysql().unwrap(), &options),
            }
            test.db.close().await;
        }
    }
}

#[tokio::test]
async fn an_sqlite_file_is_synchronous_normal_in_wal_mode_unless_told() {
    for (options, expected) in [(DbOptions::default(), 1), (tuned(), 2)] {
        let test = TestDb::with_options(Backend::Sqlite, "pool_settings", options.clone())
            .await
            .expect("SQLite needs no server");
        let pool = test.db.as_sqlite().unwrap();
        assert_pool!(pool, &options);
        let (mode, synchronous): (String, i64) = sqlx_pair(pool).await;
        assert_eq!((mode.as_str(), synchronous), ("wal", expected));
        test.db.close().await;
    }
}

#[tokio::test]
async fn an_sqlite_file_through_rusqlite_is_synchronous_normal_in_wal_mode_unless_told() {
    for (options, expected) in [(DbOptions::default(), 1), (tuned(), 2)] {
        let test = TestDb::with_options(Backend::Rusqlite, "pool_settings", options.clone())
            .await
            .expect("SQLite needs no server");
        // A read-only transaction takes a reader, a read-write one the writer: both are set.
        for options in [
            repo_runtime::TxOptions::new().read_only(),
            repo_runtime::TxOptions::new(),
        ] {
            let tx = test.db.begin_with(&options).await.unwrap();
            {
                let mut connection = tx.connection().await.unwrap();
                let conn = connection.as_rusqlite().unwrap();
                let mode: String = conn
                    .query_row("PRAGMA journal_mode", [], |row| row.get(0))
                    .unwrap();
                let synchronous: i64 = conn
                    .query_row("PRAGMA synchronous", [], |row| row.get(0))
                    .unwrap();
                let foreign_keys: i64 = conn
                    .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
                    .unwrap();
                assert_eq!(
                    (mode.as_str(), synchronous, foreign_keys),
                    ("wal", expected, 1)
                );
            }
            tx.rollback().await.unwrap();
        }
        test.db.close().await;
    }
}

async fn sqlx_pair(pool: &repo_runtime::sqlx::SqlitePool) -> (String, i64) {
    let mut connection = pool.acquire().await.unwrap();
    let mode: String = repo_runtime::sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    let synchronous: i64 = repo_runtime::sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    (mode, synchronous)
}
