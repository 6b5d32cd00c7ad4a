//! The same statements written by hand against sqlx, as a user of sqlx would: plain SQL per
//! backend, `bind`, `try_get` by position, `QueryBuilder::push_values` for batches.

use repo_runtime::sqlx::{self, QueryBuilder, Row};
use repo_runtime::{Db, Dialect};

use crate::{NewUser, User};

const COLUMNS: &str = "id, email, name, bio, score";

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

/// `get` by key.
pub async fn get(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
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

/// `insert` of one row, returning it with its key.
pub async fn insert(db: &Db, new: &NewUser) -> Result<User, sqlx::Error> {
    match db.dialect() {
        Dialect::Sqlite => {
            let sql = "INSERT INTO bench_users (email, name, bio, score) VALUES (?, ?, ?, ?) \
                       RETURNING id, email, name, bio, score";
            let row = sqlx::query(sql)
                .bind(&new.email)
                .bind(&new.name)
                .bind(&new.bio)
                .bind(new.score)
                .fetch_one(db.as_sqlite().expect("pool"))
                .await?;
            decode(&row)
        }
        Dialect::Postgres => {
            let sql = "INSERT INTO bench_users (email, name, bio, score) VALUES ($1, $2, $3, $4) \
                       RETURNING id, email, name, bio, score";
            let row = sqlx::query(sql)
                .bind(&new.email)
                .bind(&new.name)
                .bind(&new.bio)
                .bind(new.score)
                .fetch_one(db.as_postgres().expect("pool"))
                .await?;
            decode(&row)
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
            Ok(User {
                id: i64::try_from(done.last_insert_id()).unwrap_or(i64::MAX),
                email: new.email.clone(),
                name: new.name.clone(),
                bio: new.bio.clone(),
                score: new.score,
            })
        }
    }
}

/// `update` of every non-key column, returning the stored row.
pub async fn update(db: &Db, user: &User) -> Result<Option<User>, sqlx::Error> {
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

macro_rules! insert_batch {
    ($pool:expr, $news:expr) => {{
        let mut tx = $pool.begin().await?;
        let mut stored = Vec::with_capacity($news.len());
        for chunk in $news.chunks(CHUNK) {
            let mut builder =
                QueryBuilder::new("INSERT INTO bench_users (email, name, bio, score) ");
            builder.push_values(chunk, |mut row, new| {
                row.push_bind(&new.email)
                    .push_bind(&new.name)
                    .push_bind(&new.bio)
                    .push_bind(new.score);
            });
            builder.push(format_args!(" RETURNING {COLUMNS}"));
            let rows = builder.build().fetch_all(&mut *tx).await?;
            for row in &rows {
                stored.push(decode(row)?);
            }
        }
        tx.commit().await?;
        Ok(stored)
    }};
}

/// `insert_many`: one transaction, multi-row inserts of at most 1,000 rows with `RETURNING`
/// (MariaDB has it for `INSERT`).
pub async fn insert_many(db: &Db, news: &[NewUser]) -> Result<Vec<User>, sqlx::Error> {
    match db.dialect() {
        Dialect::Sqlite => insert_batch!(db.as_sqlite().expect("pool"), news),
        Dialect::Postgres => insert_batch!(db.as_postgres().expect("pool"), news),
        Dialect::MySql => insert_batch!(db.as_mysql().expect("pool"), news),
    }
}
