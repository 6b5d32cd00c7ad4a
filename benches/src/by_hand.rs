//! The same statements written by hand against rusqlite, as a user of rusqlite would: one
//! connection to the database file, cached prepared statements, values read by position, on
//! the calling thread. The baseline of the `rusqlite` target.

use std::sync::Mutex;

use repo_runtime::Db;
use repo_runtime::rusqlite::{self, Connection, params};

use crate::{NewUser, User};

/// The connection by hand, opened on the file of the `Db` it stands beside.
static CONNECTION: Mutex<Option<(String, Connection)>> = Mutex::new(None);

/// Runs `work` on the connection to `db`'s file, opening it on first use.
fn with<T>(db: &Db, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut held = CONNECTION.lock().expect("the connection by hand");
    let url = db.url().to_owned();
    if held.as_ref().is_none_or(|(open, _)| *open != url) {
        let path = url.trim_start_matches("sqlite://");
        let connection = Connection::open(path)?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
        )?;
        *held = Some((url, connection));
    }
    let (_, connection) = held.as_ref().expect("opened above");
    work(connection)
}

fn decode(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        bio: row.get(3)?,
        score: row.get(4)?,
    })
}

/// Runs a statement with no parameters.
pub(crate) fn execute(db: &Db, statement: &str) -> rusqlite::Result<()> {
    with(db, |c| c.execute_batch(statement))
}

/// `get` by key.
pub(crate) fn get(db: &Db, id: i64) -> rusqlite::Result<Option<User>> {
    with(db, |c| {
        let mut statement =
            c.prepare_cached("SELECT id, email, name, bio, score FROM bench_users WHERE id = ?")?;
        let mut rows = statement.query([id])?;
        rows.next()?.map(decode).transpose()
    })
}

/// Users whose score is within `low..=high`, by score.
pub(crate) fn score_between(db: &Db, low: i64, high: i64) -> rusqlite::Result<Vec<User>> {
    with(db, |c| {
        let mut statement = c.prepare_cached(
            "SELECT id, email, name, bio, score FROM bench_users WHERE score BETWEEN ? AND ? ORDER BY score",
        )?;
        statement.query_map([low, high], decode)?.collect()
    })
}

/// A search page of optional conditions, its SQL assembled for the conditions given.
pub(crate) fn filtered_page(
    db: &Db,
    low: Option<i64>,
    high: Option<i64>,
    with_bio: Option<bool>,
) -> rusqlite::Result<Vec<User>> {
    let mut sql = String::from("SELECT id, email, name, bio, score FROM bench_users");
    let mut values: Vec<i64> = Vec::new();
    let mut joint = " WHERE ";
    if let Some(low) = low {
        sql.push_str(joint);
        sql.push_str("score >= ?");
        values.push(low);
        joint = " AND ";
    }
    if let Some(high) = high {
        sql.push_str(joint);
        sql.push_str("score < ?");
        values.push(high);
        joint = " AND ";
    }
    match with_bio {
        Some(true) => sql.push_str(&format!("{joint}bio IS NOT NULL")),
        Some(false) => sql.push_str(&format!("{joint}bio IS NULL")),
        None => {}
    }
    sql.push_str(" ORDER BY score DESC, id LIMIT ? OFFSET ?");
    values.extend([20, 0]);
    with(db, |c| {
        let mut statement = c.prepare_cached(&sql)?;
        statement
            .query_map(rusqlite::params_from_iter(values), decode)?
            .collect()
    })
}

/// `insert` of one row, returning it with its key.
pub(crate) fn insert(db: &Db, new: &NewUser) -> rusqlite::Result<User> {
    with(db, |c| {
        let mut statement = c.prepare_cached(
            "INSERT INTO bench_users (email, name, bio, score) VALUES (?, ?, ?, ?)",
        )?;
        statement.execute(params![new.email, new.name, new.bio, new.score])?;
        Ok(User {
            id: c.last_insert_rowid(),
            email: new.email.clone(),
            name: new.name.clone(),
            bio: new.bio.clone(),
            score: new.score,
        })
    })
}

/// An update that returns nothing: whether a row matched.
pub(crate) fn write(db: &Db, user: &User) -> rusqlite::Result<bool> {
    with(db, |c| {
        let mut statement = c.prepare_cached(
            "UPDATE bench_users SET email = ?, name = ?, bio = ?, score = ? WHERE id = ?",
        )?;
        let changed = statement.execute(params![
            user.email, user.name, user.bio, user.score, user.id
        ])?;
        Ok(changed > 0)
    })
}

/// `update`, returning the stored row.
pub(crate) fn update(db: &Db, user: &User) -> rusqlite::Result<Option<User>> {
    with(db, |c| {
        let mut statement = c.prepare_cached(
            "UPDATE bench_users SET email = ?, name = ?, bio = ?, score = ? WHERE id = ? \
             RETURNING id, email, name, bio, score",
        )?;
        let mut rows = statement.query(params![
            user.email, user.name, user.bio, user.score, user.id
        ])?;
        rows.next()?.map(decode).transpose()
    })
}

/// Every row by key.
pub(crate) fn list(db: &Db) -> rusqlite::Result<Vec<User>> {
    with(db, |c| {
        let mut statement = c.prepare_cached(
            "SELECT id, email, name, bio, score FROM bench_users ORDER BY id ASC",
        )?;
        statement.query_map([], decode)?.collect()
    })
}

/// Many rows in one transaction, a cached prepared insert per row (the way rusqlite's own
/// documentation writes a batch), keys from `last_insert_rowid()`.
pub(crate) fn insert_many(db: &Db, news: &[NewUser]) -> rusqlite::Result<Vec<User>> {
    with(db, |c| {
        let tx = c.unchecked_transaction()?;
        let mut stored = Vec::with_capacity(news.len());
        {
            let mut statement = tx.prepare_cached(
                "INSERT INTO bench_users (email, name, bio, score) VALUES (?, ?, ?, ?)",
            )?;
            for new in news {
                statement.execute(params![new.email, new.name, new.bio, new.score])?;
                stored.push(User {
                    id: tx.last_insert_rowid(),
                    email: new.email.clone(),
                    name: new.name.clone(),
                    bio: new.bio.clone(),
                    score: new.score,
                });
            }
        }
        tx.commit()?;
        Ok(stored)
    })
}
