//! The in-memory store against an SQLite file, through the same generated repository: what a
//! test saves by running on `Db::memory()`. Groups `memory_vs_sqlite/<operation>`, each with
//! the functions `memory` and `sqlite`, on a table of 1,000 rows (inserts last, as they grow it).

use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use repo_benches::{
    Target, User, UserColumn, UserRepository, fresh_database, new_user, runtime, settle,
};
use repo_runtime::prelude::*;

fn benchmarks(c: &mut Criterion) {
    let rt = runtime();
    let memory = Db::memory();
    let sqlite = rt.block_on(fresh_database(&Target {
        name: "sqlite",
        server_url: None,
    }));
    rt.block_on(memory.create_schema::<User>())
        .expect("in-memory table");
    let backends = [("memory", memory), ("sqlite", sqlite)];
    let mut ids = Vec::new();
    for (_, db) in &backends {
        let seeded = rt
            .block_on(
                User::repository(db).insert_many((0..1_000).map(|n| new_user("seed", n)).collect()),
            )
            .expect("seed");
        ids = seeded.iter().map(|user| user.id).collect();
        if !db.is_memory() {
            rt.block_on(settle(db));
        }
    }

    let mut group = c.benchmark_group("memory_vs_sqlite/get");
    for (name, db) in &backends {
        let repository = User::repository(db);
        let mut next = ids.iter().cycle();
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| {
                let id = *next.next().expect("ids");
                let repository = &repository;
                async move { repository.get(id).await.expect("get") }
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("memory_vs_sqlite/find_by_email");
    for (name, db) in &backends {
        let repository = User::repository(db);
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                repository
                    .find_by_email("seed-500@example.com")
                    .await
                    .expect("find")
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("memory_vs_sqlite/list_100");
    for (name, db) in &backends {
        let repository = User::repository(db);
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                repository
                    .list(ListOptions::new().desc(UserColumn::Score).limit(100))
                    .await
                    .expect("list")
            });
        });
    }
    group.finish();
    let mut group = c.benchmark_group("memory_vs_sqlite/insert");
    let counter = AtomicUsize::new(0);
    for (name, db) in &backends {
        let repository = User::repository(db);
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                repository.insert(new_user(name, n)).await.expect("insert")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
