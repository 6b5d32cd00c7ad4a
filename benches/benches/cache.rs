//! The entity cache, per backend: `get` and `find_by_email` of a cached entity against the same
//! reads with the cache off (`<backend>/cache_get`, `<backend>/cache_find_by_unique`: functions
//! `uncached` and `cached`), and what the cache adds to a write (`<backend>/cache_write`:
//! `cache_off` and `cache_on`, the same `write` of a cached entity on a handle without and with
//! the cache).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use repo_benches::{User, bench_options, clear, fresh_database_with, new_user, runtime, targets};
use repo_runtime::DbOptions;
use repo_runtime::prelude::*;

/// The benchmark's users, declared cached: the same table and columns as [`User`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "bench_users", cache(capacity = 10_000, ttl = "5m"))]
pub struct CachedUser {
    /// Generated key.
    #[repo(id, generated)]
    pub id: i64,
    /// Unique address.
    #[repo(unique)]
    pub email: String,
    /// Display name.
    pub name: String,
    /// Optional text.
    pub bio: Option<String>,
    /// A number.
    pub score: i64,
}

fn benchmarks(c: &mut Criterion) {
    let rt = runtime();
    for target in targets() {
        let name = target.name;
        let with_cache = DbOptions {
            cache: true,
            ..bench_options(&target)
        };
        let cached_db = rt.block_on(fresh_database_with(&target, with_cache));
        let plain_db = rt
            .block_on(Db::connect_with(cached_db.url(), bench_options(&target)))
            .expect("a second handle on the benchmark database");
        rt.block_on(clear(&cached_db));
        let seeded = rt
            .block_on(
                User::repository(&cached_db)
                    .insert_many((0..1_000).map(|n| new_user("seed", n)).collect()),
            )
            .expect("seed");
        let ids: Vec<i64> = seeded.iter().map(|u| u.id).collect();
        let cached = CachedUser::repository(&cached_db);
        let uncached = CachedUser::repository(&plain_db);
        rt.block_on(async {
            for user in &seeded {
                cached.get(user.id).await.expect("warm the cache");
                cached
                    .find_by_email(&user.email)
                    .await
                    .expect("warm the cache");
                uncached.get(user.id).await.expect("warm the pool");
            }
        });

        let mut group = c.benchmark_group(format!("{name}/cache_get"));
        let mut i = 0;
        group.bench_function("uncached", |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7) % ids.len();
                uncached.get(ids[i])
            })
        });
        group.bench_function("cached", |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7) % ids.len();
                cached.get(ids[i])
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("{name}/cache_find_by_unique"));
        group.bench_function("uncached", |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7) % seeded.len();
                uncached.find_by_email(&seeded[i].email)
            })
        });
        group.bench_function("cached", |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7) % seeded.len();
                cached.find_by_email(&seeded[i].email)
            })
        });
        group.finish();

        let rows: Vec<CachedUser> = rt
            .block_on(cached.get_many(&ids))
            .expect("the rows to write");
        let mut group = c.benchmark_group(format!("{name}/cache_write"));
        group.bench_function("cache_off", |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7) % rows.len();
                uncached.write(&rows[i])
            })
        });
        group.bench_function("cache_on", |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7) % rows.len();
                cached.write(&rows[i])
            })
        });
        group.finish();

        rt.block_on(plain_db.close());
        rt.block_on(cached_db.close());
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benchmarks
}
criterion_main!(benches);
