//! Pool exhaustion and cancellation, on every backend, with pools sized for the test.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

use entities::{NewNote, Note, NoteRepository};
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

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::MySql).await } )* }
    };
}

on_every_backend!(
    pool_exhaustion_is_a_pool_timeout_within_the_acquire_timeout,
    cancelled_transactions_leave_no_partial_write,
);
