//! How long a commit through one handle takes to reach another handle's cache on PostgreSQL
//! (`LISTEN`/`NOTIFY`): 200 writes, each followed by reads through the other handle until it
//! serves the new row; prints the median, the 99th percentile and the longest.
//!
//! Usage: `DATABASE_URL_POSTGRES=... cargo run --release -p repo-benches --bin cache_notice`

use std::time::{Duration, Instant};

use repo_benches::{Target, bench_options, fresh_database_with};
use repo_runtime::DbOptions;
use repo_runtime::prelude::*;

/// A cached row held for an hour: only a notice refreshes it.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "notice_accounts", cache(ttl = "1h"))]
pub struct Account {
    /// The key.
    #[repo(id)]
    pub id: i64,
    /// What the writes change.
    pub balance: i64,
}

fn main() {
    let Ok(url) = std::env::var("DATABASE_URL_POSTGRES") else {
        eprintln!("SKIPPED: DATABASE_URL_POSTGRES is unset");
        return;
    };
    let runtime = repo_benches::runtime();
    runtime.block_on(async {
        let target = Target {
            name: "postgres",
            server_url: Some(url),
        };
        let options = DbOptions {
            cache: true,
            ..bench_options(&target)
        };
        let writer = fresh_database_with(&target, options.clone()).await;
        writer.create_schema::<Account>().await.expect("schema");
        let reader = Db::connect_with(writer.url(), options)
            .await
            .expect("reader");
        let accounts = Account::repository(&writer);
        accounts
            .insert(Account { id: 1, balance: 0 })
            .await
            .expect("seed");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut delays = Vec::new();
        for balance in 1..=200 {
            Account::repository(&reader).get(1).await.expect("held");
            accounts
                .update(&Account { id: 1, balance })
                .await
                .expect("write");
            let written = Instant::now();
            loop {
                let read = Account::repository(&reader).get(1).await.expect("read");
                if read.balance == balance {
                    break;
                }
                assert!(written.elapsed() < Duration::from_secs(5), "never arrived");
                tokio::task::yield_now().await;
            }
            delays.push(written.elapsed());
        }
        delays.sort();
        let at = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize];
        println!(
            "notice delay over {} writes: median {:?}, p99 {:?}, max {:?}",
            delays.len(),
            at(0.5),
            at(0.99),
            delays[delays.len() - 1]
        );
    });
}
