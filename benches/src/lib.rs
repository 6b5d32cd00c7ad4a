//! Shared set-up of the benchmarks: the benchmarked entity, a fresh database per backend, and
//! the hand-written sqlx code the generated repository is compared with.

mod by_hand;
pub mod handwritten;

use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, Dialect, SqlRepository, SqliteDriver};

/// A repository port with a derived query, implemented by the derive.
#[repo_runtime::port]
pub trait Users: Send + Sync {
    /// The users whose score is within `low..=high`, by score.
    async fn find_all_by_score_between_order_by_score(
        &self,
        low: i64,
        high: i64,
    ) -> Result<Vec<User>, RepoError>;
}

/// The entity every benchmark reads and writes.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "bench_users", port = Users, has_many(posts = Post::user_id))]
pub struct User {
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

/// A user's post: the children a relation load reads.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "bench_posts")]
pub struct Post {
    /// Generated key.
    #[repo(id, generated)]
    pub id: i64,
    /// Its user.
    #[repo(index, references = User)]
    pub user_id: i64,
    /// Some text.
    pub title: String,
}

/// A page of users with the posts of each: the page, then every user's posts in one
/// statement, grouped per user (the relation `User::POSTS`).
pub async fn users_with_posts(
    users: &SqlUserRepository,
) -> Result<Vec<(User, Vec<Post>)>, RepoError> {
    let page = page_of_users(users).await?;
    let posts = User::POSTS.load(users.executor(), &page).await?;
    Ok(page.into_iter().zip(posts).collect())
}

/// The first 100 users, by key: the parents of a relation load.
async fn page_of_users(users: &SqlUserRepository) -> Result<Vec<User>, RepoError> {
    users
        .find_where(&Filter::all(), ListOptions::new().limit(100))
        .await
}

/// The same page loaded as users often write it first: one statement per user (N+1).
pub async fn users_with_posts_one_by_one(
    users: &SqlUserRepository,
    posts: &SqlPostRepository,
) -> Result<Vec<(User, Vec<Post>)>, RepoError> {
    let page = page_of_users(users).await?;
    let mut loaded = Vec::with_capacity(page.len());
    for user in page {
        let theirs = posts
            .find_where(&Post::USER_ID.eq(user.id), ListOptions::new())
            .await?;
        loaded.push((user, theirs));
    }
    Ok(loaded)
}

/// The runtime every benchmark runs on: one worker thread, the same for every comparison.
///
/// # Panics
/// When the runtime cannot be built.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The same search page through the repository: a filter built at run time from the same
/// optional conditions as `handwritten::filtered_page`.
pub async fn filtered_page(
    users: &SqlUserRepository,
    low: Option<i64>,
    high: Option<i64>,
    with_bio: Option<bool>,
) -> Result<Vec<User>, RepoError> {
    let filter = Filter::all()
        .and(low.map(|low| User::SCORE.ge(low)))
        .and(high.map(|high| User::SCORE.lt(high)))
        .and(with_bio.map(|with| match with {
            true => User::BIO.is_not_null(),
            false => User::BIO.is_null(),
        }));
    let page = ListOptions::new().desc(UserColumn::Score).limit(20);
    users.find_where(&filter, page).await
}

/// The `n`-th insert input, distinct in its unique field within one `tag`.
pub fn new_user(tag: &str, n: usize) -> NewUser {
    NewUser {
        email: format!("{tag}-{n}@example.com"),
        name: format!("User number {n}"),
        bio: n
            .is_multiple_of(2)
            .then(|| "Some biography text of moderate length".to_owned()),
        score: i64::try_from(n).unwrap_or(i64::MAX),
    }
}

/// A backend to benchmark, with the URL of a server it may create a database on.
#[derive(Debug, Clone)]
pub struct Target {
    /// `sqlite` (sqlx's driver), `rusqlite`, `postgres` or `mysql`.
    pub name: &'static str,
    /// The server URL, or `None` for embedded SQLite.
    pub server_url: Option<String>,
}

/// SQLite always; PostgreSQL and MySQL when `DATABASE_URL_POSTGRES` / `DATABASE_URL_MYSQL`
/// are set (said on stderr otherwise).
pub fn targets() -> Vec<Target> {
    let mut targets = vec![
        Target {
            name: "sqlite",
            server_url: None,
        },
        Target {
            name: "rusqlite",
            server_url: None,
        },
    ];
    for (name, variable) in [
        ("postgres", "DATABASE_URL_POSTGRES"),
        ("mysql", "DATABASE_URL_MYSQL"),
    ] {
        match std::env::var(variable) {
            Ok(url) => targets.push(Target {
                name,
                server_url: Some(url),
            }),
            Err(_) => eprintln!("SKIPPED: {name} benchmarks ({variable} is unset)"),
        }
    }
    targets
}

/// Opens a fresh, empty database for `target` with the table created.
///
/// # Panics
/// When the database cannot be created: a benchmark has nothing to measure then.
pub async fn fresh_database(target: &Target) -> Db {
    fresh_database_with(target, bench_options(target)).await
}

/// The options every benchmark handle of `target` opens with; `BENCH_EXPLAIN_SLOW=1` turns on
/// the copy of each statement's values that plans of slow statements need, to measure it.
pub fn bench_options(target: &Target) -> DbOptions {
    DbOptions {
        max_connections: 4,
        explain_slow_statements: std::env::var_os("BENCH_EXPLAIN_SLOW").is_some(),
        sqlite_driver: match target.name {
            "rusqlite" => SqliteDriver::Rusqlite,
            _ => SqliteDriver::Sqlx,
        },
        ..DbOptions::default()
    }
}

/// [`fresh_database`] opened with `options`.
pub async fn fresh_database_with(target: &Target, options: DbOptions) -> Db {
    let db = match &target.server_url {
        None => {
            let path = std::env::temp_dir().join(format!(
                "repo-bench-{}-{}.db",
                target.name,
                std::process::id()
            ));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            Db::connect_with(&format!("sqlite://{}", path.display()), options).await
        }
        Some(url) => {
            let admin = Db::connect(url)
                .await
                .expect("connect to the benchmark server");
            let name = "repo_bench";
            let quoted = admin.dialect().quote(name);
            let statements = [
                format!("DROP DATABASE IF EXISTS {quoted}"),
                format!("CREATE DATABASE {quoted}"),
            ];
            for statement in statements {
                let sql = repo_runtime::sqlx::AssertSqlSafe(statement);
                let result = match admin.dialect() {
                    Dialect::Postgres => {
                        let pool = admin.as_postgres().expect("postgres pool");
                        repo_runtime::sqlx::raw_sql(sql)
                            .execute(pool)
                            .await
                            .map(drop)
                    }
                    Dialect::MySql => {
                        let pool = admin.as_mysql().expect("mysql pool");
                        repo_runtime::sqlx::raw_sql(sql)
                            .execute(pool)
                            .await
                            .map(drop)
                    }
                    Dialect::Sqlite => Ok(()),
                };
                result.expect("recreate the benchmark database");
            }
            admin.close().await;
            let base = url.split('?').next().unwrap_or(url);
            let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
            Db::connect_with(&format!("{server}/{name}"), options).await
        }
    }
    .expect("open the benchmark database");
    db.create_schema::<User>()
        .await
        .expect("create the benchmark table");
    db.create_schema::<Post>()
        .await
        .expect("create the benchmark's child table");
    db
}

/// Settles the database before a measurement: SQLite folds its write-ahead log back into the
/// database file, so that the first benchmark after a bulk write does not pay for it.
///
/// # Panics
/// When the statement fails.
pub async fn settle(db: &Db) {
    if db.dialect() == Dialect::Sqlite {
        handwritten::execute(db, "PRAGMA wal_checkpoint(TRUNCATE)").await;
    }
}

/// Empties the table between benchmarks.
///
/// # Panics
/// When the statement fails.
pub async fn clear(db: &Db) {
    handwritten::execute(db, "DELETE FROM bench_users").await;
}
