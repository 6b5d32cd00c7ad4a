//! Peak memory of reading 1,000,000 rows: streamed (`Repository::stream`) against collected
//! (`find_where`), on each backend. Linux only: it resets and reads the process's peak
//! resident set (`/proc/self/clear_refs`, `VmHWM`) around each read.
//!
//! Usage: `stream_memory [rows] [backend]` (default 1,000,000 rows, every backend), with
//! `DATABASE_URL_POSTGRES` and `DATABASE_URL_MYSQL` set for the servers.

use futures_core::Stream;
use repo_benches::{Target, User, fresh_database, new_user, targets};
use repo_runtime::prelude::*;

/// Peak and current resident set, in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Resets the peak to the current resident set.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

async fn measure(db: &Db, name: &str, rows: usize) {
    let users = User::repository(db);
    users.delete_where(&Filter::all()).await.expect("clear");
    let mut written = 0;
    while written < rows {
        let chunk = (rows - written).min(20_000);
        users
            .insert_many(
                (written..written + chunk)
                    .map(|n| new_user("rss", n))
                    .collect(),
            )
            .await
            .expect("insert");
        written += chunk;
    }
    reset_peak();
    let (_, before) = memory();
    let mut stream = users.stream(&Filter::all(), ListOptions::new());
    let (mut count, mut bytes) = (0usize, 0usize);
    while let Some(user) = next(&mut stream).await {
        let user = user.expect("row");
        count += 1;
        bytes += user.email.len();
    }
    drop(stream);
    let (streamed_peak, _) = memory();
    assert_eq!(count, rows);
    reset_peak();
    let (_, before_collect) = memory();
    let all = users
        .find_where(&Filter::all(), ListOptions::new())
        .await
        .expect("collect");
    assert_eq!(all.len(), rows);
    drop(all);
    let (collected_peak, _) = memory();
    println!(
        "{name:<8} {rows:>9} rows: streamed +{:>6} MiB peak, collected +{:>6} MiB peak ({bytes} bytes of addresses read)",
        streamed_peak.saturating_sub(before) / 1024,
        collected_peak.saturating_sub(before_collect) / 1024,
    );
}

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("a row count"))
        .unwrap_or(1_000_000);
    let only = std::env::args().nth(2);
    let runtime = repo_benches::runtime();
    runtime.block_on(async {
        let mut all: Vec<(String, Db)> = Vec::new();
        for target in targets() {
            let Target { name, .. } = target.clone();
            all.push((name.to_owned(), fresh_database(&target).await));
        }
        let memory = Db::memory();
        memory.create_schema::<User>().await.expect("schema");
        all.push(("memory".to_owned(), memory));
        for (name, db) in &all {
            if only.as_deref().is_none_or(|only| only == name) {
                measure(db, name, rows).await;
            }
        }
    });
}
