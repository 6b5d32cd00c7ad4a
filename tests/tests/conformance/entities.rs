//! The entities the conformance suite persists, one per model case.

use repo_runtime::prelude::*;

/// Generated key, a unique field, an index, an optional field.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "users")]
pub struct User {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub email: String,
    #[repo(index)]
    pub name: String,
    pub bio: Option<String>,
}

/// Composite key, a renamed column, bytes, booleans and a composite unique key.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(unique(org_id, nickname))]
pub struct Membership {
    #[repo(id)]
    pub org_id: i64,
    #[repo(id)]
    pub user_name: String,
    pub nickname: String,
    #[repo(column = "member_since")]
    pub since: i32,
    pub active: bool,
    pub avatar: Option<Vec<u8>>,
}

/// A natural string key, every numeric type, a skipped field.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "measurements")]
pub struct Measurement {
    #[repo(id)]
    pub code: String,
    pub small: i16,
    pub medium: i32,
    pub large: i64,
    pub single: f32,
    pub double: f64,
    pub flag: Option<bool>,
    pub raw: Vec<u8>,
    #[repo(skip)]
    pub cached: Option<String>,
}

/// Nothing but a composite key.
#[derive(Debug, Clone, PartialEq, Eq, Repository)]
pub struct Follow {
    #[repo(id)]
    pub follower: i64,
    #[repo(id)]
    pub followee: i64,
}

/// A generated key narrower than i64.
#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Note {
    #[repo(id, generated)]
    pub id: i32,
    pub body: String,
}

/// Rows to project, count, sum and group.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "posts", port = PostQueries)]
pub struct Post {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(index)]
    pub author: i64,
    pub title: String,
    pub views: i32,
    pub rating: Option<f64>,
}

/// A post's card: two columns, one renamed.
#[derive(Debug, PartialEq, Projection)]
#[repo(entity = Post)]
pub struct Card {
    pub id: i64,
    #[repo(field = title)]
    pub headline: String,
    pub rating: Option<f64>,
}

/// Per author, from SQL written by hand.
#[derive(Debug, PartialEq, Projection)]
#[repo(entity = Post)]
pub struct AuthorBest {
    pub author: i64,
    #[repo(count)]
    pub posts: i64,
    #[repo(max = views)]
    pub best: Option<i32>,
}

/// Hand-written queries returning projections: rows read by the projection's column names
/// (an aggregate's by its field's), in the statement's own order.
#[repo_runtime::port]
pub trait PostQueries: Send + Sync {
    #[query(
        "SELECT author, COUNT(*) AS posts, MAX(views) AS best FROM posts WHERE views >= :least \
         GROUP BY author ORDER BY author DESC"
    )]
    async fn authors_from(&self, least: i32) -> Result<Vec<AuthorBest>, RepoError>;
    #[query("SELECT rating, title, id FROM posts WHERE id = :id")]
    async fn card(&self, id: i64) -> Result<Option<Card>, RepoError>;
    #[query("SELECT rating, title, id FROM posts WHERE id = :id")]
    async fn card_or_not_found(&self, id: i64) -> Result<Card, RepoError>;
}

pub fn new_user(n: usize) -> NewUser {
    NewUser {
        email: format!("user{n}@example.com"),
        name: format!("User {n}"),
        bio: None,
    }
}

pub fn membership(org_id: i64, user_name: &str) -> Membership {
    Membership {
        org_id,
        user_name: user_name.to_owned(),
        nickname: format!("{user_name}-nick"),
        since: 2020,
        active: true,
        avatar: None,
    }
}

pub fn measurement(code: &str) -> Measurement {
    Measurement {
        code: code.to_owned(),
        small: 1,
        medium: 2,
        large: 3,
        single: 1.5,
        double: 2.25,
        flag: None,
        raw: vec![0, 1, 2],
        cached: None,
    }
}

/// Creates every table of the suite.
pub async fn create_all(db: &Db) {
    db.create_schema::<User>().await.expect("create users");
    db.create_schema::<Membership>()
        .await
        .expect("create memberships");
    db.create_schema::<Measurement>()
        .await
        .expect("create measurements");
    db.create_schema::<Follow>().await.expect("create follows");
    db.create_schema::<Note>().await.expect("create notes");
    db.create_schema::<Post>().await.expect("create posts");
}

/// Two views of one table, to provoke decode and NOT NULL errors.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "probes")]
pub struct ProbeInt {
    #[repo(id)]
    pub id: i64,
    pub value: i64,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "probes")]
pub struct ProbeText {
    #[repo(id)]
    pub id: i64,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "probes")]
pub struct ProbeOptional {
    #[repo(id)]
    pub id: i64,
    pub value: Option<i64>,
}
