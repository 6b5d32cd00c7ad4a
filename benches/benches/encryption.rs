//! What `#[repo(encrypted)]` costs: the same entity with its e-mail and notes in the clear and
//! encrypted (the e-mail looked up through its blind index), through the same generated
//! repository on an SQLite file (rusqlite) and on the in-memory store. Groups
//! `encryption/<backend>/<operation>`, each with the functions `plain` and `encrypted`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use repo_benches::{Target, fresh_database, runtime, settle};
use repo_runtime::Keyring;
use repo_runtime::prelude::*;

/// An account in the clear.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "plain_accounts")]
pub struct PlainAccount {
    /// The key.
    #[repo(id, generated)]
    pub id: i64,
    /// Unique, in the clear.
    #[repo(unique)]
    pub email: String,
    /// In the clear.
    pub notes: Option<String>,
    /// A number, in the clear in both.
    pub score: i64,
}

/// The same account, its e-mail and notes encrypted.
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "sealed_accounts")]
pub struct SealedAccount {
    /// The key.
    #[repo(id, generated)]
    pub id: i64,
    /// Unique, encrypted, looked up through its blind index.
    #[repo(encrypted, unique)]
    pub email: String,
    /// Encrypted.
    #[repo(encrypted)]
    pub notes: Option<String>,
    /// A number, in the clear in both.
    pub score: i64,
}

fn email(n: usize) -> String {
    format!("account-{n}@example.com")
}

const NOTES: &str = "a note of about sixty characters, as a profile field holds";

fn keyring() -> Arc<Keyring> {
    let keys = Keyring::parse(&format!("2026:{}", "ab".repeat(32)))
        .and_then(|keys| keys.with_blind_index_key(&"cd".repeat(32)))
        .expect("keys");
    Arc::new(keys)
}

fn benchmarks(c: &mut Criterion) {
    let rt = runtime();
    let sqlite = rt.block_on(fresh_database(&Target {
        name: "rusqlite",
        server_url: None,
    }));
    let backends = [("sqlite", sqlite), ("memory", Db::memory())];
    for (backend, db) in &backends {
        let db = db.with_keyring(keyring());
        rt.block_on(async {
            db.create_schema::<PlainAccount>()
                .await
                .expect("plain table");
            db.create_schema::<SealedAccount>()
                .await
                .expect("sealed table");
            PlainAccount::repository(&db)
                .insert_many(
                    (0..1_000)
                        .map(|n| NewPlainAccount {
                            email: email(n),
                            notes: Some(NOTES.into()),
                            score: n as i64,
                        })
                        .collect(),
                )
                .await
                .expect("seed plain");
            SealedAccount::repository(&db)
                .insert_many(
                    (0..1_000)
                        .map(|n| NewSealedAccount {
                            email: email(n),
                            notes: Some(NOTES.into()),
                            score: n as i64,
                        })
                        .collect(),
                )
                .await
                .expect("seed sealed");
            if !db.is_memory() {
                settle(&db).await;
            }
        });
        let (plain, sealed) = (
            PlainAccount::repository(&db),
            SealedAccount::repository(&db),
        );

        let mut group = c.benchmark_group(format!("encryption/{backend}/get"));
        let next = AtomicUsize::new(0);
        let id = || (next.fetch_add(1, Ordering::Relaxed) % 1_000 + 1) as i64;
        group.bench_function("plain", |b| {
            b.to_async(&rt)
                .iter(|| async { plain.get(id()).await.expect("get") });
        });
        group.bench_function("encrypted", |b| {
            b.to_async(&rt)
                .iter(|| async { sealed.get(id()).await.expect("get") });
        });
        group.finish();

        let mut group = c.benchmark_group(format!("encryption/{backend}/find_by_email"));
        let lookup = || email(next.fetch_add(1, Ordering::Relaxed) % 1_000);
        group.bench_function("plain", |b| {
            b.to_async(&rt)
                .iter(|| async { plain.find_by_email(&lookup()).await.expect("find") });
        });
        group.bench_function("encrypted", |b| {
            b.to_async(&rt)
                .iter(|| async { sealed.find_by_email(&lookup()).await.expect("find") });
        });
        group.finish();

        let mut group = c.benchmark_group(format!("encryption/{backend}/list_100"));
        group.bench_function("plain", |b| {
            b.to_async(&rt).iter(|| async {
                plain
                    .list(ListOptions::new().limit(100))
                    .await
                    .expect("list")
            });
        });
        group.bench_function("encrypted", |b| {
            b.to_async(&rt).iter(|| async {
                sealed
                    .list(ListOptions::new().limit(100))
                    .await
                    .expect("list")
            });
        });
        group.finish();

        let mut group = c.benchmark_group(format!("encryption/{backend}/insert"));
        let fresh = AtomicUsize::new(1_000_000);
        group.bench_function("plain", |b| {
            b.to_async(&rt).iter(|| async {
                let n = fresh.fetch_add(1, Ordering::Relaxed);
                plain
                    .insert(NewPlainAccount {
                        email: email(n),
                        notes: Some(NOTES.into()),
                        score: 0,
                    })
                    .await
                    .expect("insert")
            });
        });
        group.bench_function("encrypted", |b| {
            b.to_async(&rt).iter(|| async {
                let n = fresh.fetch_add(1, Ordering::Relaxed);
                sealed
                    .insert(NewSealedAccount {
                        email: email(n),
                        notes: Some(NOTES.into()),
                        score: 0,
                    })
                    .await
                    .expect("insert")
            });
        });
        group.finish();
    }
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
