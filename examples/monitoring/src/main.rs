//! Runs a small workload with both exporters installed: spans to the OpenTelemetry stdout
//! exporter, figures to a Prometheus recorder, printed at the end or, with
//! `MONITORING_ADDR=127.0.0.1:9000`, served at `/metrics` until interrupted.
//! `DATABASE_URL` picks the database (an in-memory SQLite one by default).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use repo_runtime::prelude::*;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Traces: every statement and transaction span, exported by OpenTelemetry's SDK.
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    let tracer = provider.tracer("monitoring-example");
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .init();
    // Figures: the `metrics` facade's global recorder, rendered as Prometheus text.
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;

    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".into());
    let db = Db::connect(&url).await?;
    monitoring::workload(&db).await?;
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
