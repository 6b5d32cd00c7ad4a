//! What the tracing output of a failing write contains: the statement's span with its table
//! and operation, never the bound values.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use entities::{NewUser, User};
use repo_runtime::Repository;
use repo_tests::{Backend, LogCapture, TestDb};

const SECRET: &str = "hunter2-Passw0rd!";

async fn failing_insert_logs_no_bound_value(backend: Backend, captured: &LogCapture) {
    let Some(test) = TestDb::new(backend, "tracing").await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<User>().await.unwrap();
    let users = User::repository(db);
    let new = || NewUser {
        email: format!("{SECRET}@example.com"),
        name: SECRET.into(),
        bio: Some(SECRET.into()),
    };
    users.insert(new()).await.unwrap();
    let error = users.insert(new()).await.unwrap_err();
    assert!(error.is_conflict());
    assert!(!error.to_string().contains("hunter2"), "{error}");
    let metrics = db.metrics();
    assert_eq!(metrics.errors_of("conflict"), 1);
    assert!(metrics.statements >= 2, "{metrics:?}");
    let text = captured.text();
    assert!(text.contains("repo.statement"), "spans are emitted: {text}");
    assert!(
        text.contains("operation=\"insert\"") || text.contains("operation=insert"),
        "{text}"
    );
    assert!(
        text.contains("kind=\"conflict\"") || text.contains("kind=conflict"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2"),
        "a bound value reached the logs:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_inserts_log_spans_but_no_bound_values_on_every_backend() {
    let captured = LogCapture::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    for backend in Backend::ALL {
        failing_insert_logs_no_bound_value(backend, &captured).await;
    }
}
