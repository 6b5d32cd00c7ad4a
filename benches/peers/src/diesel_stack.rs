//! Diesel, as its guides write it: a `table!` schema, derived models, the query builder;
//! synchronous `SqliteConnection` on the calling thread, diesel-async on the servers.

use diesel::RunQueryDsl as Sync;
use diesel::prelude::{
    AsChangeset, Associations, BelongingToDsl, Connection, GroupedBy, Identifiable, Insertable,
    OptionalExtension, QueryDsl, Queryable, Selectable, SelectableHelper, SqliteConnection,
};
use diesel_async::RunQueryDsl as Async;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, AsyncPgConnection};
use repo_benches::{NewUser, User};

use crate::{PARENTS, Stack};

diesel::table! {
    bench_users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        bio -> Nullable<Text>,
        score -> BigInt,
    }
}

diesel::table! {
    bench_posts (id) {
        id -> BigInt,
        user_id -> BigInt,
        title -> Text,
    }
}

diesel::joinable!(bench_posts -> bench_users (user_id));
diesel::allow_tables_to_appear_in_same_query!(bench_users, bench_posts);

#[derive(Queryable, Selectable, Identifiable, Debug)]
#[allow(dead_code)] // Read whole, as a user reads rows; the fields are not looked at.
#[diesel(table_name = bench_users)]
struct DieselUser {
    id: i64,
    email: String,
    name: String,
    bio: Option<String>,
    score: i64,
}

#[derive(Insertable)]
#[diesel(table_name = bench_users)]
struct DieselNewUser<'a> {
    email: &'a str,
    name: &'a str,
    bio: Option<&'a str>,
    score: i64,
}

#[derive(AsChangeset)]
#[diesel(table_name = bench_users, treat_none_as_null = true)]
struct DieselChanges<'a> {
    email: &'a str,
    name: &'a str,
    bio: Option<&'a str>,
    score: i64,
}

#[derive(Queryable, Selectable, Identifiable, Associations, Debug)]
#[allow(dead_code)]
#[diesel(table_name = bench_posts, belongs_to(DieselUser, foreign_key = user_id))]
struct DieselPost {
    id: i64,
    user_id: i64,
    title: String,
}

fn new_row(new: &NewUser) -> DieselNewUser<'_> {
    DieselNewUser {
        email: &new.email,
        name: &new.name,
        bio: new.bio.as_deref(),
        score: new.score,
    }
}

fn changes(user: &User) -> DieselChanges<'_> {
    DieselChanges {
        email: &user.email,
        name: &user.name,
        bio: user.bio.as_deref(),
        score: user.score,
    }
}

/// Diesel on one backend's connection.
pub enum Diesel {
    Sqlite(SqliteConnection),
    Postgres(AsyncPgConnection),
    MySql(AsyncMysqlConnection),
}

impl Diesel {
    /// Connects to `url`.
    pub async fn connect(url: &str) -> Diesel {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut connection = SqliteConnection::establish(path).expect("connect");
            Sync::execute(
                diesel::sql_query("PRAGMA journal_mode = WAL"),
                &mut connection,
            )
            .expect("pragma");
            for pragma in [
                "PRAGMA synchronous = NORMAL",
                "PRAGMA foreign_keys = ON",
                "PRAGMA busy_timeout = 5000",
            ] {
                Sync::execute(diesel::sql_query(pragma), &mut connection).expect("pragma");
            }
            return Diesel::Sqlite(connection);
        }
        if url.starts_with("postgres") {
            return Diesel::Postgres(AsyncPgConnection::establish(url).await.expect("connect"));
        }
        let url = url.replacen("mariadb:", "mysql:", 1);
        Diesel::MySql(
            AsyncMysqlConnection::establish(&url)
                .await
                .expect("connect"),
        )
    }
}

impl Stack for Diesel {
    async fn insert_one(&mut self, new: &NewUser) -> i64 {
        let row = new_row(new);
        let insert = diesel::insert_into(bench_users::table).values(&row);
        match self {
            Diesel::Sqlite(c) => {
                Sync::get_result(insert.returning(bench_users::id), c).expect("insert")
            }
            Diesel::Postgres(c) => Async::get_result(insert.returning(bench_users::id), c)
                .await
                .expect("insert"),
            Diesel::MySql(c) => {
                Async::execute(insert, c).await.expect("insert");
                let last = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "LAST_INSERT_ID()",
                ));
                Async::get_result(last, c).await.expect("last insert id")
            }
        }
    }

    async fn insert_many(&mut self, news: &[NewUser]) -> usize {
        let rows: Vec<DieselNewUser<'_>> = news.iter().map(new_row).collect();
        let rows = &rows;
        match self {
            Diesel::Sqlite(c) => c
                .transaction(|c| {
                    Sync::execute(diesel::insert_into(bench_users::table).values(rows), c)
                })
                .expect("insert_many"),
            Diesel::Postgres(c) => diesel_async::AsyncConnection::transaction(
                c,
                async |c| -> Result<usize, diesel::result::Error> {
                    Async::execute(diesel::insert_into(bench_users::table).values(rows), c).await
                },
            )
            .await
            .expect("insert_many"),
            Diesel::MySql(c) => diesel_async::AsyncConnection::transaction(
                c,
                async |c| -> Result<usize, diesel::result::Error> {
                    Async::execute(diesel::insert_into(bench_users::table).values(rows), c).await
                },
            )
            .await
            .expect("insert_many"),
        }
    }

    async fn find_by_id(&mut self, id: i64) -> usize {
        // Built in each arm: `as_select` takes the backend of the connection it runs on.
        macro_rules! query {
            () => {
                bench_users::table.find(id).select(DieselUser::as_select())
            };
        }
        let found: Option<DieselUser> = match self {
            Diesel::Sqlite(c) => Sync::first(query!(), c).optional().expect("find"),
            Diesel::Postgres(c) => Async::first(query!(), c).await.optional().expect("find"),
            Diesel::MySql(c) => Async::first(query!(), c).await.optional().expect("find"),
        };
        usize::from(found.is_some())
    }

    async fn select(&mut self, limit: i64) -> usize {
        macro_rules! query {
            () => {
                bench_users::table
                    .order(bench_users::id)
                    .limit(limit)
                    .select(DieselUser::as_select())
            };
        }
        let users: Vec<DieselUser> = match self {
            Diesel::Sqlite(c) => Sync::load(query!(), c).expect("select"),
            Diesel::Postgres(c) => Async::load(query!(), c).await.expect("select"),
            Diesel::MySql(c) => Async::load(query!(), c).await.expect("select"),
        };
        users.len()
    }

    async fn update_one(&mut self, user: &User) -> usize {
        let query = diesel::update(bench_users::table.find(user.id)).set(changes(user));
        match self {
            Diesel::Sqlite(c) => Sync::execute(query, c).expect("update"),
            Diesel::Postgres(c) => Async::execute(query, c).await.expect("update"),
            Diesel::MySql(c) => Async::execute(query, c).await.expect("update"),
        }
    }

    async fn users_with_posts(&mut self) -> usize {
        macro_rules! page {
            () => {
                bench_users::table
                    .order(bench_users::id)
                    .limit(PARENTS as i64)
                    .select(DieselUser::as_select())
            };
        }
        let (users, posts): (Vec<DieselUser>, Vec<DieselPost>) = match self {
            Diesel::Sqlite(c) => {
                let users: Vec<DieselUser> = Sync::load(page!(), c).expect("page");
                let children = DieselPost::belonging_to(&users).select(DieselPost::as_select());
                let posts = Sync::load(children, c).expect("posts");
                (users, posts)
            }
            Diesel::Postgres(c) => {
                let users: Vec<DieselUser> = Async::load(page!(), c).await.expect("page");
                let children = DieselPost::belonging_to(&users).select(DieselPost::as_select());
                let posts = Async::load(children, c).await.expect("posts");
                (users, posts)
            }
            Diesel::MySql(c) => {
                let users: Vec<DieselUser> = Async::load(page!(), c).await.expect("page");
                let children = DieselPost::belonging_to(&users).select(DieselPost::as_select());
                let posts = Async::load(children, c).await.expect("posts");
                (users, posts)
            }
        };
        let grouped = posts.grouped_by(&users);
        grouped.iter().map(Vec::len).sum()
    }
}
