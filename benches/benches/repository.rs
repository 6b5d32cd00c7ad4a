//! The generated repository against hand-written sqlx doing the same statements on the same
//! pool, per backend. `benches/report.sh` runs this and writes `benches/RESULTS.md`.
//!
//! Each group is `<backend>/<operation>` with the functions `generated` and `handwritten`,
//! except `<backend>/insert_1000` which compares `insert_many` with a loop of single inserts
//! inside one transaction.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use repo_benches::{
    User, Users, clear, fresh_database, handwritten, new_user, runtime, settle, targets,
};
use repo_runtime::prelude::*;

/// Runs `insert` `iters` times on an emptied table with `size` fresh rows, timing only it.
async fn timed_batches(
    db: &Db,
    iters: u64,
    size: usize,
    insert: impl AsyncFn(Vec<repo_benches::NewUser>),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        clear(db).await;
        let news = (0..size).map(|n| new_user("batch", n)).collect();
        let start = Instant::now();
        insert(news).await;
        total += start.elapsed();
    }
    total
}

fn benchmarks(c: &mut Criterion) {
    let rt = runtime();
    for target in targets() {
        let db = rt.block_on(fresh_database(&target));
        let repository = User::repository(&db);
        let name = target.name;

        // Single rows, against a table of 1,000.
        rt.block_on(clear(&db));
        let seeded = rt
            .block_on(repository.insert_many((0..1_000).map(|n| new_user("seed", n)).collect()))
            .expect("seed");
        let ids: Vec<i64> = seeded.iter().map(|u| u.id).collect();
        rt.block_on(async {
            settle(&db).await;
            // Warm every pooled connection's statement cache and page cache for both sides.
            for id in &ids {
                repository.get(*id).await.expect("warm-up");
                handwritten::get(&db, *id).await.expect("warm-up");
            }
        });
        let mut group = c.benchmark_group(format!("{name}/get"));
        let mut i = 0;
        group.bench_function("generated", |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7) % ids.len();
                repository.get(ids[i])
            })
        });
        group.bench_function("handwritten", |b| {
            b.to_async(&rt).iter(|| {
                i = (i + 7) % ids.len();
                handwritten::get(&db, ids[i])
            })
        });
        group.finish();

        // A derived query of a port: 20 rows by a range of a non-key column.
        let mut group = c.benchmark_group(format!("{name}/derived_query"));
        let mut low = 0;
        group.bench_function("generated", |b| {
            b.to_async(&rt).iter(|| {
                low = (low + 37) % 980;
                Users::find_all_by_score_between_order_by_score(&repository, low, low + 19)
            })
        });
        group.bench_function("handwritten", |b| {
            b.to_async(&rt).iter(|| {
                low = (low + 37) % 980;
                handwritten::score_between(&db, low, low + 19)
            })
        });
        group.finish();

        // A search page built at run time: a filter of optional conditions, 20 rows.
        let mut group = c.benchmark_group(format!("{name}/filtered_page"));
        let mut low = 0;
        group.bench_function("generated", |b| {
            b.to_async(&rt).iter(|| {
                low = (low + 37) % 500;
                repo_benches::filtered_page(&repository, Some(low), Some(low + 500), Some(true))
            })
        });
        group.bench_function("handwritten", |b| {
            b.to_async(&rt).iter(|| {
                low = (low + 37) % 500;
                handwritten::filtered_page(&db, Some(low), Some(low + 500), Some(true))
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("{name}/update"));
        let mut k = 0;
        group.bench_function("generated", |b| {
            b.to_async(&rt).iter(|| {
                k += 1;
                let mut user = seeded[k % seeded.len()].clone();
                user.score = i64::try_from(k).unwrap_or(0);
                let repository = &repository;
                async move { repository.update(&user).await.expect("update") }
            })
        });
        group.bench_function("handwritten", |b| {
            b.to_async(&rt).iter(|| {
                k += 1;
                let mut user = seeded[k % seeded.len()].clone();
                user.score = i64::try_from(k).unwrap_or(0);
                let db = &db;
                async move { handwritten::update(db, &user).await.expect("update") }
            })
        });
        group.finish();

        // The update that returns nothing: one statement on MySQL too.
        let mut group = c.benchmark_group(format!("{name}/write"));
        group.bench_function("generated", |b| {
            b.to_async(&rt).iter(|| {
                k += 1;
                let mut user = seeded[k % seeded.len()].clone();
                user.score = i64::try_from(k).unwrap_or(0);
                let repository = &repository;
                async move { repository.write(&user).await.expect("write") }
            })
        });
        group.bench_function("handwritten", |b| {
            b.to_async(&rt).iter(|| {
                k += 1;
                let mut user = seeded[k % seeded.len()].clone();
                user.score = i64::try_from(k).unwrap_or(0);
                let db = &db;
                async move { handwritten::write(db, &user).await.expect("write") }
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("{name}/insert"));
        let mut n = 0;
        group.bench_function("generated", |b| {
            b.to_async(&rt).iter(|| {
                n += 1;
                repository.insert(new_user("gen", n))
            })
        });
        group.bench_function("handwritten", |b| {
            b.to_async(&rt).iter(|| {
                n += 1;
                let new = new_user("hand", n);
                let db = &db;
                async move { handwritten::insert(db, &new).await }
            })
        });
        group.finish();

        // Batches: each iteration inserts fresh rows into an emptied table; only the insert is
        // timed.
        for size in [1_000usize, 10_000] {
            let mut group = c.benchmark_group(format!("{name}/insert_many_{size}"));
            group.sample_size(10);
            group.bench_function("generated", |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    timed_batches(&db, iters, size, async |news| {
                        repository.insert_many(news).await.expect("batch");
                    })
                })
            });
            group.bench_function("handwritten", |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    timed_batches(&db, iters, size, async |news| {
                        handwritten::insert_many(&db, &news).await.expect("batch");
                    })
                })
            });
            group.finish();
        }

        // insert_many against a loop of single inserts in one transaction.
        let mut group = c.benchmark_group(format!("{name}/insert_1000"));
        group.sample_size(10);
        group.bench_function("insert_many", |b| {
            b.to_async(&rt).iter_custom(|iters| {
                timed_batches(&db, iters, 1_000, async |news| {
                    repository.insert_many(news).await.expect("batch");
                })
            })
        });
        group.bench_function("single_inserts_in_transaction", |b| {
            b.to_async(&rt).iter_custom(|iters| {
                timed_batches(&db, iters, 1_000, async |news| {
                    let tx = db.begin().await.expect("begin");
                    let users = User::repository(&tx);
                    for new in news {
                        users.insert(new).await.expect("insert");
                    }
                    tx.commit().await.expect("commit");
                })
            })
        });
        group.finish();

        // Listing 10,000 rows.
        rt.block_on(clear(&db));
        rt.block_on(repository.insert_many((0..10_000).map(|n| new_user("list", n)).collect()))
            .expect("seed list");
        rt.block_on(settle(&db));
        let mut group = c.benchmark_group(format!("{name}/list_10000"));
        group.sample_size(20);
        group.bench_function("generated", |b| {
            b.to_async(&rt).iter(|| repository.list(ListOptions::new()))
        });
        group.bench_function("handwritten", |b| {
            b.to_async(&rt).iter(|| handwritten::list(&db))
        });
        group.finish();

        rt.block_on(db.close());
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
