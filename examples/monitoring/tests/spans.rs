//! The spans the runtime emits, exported through `tracing-opentelemetry` into OpenTelemetry's
//! in-memory exporter, on every backend: named and attributed by the database conventions,
//! statements inside their transaction's span, failures marked, no bound value anywhere.

use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use repo_tests::{Backend, every_backend};
use tracing_subscriber::layer::SubscriberExt as _;

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|pair| pair.key.as_str() == key)
        .map(|pair| pair.value.to_string())
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|span| span.name == name).collect()
}

/// The spans exported once `expected` have ended. sqlx's SQLite driver hands each statement
/// to its connection's thread with the caller's span, and that thread lets go of it a little
/// after the answer: the last span may end after the workload returns.
async fn finished(
    provider: &SdkTracerProvider,
    exporter: &InMemorySpanExporter,
    expected: usize,
) -> Vec<SpanData> {
    for _ in 0..200 {
        provider.force_flush().unwrap();
        let spans = exporter.get_finished_spans().unwrap();
        if spans.len() >= expected {
            return spans;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    exporter.get_finished_spans().unwrap()
}

#[test]
fn spans_follow_the_database_conventions_on_every_backend() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
    // The global default: a thread's own would leave callsites first seen elsewhere (the
    // drivers' threads) disabled for good.
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("the only subscriber of this test binary");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for (backend, test) in every_backend("otel_spans").await {
            exporter.reset();
            monitoring::workload(&test.db).await.unwrap();
            let spans = finished(&provider, &exporter, 7).await;
            let system = match backend {
                Backend::Sqlite | Backend::Rusqlite => "sqlite",
                Backend::Postgres => "postgresql",
                Backend::MySql | Backend::Galera => "mariadb",
                Backend::Memory => "other_sql",
            };

            let inserts = named(&spans, "INSERT notes");
            assert_eq!(
                inserts.len(),
                3,
                "{backend:?}: {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            );
            let transactions = named(&spans, "TRANSACTION");
            assert_eq!(
                transactions.len(),
                1,
                "{backend:?}: {:?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            );
            let transaction = transactions[0].span_context.span_id();
            for insert in &inserts {
                assert_eq!(insert.span_kind, SpanKind::Client, "{backend:?}");
                assert_eq!(attribute(insert, "db.system.name").as_deref(), Some(system));
                assert_eq!(
                    attribute(insert, "db.collection.name").as_deref(),
                    Some("notes")
                );
                assert_eq!(
                    attribute(insert, "db.operation.name").as_deref(),
                    Some("INSERT")
                );
                assert_eq!(
                    attribute(insert, "db.query.summary").as_deref(),
                    Some("INSERT notes")
                );
                let text = attribute(insert, "db.query.text");
                match backend {
                    Backend::Memory => assert_eq!(text, None, "the store runs no SQL"),
                    _ => {
                        let text = text.unwrap();
                        assert!(text.contains("INSERT INTO"), "{backend:?}: {text}");
                        assert!(text.contains('?') || text.contains("$1"), "{text}");
                    }
                }
            }
            // The first two ran in the transaction; the third, a duplicate, failed alone.
            let inside = inserts
                .iter()
                .filter(|span| span.parent_span_id == transaction)
                .count();
            assert_eq!(
                inside, 2,
                "{backend:?}: statements are the transaction's children"
            );
            let failed: Vec<_> = inserts
                .iter()
                .filter(|span| attribute(span, "error.type").is_some())
                .collect();
            assert_eq!(failed.len(), 1, "{backend:?}");
            assert_eq!(
                attribute(failed[0], "error.type").as_deref(),
                Some("conflict")
            );
            assert!(
                matches!(failed[0].status, Status::Error { .. }),
                "{backend:?}"
            );

            let reads = named(&spans, "SELECT notes");
            assert!(
                reads.len() >= 3,
                "{backend:?}: get, find_by_title, count_where"
            );
            assert!(
                reads.iter().any(
                    |span| attribute(span, "db.response.returned_rows").as_deref() == Some("1")
                ),
                "{backend:?}"
            );
            if matches!(backend, Backend::Postgres | Backend::MySql) {
                let insert = inserts[0];
                assert_eq!(
                    attribute(insert, "server.address").as_deref(),
                    Some("127.0.0.1")
                );
                assert!(attribute(insert, "server.port").is_some(), "{backend:?}");
                assert!(attribute(insert, "db.namespace").is_some(), "{backend:?}");
            }
            // No bound value in any span, event or attribute.
            for span in &spans {
                let exported = format!("{:?} {:?} {:?}", span.name, span.attributes, span.events);
                for secret in ["Groceries", "milk", "eggs", "laundry", "bread", "Chores"] {
                    assert!(
                        !exported.contains(secret),
                        "{backend:?}: {secret} in {exported}"
                    );
                }
            }
            test.db.close().await;
        }
    });
}
