//! Plans of slow statements (`DbOptions::explain_slow_statements`): each SQL backend's planner
//! is asked for the plan of the statement's own text and values, and the summary names the
//! tables scanned and the indexes used, never a bound value. The in-memory store has no
//! planner: nothing is logged there, and nothing fails.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use std::time::Duration;

use entities::{NewUser, User, UserRepository};
use repo_runtime::{DbOptions, Filter, ListOptions, Repository};
use repo_tests::{Backend, LogCapture, TestDb};

/// The lines of plans logged after `from` for `operation`, waiting a little for them: plans
/// are read after the statement, on a task of their own.
async fn plans(log: &LogCapture, from: usize, operation: &str, wait: Duration) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let lines: Vec<String> = log.text()[from..]
            .lines()
            .filter(|line| line.contains("plan of a slow statement"))
            .filter(|line| line.contains(&format!("operation=\"{operation}\"")))
            .map(String::from)
            .collect();
        if !lines.is_empty() || started.elapsed() > wait {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const SECRET: &str = "correct-horse-battery";

async fn slow_statements_log_their_plans(backend: Backend, captured: &LogCapture) {
    let options = DbOptions {
        slow_statement_threshold: Duration::ZERO,
        explain_slow_statements: true,
        ..DbOptions::default()
    };
    let Some(test) = TestDb::with_options(backend, "explain", options).await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<User>().await.unwrap();
    let users = User::repository(db);
    let news: Vec<NewUser> = (0..20)
        .map(|n| NewUser {
            email: format!("{SECRET}-{n}@example.com"),
            name: format!("{SECRET} {n}"),
            bio: Some(format!("{SECRET} bio {n}")),
        })
        .collect();
    users.insert_many(news).await.unwrap();
    let from = captured.text().len();

    let by_bio: Filter<User> = User::BIO.eq(format!("{SECRET} bio 7"));
    let found = users.find_where(&by_bio, ListOptions::new()).await.unwrap();
    assert_eq!(found.len(), 1);
    let email = format!("{SECRET}-3@example.com");
    assert!(users.find_by_email(&email).await.unwrap().is_some());

    let wait = Duration::from_secs(10);
    if backend == Backend::Memory {
        let lines = plans(captured, from, "find_where", Duration::from_millis(300)).await;
        assert!(
            lines.is_empty(),
            "the in-memory store has no plans: {lines:?}"
        );
        test.db.close().await;
        return;
    }
    // `bio` has no index: every planner reads the table.
    let scans = plans(captured, from, "find_where", wait).await;
    assert!(
        scans
            .iter()
            .any(|line| line.contains("scans=users") && line.contains("table=\"users\"")),
        "{backend:?}: {scans:#?}"
    );
    // `email` is unique: a lookup in its index (SQLite's is `sqlite_autoindex_users_1`).
    let lookups = plans(captured, from, "find_by_email", wait).await;
    assert!(
        lookups
            .iter()
            .any(|line| line.contains("scans= ") && !line.contains("indexes= ")),
        "{backend:?}: {lookups:#?}"
    );
    let text = captured.text();
    assert!(
        !text[from..].contains(SECRET),
        "a bound value reached the logs:\n{}",
        &text[from..]
    );
    test.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_statements_log_their_plans_on_every_backend() {
    let captured = LogCapture::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    for backend in Backend::ALL {
        slow_statements_log_their_plans(backend, &captured).await;
    }
}
