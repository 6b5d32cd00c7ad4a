//! A three-node MariaDB Galera cluster (`scripts/galera.sh`): writes go to any node, a batch's
//! keys come back as each node numbered them (interleaved by `auto_increment_increment` and
//! each node's offset), two nodes updating the same row at once lose certification on
//! one of them (deadlock 1213), which a unit of work retries whole, and a node killed under
//! load sends a handle on the cluster to the next node, where the units of work in flight are
//! done again, nothing committed lost. The conformance suite runs against the first node
//! (module `galera`).
//!
//! The tests take turns: one of them kills a node.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use entities::{NewUser, User, UserRepository};
use repo_runtime::{Db, DbOptions, Isolation, RepoError, Repository, RetryPolicy, TxOptions};
use repo_tests::{Backend, TestDb};

/// Held by each test for its whole run.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The URL of the test database on every node of the cluster, the first node's being
/// `test`'s.
fn node_urls(test: &TestDb) -> Vec<String> {
    let nodes = std::env::var("DATABASE_URL_GALERA").expect("the cluster's nodes");
    let database = test
        .db
        .url()
        .rsplit_once('/')
        .map(|(_, name)| name.to_owned())
        .expect("a database name");
    nodes
        .split(',')
        .map(|node| {
            let (server, _) = node.rsplit_once('/').expect("a node URL");
            format!("{server}/{database}")
        })
        .collect()
}

/// A handle on each node of the cluster, to the test database.
async fn on_every_node(test: &TestDb) -> Vec<Db> {
    let mut handles = Vec::new();
    for url in node_urls(test) {
        handles.push(Db::connect(&url).await.expect("connect to a node"));
    }
    handles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_on_each_node_reads_back_the_keys_that_node_assigned() {
    let _turn = TURN.lock().await;
    let Some(test) = TestDb::new(Backend::Galera, "galera_batches").await else {
        return;
    };
    test.db.create_schema::<User>().await.unwrap();
    let nodes = on_every_node(&test).await;
    let mut all = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let batch: Vec<NewUser> = (0..5)
            .map(|n| NewUser {
                email: format!("node{index}-{n}@example.com"),
                name: format!("node {index}, user {n}"),
                bio: None,
            })
            .collect();
        let inserted = User::repository(node).insert_many(batch).await.unwrap();
        // Galera numbers a node's keys from its own offset, a step of the cluster's size.
        let steps: Vec<i64> = inserted
            .windows(2)
            .map(|pair| pair[1].id - pair[0].id)
            .collect();
        assert!(
            steps.iter().all(|step| *step == 3),
            "node {index}: {inserted:?}"
        );
        all.extend(inserted);
    }
    // Every key names the row it was returned with, read on another node.
    for (index, node) in nodes.iter().enumerate() {
        let users = User::repository(node);
        for user in &all {
            assert_eq!(
                users.get(user.id).await.unwrap(),
                *user,
                "read on node {index}"
            );
        }
    }
    for node in nodes {
        node.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certification_failures_are_retried_as_whole_units_of_work() {
    let _turn = TURN.lock().await;
    let Some(test) = TestDb::new(Backend::Galera, "galera_certification").await else {
        return;
    };
    test.db.create_schema::<User>().await.unwrap();
    let counter = User::repository(&test.db)
        .insert(NewUser {
            email: "counter@example.com".into(),
            name: "counter".into(),
            bio: Some("0".into()),
        })
        .await
        .unwrap();
    let nodes = on_every_node(&test).await;
    const ROUNDS: usize = 30;
    let serializable = TxOptions::new().isolation(Isolation::Serializable);
    let mut writers = Vec::new();
    for node in &nodes[..2] {
        let node = node.clone();
        writers.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                // A read-modify-write: serializable, so that the row read is locked and a
                // write certified on the other node aborts this one (1213) rather than being
                // overwritten by it.
                node.unit_of_work_with(&serializable, async |tx| {
                    let users = User::repository(&tx);
                    let mut row = users.get(counter.id).await?;
                    let value: usize = row.bio.as_deref().unwrap_or("0").parse().unwrap_or(0);
                    row.bio = Some((value + 1).to_string());
                    users.update(&row).await?;
                    Ok::<_, repo_runtime::RepoError>(())
                })
                .await
                .unwrap();
            }
            node.metrics().retries
        }));
    }
    let mut retries = 0;
    for writer in writers {
        retries += writer.await.unwrap();
    }
    // No increment lost, however many lost certification and ran again.
    let stored = User::repository(&nodes[2]).get(counter.id).await.unwrap();
    assert_eq!(
        stored.bio,
        Some((2 * ROUNDS).to_string()),
        "retries: {retries}"
    );
    assert!(retries > 0, "two nodes writing one row never conflicted");
    for node in nodes {
        node.close().await;
    }
}

/// Stops the third node at once, as a crash would.
fn kill_third_node() {
    let dir = std::env::var("GALERA_DIR").expect("GALERA_DIR, exported by scripts/galera.sh");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "pid=$(cat {dir}/node-3.pid) && kill -9 $pid && while [ -e /proc/$pid ]; do sleep 0.1; done"
        ))
        .status();
    assert!(
        status.is_ok_and(|status| status.success()),
        "the node did not stop"
    );
}

/// Starts the nodes that are down again when dropped, however the test ends: they rejoin the
/// cluster, which the other tests need whole.
struct RestartNodes;

impl Drop for RestartNodes {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/galera.sh");
        let status = std::process::Command::new("bash")
            .arg(script)
            .stdout(std::process::Stdio::null())
            .status();
        if !status.is_ok_and(|status| status.success()) && !std::thread::panicking() {
            panic!("scripts/galera.sh failed");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_sends_units_of_work_to_the_next_node() {
    let _turn = TURN.lock().await;
    let Some(test) = TestDb::new(Backend::Galera, "galera_failover").await else {
        return;
    };
    test.db.create_schema::<User>().await.unwrap();
    // The handle starts on the third node, the one to be killed; the first holds the test
    // database's cleanup.
    let mut urls = node_urls(&test);
    urls.rotate_right(1);
    let options = DbOptions {
        max_connections: 4,
        retry: RetryPolicy {
            max_attempts: 10,
            max_total_delay: Duration::from_secs(30),
            ..RetryPolicy::default()
        },
        ..DbOptions::default()
    };
    let cluster = Db::connect_to_cluster(&urls, options).await.unwrap();
    assert_eq!(cluster.metrics().cluster.unwrap().active, urls[0]);
    const WRITERS: usize = 6;
    const UNITS: usize = 40;
    let done = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let cluster = cluster.clone();
        let done = Arc::clone(&done);
        writers.push(tokio::spawn(async move {
            let mut unknown = 0;
            for unit in 0..UNITS {
                let email = format!("w{writer}-{unit}@example.com");
                let mut after_unknown = false;
                loop {
                    let outcome = cluster
                        .transaction(async |tx| {
                            let users = User::repository(&tx);
                            let mut user = users
                                .insert(NewUser {
                                    email: email.clone(),
                                    name: format!("writer {writer}"),
                                    bio: None,
                                })
                                .await?;
                            user.bio = Some(format!("unit {unit}"));
                            users.update(&user).await
                        })
                        .await;
                    match outcome {
                        Ok(_) => break,
                        // The commit was in flight when the node went: it may have been
                        // certified and applied on the others. The unit runs again, and its
                        // unique e-mail says whether the first had applied (so would a
                        // lookup, reads being causal on this cluster: `wsrep_sync_wait`).
                        Err(RepoError::CommitUnknown { .. }) => {
                            unknown += 1;
                            after_unknown = true;
                        }
                        Err(RepoError::Conflict { .. }) if after_unknown => break,
                        Err(error) => panic!("writer {writer}, unit {unit}: {error}"),
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            unknown
        }));
    }
    // Mid-run: a quarter of the units are done when the node dies.
    while done.load(Ordering::Relaxed) < WRITERS * UNITS / 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let restart = RestartNodes;
    kill_third_node();
    let mut unknown = 0;
    for writer in writers {
        unknown += writer.await.expect("a writer panicked");
    }
    let metrics = cluster.metrics();
    let status = metrics.cluster.clone().unwrap();
    eprintln!(
        "failover: {status:?}, {} retries, {unknown} commits unknown, errors {:?}",
        metrics.retries, metrics.errors
    );
    assert!(status.failovers >= 1, "{status:?}");
    assert_ne!(status.active, urls[0], "still on the killed node");
    assert!(metrics.retries > 0 || unknown > 0, "{metrics:?}");
    assert_eq!(metrics.errors_of("commit_unknown"), unknown as u64);
    // Every unit is there once, with what it wrote, read on the node the handle moved to.
    let users = User::repository(&cluster);
    assert_eq!(users.count().await.unwrap(), (WRITERS * UNITS) as u64);
    for writer in 0..WRITERS {
        for unit in 0..UNITS {
            let user = users
                .find_by_email(&format!("w{writer}-{unit}@example.com"))
                .await
                .unwrap()
                .expect("a unit of work lost");
            assert_eq!(user.bio, Some(format!("unit {unit}")));
        }
    }
    cluster.close().await;
    // Back in the cluster, the killed node has every row too.
    drop(restart);
    let third = Db::connect(&urls[0]).await.unwrap();
    assert_eq!(
        User::repository(&third).count().await.unwrap(),
        (WRITERS * UNITS) as u64
    );
    third.close().await;
}
