//! The command line of an application with encrypted fields (`repo_tests::vault`), which
//! `tests/encryption_cli.rs` runs as a child process with keys in its environment.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    repo_runtime::cli::run(repo_tests::vault::schema()).await
}
