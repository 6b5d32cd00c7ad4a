//! The Conduit service: `DATABASE_URL` (SQLite file `conduit.db` when unset; `memory:` for
//! the in-memory store), listening on `CONDUIT_ADDR` (`127.0.0.1:3000`), tokens signed with
//! `CONDUIT_JWT_SECRET`. The schema is migrated and the `dev` seeds run at start-up.

use std::process::ExitCode;

use repo_runtime::DbOptions;
use repo_runtime::migrate::environment;
use repo_runtime::prelude::*;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .init();
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conduit: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://conduit.db?mode=rwc".into());
    let db = Db::connect_with(&url, DbOptions::from_env()?).await?;
    let secret = match std::env::var("CONDUIT_JWT_SECRET") {
        Ok(secret) if !secret.is_empty() => secret,
        _ => {
            tracing::warn!("CONDUIT_JWT_SECRET is unset: tokens are signed with a development key");
            "conduit-development-key".to_owned()
        }
    };
    let (router, persistence) = conduit::service(db.clone(), secret.as_bytes()).await?;
    let seeded = conduit::seeds::seeds()
        .run(persistence.db(), &environment())
        .await?;
    if !seeded.is_empty() {
        tracing::info!(?seeded, "seeds ran");
    }
    let address = std::env::var("CONDUIT_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    tracing::info!(%address, backend = db.backend_name(), "conduit listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    db.close().await;
    Ok(())
}
