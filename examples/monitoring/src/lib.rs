//! Persistence observed the way the ecosystem expects: the runtime's spans follow
//! OpenTelemetry's database conventions (so `tracing-opentelemetry` exports them as they
//! are), and with feature `metrics` its figures go through the `metrics` facade, here served
//! as Prometheus text by `metrics-exporter-prometheus`. This crate holds the workload and the
//! `/metrics` route; `main.rs` wires the exporters.

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use repo_runtime::prelude::*;

/// A note of a small notebook.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "notes")]
pub struct Note {
    /// The note's number.
    #[repo(id, generated)]
    pub id: i64,
    /// Its title, unique.
    #[repo(unique)]
    pub title: String,
    /// Its text.
    pub body: String,
}

/// A little of everything: a unit of work of two inserts, reads, a filtered count, and an
/// insert refused for its duplicate title (a `Conflict`, recorded as the span's and the
/// histogram's `error.type`).
pub async fn workload(db: &Db) -> Result<(), RepoError> {
    db.create_schema::<Note>().await?;
    let ids = db
        .transaction(async |tx| {
            let notes = Note::repository(&tx);
            let first = notes
                .insert(NewNote {
                    title: "Groceries".into(),
                    body: "milk, eggs".into(),
                })
                .await?;
            let second = notes
                .insert(NewNote {
                    title: "Chores".into(),
                    body: "laundry".into(),
                })
                .await?;
            Ok((first.id, second.id))
        })
        .await?;
    let notes = Note::repository(db);
    notes.get(ids.0).await?;
    notes.find_by_title("Chores").await?;
    notes.count_where(&Note::BODY.contains("milk")).await?;
    let duplicate = notes
        .insert(NewNote {
            title: "Groceries".into(),
            body: "bread".into(),
        })
        .await;
    match duplicate {
        Err(error) if error.is_conflict() => Ok(()),
        Err(error) => Err(error),
        Ok(_) => Err(RepoError::config("a duplicate title was stored")),
    }
}

/// `GET /metrics`: the recorder's figures as Prometheus text.
pub fn metrics_router(prometheus: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let prometheus = prometheus.clone();
            async move { prometheus.render() }
        }),
    )
}
