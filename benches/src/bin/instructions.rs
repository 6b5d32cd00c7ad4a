//! Runs one operation N times, through the generated repository or hand-written sqlx, for
//! counting instructions under `valgrind --tool=callgrind` (stable on a shared machine, unlike
//! wall-clock time). `benches/instructions.sh` runs it and reports the per-call difference.
//!
//! Usage: `instructions <sqlite|postgres|mysql> <generated|handwritten|connection> <get|insert|update|list|derived_query|filtered_page|load_children|load_children_one_by_one> <N>`

use repo_benches::{User, Users, clear, fresh_database, handwritten, new_user, settle, targets};
use repo_runtime::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, backend, side, operation, count] = args.as_slice() else {
        eprintln!(
            "usage: instructions <backend> <generated|handwritten|connection> <operation> <N>"
        );
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("N is a number");
    let Some(target) = targets().into_iter().find(|t| t.name == backend) else {
        eprintln!("backend {backend} is not configured");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let db = fresh_database(&target).await;
        clear(&db).await;
        let users = User::repository(&db);
        let rows = if operation == "list" { 1_000 } else { 100 };
        let seeded = users
            .insert_many((0..rows).map(|n| new_user("seed", n)).collect())
            .await
            .expect("seed");
        let posts = repo_benches::Post::repository(&db);
        if operation.starts_with("load_children") {
            let children = seeded
                .iter()
                .flat_map(|user| {
                    (0..10).map(|n| repo_benches::NewPost {
                        user_id: user.id,
                        title: format!("post {n} of {}", user.id),
                    })
                })
                .collect();
            posts.insert_many(children).await.expect("seed posts");
        }
        settle(&db).await;
        let generated = side == "generated";
        // Hand-written sqlx on a connection held throughout, for `get`.
        let mut held = match side.as_str() {
            "connection" => Some(handwritten::Held::acquire(&db).await.expect("connection")),
            _ => None,
        };
        for i in 0..count {
            let user = &seeded[i % seeded.len()];
            // 20 of the 100 seeded scores.
            let low = i64::try_from(i * 37 % 80).expect("small");
            match operation.as_str() {
                "get" if generated => drop(users.get(user.id).await.expect("get")),
                "get" if held.is_some() => drop(
                    held.as_mut()
                        .expect("held")
                        .get(user.id)
                        .await
                        .expect("get"),
                ),
                "get" => drop(handwritten::get(&db, user.id).await.expect("get")),
                "insert" if generated => {
                    drop(users.insert(new_user("run", i)).await.expect("insert"))
                }
                "insert" => drop(
                    handwritten::insert(&db, &new_user("run", i))
                        .await
                        .expect("insert"),
                ),
                "update" if generated => drop(users.update(user).await.expect("update")),
                "update" => drop(handwritten::update(&db, user).await.expect("update")),
                "list" if generated => drop(users.list(ListOptions::new()).await.expect("list")),
                "list" => drop(handwritten::list(&db).await.expect("list")),
                "derived_query" if generated => drop(
                    Users::find_all_by_score_between_order_by_score(&users, low, low + 19)
                        .await
                        .expect("derived query"),
                ),
                "derived_query" => drop(
                    handwritten::score_between(&db, low, low + 19)
                        .await
                        .expect("derived query"),
                ),
                "filtered_page" if generated => drop(
                    repo_benches::filtered_page(&users, Some(low), Some(low + 500), Some(true))
                        .await
                        .expect("filtered page"),
                ),
                "filtered_page" => drop(
                    handwritten::filtered_page(&db, Some(low), Some(low + 500), Some(true))
                        .await
                        .expect("filtered page"),
                ),
                "load_children" if generated => drop(
                    repo_benches::users_with_posts(&users)
                        .await
                        .expect("load children"),
                ),
                "load_children" => drop(
                    handwritten::users_with_posts(&db)
                        .await
                        .expect("load children"),
                ),
                // One statement per parent, through the repository: the N+1.
                "load_children_one_by_one" => drop(
                    repo_benches::users_with_posts_one_by_one(&users, &posts)
                        .await
                        .expect("load children"),
                ),
                other => panic!("unknown operation {other}"),
            }
        }
        drop(held);
        db.close().await;
    });
}
