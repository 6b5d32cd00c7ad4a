//! The users/posts workloads written with each stack a user would pick: the generated
//! repository, sqlx by hand on a plain connection and through a pool, Diesel (diesel-async on the
//! servers), SeaORM and the raw drivers (rusqlite, tokio-postgres, mysql_async). Every stack
//! runs on the same tables (`bench_users`, `bench_posts`, created by the repository's schema) and
//! reports how many rows it handled, so that no side is optimised away.

use repo_benches::{NewUser, User};

mod diesel_stack;
mod ours;
mod raw;
mod seaorm_stack;
mod sqlx_stack;

pub use diesel_stack::Diesel;
pub use ours::Ours;
pub use raw::Raw;
pub use seaorm_stack::SeaOrm;
pub use sqlx_stack::{SqlxConnection, SqlxPool};

/// Users in the table when the reads run; the first `PARENTS` have `POSTS_EACH` posts.
pub const USERS: usize = 10_000;
/// Users of the users-with-posts page.
pub const PARENTS: usize = 100;
/// Posts of each of those users.
pub const POSTS_EACH: usize = 10;

/// Connections in the pools of the stacks that pool (the generated repository, sqlx's pool,
/// SeaORM): `PEERS_POOL_SIZE`, 1 by default. sqlx's pool pings each connection as it goes back
/// (one round trip on the servers), which a pool of one puts on every statement's path.
pub fn pool_size() -> u32 {
    std::env::var("PEERS_POOL_SIZE")
        .ok()
        .and_then(|size| size.parse().ok())
        .unwrap_or(1)
}

/// A backend: its name and URL.
#[derive(Debug, Clone)]
pub struct Backend {
    /// `sqlite`, `postgres` or `mysql`.
    pub name: &'static str,
    /// The URL every stack connects to.
    pub url: String,
}

/// One stack's version of each workload. Each returns how many rows it read or wrote.
#[allow(async_fn_in_trait)]
pub trait Stack {
    /// Inserts one user, returning its generated key.
    async fn insert_one(&mut self, new: &NewUser) -> i64;
    /// Inserts users in one transaction.
    async fn insert_many(&mut self, news: &[NewUser]) -> usize;
    /// The user with key `id`.
    async fn find_by_id(&mut self, id: i64) -> usize;
    /// The first `limit` users by key.
    async fn select(&mut self, limit: i64) -> usize;
    /// Writes every column of `user` by its key.
    async fn update_one(&mut self, user: &User) -> usize;
    /// The first `PARENTS` users by key with their posts (two statements where the stack can).
    async fn users_with_posts(&mut self) -> usize;
}

/// `sql` with `?` placeholders numbered `$1`, `$2`, ... for PostgreSQL.
pub fn placeholders(postgres: bool, sql: &str) -> String {
    if !postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// The users's columns in a `SELECT`.
pub const USER_COLUMNS: &str = "id, email, name, bio, score";

/// A fresh `n`-th user of `tag`, unique in its e-mail among calls with distinct tags.
pub fn user(tag: &str, n: usize) -> NewUser {
    repo_benches::new_user(tag, n)
}

/// Any of the stacks, so that one loop benchmarks them all.
pub enum AnyStack {
    /// The generated repository.
    Ours(Ours),
    /// sqlx on a plain connection.
    SqlxConnection(SqlxConnection),
    /// sqlx through a pool of one.
    SqlxPool(SqlxPool),
    /// Diesel (diesel-async on the servers).
    Diesel(Diesel),
    /// SeaORM.
    SeaOrm(SeaOrm),
    /// The backend's own driver.
    Raw(Raw),
}

macro_rules! delegate {
    ($self:ident, |$stack:ident| $body:expr) => {
        match $self {
            AnyStack::Ours($stack) => $body,
            AnyStack::SqlxConnection($stack) => $body,
            AnyStack::SqlxPool($stack) => $body,
            AnyStack::Diesel($stack) => $body,
            AnyStack::SeaOrm($stack) => $body,
            AnyStack::Raw($stack) => $body,
        }
    };
}

impl Stack for AnyStack {
    async fn insert_one(&mut self, new: &NewUser) -> i64 {
        delegate!(self, |stack| stack.insert_one(new).await)
    }

    async fn insert_many(&mut self, news: &[NewUser]) -> usize {
        delegate!(self, |stack| stack.insert_many(news).await)
    }

    async fn find_by_id(&mut self, id: i64) -> usize {
        delegate!(self, |stack| stack.find_by_id(id).await)
    }

    async fn select(&mut self, limit: i64) -> usize {
        delegate!(self, |stack| stack.select(limit).await)
    }

    async fn update_one(&mut self, user: &User) -> usize {
        delegate!(self, |stack| stack.update_one(user).await)
    }

    async fn users_with_posts(&mut self) -> usize {
        delegate!(self, |stack| stack.users_with_posts().await)
    }
}

/// Every stack there is for `url`'s backend, by name: on SQLite the generated repository
/// through both drivers.
pub async fn stacks(url: &str) -> Vec<(&'static str, AnyStack)> {
    use repo_runtime::SqliteDriver;
    let mut stacks = Vec::new();
    if url.starts_with("sqlite") {
        stacks.push((
            "ours_rusqlite",
            AnyStack::Ours(Ours::connect(url, SqliteDriver::Rusqlite).await),
        ));
        stacks.push((
            "ours_sqlx",
            AnyStack::Ours(Ours::connect(url, SqliteDriver::Sqlx).await),
        ));
    } else {
        stacks.push((
            "ours",
            AnyStack::Ours(Ours::connect(url, SqliteDriver::Sqlx).await),
        ));
    }
    stacks.push((
        "sqlx_connection",
        AnyStack::SqlxConnection(SqlxConnection::connect(url).await),
    ));
    stacks.push((
        "sqlx_pool",
        AnyStack::SqlxPool(SqlxPool::connect(url).await),
    ));
    stacks.push(("diesel", AnyStack::Diesel(Diesel::connect(url).await)));
    stacks.push(("seaorm", AnyStack::SeaOrm(SeaOrm::connect(url).await)));
    stacks.push(("raw_driver", AnyStack::Raw(Raw::connect(url).await)));
    stacks
}
