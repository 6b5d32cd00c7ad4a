//! Conduit's migrations command line, around `repo_runtime::cli`:
//!
//! ```text
//! cargo run -p conduit --bin conduit-migrate -- generate <name>   # after changing a record
//! cargo run -p conduit --bin conduit-migrate -- up                # DATABASE_URL, or SQLite
//! cargo run -p conduit --bin conduit-migrate -- status | check | seed --env dev
//! ```

use conduit::infrastructure::schema;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    repo_runtime::cli::Cli::new(schema())
        .migrations_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .seeds(conduit::seeds::seeds())
        .run()
        .await
}
