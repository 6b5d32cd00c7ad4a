//! A session that changed `auto_increment_increment` still gets a batch's right keys back:
//! MariaDB returns them, MySQL numbers them from the statement's first key by the session's
//! increment.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use entities::{NewNote, Note};
use repo_runtime::{DbOptions, Repository};
use repo_tests::{Backend, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_keys_follow_the_sessions_auto_increment_increment() {
    let options = DbOptions {
        max_connections: 1,
        ..DbOptions::default()
    };
    let Some(test) = TestDb::with_options(Backend::MySql, "batch_increment", options).await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Note>().await.unwrap();
    let pool = db.as_mysql().expect("a MySQL pool");
    // The pool's only connection keeps the session variable.
    repo_runtime::sqlx::query("SET SESSION auto_increment_increment = 3")
        .execute(pool)
        .await
        .unwrap();
    let notes = Note::repository(db);
    notes
        .insert(NewNote {
            body: "first".into(),
        })
        .await
        .unwrap();
    let input: Vec<NewNote> = (0..1_000)
        .map(|i| NewNote {
            body: format!("note {i}"),
        })
        .collect();
    let stored = notes.insert_many(input).await.unwrap();
    assert!(
        stored.windows(2).all(|pair| pair[1].id - pair[0].id == 3),
        "keys step by the session's increment"
    );
    let ids: Vec<i32> = stored.iter().map(|note| note.id).collect();
    assert_eq!(notes.get_many(&ids).await.unwrap(), stored);
}
