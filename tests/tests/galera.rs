//! A three-node MariaDB Galera cluster (`scripts/galera.sh`): writes go to any node, a batch's
//! keys come back as each node numbered them (interleaved by `auto_increment_increment` and
//! each node's offset), and two nodes updating the same row at once lose certification on
//! one of them (deadlock 1213), which a unit of work retries whole. The conformance suite
//! runs against the first node (module `galera`).

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use entities::{NewUser, User};
use repo_runtime::{Db, Repository};
use repo_tests::{Backend, TestDb};

/// The test database on every node of the cluster, the first node's being `test`'s.
async fn on_every_node(test: &TestDb) -> Vec<Db> {
    let nodes = std::env::var("DATABASE_URL_GALERA").expect("the cluster's nodes");
    let database = test
        .db
        .url()
        .rsplit_once('/')
        .map(|(_, name)| name.to_owned())
        .expect("a database name");
    let mut handles = Vec::new();
    for node in nodes.split(',') {
        let (server, _) = node.rsplit_once('/').expect("a node URL");
        handles.push(
            Db::connect(&format!("{server}/{database}"))
                .await
                .expect("connect to a node"),
        );
    }
    handles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_on_each_node_reads_back_the_keys_that_node_assigned() {
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
    let mut writers = Vec::new();
    for node in &nodes[..2] {
        let node = node.clone();
        writers.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                node.unit_of_work(async |tx| {
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
