//! Two handles with the cache on, on one PostgreSQL database (two processes, as far as the
//! cache knows): a commit through one reaches the other's cache through `LISTEN`/`NOTIFY`,
//! and a handle whose listening connection is killed forgets what it held instead of serving
//! it until the time to live.

use std::time::{Duration, Instant};

use repo_runtime::DbOptions;
use repo_runtime::prelude::*;
use repo_tests::{Backend, TestDb};

/// A cached entity whose rows live far longer than any test: only a notice can refresh them.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "channel_accounts", cache(ttl = "1h"))]
pub struct Account {
    /// The key.
    #[repo(id)]
    pub id: i64,
    /// What the writes change.
    pub balance: i64,
}

/// Waits until `other` reads `balance` for row 1, and says how long that took.
async fn seen_within(other: &Db, balance: i64, limit: Duration) -> Duration {
    let started = Instant::now();
    let accounts = Account::repository(other);
    loop {
        let read = accounts.get(1).await.unwrap().balance;
        if read == balance {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "still {read} after {:?}, expected {balance}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn cached() -> DbOptions {
    DbOptions {
        cache: true,
        ..DbOptions::default()
    }
}

/// The test's database, and a second handle on it.
async fn two_handles(test: &str) -> Option<(TestDb, Db)> {
    let test = TestDb::with_options(Backend::Postgres, test, cached()).await?;
    test.db.create_schema::<Account>().await.unwrap();
    let other = Db::connect_with(test.db.url(), cached()).await.unwrap();
    Some((test, other))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_through_one_handle_reaches_the_others_cache() {
    let Some((test, other)) = two_handles("cache_channel").await else {
        return;
    };
    let mine = Account::repository(&test.db);
    mine.insert(Account { id: 1, balance: 0 }).await.unwrap();
    // Let both listeners settle before the first notice.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut delays = Vec::new();
    for balance in 1..=20 {
        // Held by the other handle...
        Account::repository(&other).get(1).await.unwrap();
        // ...then written here, outside and inside a transaction.
        if balance % 2 == 0 {
            mine.update(&Account { id: 1, balance }).await.unwrap();
        } else {
            test.db
                .transaction(async |tx| {
                    Account::repository(&tx)
                        .update(&Account { id: 1, balance })
                        .await
                })
                .await
                .unwrap();
        }
        delays.push(seen_within(&other, balance, Duration::from_secs(5)).await);
    }
    delays.sort();
    eprintln!(
        "notice delays: median {:?}, max {:?}",
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );
    assert!(other.metrics().cache_hits > 0, "{:?}", other.metrics());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_whose_listener_was_killed_forgets_what_it_held() {
    let Some((test, other)) = two_handles("cache_listener").await else {
        return;
    };
    let mine = Account::repository(&test.db);
    mine.insert(Account { id: 1, balance: 0 }).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(Account::repository(&other).get(1).await.unwrap().balance, 0);
    // Kill every listening connection of the database, then write while they are away.
    let killed: Vec<(bool,)> = repo_runtime::sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(test.db.as_postgres().unwrap())
    .await
    .unwrap();
    assert!(!killed.is_empty(), "no listener found");
    mine.update(&Account { id: 1, balance: 1 }).await.unwrap();
    // Served fresh again long before the hour the row would otherwise be held.
    seen_within(&other, 1, Duration::from_secs(10)).await;
    // And the channel works again after it reconnected.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Account::repository(&other).get(1).await.unwrap();
    mine.update(&Account { id: 1, balance: 2 }).await.unwrap();
    seen_within(&other, 2, Duration::from_secs(5)).await;
}
