//! The figures of the `metrics` facade, rendered by `metrics-exporter-prometheus` and served
//! by the example's `/metrics` route, after the workload ran on every backend.

use axum::body::Body;
use axum::http::Request;
use metrics_exporter_prometheus::PrometheusBuilder;
use repo_tests::{Backend, every_backend};
use tower::ServiceExt as _;

#[tokio::test]
async fn the_figures_reach_prometheus_on_every_backend() {
    let prometheus = PrometheusBuilder::new().install_recorder().unwrap();
    let mut systems = Vec::new();
    for (backend, test) in every_backend("prometheus").await {
        monitoring::workload(&test.db).await.unwrap();
        test.db.close().await;
        systems.push(match backend {
            Backend::Sqlite | Backend::Rusqlite => "sqlite",
            Backend::Postgres => "postgresql",
            Backend::MySql | Backend::Galera => "mariadb",
            Backend::Memory => "other_sql",
        });
    }
    let response = monitoring::metrics_router(prometheus)
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let duration = text
        .lines()
        .filter(|line| line.starts_with("db_client_operation_duration"))
        .collect::<Vec<_>>();
    for system in systems {
        let label = format!("db_system_name=\"{system}\"");
        assert!(
            duration.iter().any(|line| line.contains(&label)
                && line.contains("db_collection_name=\"notes\"")
                && line.contains("db_operation_name=\"INSERT\"")),
            "{system}:\n{text}"
        );
        assert!(
            duration
                .iter()
                .any(|line| line.contains(&label) && line.contains("error_type=\"conflict\"")),
            "{system}: the failed insert is counted by its error:\n{text}"
        );
    }
    assert!(
        text.contains("db_client_connection_count{") && text.contains("state=\"used\""),
        "the pool's connections:\n{text}"
    );
    assert!(text.contains("db_client_connection_max{"), "{text}");
    assert!(text.contains("repo_errors{"), "{text}");
    for secret in ["Groceries", "milk", "Chores"] {
        assert!(!text.contains(secret), "{secret} in the figures");
    }
}
