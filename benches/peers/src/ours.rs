//! The generated repository.

use repo_benches::{NewUser, Post, SqlPostRepository, SqlUserRepository, User};
use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, SqlRepository, SqliteDriver};

use crate::{PARENTS, Stack};

/// The generated repositories of users and posts on a `Db` of one connection.
pub struct Ours {
    users: SqlUserRepository,
    posts: SqlPostRepository,
}

impl Ours {
    /// Connects to `url` with a pool of [`pool_size`](crate::pool_size), SQLite through
    /// `driver`.
    pub async fn connect(url: &str, driver: SqliteDriver) -> Ours {
        let options = DbOptions {
            max_connections: crate::pool_size(),
            sqlite_driver: driver,
            ..DbOptions::default()
        };
        let db = Db::connect_with(url, options).await.expect("connect");
        Ours {
            users: User::repository(&db),
            posts: Post::repository(&db),
        }
    }
}

impl Stack for Ours {
    async fn insert_one(&mut self, new: &NewUser) -> i64 {
        self.users.insert(new.clone()).await.expect("insert").id
    }

    async fn insert_many(&mut self, news: &[NewUser]) -> usize {
        self.users
            .insert_many(news.to_vec())
            .await
            .expect("insert_many")
            .len()
    }

    async fn find_by_id(&mut self, id: i64) -> usize {
        usize::from(self.users.find(id).await.expect("find").is_some())
    }

    async fn select(&mut self, limit: i64) -> usize {
        let page = ListOptions::new().limit(u64::try_from(limit).unwrap_or(0));
        self.users
            .find_where(&Filter::all(), page)
            .await
            .expect("select")
            .len()
    }

    async fn update_one(&mut self, user: &User) -> usize {
        self.users.write(user).await.expect("update");
        1
    }

    async fn users_with_posts(&mut self) -> usize {
        let page = self
            .users
            .find_where(&Filter::all(), ListOptions::new().limit(PARENTS as u64))
            .await
            .expect("page");
        let posts = User::POSTS
            .load(self.posts.executor(), &page)
            .await
            .expect("posts");
        posts.iter().map(Vec::len).sum()
    }
}
