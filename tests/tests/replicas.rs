//! Read replicas on real servers (`scripts/replicas.sh`: a PostgreSQL standby of the local
//! server, a MariaDB primary with its GTID replica): reads go to the replica, writes never
//! do (both replicas refuse writes: any that reached them would fail), a handle reads its own
//! writes while replication is paused, and a replica that is killed is passed over and used
//! again once back. The backends and their scenarios in turn: they stop and start the shared
//! replicas.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use std::time::{Duration, Instant};

use entities::{NewUser, User, UserPatch, UserRepository};
use repo_runtime::{Db, DbOptions, Filter, ListOptions, Repository};
use repo_tests::{Backend, Replicated};

fn new_user(n: usize) -> NewUser {
    NewUser {
        email: format!("user{n}@example.com"),
        name: format!("user {n}"),
        bio: None,
    }
}

/// Reads served by the replica so far.
fn replica_reads(db: &Db) -> u64 {
    db.metrics()
        .replicas
        .iter()
        .map(|replica| replica.reads)
        .sum()
}

/// Runs `read` until the replica serves it, within 30 s: replication is asynchronous.
async fn until_on_replica<T>(db: &Db, mut read: impl AsyncFnMut() -> T) -> T {
    let started = Instant::now();
    loop {
        let before = replica_reads(db);
        let value = read().await;
        if replica_reads(db) > before {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no read reached the replica: {:?}",
            db.metrics()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every kind of write goes to the primary: the replica refuses writes, so each would fail
/// there. Reads go to the replica once it has the writes.
async fn writes_never_reach_the_replica(db: &Db) {
    db.create_schema::<User>().await.unwrap();
    let users = User::repository(db);
    let ada = users.insert(new_user(1)).await.unwrap();
    users
        .insert_many((2..6).map(new_user).collect())
        .await
        .unwrap();
    let mut changed = ada.clone();
    changed.name = "Ada".into();
    users.update(&changed).await.unwrap();
    users
        .patch(
            ada.id,
            UserPatch {
                bio: Some(Some("pioneer".into())),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    users
        .patch_where(
            &User::NAME.eq("user 2"),
            UserPatch {
                bio: Some(Some("x".into())),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap();
    let mut upserted = ada.clone();
    upserted.name = "Ada Lovelace".into();
    upserted.bio = Some("pioneer".into());
    users.upsert(&upserted).await.unwrap();
    users.delete(ada.id + 4).await.unwrap();
    users.delete_where(&User::NAME.eq("user 4")).await.unwrap();
    db.transaction(async |tx| {
        let users = User::repository(&tx);
        let grace = users.insert(new_user(7)).await?;
        // Inside a transaction, reads are the transaction's: on the primary.
        assert!(users.find(grace.id).await?.is_some());
        Ok(())
    })
    .await
    .unwrap();
    // The handle that wrote all this reads it back, wherever the read goes.
    let read = users.get(ada.id).await.unwrap();
    assert_eq!(read.name, "Ada Lovelace");
    assert_eq!(read.bio.as_deref(), Some("pioneer"));
    let everyone = until_on_replica(db, async || {
        users
            .find_where(&Filter::all(), ListOptions::new())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(everyone.len(), 4, "{everyone:?}");
    assert_eq!(users.count().await.unwrap(), 4);
    // `primary()` keeps a read off the replicas.
    let before = replica_reads(db);
    assert_eq!(User::repository(db.primary()).count().await.unwrap(), 4);
    assert_eq!(replica_reads(db), before);
}

/// Pauses or resumes replaying on the replica.
async fn set_replay(backend: Backend, replica_url: &str, paused: bool) {
    let replica = Db::connect(replica_url).await.unwrap();
    let statement = match (backend, paused) {
        (Backend::Postgres, true) => "SELECT pg_wal_replay_pause()::text",
        (Backend::Postgres, false) => "SELECT pg_wal_replay_resume()::text",
        (_, true) => "STOP SLAVE SQL_THREAD",
        (_, false) => "START SLAVE SQL_THREAD",
    };
    match backend {
        Backend::Postgres => {
            sqlx::raw_sql(statement)
                .execute(replica.as_postgres().unwrap())
                .await
                .unwrap();
        }
        _ => {
            sqlx::raw_sql(statement)
                .execute(replica.as_mysql().unwrap())
                .await
                .unwrap();
        }
    }
    replica.close().await;
}

/// With replaying paused, the handle that wrote reads its write from the primary; another
/// handle, which wrote nothing, may read the replica's older row (it does here). Once
/// replaying resumes, the writer's reads go back to the replica.
async fn a_writer_reads_its_writes_while_the_replica_is_behind(
    backend: Backend,
    writer: &Db,
    replicated: &Replicated,
) {
    let users = User::repository(writer);
    let ada = users
        .find_by_email("user1@example.com")
        .await
        .unwrap()
        .unwrap();
    let bystander = Db::connect_with_replicas(
        &replicated.primary_url,
        &[&replicated.replica_url],
        DbOptions::default(),
    )
    .await
    .unwrap();
    let theirs = User::repository(&bystander);
    until_on_replica(&bystander, async || theirs.get(ada.id).await.unwrap()).await;

    set_replay(backend, &replicated.replica_url, true).await;
    let mut renamed = ada.clone();
    renamed.name = "Countess".into();
    users.update(&renamed).await.unwrap();
    let kept_on_primary = writer.metrics().primary_reads;
    assert_eq!(users.get(ada.id).await.unwrap().name, "Countess");
    assert!(
        writer.metrics().primary_reads > kept_on_primary,
        "{:?}",
        writer.metrics()
    );
    let before = replica_reads(&bystander);
    assert_eq!(
        theirs.get(ada.id).await.unwrap().name,
        ada.name,
        "the replica's older row"
    );
    assert!(replica_reads(&bystander) > before);
    // A session of the writer's handle waits for its own writes only: none yet.
    let fresh = writer.session();
    let before = replica_reads(writer);
    let read = User::repository(&fresh).get(ada.id).await.unwrap();
    assert_eq!(read.name, ada.name, "a new session reads the replica");
    assert!(replica_reads(writer) > before);
    let behind = writer.metrics().replicas[0].behind;
    assert!(
        behind.is_some_and(|behind| behind > 0),
        "{:?}",
        writer.metrics()
    );

    set_replay(backend, &replicated.replica_url, false).await;
    let read = until_on_replica(writer, async || users.get(ada.id).await.unwrap()).await;
    assert_eq!(read.name, "Countess");
    assert_eq!(theirs.get(ada.id).await.unwrap().name, "Countess");
    bystander.close().await;
}

/// Stops the replica's server at once, as a crash would.
fn kill_replica(backend: Backend) {
    let dir = std::env::var("REPLICAS_DIR").expect("REPLICAS_DIR, exported by scripts/replicas.sh");
    let status = match backend {
        Backend::Postgres => std::process::Command::new("runuser")
            .args(["-u", "postgres", "--", "sh", "-c"])
            .arg(format!(
                "$(dirname $(readlink -f $(command -v pg_ctl)))/pg_ctl -D {dir}/postgres-replica -m immediate stop || pg_ctl -D {dir}/postgres-replica -m immediate stop"
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status(),
        _ => std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "pid=$(cat {dir}/mariadb-3308.pid) && kill -9 $pid && while [ -e /proc/$pid ]; do sleep 0.1; done"
            ))
            .status(),
    };
    assert!(
        status.is_ok_and(|status| status.success()),
        "the replica did not stop"
    );
}

/// Starts whatever of the replicas is down again.
fn restart_replicas() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/replicas.sh");
    let status = std::process::Command::new("bash")
        .arg(script)
        .stdout(std::process::Stdio::null())
        .status();
    assert!(
        status.is_ok_and(|status| status.success()),
        "scripts/replicas.sh failed"
    );
}

/// Killed mid-run, the replica is passed over: every read still succeeds, on the primary.
/// Back, it serves reads again.
async fn a_killed_replica_is_passed_over_and_used_again(backend: Backend, db: &Db) {
    let users = User::repository(db);
    let ada = users
        .find_by_email("user1@example.com")
        .await
        .unwrap()
        .unwrap();
    until_on_replica(db, async || users.get(ada.id).await.unwrap()).await;
    kill_replica(backend);
    for _ in 0..20 {
        assert_eq!(users.get(ada.id).await.unwrap().id, ada.id);
        assert_eq!(users.count().await.unwrap(), 4);
    }
    assert!(
        db.metrics().replicas.iter().any(|replica| !replica.healthy),
        "{:?}",
        db.metrics()
    );
    restart_replicas();
    let read = until_on_replica(db, async || users.get(ada.id).await.unwrap()).await;
    assert_eq!(read.id, ada.id);
    assert!(db.metrics().replicas.iter().all(|replica| replica.healthy));
}

async fn replicas_on(backend: Backend) {
    let Some(replicated) = Replicated::new(backend, "replicas", DbOptions::default()).await else {
        return;
    };
    let db = replicated.test.db.clone();
    writes_never_reach_the_replica(&db).await;
    a_writer_reads_its_writes_while_the_replica_is_behind(backend, &db, &replicated).await;
    a_killed_replica_is_passed_over_and_used_again(backend, &db).await;
    db.close().await;
}

/// One after the other: a restart starts whichever replica is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_postgres_and_mariadb() {
    replicas_on(Backend::Postgres).await;
    replicas_on(Backend::MySql).await;
}

#[tokio::test]
async fn replicas_are_for_the_servers() {
    let error = Db::connect_with_replicas(
        "sqlite::memory:",
        &["sqlite::memory:"],
        DbOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("read replicas are for"),
        "{error}"
    );
}

/// A replica that does not answer when the handle connects does not fail the connect: its
/// first read finds it down and is done on the primary, as after a replica dies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_down_at_connect_is_passed_over() {
    for (backend, nowhere) in [
        (Backend::Postgres, "postgres://repo@127.0.0.1:1/none"),
        (Backend::MySql, "mysql://repo@127.0.0.1:1/none"),
    ] {
        let Some(test) = repo_tests::TestDb::new(backend, "replica_down").await else {
            continue;
        };
        test.db.create_schema::<User>().await.unwrap();
        let db = Db::connect_with_replicas(test.db.url(), &[nowhere], DbOptions::default())
            .await
            .expect("connects with its replica down");
        let users = User::repository(&db);
        let ada = users
            .insert(NewUser {
                email: "ada@example.com".into(),
                name: "Ada".into(),
                bio: None,
            })
            .await
            .unwrap();
        for _ in 0..5 {
            assert_eq!(users.get(ada.id).await.unwrap(), ada);
        }
        let status = db.metrics();
        assert!(!status.replicas[0].healthy, "{status:?}");
        assert_eq!(status.replicas[0].reads, 0);
        assert!(status.primary_reads >= 5, "{status:?}");
        db.close().await;
    }
}
