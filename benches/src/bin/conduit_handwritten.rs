//! The Conduit service with its query side written by hand on sqlx, for the load test's
//! comparison (`benches/RESULTS.md`): the same use cases, HTTP layer and writes (through the
//! library), but the reads that are 90 % of the load (article pages, single articles,
//! comments, tags) as the SQL a careful person would write for it, one statement per page
//! plus its count. SQLite and PostgreSQL; `DATABASE_URL` and `CONDUIT_ADDR` as the service.

use std::sync::Arc;

use conduit::application::{
    ArticleChanges, ArticlePage, ArticleQuery, ArticleView, CommentView, Conduit, Profile, Reads,
    Store, UserChanges,
};
use conduit::infrastructure::Persistence;
use conduit_domain::{Article, Articles, Comment, Comments, Favorites, Follows, User, Users};
use repo_runtime::chrono::{DateTime, Utc};
use repo_runtime::prelude::*;
use repo_runtime::sqlx::{self, AssertSqlSafe, PgPool, Row, SqlitePool};

/// The columns of an article, its author and the viewer's flags, in this order.
const VIEW: &str = "a.id, a.slug, a.author_id, a.title, a.description, a.body, a.created_at, \
    a.updated_at, u.username, u.bio, u.image, \
    EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = a.author_id), \
    (SELECT COUNT(*) FROM favorites v WHERE v.article_id = a.id), \
    EXISTS (SELECT 1 FROM favorites v WHERE v.article_id = a.id AND v.user_id = $1), \
    (SELECT group_concat_tags)";

/// Optional conditions of a listing: `$2` tag, `$3` author, `$4` favourited by, `$5` feed of.
const LISTED: &str = "FROM articles a JOIN users u ON u.id = a.author_id \
    WHERE ($2 IS NULL OR EXISTS (SELECT 1 FROM article_tags l JOIN tags t ON t.id = l.tag_id \
        WHERE l.article_id = a.id AND t.name = $2)) \
    AND ($3 IS NULL OR u.username = $3) \
    AND ($4 IS NULL OR EXISTS (SELECT 1 FROM favorites v JOIN users w ON w.id = v.user_id \
        WHERE v.article_id = a.id AND w.username = $4)) \
    AND ($5 IS NULL OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $5 \
        AND f.followee_id = a.author_id))";

const COMMENTS: &str = "SELECT c.id, c.article_id, c.author_id, c.body, c.created_at, \
    c.updated_at, u.username, u.bio, u.image, \
    EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $2 AND f.followee_id = c.author_id) \
    FROM comments c JOIN users u ON u.id = c.author_id WHERE c.article_id = $1 \
    ORDER BY c.created_at, c.id";

const TAGS: &str = "SELECT t.name FROM tags t JOIN article_tags l ON l.tag_id = t.id \
    GROUP BY t.id, t.name ORDER BY COUNT(*) DESC, t.name";

/// The statements of one dialect.
struct Statements {
    page: String,
    count: String,
    /// The articles of a page by key, before their key list.
    by_ids: String,
    /// The key list of `by_ids` for this many keys.
    id_list: fn(usize) -> String,
}

impl Statements {
    fn postgres() -> Statements {
        let view = VIEW.replace(
            "group_concat_tags",
            "string_agg(t.name, ',' ORDER BY t.name) FROM article_tags l \
             JOIN tags t ON t.id = l.tag_id WHERE l.article_id = a.id",
        );
        let listed = LISTED
            .replace("$2 IS NULL", "$2::text IS NULL")
            .replace("$3 IS NULL", "$3::text IS NULL")
            .replace("$4 IS NULL", "$4::text IS NULL")
            .replace("$5 IS NULL", "$5::bigint IS NULL");
        Statements {
            page: format!(
                "SELECT {view} {listed} ORDER BY a.created_at DESC, a.id DESC LIMIT $6 OFFSET $7"
            ),
            count: format!("SELECT COUNT(*) {listed}"),
            by_ids: format!("SELECT {view} FROM articles a JOIN users u ON u.id = a.author_id"),
            id_list: |_| " WHERE a.id = ANY($2)".to_owned(),
        }
    }

    fn sqlite() -> Statements {
        // SQLite's numbered parameters are `?N`; its aggregate has no order (sorted after).
        let numbered = |sql: &str| {
            (1..=7).fold(sql.to_owned(), |sql, n| {
                sql.replace(&format!("${n}"), &format!("?{n}"))
            })
        };
        let view = numbered(&VIEW.replace(
            "group_concat_tags",
            "group_concat(t.name, ',') FROM article_tags l \
             JOIN tags t ON t.id = l.tag_id WHERE l.article_id = a.id",
        ));
        let listed = numbered(LISTED);
        Statements {
            page: format!(
                "SELECT {view} {listed} ORDER BY a.created_at DESC, a.id DESC LIMIT ?6 OFFSET ?7"
            ),
            count: format!("SELECT COUNT(*) {listed}"),
            by_ids: format!("SELECT {view} FROM articles a JOIN users u ON u.id = a.author_id"),
            id_list: |ids| {
                let list: Vec<String> = (0..ids).map(|n| format!("?{}", n + 2)).collect();
                format!(" WHERE a.id IN ({})", list.join(", "))
            },
        }
    }
}

enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Reads an article view from a row of `VIEW`'s columns.
macro_rules! view_of {
    ($row:expr) => {{
        let row = $row;
        let tags: Option<String> = row.try_get(14)?;
        let mut tags: Vec<String> = tags
            .unwrap_or_default()
            .split(',')
            .filter(|tag| !tag.is_empty())
            .map(str::to_owned)
            .collect();
        tags.sort();
        ArticleView {
            article: Article {
                id: row.try_get(0)?,
                slug: row.try_get(1)?,
                author_id: row.try_get(2)?,
                title: row.try_get(3)?,
                description: row.try_get(4)?,
                body: row.try_get(5)?,
                created_at: row.try_get::<DateTime<Utc>, _>(6)?,
                updated_at: row.try_get::<DateTime<Utc>, _>(7)?,
            },
            author: Profile {
                username: row.try_get(8)?,
                bio: row.try_get(9)?,
                image: row.try_get(10)?,
                following: row.try_get(11)?,
            },
            favorites_count: row.try_get::<i64, _>(12)? as u64,
            favorited: row.try_get(13)?,
            tags,
        }
    }};
}

macro_rules! comment_of {
    ($row:expr) => {{
        let row = $row;
        CommentView {
            comment: Comment {
                id: row.try_get(0)?,
                article_id: row.try_get(1)?,
                author_id: row.try_get(2)?,
                body: row.try_get(3)?,
                created_at: row.try_get::<DateTime<Utc>, _>(4)?,
                updated_at: row.try_get::<DateTime<Utc>, _>(5)?,
            },
            author: Profile {
                username: row.try_get(6)?,
                bio: row.try_get(7)?,
                image: row.try_get(8)?,
                following: row.try_get(9)?,
            },
        }
    }};
}

/// The library's store for everything but the reads.
struct HandWritten {
    library: Persistence,
    pool: Pool,
    statements: Statements,
}

fn failed(error: sqlx::Error) -> RepoError {
    RepoError::config(error.to_string())
}

impl HandWritten {
    async fn read(
        &self,
        query: &ArticleQuery,
        viewer: Option<i64>,
    ) -> Result<ArticlePage, sqlx::Error> {
        let (limit, offset) = (i64::from(query.limit()), i64::from(query.offset()));
        let s = &self.statements;
        macro_rules! page {
            ($pool:expr) => {{
                let rows = sqlx::query(AssertSqlSafe(s.page.as_str()))
                    .bind(viewer)
                    .bind(query.tag.as_deref())
                    .bind(query.author.as_deref())
                    .bind(query.favorited.as_deref())
                    .bind(query.followed_by)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all($pool)
                    .await?;
                let total: i64 = sqlx::query(AssertSqlSafe(s.count.as_str()))
                    .bind(viewer)
                    .bind(query.tag.as_deref())
                    .bind(query.author.as_deref())
                    .bind(query.favorited.as_deref())
                    .bind(query.followed_by)
                    .fetch_one($pool)
                    .await?
                    .try_get(0)?;
                let mut articles = Vec::with_capacity(rows.len());
                for row in &rows {
                    articles.push(view_of!(row));
                }
                Ok(ArticlePage {
                    articles,
                    total: total as u64,
                })
            }};
        }
        match &self.pool {
            Pool::Sqlite(pool) => page!(pool),
            Pool::Postgres(pool) => page!(pool),
        }
    }

    async fn read_views(
        &self,
        ids: &[i64],
        viewer: Option<i64>,
    ) -> Result<Vec<ArticleView>, sqlx::Error> {
        let statements = &self.statements;
        let sql = format!("{}{}", statements.by_ids, (statements.id_list)(ids.len()));
        let rows = match &self.pool {
            Pool::Sqlite(pool) => {
                let mut query = sqlx::query(AssertSqlSafe(sql.as_str())).bind(viewer);
                for id in ids {
                    query = query.bind(id);
                }
                let rows = query.fetch_all(pool).await?;
                let mut views = Vec::with_capacity(rows.len());
                for row in &rows {
                    views.push(view_of!(row));
                }
                views
            }
            Pool::Postgres(pool) => {
                let rows = sqlx::query(AssertSqlSafe(sql.as_str()))
                    .bind(viewer)
                    .bind(ids)
                    .fetch_all(pool)
                    .await?;
                let mut views = Vec::with_capacity(rows.len());
                for row in &rows {
                    views.push(view_of!(row));
                }
                views
            }
        };
        // In the order asked.
        let mut views = rows;
        views.sort_by_key(|view| ids.iter().position(|id| *id == view.article.id));
        Ok(views)
    }

    async fn read_comments(
        &self,
        article_id: i64,
        viewer: Option<i64>,
    ) -> Result<Vec<CommentView>, sqlx::Error> {
        macro_rules! comments {
            ($pool:expr, $sql:expr) => {{
                let rows = sqlx::query(AssertSqlSafe($sql))
                    .bind(article_id)
                    .bind(viewer)
                    .fetch_all($pool)
                    .await?;
                let mut comments = Vec::with_capacity(rows.len());
                for row in &rows {
                    comments.push(comment_of!(row));
                }
                Ok(comments)
            }};
        }
        match &self.pool {
            Pool::Sqlite(pool) => {
                comments!(pool, COMMENTS.replace("$1", "?1").replace("$2", "?2"))
            }
            Pool::Postgres(pool) => comments!(pool, COMMENTS),
        }
    }
}

#[async_trait::async_trait]
impl Reads for HandWritten {
    async fn articles(
        &self,
        query: &ArticleQuery,
        viewer: Option<i64>,
    ) -> Result<ArticlePage, RepoError> {
        self.read(query, viewer).await.map_err(failed)
    }

    async fn views(
        &self,
        articles: Vec<Article>,
        viewer: Option<i64>,
    ) -> Result<Vec<ArticleView>, RepoError> {
        let ids: Vec<i64> = articles.iter().map(|article| article.id).collect();
        self.read_views(&ids, viewer).await.map_err(failed)
    }

    async fn comments(
        &self,
        article_id: i64,
        viewer: Option<i64>,
    ) -> Result<Vec<CommentView>, RepoError> {
        self.read_comments(article_id, viewer).await.map_err(failed)
    }

    async fn tags(&self) -> Result<Vec<String>, RepoError> {
        let names = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_scalar(TAGS).fetch_all(pool).await,
            Pool::Postgres(pool) => sqlx::query_scalar(TAGS).fetch_all(pool).await,
        };
        names.map_err(failed)
    }
}

#[async_trait::async_trait]
impl Store for HandWritten {
    fn users(&self) -> &dyn Users {
        self.library.users()
    }

    fn articles(&self) -> &dyn Articles {
        Store::articles(&self.library)
    }

    fn comments(&self) -> &dyn Comments {
        Store::comments(&self.library)
    }

    fn follows(&self) -> &dyn Follows {
        self.library.follows()
    }

    fn favorites(&self) -> &dyn Favorites {
        self.library.favorites()
    }

    fn reads(&self) -> &dyn Reads {
        self
    }

    async fn publish(&self, article: Article, tags: &[String]) -> Result<Article, RepoError> {
        self.library.publish(article, tags).await
    }

    async fn change_user(&self, id: i64, changes: UserChanges) -> Result<User, RepoError> {
        self.library.change_user(id, changes).await
    }

    async fn change_article(&self, id: i64, changes: ArticleChanges) -> Result<Article, RepoError> {
        self.library.change_article(id, changes).await
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")?;
    let db = Db::connect(&url).await?;
    let library = Persistence::open(db.clone()).await?;
    let max = db.options().max_connections;
    let (pool, statements) = if url.starts_with("postgres") {
        let options = sqlx::postgres::PgPoolOptions::new().max_connections(max);
        (
            Pool::Postgres(options.connect(&url).await?),
            Statements::postgres(),
        )
    } else {
        let options = sqlx::sqlite::SqlitePoolOptions::new().max_connections(max);
        (
            Pool::Sqlite(options.connect(&url).await?),
            Statements::sqlite(),
        )
    };
    let store = HandWritten {
        library,
        pool,
        statements,
    };
    let conduit = Conduit::new(Arc::new(store));
    let router = conduit::http::router(conduit, conduit::http::Tokens::new(b"handwritten"));
    let address = std::env::var("CONDUIT_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(listener, router).await?;
    Ok(())
}
