//! Connections held between statements (`DbOptions::connection_hold`) on the backends whose
//! pool is sqlx's: they serve the next statement and transaction, go to loans waiting on a full
//! pool, and go back to the pool for hand-written code, after the hold, and after a failure.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use std::time::Duration;

use entities::{NewNote, Note};
use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, RetryPolicy};
use repo_tests::{Backend, TestDb};

/// One connection, held for longer than any test runs, and a short wait for it.
fn one_held_connection() -> DbOptions {
    DbOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(500),
        connection_hold: Duration::from_secs(60),
        retry: RetryPolicy::never(),
        ..DbOptions::default()
    }
}

/// Borrows a connection from the pool `db` hands to hand-written code: the pool as returned
/// now, or `earlier`, a clone taken before.
async fn hand_written_acquire(db: &Db, earlier: Option<&Pool>) -> Result<(), String> {
    let pool = match earlier {
        Some(pool) => pool.clone(),
        None => Pool::of(db),
    };
    match pool {
        Pool::Sqlite(pool) => pool.acquire().await.map(drop),
        Pool::Postgres(pool) => pool.acquire().await.map(drop),
        Pool::MySql(pool) => pool.acquire().await.map(drop),
    }
    .map_err(|error| error.to_string())
}

#[derive(Clone)]
enum Pool {
    Sqlite(repo_runtime::sqlx::SqlitePool),
    Postgres(repo_runtime::sqlx::PgPool),
    MySql(repo_runtime::sqlx::MySqlPool),
}

impl Pool {
    fn of(db: &Db) -> Pool {
        if let Some(pool) = db.as_sqlite() {
            return Pool::Sqlite(pool.clone());
        }
        if let Some(pool) = db.as_postgres() {
            return Pool::Postgres(pool.clone());
        }
        Pool::MySql(db.as_mysql().expect("a pool of sqlx's").clone())
    }

    /// Connections open, in use or idle.
    fn size(&self) -> u32 {
        match self {
            Pool::Sqlite(pool) => pool.size(),
            Pool::Postgres(pool) => pool.size(),
            Pool::MySql(pool) => pool.size(),
        }
    }
}

async fn statements_and_transactions_take_turns_on_one_held_connection(backend: Backend) {
    let Some(test) = TestDb::with_options(backend, "hold_turns", one_held_connection()).await
    else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let notes = Note::repository(db);
    for round in 0..5 {
        let tx = db.begin().await.unwrap();
        Note::repository(&tx)
            .insert(NewNote {
                body: format!("note {round}"),
            })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(notes.count().await.unwrap(), round + 1);
        let tx = db.begin().await.unwrap();
        Note::repository(&tx)
            .insert(NewNote {
                body: "undone".into(),
            })
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(notes.count().await.unwrap(), round + 1);
    }
    test.db.close().await;
}

async fn hand_written_code_finds_the_held_connection_in_the_pool(backend: Backend) {
    let Some(test) = TestDb::with_options(backend, "hold_as_pool", one_held_connection()).await
    else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let notes = Note::repository(db);
    assert_eq!(notes.count().await.unwrap(), 0);
    hand_written_acquire(db, None)
        .await
        .expect("the pool as handed out now has the held connection back");
    // The handle borrows it again, and lends it back again.
    assert_eq!(notes.count().await.unwrap(), 0);
    hand_written_acquire(db, None).await.unwrap();
    test.db.close().await;
}

async fn a_pool_taken_earlier_gets_the_connection_back_after_the_hold(backend: Backend) {
    for (hold, comes_back) in [
        (Duration::from_millis(100), true),
        (Duration::from_secs(60), false),
    ] {
        let options = DbOptions {
            connection_hold: hold,
            ..one_held_connection()
        };
        let Some(test) = TestDb::with_options(backend, "hold_expires", options).await else {
            return;
        };
        let db = &test.db;
        let earlier = Pool::of(db);
        db.create_schema::<Note>().await.unwrap();
        assert_eq!(Note::repository(db).count().await.unwrap(), 0);
        let acquired = hand_written_acquire(db, Some(&earlier)).await;
        if comes_back {
            acquired.expect("back in the pool within the hold and the acquire timeout");
        } else {
            let error = acquired.unwrap_err();
            assert!(error.contains("timed out"), "{error}");
        }
        test.db.close().await;
    }
}

async fn nothing_is_held_when_each_connection_is_tested_before_use(backend: Backend) {
    let options = DbOptions {
        test_before_acquire: true,
        ..one_held_connection()
    };
    let Some(test) = TestDb::with_options(backend, "hold_tested", options).await else {
        return;
    };
    let db = &test.db;
    let earlier = Pool::of(db);
    db.create_schema::<Note>().await.unwrap();
    assert_eq!(Note::repository(db).count().await.unwrap(), 0);
    hand_written_acquire(db, Some(&earlier))
        .await
        .expect("given back to the pool after its statement");
    test.db.close().await;
}

async fn loans_waiting_on_a_full_pool_take_connections_given_back(backend: Backend) {
    let options = DbOptions {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
        ..one_held_connection()
    };
    let Some(test) = TestDb::with_options(backend, "hold_waiters", options).await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let db = db.clone();
            tokio::spawn(async move {
                let notes = Note::repository(&db);
                for round in 0..10 {
                    notes
                        .insert(NewNote {
                            body: format!("{task}/{round}"),
                        })
                        .await?;
                    notes.count().await?;
                }
                Ok::<_, RepoError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .unwrap()
            .expect("no loan waits past the acquire timeout");
    }
    assert_eq!(Note::repository(db).count().await.unwrap(), 160);
    test.db.close().await;
}

async fn the_pool_grows_while_loans_are_handed_connections(backend: Backend) {
    let options = DbOptions {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(5),
        ..one_held_connection()
    };
    let Some(test) = TestDb::with_options(backend, "hold_growth", options).await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    // One warm connection on the shelf, then eight loops of statements: a connection handed
    // over is faster than opening one, and the opens must not be abandoned for it.
    Note::repository(db).count().await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let notes = Note::repository(&db);
                for _ in 0..200 {
                    notes.count().await?;
                }
                Ok::<_, RepoError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let opened = Pool::of(db).size();
    assert!(opened > 4, "{backend:?}: {opened} of 8 connections opened");
    test.db.close().await;
}

async fn a_connection_whose_statement_failed_goes_back_and_serves_again(backend: Backend) {
    let Some(test) = TestDb::with_options(backend, "hold_failed", one_held_connection()).await
    else {
        return;
    };
    let db = &test.db;
    let notes = Note::repository(db);
    // No table yet: the statement fails on the server.
    notes.count().await.unwrap_err();
    db.create_schema::<Note>().await.unwrap();
    assert_eq!(notes.count().await.unwrap(), 0);
    hand_written_acquire(db, None).await.unwrap();
    test.db.close().await;
}

macro_rules! on_sqlx_pools {
    ($($case:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::MySql).await } )* }
    };
}

on_sqlx_pools!(
    statements_and_transactions_take_turns_on_one_held_connection,
    hand_written_code_finds_the_held_connection_in_the_pool,
    a_pool_taken_earlier_gets_the_connection_back_after_the_hold,
    nothing_is_held_when_each_connection_is_tested_before_use,
    loans_waiting_on_a_full_pool_take_connections_given_back,
    the_pool_grows_while_loans_are_handed_connections,
    a_connection_whose_statement_failed_goes_back_and_serves_again,
);
