//! Each stack on the same workloads, per backend: criterion groups `<backend>/<workload>`, one
//! function per stack. `report.sh` runs this and writes the table of medians and ratios.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use repo_benches::{NewPost, Post, User, fresh_database, runtime, settle, targets};
use repo_peers::{AnyStack, PARENTS, POSTS_EACH, Stack, USERS, stacks, user};
use repo_runtime::prelude::*;

/// Distinct scores across every update of the run.
static UPDATES: AtomicUsize = AtomicUsize::new(1);

/// Distinct e-mails across every insert of the run.
static INSERTED: AtomicUsize = AtomicUsize::new(0);

fn fresh(count: usize) -> Vec<repo_benches::NewUser> {
    let first = INSERTED.fetch_add(count, Ordering::Relaxed);
    (first..first + count).map(|n| user("peer", n)).collect()
}

fn benchmarks(c: &mut Criterion) {
    let rt = runtime();
    // One SQLite file for every SQLite stack: the `rusqlite` target of the benchmarks is the
    // same backend.
    for target in targets().into_iter().filter(|t| t.name != "rusqlite") {
        let db = rt.block_on(fresh_database(&target));
        let seeded: Vec<User> = rt.block_on(async {
            let users = User::repository(&db)
                .insert_many(fresh(USERS))
                .await
                .expect("seed users");
            let posts = users[..PARENTS]
                .iter()
                .flat_map(|u| {
                    (0..POSTS_EACH).map(|n| NewPost {
                        user_id: u.id,
                        title: format!("post {n} of {}", u.id),
                    })
                })
                .collect();
            Post::repository(&db)
                .insert_many(posts)
                .await
                .expect("seed posts");
            settle(&db).await;
            users
        });
        let url = db.url().to_owned();
        let stacks: Vec<(&str, RefCell<AnyStack>)> = rt
            .block_on(stacks(&url))
            .into_iter()
            .map(|(name, stack)| (name, RefCell::new(stack)))
            .collect();
        let backend = target.name;

        let mut group = c.benchmark_group(format!("{backend}/find_by_id"));
        for (name, stack) in &stacks {
            let mut i = 0;
            group.bench_function(*name, |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let ids: Vec<i64> = (0..iters)
                        .map(|_| {
                            i = (i + 7) % seeded.len();
                            seeded[i].id
                        })
                        .collect();
                    async move {
                        let mut stack = stack.borrow_mut();
                        let start = Instant::now();
                        for id in ids {
                            assert_eq!(stack.find_by_id(id).await, 1);
                        }
                        start.elapsed()
                    }
                })
            });
        }
        group.finish();

        for limit in [1_i64, 100, 10_000] {
            let mut group = c.benchmark_group(format!("{backend}/select_{limit}"));
            if limit == 10_000 {
                group.sample_size(20);
            }
            for (name, stack) in &stacks {
                group.bench_function(*name, |b| {
                    b.to_async(&rt).iter_custom(|iters| async move {
                        let mut stack = stack.borrow_mut();
                        let start = Instant::now();
                        for _ in 0..iters {
                            assert_eq!(stack.select(limit).await, limit as usize);
                        }
                        start.elapsed()
                    })
                });
            }
            group.finish();
        }

        let mut group = c.benchmark_group(format!("{backend}/users_with_posts"));
        for (name, stack) in &stacks {
            group.bench_function(*name, |b| {
                b.to_async(&rt).iter_custom(|iters| async move {
                    let mut stack = stack.borrow_mut();
                    let start = Instant::now();
                    for _ in 0..iters {
                        assert_eq!(stack.users_with_posts().await, PARENTS * POSTS_EACH);
                    }
                    start.elapsed()
                })
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("{backend}/update_one"));
        for (name, stack) in &stacks {
            group.bench_function(*name, |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let users: Vec<User> = (0..iters)
                        .map(|_| {
                            // A score never written before: MySQL counts changed rows only.
                            let k = UPDATES.fetch_add(1, Ordering::Relaxed);
                            let mut user = seeded[k % seeded.len()].clone();
                            user.score = i64::try_from(k).unwrap_or(0);
                            user
                        })
                        .collect();
                    async move {
                        let mut stack = stack.borrow_mut();
                        let start = Instant::now();
                        for user in &users {
                            assert_eq!(stack.update_one(user).await, 1);
                        }
                        start.elapsed()
                    }
                })
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("{backend}/insert_one"));
        for (name, stack) in &stacks {
            group.bench_function(*name, |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let news = fresh(iters as usize);
                    async move {
                        let mut stack = stack.borrow_mut();
                        let start = Instant::now();
                        for new in &news {
                            assert!(stack.insert_one(new).await > 0);
                        }
                        start.elapsed()
                    }
                })
            });
        }
        group.finish();

        for size in [100_usize, 1_000] {
            let mut group = c.benchmark_group(format!("{backend}/insert_{size}"));
            group.sample_size(10);
            for (name, stack) in &stacks {
                group.bench_function(*name, |b| {
                    b.to_async(&rt).iter_custom(|iters| async move {
                        let mut stack = stack.borrow_mut();
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let news = fresh(size);
                            let start = Instant::now();
                            assert_eq!(stack.insert_many(&news).await, size);
                            total += start.elapsed();
                        }
                        total
                    })
                });
            }
            group.finish();
        }
        drop(stacks);
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
