//! The same statements written by hand against sqlx, as a user of sqlx would: plain SQL per
//! backend, `bind`, `try_get` by position, `QueryBuilder::push_values` for batches. A `Db` on
//! SQLite through rusqlite is compared with rusqlite by hand instead (`by_hand.rs`).

use repo_runtime::sqlx::{self, QueryBuilder, Row};
use repo_runtime::{Db, Dialect};

use crate::{NewUser, User};

/// Whether `db` runs SQLite through rusqlite: its hand-written side is rusqlite by hand.
fn by_hand(db: &Db) -> bool {
    db.dialect() == Dialect::Sqlite && db.as_sqlite().is_none()
}

fn hand_error(error: repo_runtime::rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Protocol(error.to_string())
}

/// Rows per batch statement, as the generated code uses.
const CHUNK: usize = 1_000;

fn decode<R: Row>(row: &R) -> Result<User, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    String: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    Option<String>: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
{
    Ok(User {
        id: row.try_get(0)?,
        email: row.try_get(1)?,
        name: row.try_get(2)?,
        bio: row.try_get(3)?,
        score: row.try_get(4)?,
    })
}

/// Runs a statement with no parameters.
///
/// # Panics
/// When it fails.
pub async fn execute(db: &Db, statement: &'static str) {
    if by_hand(db) {
        crate::by_hand::execute(db, statement).expect("statement");
        return;
    }
    let result = match db.dialect() {
        Dialect::Sqlite => sqlx::query(statement)
            .execute(db.as_sqlite().expect("pool"))
            .await
            .map(drop),
        Dialect::Postgres => sqlx::query(statement)
            .execute(db.as_postgres().expect("pool"))
            .await
            .map(drop),
        Dialect::MySql => sqlx::query(statement)
            .execute(db.as_mysql().expect("pool"))
            .await
            .map(drop),
    };
    result.expect("statement");
}

/// Users whose score is within `low..=high`, by score, as the derived query does.
pub async fn score_between(db: &Db, low: i64, high: i64) -> Result<Vec<User>, sqlx::Error> {
    if by_hand(db) {
        return crate::by_hand::score_between(db, low, high).map_err(hand_error);
    }
    const SQL: &str = "SELECT id, email, name, bio, score FROM bench_users WHERE score BETWEEN ? AND ? ORDER BY score";
    const SQL_POSTGRES: &str = "SELECT id, email, name, bio, score FROM bench_users WHERE score BETWEEN $1 AND $2 ORDER BY score";
    match db.dialect() {
        Dialect::Sqlite => sqlx::query(SQL)
            .bind(low)
            .bind(high)
            .fetch_all(db.as_sqlite().expect("pool"))
            .await?
            .iter()
            .map(decode)
            .collect(),
        Dialect::Postgres => sqlx::query(SQL_POSTGRES)
            .bind(low)
            .bind(high)
            .fetch_all(db.as_postgres().expect("pool"))
            .await?
            .iter()
            .map(decode)
            .collect(),
        Dialect::MySql => sqlx::query(SQL)
            .bind(low)
            .bind(high)
            .fetch_all(db.as_mysql().expect("pool"))
            .await?
            .iter()
            .map(decode)
            .collect(),
    }
}

/// A search form's page, built at run time with `QueryBuilder` as a sqlx user would: the
/// conditions given (a score range, whether there is a bio), 20 rows by score descending.
pub async fn filtered_page(
    db: &Db,
    low: Option<i64>,
    high: Option<i64>,
    with_bio: Option<bool>,
) -> Result<Vec<User>, sqlx::Error> {
    if by_hand(db) {
        return crate::by_hand::filtered_page(db, low, high, with_bio).map_err(hand_error);
    }
    macro_rules! page {
        ($database:ty, $pool:expr) => {{
            let mut query: QueryBuilder<$database> =
                QueryBuilder::new("SELECT id, email, name, bio, score FROM bench_users");
            let mut joint = " WHERE ";
            if let Some(low) = low {
                query.push(joint).push("score >= ").push_bind(low);
                joint = " AND ";
            }
            if let Some(high) = high {
                query.push(joint).push("score < ").push_bind(high);
                joint = " AND ";
            }
            match with_bio {
                Some(true) => {
                    query.push(joint).push("bio IS NOT NULL");
                }
                Some(false) => {
                    query.push(joint).push("bio IS NULL");
                }
                None => {}
            }
            query
                .push(" ORDER BY score DESC, id LIMIT ")
                .push_bind(20_i64)
                .push(" OFFSET ")
                .push_bind(0_i64);
            query
                .build()
                .fetch_all($pool)
                .await?
                .iter()
                .map(decode)
                .collect()
        }};
    }
    match db.dialect() {
        Dialect::Sqlite => page!(sqlx::Sqlite, db.as_sqlite().expect("pool")),
        Dialect::Postgres => page!(sqlx::Postgres, db.as_postgres().expect("pool")),
        Dialect::MySql => page!(sqlx::MySql, db.as_mysql().expect("pool")),
    }
}

/// A page of 100 users with the posts of each, in the same two statements as the batch loader:
/// the page, then the posts of its users (`= ANY($1)` on PostgreSQL, an `IN` list elsewhere),
/// grouped per user.
pub async fn users_with_posts(db: &Db) -> Result<Vec<(User, Vec<crate::Post>)>, sqlx::Error> {
    fn post<R: Row>(row: &R) -> Result<crate::Post, sqlx::Error>
    where
        usize: sqlx::ColumnIndex<R>,
        i64: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
        String: sqlx::Type<R::Database> + for<'r> sqlx::Decode<'r, R::Database>,
    {
        Ok(crate::Post {
            id: row.try_get(0)?,
            user_id: row.try_get(1)?,
            title: row.try_get(2)?,
        })
    }
    const PAGE: &str = "SELECT id, email, name, bio, score FROM bench_users ORDER BY id LIMIT 100";
    // The page, then its users' posts by an `IN` list of one placeholder per user.
    macro_rules! in_list {
        ($database:ty, $pool:expr) => {{
            let pool = $pool;
            let users: Vec<User> = sqlx::query(PAGE)
                .fetch_all(pool)
                .await?
                .iter()
                .map(decode)
                .collect::<Result<_, _>>()?;
            let mut query: QueryBuilder<$database> =
                QueryBuilder::new("SELECT id, user_id, title FROM bench_posts WHERE user_id IN (");
            let mut ids = query.separated(", ");
            for user in &users {
                ids.push_bind(user.id);
            }
            query.push(") ORDER BY id");
            let posts = query
                .build()
                .fetch_all(pool)
                .await?
                .iter()
                .map(post)
                .collect::<Result<_, _>>()?;
            (users, posts)
        }};
    }
    let (users, posts): (Vec<User>, Vec<crate::Post>) = match db.dialect() {
        Dialect::Postgres => {
            let pool = db.as_postgres().expect("pool");
            let users: Vec<User> = sqlx::query(PAGE)
                .fetch_all(pool)
                .await?
                .iter()
                .map(decode)
                .collect::<Result<_, _>>()?;
            let ids: Vec<i64> = users.iter().map(|user| user.id).collect();
            let posts = sqlx::query(
                "SELECT id, user_id, title FROM bench_posts WHERE user_id = ANY($1) ORDER BY id",
            )
            .bind(ids)
            .fetch_all(pool)
            .await?
            .iter()
            .map(post)
            .collect::<Result<_, _>>()?;
            (users, posts)
        }
        Dialect::Sqlite => in_list!(sqlx::Sqlite, db.as_sqlite().expect("pool")),
        Dialect::MySql => in_list!(sqlx::MySql, db.as_mysql().expect("pool")),
    };
    let mut grouped: std::collections::HashMap<i64, Vec<crate::Post>> =
        std::collections::HashMap::new();
    for post in posts {
        grouped.entry(post.user_id).or_default().push(post);
    }
    Ok(users
        .into_iter()
        .map(|user| {
            let theirs = grouped.remove(&user.id).unwrap_or_default();
            (user, theirs)
        })
        .collect())
}

/// `get` by key.
pub async fn get(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    if by_hand(db) {
        return crate::by_hand::get(db, id).map_err(hand_error);
    }
    match db.dialect() {
        Dialect::Sqlite => {
            let sql = "SELECT id, email, name, bio, score FROM bench_users WHERE id = ?";
            let row = sqlx::query(sql)
                .bind(id)
                .fetch_optional(db.as_sqlite().expect("pool"))
                .await?;
            row.as_ref().map(decode).transpose()
        }
        Dialect::Postgres => {
            let sql = "SELECT id, email, name, bio, score FROM bench_users WHERE id = $1";
            let row = sqlx::query(sql)
                .bind(id)
                .fetch_optional(db.as_postgres().expect("pool"))
                .await?;
            row.as_ref().map(decode).transpose()
        }
        Dialect::MySql => {
            let sql = "SELECT id, email, name, bio, score FROM bench_users WHERE id = ?";
            let row = sqlx::query(sql)
                .bind(id)
                .fetch_optional(db.as_mysql().expect("pool"))
                .await?;
            row.as_ref().map(decode).transpose()
        }
    }
}

/// One connection taken from the pool and kept, as a sqlx user holding a plain connection
/// works: what a statement costs with no pool on its path.
pub enum Held {
    /// SQLite through sqlx.
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    /// PostgreSQL.
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    /// MySQL/MariaDB.
    MySql(sqlx::pool::PoolConnection<sqlx::MySql>),
}

impl Held {
    /// Takes a connection from `db`'s pool for good.
    pub async fn acquire(db: &Db) -> Result<Held, sqlx::Error> {
        Ok(match db.dialect() {
            Dialect::Sqlite => Held::Sqlite(db.as_sqlite().expect("pool").acquire().await?),
            Dialect::Postgres => Held::Postgres(db.as_postgres().expect("pool").acquire().await?),
            Dialect::MySql => Held::MySql(db.as_mysql().expect("pool").acquire().await?),
        })
    }

    /// [`get`] on the held connection.
    pub async fn get(&mut self, id: i64) -> Result<Option<User>, sqlx::Error> {
        const SQL: &str = "SELECT id, email, name, bio, score FROM bench_users WHERE id = ?";
        const SQL_POSTGRES: &str =
            "SELECT id, email, name, bio, score FROM bench_users WHERE id = $1";
        let row = match self {
            Held::Sqlite(conn) => sqlx::query(SQL)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?
                .as_ref()
                .map(decode),
            Held::Postgres(conn) => sqlx::query(SQL_POSTGRES)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?
                .as_ref()
                .map(decode),
            Held::MySql(conn) => sqlx::query(SQL)
                .bind(id)
                .fetch_optional(&mut **conn)
                .await?
                .as_ref()
                .map(decode),
        };
        row.transpose()
    }
}

/// `insert` of one row, returning it with its key.
pub async fn insert(db: &Db, new: &NewUser) -> Result<User, sqlx::Error> {
    if by_hand(db) {
        return crate::by_hand::insert(db, new).map_err(hand_error);
    }
    let id = match db.dialect() {
        Dialect::Sqlite => {
            let sql = "INSERT INTO bench_users (email, name, bio, score) VALUES (?, ?, ?, ?)";
            sqlx::query(sql)
                .bind(&new.email)
                .bind(&new.name)
                .bind(&new.bio)
                .bind(new.score)
                .execute(db.as_sqlite().expect("pool"))
                .await?
                .last_insert_rowid()
        }
        Dialect::Postgres => {
            let sql = "INSERT INTO bench_users (email, name, bio, score) VALUES ($1, $2, $3, $4) RETURNING id";
            sqlx::query(sql)
                .bind(&new.email)
                .bind(&new.name)
                .bind(&new.bio)
                .bind(new.score)
                .fetch_one(db.as_postgres().expect("pool"))
                .await?
                .try_get(0)?
        }
        Dialect::MySql => {
            let sql = "INSERT INTO bench_users (email, name, bio, score) VALUES (?, ?, ?, ?)";
            let done = sqlx::query(sql)
                .bind(&new.email)
                .bind(&new.name)
                .bind(&new.bio)
                .bind(new.score)
                .execute(db.as_mysql().expect("pool"))
                .await?;
            i64::try_from(done.last_insert_id()).unwrap_or(i64::MAX)
        }
    };
    Ok(User {
        id,
        email: new.email.clone(),
        name: new.name.clone(),
        bio: new.bio.clone(),
        score: new.score,
    })
}

/// The update without reading the row back: one statement, whether a row matched.
pub async fn write(db: &Db, user: &User) -> Result<bool, sqlx::Error> {
    if by_hand(db) {
        return crate::by_hand::write(db, user).map_err(hand_error);
    }
    let affected = match db.dialect() {
        Dialect::Sqlite => sqlx::query(
            "UPDATE bench_users SET email = ?, name = ?, bio = ?, score = ? WHERE id = ?",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(&user.bio)
        .bind(user.score)
        .bind(user.id)
        .execute(db.as_sqlite().expect("pool"))
        .await?
        .rows_affected(),
        Dialect::Postgres => sqlx::query(
            "UPDATE bench_users SET email = $1, name = $2, bio = $3, score = $4 WHERE id = $5",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(&user.bio)
        .bind(user.score)
        .bind(user.id)
        .execute(db.as_postgres().expect("pool"))
        .await?
        .rows_affected(),
        Dialect::MySql => sqlx::query(
            "UPDATE bench_users SET email = ?, name = ?, bio = ?, score = ? WHERE id = ?",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(&user.bio)
        .bind(user.score)
        .bind(user.id)
        .execute(db.as_mysql().expect("pool"))
        .await?
        .rows_affected(),
    };
    Ok(affected > 0)
}

/// `update` of every non-key column, returning the stored row.
pub async fn update(db: &Db, user: &User) -> Result<Option<User>, sqlx::Error> {
    if by_hand(db) {
        return crate::by_hand::update(db, user).map_err(hand_error);
    }
    match db.dialect() {
        Dialect::Sqlite => {
            let sql = "UPDATE bench_users SET email = ?, name = ?, bio = ?, score = ? WHERE id = ? \
                       RETURNING id, email, name, bio, score";
            let row = sqlx::query(sql)
                .bind(&user.email)
                .bind(&user.name)
                .bind(&user.bio)
                .bind(user.score)
                .bind(user.id)
                .fetch_optional(db.as_sqlite().expect("pool"))
                .await?;
            row.as_ref().map(decode).transpose()
        }
        Dialect::Postgres => {
            let sql = "UPDATE bench_users SET email = $1, name = $2, bio = $3, score = $4 WHERE id = $5 \
                       RETURNING id, email, name, bio, score";
            let row = sqlx::query(sql)
                .bind(&user.email)
                .bind(&user.name)
                .bind(&user.bio)
                .bind(user.score)
                .bind(user.id)
                .fetch_optional(db.as_postgres().expect("pool"))
                .await?;
            row.as_ref().map(decode).transpose()
        }
        Dialect::MySql => {
            // No RETURNING on UPDATE: write, then read the row back.
            let pool = db.as_mysql().expect("pool");
            let sql = "UPDATE bench_users SET email = ?, name = ?, bio = ?, score = ? WHERE id = ?";
            let done = sqlx::query(sql)
                .bind(&user.email)
                .bind(&user.name)
                .bind(&user.bio)
                .bind(user.score)
                .bind(user.id)
                .execute(pool)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            let sql = "SELECT id, email, name, bio, score FROM bench_users WHERE id = ?";
            let row = sqlx::query(sql).bind(user.id).fetch_optional(pool).await?;
            row.as_ref().map(decode).transpose()
        }
    }
}

/// `list` of every row by key.
pub async fn list(db: &Db) -> Result<Vec<User>, sqlx::Error> {
    if by_hand(db) {
        return crate::by_hand::list(db).map_err(hand_error);
    }
    let sql = "SELECT id, email, name, bio, score FROM bench_users ORDER BY id ASC";
    match db.dialect() {
        Dialect::Sqlite => {
            let rows = sqlx::query(sql)
                .fetch_all(db.as_sqlite().expect("pool"))
                .await?;
            rows.iter().map(decode).collect()
        }
        Dialect::Postgres => {
            let rows = sqlx::query(sql)
                .fetch_all(db.as_postgres().expect("pool"))
                .await?;
            rows.iter().map(decode).collect()
        }
        Dialect::MySql => {
            let rows = sqlx::query(sql)
                .fetch_all(db.as_mysql().expect("pool"))
                .await?;
            rows.iter().map(decode).collect()
        }
    }
}

fn with_keys(chunk: &[NewUser], keys: Vec<i64>) -> impl Iterator<Item = User> + '_ {
    chunk.iter().zip(keys).map(|(new, id)| User {
        id,
        email: new.email.clone(),
        name: new.name.clone(),
        bio: new.bio.clone(),
        score: new.score,
    })
}

/// `insert_many`: one transaction, multi-row inserts of at most 1,000 rows; keys from
/// `RETURNING id` (PostgreSQL), numbered up to `last_insert_rowid()` (SQLite) or from
/// the last insert id (MariaDB).
pub async fn insert_many(db: &Db, news: &[NewUser]) -> Result<Vec<User>, sqlx::Error> {
    if by_hand(db) {
        return crate::by_hand::insert_many(db, news).map_err(hand_error);
    }
    let mut stored = Vec::with_capacity(news.len());
    match db.dialect() {
        Dialect::Sqlite => {
            let mut tx = db.as_sqlite().expect("pool").begin().await?;
            for chunk in news.chunks(CHUNK) {
                let mut builder =
                    QueryBuilder::new("INSERT INTO bench_users (email, name, bio, score) ");
                builder.push_values(chunk, |mut row, new| {
                    row.push_bind(&new.email)
                        .push_bind(&new.name)
                        .push_bind(&new.bio)
                        .push_bind(new.score);
                });
                let last = builder.build().execute(&mut *tx).await?.last_insert_rowid();
                let first = last - chunk.len() as i64 + 1;
                stored.extend(with_keys(chunk, (first..=last).collect()));
            }
            tx.commit().await?;
        }
        Dialect::Postgres => {
            // One array per column, unnested: the PostgreSQL way to insert many rows.
            let sql = "INSERT INTO bench_users (email, name, bio, score) \
                       SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[]) RETURNING id";
            let mut tx = db.as_postgres().expect("pool").begin().await?;
            for chunk in news.chunks(10_000) {
                let rows = sqlx::query(sql)
                    .bind(chunk.iter().map(|n| &n.email).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|n| &n.name).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|n| &n.bio).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|n| n.score).collect::<Vec<_>>())
                    .fetch_all(&mut *tx)
                    .await?;
                let mut keys: Vec<i64> = rows
                    .iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?;
                keys.sort_unstable();
                stored.extend(with_keys(chunk, keys));
            }
            tx.commit().await?;
        }
        Dialect::MySql => {
            // Under InnoDB's consecutive lock mode a multi-row insert's keys run from its
            // last insert id by the session's increment.
            let mut tx = db.as_mysql().expect("pool").begin().await?;
            let increment: i64 =
                sqlx::query_scalar("SELECT CAST(@@auto_increment_increment AS SIGNED)")
                    .fetch_one(&mut *tx)
                    .await?;
            for chunk in news.chunks(CHUNK) {
                let mut builder =
                    QueryBuilder::new("INSERT INTO bench_users (email, name, bio, score) ");
                builder.push_values(chunk, |mut row, new| {
                    row.push_bind(&new.email)
                        .push_bind(&new.name)
                        .push_bind(&new.bio)
                        .push_bind(new.score);
                });
                let first = builder.build().execute(&mut *tx).await?.last_insert_id() as i64;
                let keys = (0..chunk.len() as i64).map(|i| first + i * increment);
                stored.extend(with_keys(chunk, keys.collect()));
            }
            tx.commit().await?;
        }
    }
    Ok(stored)
}
