//! The raw drivers by hand: rusqlite (cached prepared statements, on the calling thread),
//! tokio-postgres (statements prepared once), mysql_async (`exec` with the driver's statement
//! cache).

use mysql_async::prelude::Queryable;
use repo_benches::{NewUser, User};

use crate::{PARENTS, Stack, USER_COLUMNS};

/// tokio-postgres with the statements prepared once, as its users keep them.
pub struct Postgres {
    client: tokio_postgres::Client,
    prepared: std::collections::HashMap<String, tokio_postgres::Statement>,
}

impl Postgres {
    async fn prepare_cached(
        &mut self,
        sql: &str,
    ) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// One backend's own driver.
pub enum Raw {
    Sqlite(rusqlite::Connection),
    Postgres(Postgres),
    MySql(mysql_async::Conn),
}

impl Raw {
    /// Connects to `url` with the backend's own driver.
    pub async fn connect(url: &str) -> Raw {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let connection = rusqlite::Connection::open(path).expect("open");
            connection
                .execute_batch(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
                )
                .expect("pragmas");
            connection
                .busy_timeout(std::time::Duration::from_secs(5))
                .expect("busy timeout");
            return Raw::Sqlite(connection);
        }
        if url.starts_with("postgres") {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(async move {
                let _ = connection.await;
            });
            return Raw::Postgres(Postgres {
                client,
                prepared: std::collections::HashMap::new(),
            });
        }
        let url = url.replacen("mariadb:", "mysql:", 1);
        Raw::MySql(mysql_async::Conn::from_url(url).await.expect("connect"))
    }
}

fn rusqlite_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        bio: row.get(3)?,
        score: row.get(4)?,
    })
}

fn postgres_user(row: &tokio_postgres::Row) -> User {
    User {
        id: row.get(0),
        email: row.get(1),
        name: row.get(2),
        bio: row.get(3),
        score: row.get(4),
    }
}

type MySqlUser = (i64, String, String, Option<String>, i64);

fn mysql_user((id, email, name, bio, score): MySqlUser) -> User {
    User {
        id,
        email,
        name,
        bio,
        score,
    }
}

const INSERT: &str = "INSERT INTO bench_users (email, name, bio, score) VALUES (?, ?, ?, ?)";
const UPDATE: &str = "UPDATE bench_users SET email = ?, name = ?, bio = ?, score = ? WHERE id = ?";

impl Stack for Raw {
    async fn insert_one(&mut self, new: &NewUser) -> i64 {
        match self {
            Raw::Sqlite(c) => {
                let mut statement = c.prepare_cached(INSERT).expect("prepare");
                statement
                    .execute(rusqlite::params![new.email, new.name, new.bio, new.score])
                    .expect("insert");
                c.last_insert_rowid()
            }
            Raw::Postgres(c) => {
                let statement = c
                    .prepare_cached("INSERT INTO bench_users (email, name, bio, score) VALUES ($1, $2, $3, $4) RETURNING id")
                    .await
                    .expect("prepare");
                let row = c
                    .client
                    .query_one(&statement, &[&new.email, &new.name, &new.bio, &new.score])
                    .await
                    .expect("insert");
                row.get(0)
            }
            Raw::MySql(c) => {
                c.exec_drop(INSERT, (&new.email, &new.name, &new.bio, new.score))
                    .await
                    .expect("insert");
                c.last_insert_id().unwrap_or(0) as i64
            }
        }
    }

    async fn insert_many(&mut self, news: &[NewUser]) -> usize {
        match self {
            Raw::Sqlite(c) => {
                let tx = c.transaction().expect("begin");
                {
                    let mut statement = tx.prepare_cached(INSERT).expect("prepare");
                    for new in news {
                        statement
                            .execute(rusqlite::params![new.email, new.name, new.bio, new.score])
                            .expect("insert");
                    }
                }
                tx.commit().expect("commit");
                news.len()
            }
            Raw::Postgres(c) => {
                // One statement of arrays, as a PostgreSQL user writes a batch.
                let transaction = c.client.transaction().await.expect("begin");
                let emails: Vec<&str> = news.iter().map(|n| n.email.as_str()).collect();
                let names: Vec<&str> = news.iter().map(|n| n.name.as_str()).collect();
                let bios: Vec<Option<&str>> = news.iter().map(|n| n.bio.as_deref()).collect();
                let scores: Vec<i64> = news.iter().map(|n| n.score).collect();
                let inserted = transaction
                    .execute(
                        "INSERT INTO bench_users (email, name, bio, score) \
                         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[])",
                        &[&emails, &names, &bios, &scores],
                    )
                    .await
                    .expect("insert_many");
                transaction.commit().await.expect("commit");
                inserted as usize
            }
            Raw::MySql(c) => {
                let mut transaction = c
                    .start_transaction(mysql_async::TxOpts::default())
                    .await
                    .expect("begin");
                transaction
                    .exec_batch(
                        INSERT,
                        news.iter()
                            .map(|new| (&new.email, &new.name, &new.bio, new.score)),
                    )
                    .await
                    .expect("insert_many");
                transaction.commit().await.expect("commit");
                news.len()
            }
        }
    }

    async fn find_by_id(&mut self, id: i64) -> usize {
        let sql = format!("SELECT {USER_COLUMNS} FROM bench_users WHERE id = ?");
        match self {
            Raw::Sqlite(c) => {
                let mut statement = c.prepare_cached(&sql).expect("prepare");
                let mut rows = statement.query([id]).expect("find");
                let found = rows.next().expect("step").map(rusqlite_user);
                usize::from(found.is_some())
            }
            Raw::Postgres(c) => {
                let statement = c
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS} FROM bench_users WHERE id = $1"
                    ))
                    .await
                    .expect("prepare");
                let row = c.client.query_opt(&statement, &[&id]).await.expect("find");
                usize::from(row.as_ref().map(postgres_user).is_some())
            }
            Raw::MySql(c) => {
                let row: Option<MySqlUser> = c.exec_first(sql, (id,)).await.expect("find");
                usize::from(row.map(mysql_user).is_some())
            }
        }
    }

    async fn select(&mut self, limit: i64) -> usize {
        let sql = format!("SELECT {USER_COLUMNS} FROM bench_users ORDER BY id LIMIT ?");
        match self {
            Raw::Sqlite(c) => {
                let mut statement = c.prepare_cached(&sql).expect("prepare");
                let users = statement
                    .query_map([limit], rusqlite_user)
                    .expect("select")
                    .collect::<rusqlite::Result<Vec<User>>>()
                    .expect("rows");
                users.len()
            }
            Raw::Postgres(c) => {
                let statement = c
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS} FROM bench_users ORDER BY id LIMIT $1"
                    ))
                    .await
                    .expect("prepare");
                let rows = c.client.query(&statement, &[&limit]).await.expect("select");
                rows.iter().map(postgres_user).count()
            }
            Raw::MySql(c) => {
                let rows: Vec<MySqlUser> = c.exec(sql, (limit,)).await.expect("select");
                rows.into_iter().map(mysql_user).count()
            }
        }
    }

    async fn update_one(&mut self, user: &User) -> usize {
        match self {
            Raw::Sqlite(c) => {
                let mut statement = c.prepare_cached(UPDATE).expect("prepare");
                statement
                    .execute(rusqlite::params![
                        user.email, user.name, user.bio, user.score, user.id
                    ])
                    .expect("update")
            }
            Raw::Postgres(c) => {
                let statement = c
                    .prepare_cached("UPDATE bench_users SET email = $1, name = $2, bio = $3, score = $4 WHERE id = $5")
                    .await
                    .expect("prepare");
                c.client
                    .execute(
                        &statement,
                        &[&user.email, &user.name, &user.bio, &user.score, &user.id],
                    )
                    .await
                    .expect("update") as usize
            }
            Raw::MySql(c) => {
                c.exec_drop(
                    UPDATE,
                    (&user.email, &user.name, &user.bio, user.score, user.id),
                )
                .await
                .expect("update");
                c.affected_rows() as usize
            }
        }
    }

    async fn users_with_posts(&mut self) -> usize {
        let page = format!("SELECT {USER_COLUMNS} FROM bench_users ORDER BY id LIMIT {PARENTS}");
        let posts: Vec<(i64, i64, String)>;
        let users: Vec<User>;
        match self {
            Raw::Sqlite(c) => {
                let mut statement = c.prepare_cached(&page).expect("prepare");
                users = statement
                    .query_map([], rusqlite_user)
                    .expect("page")
                    .collect::<rusqlite::Result<_>>()
                    .expect("rows");
                let list = vec!["?"; users.len()].join(", ");
                let sql = format!(
                    "SELECT id, user_id, title FROM bench_posts WHERE user_id IN ({list}) ORDER BY id"
                );
                let mut statement = c.prepare_cached(&sql).expect("prepare");
                posts = statement
                    .query_map(
                        rusqlite::params_from_iter(users.iter().map(|u| u.id)),
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .expect("posts")
                    .collect::<rusqlite::Result<_>>()
                    .expect("rows");
            }
            Raw::Postgres(c) => {
                let statement = c.prepare_cached(&page).await.expect("prepare");
                users = c
                    .client
                    .query(&statement, &[])
                    .await
                    .expect("page")
                    .iter()
                    .map(postgres_user)
                    .collect();
                let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
                let statement = c
                    .prepare_cached("SELECT id, user_id, title FROM bench_posts WHERE user_id = ANY($1) ORDER BY id")
                    .await
                    .expect("prepare");
                posts = c
                    .client
                    .query(&statement, &[&ids])
                    .await
                    .expect("posts")
                    .iter()
                    .map(|row| (row.get(0), row.get(1), row.get(2)))
                    .collect();
            }
            Raw::MySql(c) => {
                let rows: Vec<MySqlUser> = c.query(page).await.expect("page");
                users = rows.into_iter().map(mysql_user).collect();
                let list = vec!["?"; users.len()].join(", ");
                let sql = format!(
                    "SELECT id, user_id, title FROM bench_posts WHERE user_id IN ({list}) ORDER BY id"
                );
                let ids: Vec<mysql_async::Value> = users.iter().map(|u| u.id.into()).collect();
                posts = c
                    .exec(sql, mysql_async::Params::Positional(ids))
                    .await
                    .expect("posts");
            }
        }
        let mut grouped: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for (_, user_id, _) in &posts {
            *grouped.entry(*user_id).or_default() += 1;
        }
        users
            .iter()
            .map(|u| grouped.get(&u.id).copied().unwrap_or(0))
            .sum()
    }
}
