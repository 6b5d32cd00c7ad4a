//! What a long scan does to the other tasks of its runtime: a task that wakes every millisecond
//! records how late each wake-up is while another task lists 100,000 rows again and again, on
//! SQLite through sqlx's driver and through rusqlite, on a current-thread and a multi-thread
//! runtime. Prints a Markdown table (lateness percentiles, the scan's own time).
//!
//! Usage: `scan_latency` (release build).

use std::time::{Duration, Instant};

use repo_benches::{User, clear, new_user, settle};
use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, SqliteDriver};

const ROWS: usize = 100_000;
const SCANS: usize = 10;

async fn open(driver: SqliteDriver) -> Db {
    let name = format!("{driver:?}").to_lowercase();
    let path = std::env::temp_dir().join(format!(
        "repo-scan-latency-{name}-{}.db",
        std::process::id()
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let options = DbOptions {
        sqlite_driver: driver,
        ..DbOptions::default()
    };
    let db = Db::connect_with(&format!("sqlite://{}", path.display()), options)
        .await
        .expect("open");
    db.create_schema::<User>().await.expect("schema");
    db.create_schema::<repo_benches::Post>()
        .await
        .expect("schema");
    clear(&db).await;
    User::repository(&db)
        .insert_many((0..ROWS).map(|n| new_user("scan", n)).collect())
        .await
        .expect("seed");
    settle(&db).await;
    db
}

/// Lateness of each 1 ms wake-up while `SCANS` scans run, and the mean scan time.
async fn measure(db: Db) -> (Vec<Duration>, Duration) {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let ticker = tokio::spawn(async move {
        let mut late = Vec::new();
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            let asked = Instant::now();
            tokio::time::sleep(Duration::from_millis(1)).await;
            late.push(asked.elapsed().saturating_sub(Duration::from_millis(1)));
        }
        late
    });
    let users = User::repository(&db);
    let started = Instant::now();
    for _ in 0..SCANS {
        let rows = users.list(ListOptions::new()).await.expect("scan");
        assert_eq!(rows.len(), ROWS);
    }
    let per_scan = started.elapsed() / SCANS as u32;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut late = ticker.await.expect("ticker");
    late.sort();
    db.close().await;
    (late, per_scan)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn main() {
    println!(
        "| driver | runtime | scan of {ROWS} rows | wake-ups | late p50 | late p99 | late max |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for driver in [SqliteDriver::Sqlx, SqliteDriver::Rusqlite] {
        for flavor in ["current-thread", "multi-thread (2)"] {
            let runtime = match flavor {
                "current-thread" => tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build(),
                _ => tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build(),
            }
            .expect("runtime");
            let (late, per_scan) = runtime.block_on(async { measure(open(driver).await).await });
            let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
            println!(
                "| {driver:?} | {flavor} | {} | {} | {} | {} | {} |",
                ms(per_scan),
                late.len(),
                ms(percentile(&late, 0.5)),
                ms(percentile(&late, 0.99)),
                ms(late.last().copied().unwrap_or_default()),
            );
        }
    }
}
