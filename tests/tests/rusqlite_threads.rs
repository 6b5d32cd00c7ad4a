//! SQLite through rusqlite: where statements run. A read that outlasts its budget on the calling
//! thread starts again on a blocking thread and returns every row once; a cancelled read gives
//! its connection back; a long read inside a transaction leaves the transaction usable; on both
//! runtimes Tokio offers. What a long read does to other tasks' latency is measured by the
//! `scan_latency` benchmark, not here.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use std::collections::BTreeSet;
use std::time::Duration;

use entities::{NewNote, Note};
use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, ErrorKind, Filter};
use repo_tests::{Backend, TestDb};

/// Rows enough that a full read takes far longer than the budget on the calling thread.
const ROWS: usize = 30_000;

async fn seeded(test: &str, options: DbOptions) -> TestDb {
    let test = TestDb::with_options(Backend::Rusqlite, test, options)
        .await
        .expect("SQLite needs no server");
    test.db.create_schema::<Note>().await.unwrap();
    let rows = (0..ROWS)
        .map(|i| NewNote {
            body: format!("note {i:06}"),
        })
        .collect();
    Note::repository(&test.db).insert_many(rows).await.unwrap();
    test
}

fn assert_every_row_once(notes: &[Note]) {
    assert_eq!(notes.len(), ROWS);
    let ids: BTreeSet<i32> = notes.iter().map(|note| note.id).collect();
    assert_eq!(ids.len(), ROWS, "a row came twice");
}

async fn long_reads_return_every_row_once() {
    let test = seeded("long_reads", DbOptions::default()).await;
    let notes = Note::repository(&test.db);
    // Through a sink (list), as owned rows (a finder's page), and inside a transaction.
    assert_every_row_once(&notes.list(ListOptions::new()).await.unwrap());
    let everything = notes
        .find_where(&Filter::all(), ListOptions::new())
        .await
        .unwrap();
    assert_every_row_once(&everything);
    let tx = test.db.begin().await.unwrap();
    let inside = Note::repository(&tx);
    assert_every_row_once(&inside.list(ListOptions::new()).await.unwrap());
    // The transaction's connection came back from the blocking thread: it still writes.
    inside
        .insert(NewNote {
            body: "after the long read".into(),
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(notes.count().await.unwrap(), ROWS as u64 + 1);
}

async fn a_cancelled_long_read_gives_its_connection_back() {
    // One connection: a read that kept it would starve the next.
    let options = DbOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_secs(5),
        ..DbOptions::default()
    };
    let test = seeded("cancelled_read", options).await;
    let notes = Note::repository(&test.db);
    // Given up after a millisecond: on a blocking thread, the read is interrupted; in place, it
    // ends first. Either way the next statement finds the connection.
    for _ in 0..3 {
        let _ =
            tokio::time::timeout(Duration::from_millis(1), notes.list(ListOptions::new())).await;
        let count = tokio::time::timeout(Duration::from_secs(5), notes.count())
            .await
            .expect("the connection came back")
            .unwrap();
        assert_eq!(count, ROWS as u64);
    }
    // Inside a transaction a cancelled read may take the connection with it: the transaction
    // then fails as transient (a unit of work runs again), and the database is usable after.
    let tx = test.db.begin().await.unwrap();
    let inside = Note::repository(&tx);
    let _ = tokio::time::timeout(Duration::from_millis(1), inside.list(ListOptions::new())).await;
    if let Err(error) = inside.count().await {
        assert_eq!(error.kind(), ErrorKind::Transient, "{error:?}");
    }
    drop(inside);
    let _ = tx.rollback().await;
    let count = tokio::time::timeout(Duration::from_secs(5), notes.count())
        .await
        .expect("the connection came back")
        .unwrap();
    assert_eq!(count, ROWS as u64);
}

#[tokio::test]
async fn long_reads_return_every_row_once_on_a_current_thread_runtime() {
    long_reads_return_every_row_once().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_reads_return_every_row_once_on_a_multi_thread_runtime() {
    long_reads_return_every_row_once().await;
}

#[tokio::test]
async fn a_cancelled_long_read_gives_its_connection_back_on_a_current_thread_runtime() {
    a_cancelled_long_read_gives_its_connection_back().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_long_read_gives_its_connection_back_on_a_multi_thread_runtime() {
    a_cancelled_long_read_gives_its_connection_back().await;
}
