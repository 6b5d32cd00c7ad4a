//! What telemetry costs a call, for `benches/RESULTS.md`: `telemetry_cost <mode> <calls>`
//! runs `calls` reads by key on an in-memory SQLite database (through rusqlite: in-process,
//! so callgrind counts all of it) with `mode` one of `off` (nothing subscribed, no recorder),
//! `traces` (tracing-opentelemetry building every span, no exporter), `metrics` (a Prometheus
//! recorder) or `both`. Count it with callgrind at two call counts and divide the difference.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use repo_runtime::prelude::*;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "off".into());
    let calls: u32 = args.next().unwrap_or_else(|| "1000".into()).parse()?;
    let provider = SdkTracerProvider::builder().build();
    if matches!(mode.as_str(), "traces" | "both") {
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("cost")))
            .init();
    }
    if matches!(mode.as_str(), "metrics" | "both") {
        metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    }
    let db = Db::connect("sqlite::memory:").await?;
    db.create_schema::<monitoring::Note>().await?;
    let notes = monitoring::Note::repository(&db);
    let note = notes
        .insert(monitoring::NewNote {
            title: "one".into(),
            body: "the only note".into(),
        })
        .await?;
    for _ in 0..calls {
        std::hint::black_box(notes.get(note.id).await?);
    }
    Ok(())
}
