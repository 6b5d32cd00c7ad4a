//! sqlx by hand, as its documentation writes it: `query(..).bind(..)`, rows read by position,
//! `QueryBuilder::push_values` for batches; on a plain connection and through a pool of one.

use repo_benches::{NewUser, User};
use sqlx::{Connection, QueryBuilder, Row};

use crate::{PARENTS, Stack, USER_COLUMNS, placeholders};

/// One backend's connection, or its pool.
enum Handle<C, P> {
    Connection(C),
    Pool(P),
}

/// sqlx on one connection of its own, no pool.
pub struct SqlxConnection(Any);

/// sqlx through a pool ([`pool_size`](crate::pool_size) connections).
pub struct SqlxPool(Any);

enum Any {
    Sqlite(Handle<sqlx::SqliteConnection, sqlx::SqlitePool>),
    Postgres(Handle<sqlx::PgConnection, sqlx::PgPool>),
    MySql(Handle<sqlx::MySqlConnection, sqlx::MySqlPool>),
}

async fn open(url: &str, pooled: bool) -> Any {
    macro_rules! open {
        ($variant:ident, $connection:ty, $pool:ty) => {
            Any::$variant(if pooled {
                let pool = <$pool>::connect_with_options_max(url).await;
                Handle::Pool(pool)
            } else {
                Handle::Connection(<$connection>::connect(url).await.expect("connect"))
            })
        };
    }
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => open!(Sqlite, sqlx::SqliteConnection, sqlx::SqlitePool),
        Some("postgres" | "postgresql") => open!(Postgres, sqlx::PgConnection, sqlx::PgPool),
        _ => open!(MySql, sqlx::MySqlConnection, sqlx::MySqlPool),
    }
}

/// A pool of one connection, as the generated repository's.
trait OnePool: Sized {
    async fn connect_with_options_max(url: &str) -> Self;
}

impl<DB: sqlx::Database> OnePool for sqlx::Pool<DB> {
    async fn connect_with_options_max(url: &str) -> Self {
        sqlx::pool::PoolOptions::<DB>::new()
            .max_connections(crate::pool_size())
            .test_before_acquire(false)
            .connect(url)
            .await
            .expect("connect")
    }
}

impl SqlxConnection {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> SqlxConnection {
        SqlxConnection(open(url, false).await)
    }
}

impl SqlxPool {
    /// Connects a pool of one to `url`.
    pub async fn connect(url: &str) -> SqlxPool {
        SqlxPool(open(url, true).await)
    }
}

fn decode<R: Row>(row: &R) -> User
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    String: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    Option<String>: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
{
    User {
        id: row.try_get(0).expect("id"),
        email: row.try_get(1).expect("email"),
        name: row.try_get(2).expect("name"),
        bio: row.try_get(3).expect("bio"),
        score: row.try_get(4).expect("score"),
    }
}

/// Runs `$body` with `$e` bound to an executor of the stack's backend and `$pg` telling
/// PostgreSQL apart; `$db` names the sqlx database type.
macro_rules! on {
    ($any:expr, |$e:ident, $db:ident, $pg:ident| $body:block) => {
        match $any {
            Any::Sqlite(handle) => {
                type $db = sqlx::Sqlite;
                let $pg = false;
                match handle {
                    Handle::Connection(c) => {
                        let $e = &mut *c;
                        $body
                    }
                    Handle::Pool(p) => {
                        let $e = &*p;
                        $body
                    }
                }
            }
            Any::Postgres(handle) => {
                type $db = sqlx::Postgres;
                let $pg = true;
                match handle {
                    Handle::Connection(c) => {
                        let $e = &mut *c;
                        $body
                    }
                    Handle::Pool(p) => {
                        let $e = &*p;
                        $body
                    }
                }
            }
            Any::MySql(handle) => {
                type $db = sqlx::MySql;
                let $pg = false;
                match handle {
                    Handle::Connection(c) => {
                        let $e = &mut *c;
                        $body
                    }
                    Handle::Pool(p) => {
                        let $e = &*p;
                        $body
                    }
                }
            }
        }
    };
}

/// Each workload once, on `any`.
macro_rules! workloads {
    ($stack:ty) => {
        impl Stack for $stack {
            async fn insert_one(&mut self, new: &NewUser) -> i64 {
                on!(&mut self.0, |e, Db, pg| {
                    let _ = std::marker::PhantomData::<Db>;
                    if pg {
                        let sql = "INSERT INTO bench_users (email, name, bio, score) VALUES ($1, $2, $3, $4) RETURNING id";
                        let row = sqlx::query(sql).bind(&new.email).bind(&new.name).bind(&new.bio).bind(new.score)
                            .fetch_one(e).await.expect("insert");
                        row.try_get::<i64, _>(0).expect("id")
                    } else {
                        let sql = "INSERT INTO bench_users (email, name, bio, score) VALUES (?, ?, ?, ?)";
                        let done = sqlx::query(sql).bind(&new.email).bind(&new.name).bind(&new.bio).bind(new.score)
                            .execute(e).await.expect("insert");
                        last_insert_id(&done)
                    }
                })
            }

            async fn insert_many(&mut self, news: &[NewUser]) -> usize {
                on!(&mut self.0, |e, Db, pg| {
                    let _ = pg;
                    let mut tx = sqlx::Acquire::begin(e).await.expect("begin");
                    let mut builder: QueryBuilder<Db> =
                        QueryBuilder::new("INSERT INTO bench_users (email, name, bio, score) ");
                    builder.push_values(news, |mut row, new| {
                        row.push_bind(&new.email)
                            .push_bind(&new.name)
                            .push_bind(&new.bio)
                            .push_bind(new.score);
                    });
                    let done = builder.build().execute(&mut *tx).await.expect("insert_many");
                    tx.commit().await.expect("commit");
                    affected(&done)
                })
            }

            async fn find_by_id(&mut self, id: i64) -> usize {
                on!(&mut self.0, |e, Db, pg| {
                    let _ = std::marker::PhantomData::<Db>;
                    let sql = placeholders(pg, &format!("SELECT {USER_COLUMNS} FROM bench_users WHERE id = ?"));
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(e).await.expect("find");
                    row.as_ref().map(decode).map_or(0, |_| 1)
                })
            }

            async fn select(&mut self, limit: i64) -> usize {
                on!(&mut self.0, |e, Db, pg| {
                    let _ = std::marker::PhantomData::<Db>;
                    let sql = placeholders(pg, &format!("SELECT {USER_COLUMNS} FROM bench_users ORDER BY id LIMIT ?"));
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(e).await.expect("select");
                    rows.iter().map(decode).count()
                })
            }

            async fn update_one(&mut self, user: &User) -> usize {
                on!(&mut self.0, |e, Db, pg| {
                    let _ = std::marker::PhantomData::<Db>;
                    let sql = placeholders(pg, "UPDATE bench_users SET email = ?, name = ?, bio = ?, score = ? WHERE id = ?");
                    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(&user.email).bind(&user.name).bind(&user.bio).bind(user.score).bind(user.id)
                        .execute(e).await.expect("update");
                    affected(&done)
                })
            }

            async fn users_with_posts(&mut self) -> usize {
                on!(&mut self.0, |e, Db, pg| {
                    let _ = pg;
                    // Both statements on one connection: a pool lends it for the whole load.
                    #[allow(unused_mut)]
                    let mut conn = sqlx::Acquire::acquire(e).await.expect("acquire");
                    let sql = format!("SELECT {USER_COLUMNS} FROM bench_users ORDER BY id LIMIT {PARENTS}");
                    let users: Vec<User> = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .fetch_all(&mut *conn).await.expect("page").iter().map(decode).collect();
                    let mut query: QueryBuilder<Db> =
                        QueryBuilder::new("SELECT id, user_id, title FROM bench_posts WHERE user_id IN (");
                    let mut ids = query.separated(", ");
                    for user in &users {
                        ids.push_bind(user.id);
                    }
                    query.push(") ORDER BY id");
                    let posts = query.build().fetch_all(&mut *conn).await.expect("posts");
                    let mut grouped: std::collections::HashMap<i64, Vec<(i64, String)>> = std::collections::HashMap::new();
                    for row in &posts {
                        let user_id: i64 = row.try_get(1).expect("user_id");
                        grouped.entry(user_id).or_default().push((row.try_get(0).expect("id"), row.try_get(2).expect("title")));
                    }
                    users.iter().map(|user| grouped.get(&user.id).map_or(0, Vec::len)).sum()
                })
            }
        }
    };
}

workloads!(SqlxConnection);
workloads!(SqlxPool);

/// The key a backend reports for the last row inserted (SQLite, MySQL).
fn last_insert_id<R: Outcome>(done: &R) -> i64 {
    done.last_id()
}

fn affected<R: Outcome>(done: &R) -> usize {
    done.affected()
}

/// What each backend's query result reports.
trait Outcome {
    fn last_id(&self) -> i64;
    fn affected(&self) -> usize;
}

impl Outcome for sqlx::sqlite::SqliteQueryResult {
    fn last_id(&self) -> i64 {
        self.last_insert_rowid()
    }
    fn affected(&self) -> usize {
        self.rows_affected() as usize
    }
}

impl Outcome for sqlx::postgres::PgQueryResult {
    fn last_id(&self) -> i64 {
        0
    }
    fn affected(&self) -> usize {
        self.rows_affected() as usize
    }
}

impl Outcome for sqlx::mysql::MySqlQueryResult {
    fn last_id(&self) -> i64 {
        self.last_insert_id() as i64
    }
    fn affected(&self) -> usize {
        self.rows_affected() as usize
    }
}
