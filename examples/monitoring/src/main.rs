//! Runs a small workload with both exporters installed: spans to the OpenTelemetry stdout
//! exporter, figures to a Prometheus recorder, printed at the end or, with
//! `MONITORING_ADDR=127.0.0.1:9000`, served at `/metrics` until interrupted.
//! `DATABASE_URL` picks the database (an in-memory SQLite one by default), and the pool
//! options come from the environment: `DATABASE_EXPLAIN_SLOW=true DATABASE_SLOW_STATEMENT_MS=0`
//! prints the plan of every statement to stderr.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use repo_runtime::prelude::*;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Traces: every statement and transaction span, exported by OpenTelemetry's SDK.
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    let tracer = provider.tracer("monitoring-example");
    // Plans of slow statements: `warn` events under `repo_runtime::plan`, to stderr.
    let plans = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::filter::filter_fn(|event| {
            event.target() == "repo_runtime::plan"
        }));
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .with(plans)
        .init();
    // Figures: the `metrics` facade's global recorder, rendered as Prometheus text.
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;

    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".into());
    let db = Db::connect_with(&url, repo_runtime::DbOptions::from_env()?).await?;
    monitoring::workload(&db).await?;
    // Plans are read after their statements, on a task of their own.
    if db.options().explain_slow_statements {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    provider.force_flush()?;

    match std::env::var("MONITORING_ADDR") {
        Ok(address) => {
            let listener = tokio::net::TcpListener::bind(&address).await?;
            println!("serving Prometheus text at http://{address}/metrics");
            axum::serve(listener, monitoring::metrics_router(prometheus)).await?;
        }
        Err(_) => print!("{}", prometheus.render()),
    }
    provider.shutdown()?;
    Ok(())
}
