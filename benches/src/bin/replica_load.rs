//! A read-heavy workload (95 % reads by key, 5 % updates) on PostgreSQL: on the primary
//! alone, then with one and two streaming replicas (`PG_REPLICAS=2 scripts/replicas.sh`),
//! the clients sharing one handle (each write makes every client's next reads wait for it) or
//! each in a session of its own (`Db::session`: its own writes only). Prints a Markdown table: requests per second,
//! latency percentiles, and where the reads went.
//!
//! On one machine the replicas share the primary's two cores, so this shows what routing and
//! read-your-writes cost, not what replicas on machines of their own would gain.
//!
//! Usage: `replica_load [clients] [seconds]` (release build) with `DATABASE_URL_POSTGRES`,
//! `DATABASE_URL_POSTGRES_REPLICA` and `DATABASE_URL_POSTGRES_REPLICA_2` set.

use std::time::{Duration, Instant};

use repo_benches::{User, UserPatch, new_user};
use repo_runtime::DbOptions;
use repo_runtime::prelude::*;
use repo_runtime::sqlx;

const ROWS: usize = 1_000;
const DATABASE: &str = "repo_replica_bench";

/// `url` naming `database` instead of its own.
fn on_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{database}")
}

fn variable(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("{name} is unset: run `eval \"$(PG_REPLICAS=2 scripts/replicas.sh)\"`");
        std::process::exit(2)
    })
}

/// A fresh benchmark database on the primary, seeded, once both replicas have it.
async fn prepare(admin: &str, replicas: &[String]) -> String {
    let admin_db = Db::connect(admin).await.expect("connect to the primary");
    let pool = admin_db.as_postgres().expect("PostgreSQL");
    for statement in [
        format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"),
        format!("CREATE DATABASE {DATABASE}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(pool)
            .await
            .expect("make the benchmark database");
    }
    admin_db.close().await;
    let url = on_database(admin, DATABASE);
    let db = Db::connect(&url).await.expect("connect");
    db.create_schema::<User>().await.expect("schema");
    User::repository(&db)
        .insert_many((0..ROWS).map(|n| new_user("replica", n)).collect())
        .await
        .expect("seed");
    db.close().await;
    for replica in replicas {
        let started = Instant::now();
        loop {
            if let Ok(probe) = Db::connect(replica).await {
                let seeded = User::repository(&probe).count().await.unwrap_or(0);
                probe.close().await;
                if seeded == ROWS as u64 {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{replica} is not replaying"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    url
}

/// A small deterministic generator: every run asks the same.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

struct Run {
    requests: usize,
    latencies: Vec<Duration>,
    replica_reads: u64,
    primary_reads: u64,
}

async fn run(url: &str, replicas: &[String], sessions: bool, clients: usize, seconds: u64) -> Run {
    let options = DbOptions {
        max_connections: 10,
        ..DbOptions::default()
    };
    let db = Db::connect_with_replicas(url, replicas, options)
        .await
        .expect("connect");
    let ids: Vec<i64> = User::repository(&db)
        .list(ListOptions::new())
        .await
        .expect("ids")
        .into_iter()
        .map(|user| user.id)
        .collect();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        // A session per client: its reads wait for its own writes only.
        let db = if sessions { db.session() } else { db.clone() };
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let users = User::repository(&db);
            let mut state = client as u64 + 1;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let id = ids[(next(&mut state) as usize) % ids.len()];
                let started = Instant::now();
                if next(&mut state) % 100 < 5 {
                    let patch = UserPatch {
                        score: Some(next(&mut state) as i64),
                        ..UserPatch::default()
                    };
                    users.patch(id, patch).await.expect("update");
                } else {
                    users.get(id).await.expect("read");
                }
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client"));
    }
    let metrics = db.metrics();
    db.close().await;
    latencies.sort();
    Run {
        requests: latencies.len(),
        latencies,
        replica_reads: metrics.replicas.iter().map(|replica| replica.reads).sum(),
        primary_reads: metrics.primary_reads,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let admin = variable("DATABASE_URL_POSTGRES");
    let replicas = [
        on_database(&variable("DATABASE_URL_POSTGRES_REPLICA"), DATABASE),
        on_database(&variable("DATABASE_URL_POSTGRES_REPLICA_2"), DATABASE),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let url = prepare(&admin, &replicas).await;
        println!("{clients} clients, {seconds} s each, 95 % reads by key, 5 % updates:\n");
        println!(
            "| reads go to | requests/s | p50 ms | p99 ms | reads on replicas | reads kept on the primary |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        for (label, count, sessions) in [
            ("the primary alone", 0, false),
            ("1 replica, one handle shared by the clients", 1, false),
            ("1 replica, a session per client", 1, true),
            ("2 replicas, a session per client", 2, true),
        ] {
            let ran = run(&url, &replicas[..count], sessions, clients, seconds).await;
            let percentile = |p: f64| {
                let index = ((ran.latencies.len() as f64 - 1.0) * p) as usize;
                ran.latencies[index].as_secs_f64() * 1000.0
            };
            println!(
                "| {label} | {:.0} | {:.2} | {:.2} | {} | {} |",
                ran.requests as f64 / seconds as f64,
                percentile(0.5),
                percentile(0.99),
                ran.replica_reads,
                ran.primary_reads,
            );
        }
    });
}
