//! The infrastructure: the persistence records (each implementing its domain port, every
//! method generated), the query side ([`Reads`]) written with the library's filters,
//! relation loads and projections, and [`Persistence`], the application's [`Store`] on a
//! [`Db`]: SQLite, PostgreSQL, MySQL/MariaDB or the in-memory store alike. No SQL is written
//! here.

use std::collections::HashSet;

use repo_runtime::Dialect;
use repo_runtime::chrono::{DateTime, Utc};
use repo_runtime::migrate::{Migrations, Migrator, Schema};
use repo_runtime::prelude::*;

use crate::application::{
    ArticleChanges, ArticlePage, ArticleQuery, ArticleView, CommentView, Profile, Reads, Store,
    UserChanges,
};
// The types the ports' methods name, for the implementations generated here.
use conduit_domain::{
    Article, Articles, Comment, Comments, Favorite, Favorites, Follow, Follows, User, Users,
};

/// The stored form of [`User`]; `Debug` (written by the derive) leaves the hash out.
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "users", domain = conduit_domain::User, port = conduit_domain::Users)]
pub struct UserRecord {
    /// The user's number.
    #[repo(id, generated)]
    pub id: i64,
    /// The public name.
    #[repo(unique)]
    pub username: String,
    /// The login.
    #[repo(unique)]
    pub email: String,
    /// The password's hash, kept out of `Debug`.
    #[repo(sensitive)]
    pub password_hash: String,
    /// A few words about them.
    pub bio: Option<String>,
    /// The address of their picture.
    pub image: Option<String>,
}

/// The stored form of [`Article`]: its tags and favourites are link rows.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "articles",
    domain = conduit_domain::Article,
    port = conduit_domain::Articles,
    many_to_many(tags = ArticleTagRecord::article_id, to = tag_id),
    many_to_many(favorited_by = FavoriteRecord::article_id, to = user_id)
)]
pub struct ArticleRecord {
    /// The article's number.
    #[repo(id, generated)]
    pub id: i64,
    /// Its name in addresses.
    #[repo(unique)]
    pub slug: String,
    /// Who wrote it: `ArticleRecord::AUTHOR`.
    #[repo(references = UserRecord, index)]
    pub author_id: i64,
    /// Its title.
    pub title: String,
    /// What it is about.
    pub description: String,
    /// Its text.
    pub body: String,
    /// Set by the insert; listings are newest first.
    #[repo(created_at, index)]
    pub created_at: DateTime<Utc>,
    /// Set by every write.
    #[repo(updated_at)]
    pub updated_at: DateTime<Utc>,
}

/// A tag, shared by the articles that carry it.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tags")]
pub struct TagRecord {
    /// The tag's number.
    #[repo(id, generated)]
    pub id: i64,
    /// The tag.
    #[repo(unique)]
    pub name: String,
}

/// An article carrying a tag.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "article_tags")]
pub struct ArticleTagRecord {
    /// The article; its tags go with it.
    #[repo(id, references = ArticleRecord, on_delete = "cascade")]
    pub article_id: i64,
    /// The tag.
    #[repo(id, references = TagRecord, index)]
    pub tag_id: i64,
}

/// The stored form of [`Favorite`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "favorites", domain = conduit_domain::Favorite, port = conduit_domain::Favorites)]
pub struct FavoriteRecord {
    /// Whose favourite.
    #[repo(id, references = UserRecord, on_delete = "cascade")]
    pub user_id: i64,
    /// Which article; its favourites go with it.
    #[repo(id, references = ArticleRecord, on_delete = "cascade", index)]
    pub article_id: i64,
}

/// The stored form of [`Follow`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "follows",
    domain = conduit_domain::Follow,
    port = conduit_domain::Follows
)]
pub struct FollowRecord {
    /// Who follows.
    #[repo(id, references = UserRecord, on_delete = "cascade")]
    pub follower_id: i64,
    /// Whom.
    #[repo(id, references = UserRecord, on_delete = "cascade", index)]
    pub followee_id: i64,
}

/// The stored form of [`Comment`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "comments", domain = conduit_domain::Comment, port = conduit_domain::Comments)]
pub struct CommentRecord {
    /// The comment's number.
    #[repo(id, generated)]
    pub id: i64,
    /// The article; its comments go with it.
    #[repo(references = ArticleRecord, on_delete = "cascade", index)]
    pub article_id: i64,
    /// Who wrote it: `CommentRecord::AUTHOR`; indexed for the cascade when a user goes (the
    /// CLI's `check` found it missing).
    #[repo(references = UserRecord, on_delete = "cascade", index)]
    pub author_id: i64,
    /// Its text.
    pub body: String,
    /// Set by the insert.
    #[repo(created_at)]
    pub created_at: DateTime<Utc>,
    /// Set by every write.
    #[repo(updated_at)]
    pub updated_at: DateTime<Utc>,
}

/// How many articles carry each tag: one row per tag, counted by the database.
#[derive(Debug, Clone, PartialEq, Projection)]
#[repo(entity = ArticleTagRecord)]
pub struct TagUse {
    /// The tag.
    pub tag_id: i64,
    /// How many articles carry it.
    #[repo(count)]
    pub articles: i64,
}

/// Every table of Conduit, in the order their foreign keys need: what migrations are
/// generated from.
pub fn schema() -> Schema {
    Schema::new()
        .entity::<UserRecord>()
        .entity::<ArticleRecord>()
        .entity::<TagRecord>()
        .entity::<ArticleTagRecord>()
        .entity::<FavoriteRecord>()
        .entity::<FollowRecord>()
        .entity::<CommentRecord>()
}

/// The migrations under `migrations/`, compiled into the binary.
pub fn migrations(dialect: Dialect) -> Result<Migrations, RepoError> {
    let files = crate::migrations::files(dialect);
    Migrations::from_files(
        files
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned())),
    )
}

/// The application's store on a database.
pub struct Persistence {
    db: Db,
    users: SqlUserRepository,
    articles: SqlArticleRepository,
    comments: SqlCommentRepository,
    follows: SqlFollowRepository,
    favorites: SqlFavoriteRepository,
}

impl Persistence {
    /// The store on `db`, its schema brought up to date first: the migrations on a
    /// database, the tables themselves on the in-memory store (which runs no SQL).
    pub async fn open(db: Db) -> Result<Persistence, RepoError> {
        if db.is_memory() {
            db.create_schema::<UserRecord>().await?;
            db.create_schema::<ArticleRecord>().await?;
            db.create_schema::<TagRecord>().await?;
            db.create_schema::<ArticleTagRecord>().await?;
            db.create_schema::<FavoriteRecord>().await?;
            db.create_schema::<FollowRecord>().await?;
            db.create_schema::<CommentRecord>().await?;
        } else {
            Migrator::new(migrations(db.dialect())?).run(&db).await?;
        }
        Ok(Persistence::on(db))
    }

    /// The store on `db` as it is.
    pub fn on(db: Db) -> Persistence {
        Persistence {
            users: UserRecord::repository(&db),
            articles: ArticleRecord::repository(&db),
            comments: CommentRecord::repository(&db),
            follows: FollowRecord::repository(&db),
            favorites: FavoriteRecord::repository(&db),
            db,
        }
    }

    /// The database behind the store.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Whether `viewer` follows each of `users`, in one statement.
    async fn followed(
        &self,
        viewer: Option<i64>,
        users: impl IntoIterator<Item = i64>,
    ) -> Result<HashSet<i64>, RepoError> {
        let Some(viewer) = viewer else {
            return Ok(HashSet::new());
        };
        let users: Vec<i64> = users.into_iter().collect();
        if users.is_empty() {
            return Ok(HashSet::new());
        }
        let follows = FollowRecord::FOLLOWER_ID
            .eq(viewer)
            .and(FollowRecord::FOLLOWEE_ID.is_in(users));
        let found = self
            .follows
            .find_where(&follows, ListOptions::new())
            .await?;
        Ok(found.into_iter().map(|follow| follow.followee_id).collect())
    }
}

/// The articles `query` asks for. Each condition is an `EXISTS` in the same statement: no
/// key lists fetched first.
pub fn article_filter(query: &ArticleQuery) -> Filter<ArticleRecord> {
    Filter::all()
        .and(
            query
                .tag
                .as_deref()
                .map(|tag| ArticleRecord::TAGS.has(TagRecord::NAME.eq(tag))),
        )
        .and(
            query
                .author
                .as_deref()
                .map(|name| ArticleRecord::AUTHOR.has(UserRecord::USERNAME.eq(name))),
        )
        .and(
            query
                .favorited
                .as_deref()
                .map(|name| ArticleRecord::FAVORITED_BY.has(UserRecord::USERNAME.eq(name))),
        )
        .and(query.followed_by.map(|follower| {
            ArticleRecord::AUTHOR_ID.exists_in(
                FollowRecord::FOLLOWEE_ID,
                FollowRecord::FOLLOWER_ID.eq(follower),
            )
        }))
}

/// The page of articles `query` asks for, newest first.
pub fn newest_first(query: &ArticleQuery) -> ListOptions<ArticleRecordColumn> {
    ListOptions::new()
        .desc(ArticleRecordColumn::CreatedAt)
        .desc(ArticleRecordColumn::Id)
        .limit(u64::from(query.limit()))
        .offset(u64::from(query.offset()))
}

#[async_trait::async_trait]
impl Reads for Persistence {
    async fn articles(
        &self,
        query: &ArticleQuery,
        viewer: Option<i64>,
    ) -> Result<ArticlePage, RepoError> {
        let filter = article_filter(query);
        let newest = newest_first(query);
        let page = self.articles.find_where(&filter, newest).await?;
        let total = self.articles.count_where(&filter).await?;
        Ok(ArticlePage {
            articles: self.views(page, viewer).await?,
            total,
        })
    }

    async fn views(
        &self,
        articles: Vec<Article>,
        viewer: Option<i64>,
    ) -> Result<Vec<ArticleView>, RepoError> {
        if articles.is_empty() {
            return Ok(Vec::new());
        }
        // Relations load from records; the page's are its articles, converted back.
        let records: Vec<ArticleRecord> = articles.iter().cloned().map(Into::into).collect();
        let loaded = (ArticleRecord::AUTHOR, ArticleRecord::TAGS)
            .load(&self.db, &records)
            .await?;
        let favorites = ArticleRecord::FAVORITED_BY
            .count_matching(&self.db, &records, viewer_filter(viewer))
            .await?;
        let followed = self
            .followed(viewer, articles.iter().map(|article| article.author_id))
            .await?;
        articles
            .into_iter()
            .zip(loaded)
            .zip(favorites)
            .map(|((article, (author, tags)), favorites)| {
                let author = author.ok_or_else(|| RepoError::not_found("UserRecord"))?;
                let mut tags: Vec<String> = tags.into_iter().map(|tag| tag.name).collect();
                tags.sort();
                Ok(ArticleView {
                    author: profile(&author, &followed),
                    article,
                    tags,
                    favorited: favorites.matching > 0,
                    favorites_count: favorites.all,
                })
            })
            .collect()
    }

    async fn comments(
        &self,
        article_id: i64,
        viewer: Option<i64>,
    ) -> Result<Vec<CommentView>, RepoError> {
        let oldest = ListOptions::new()
            .asc(CommentRecordColumn::CreatedAt)
            .asc(CommentRecordColumn::Id);
        let on_article = CommentRecord::ARTICLE_ID.eq(article_id);
        let comments = self.comments.find_where(&on_article, oldest).await?;
        let records: Vec<CommentRecord> = comments.iter().cloned().map(Into::into).collect();
        let authors = CommentRecord::AUTHOR.load(&self.db, &records).await?;
        let followed = self
            .followed(viewer, comments.iter().map(|comment| comment.author_id))
            .await?;
        comments
            .into_iter()
            .zip(authors)
            .map(|(comment, author)| {
                let author = author.ok_or_else(|| RepoError::not_found("UserRecord"))?;
                Ok(CommentView {
                    author: profile(&author, &followed),
                    comment,
                })
            })
            .collect()
    }

    async fn tags(&self) -> Result<Vec<String>, RepoError> {
        let uses: Vec<TagUse> = ArticleTagRecord::repository(&self.db)
            .project(&Filter::all(), ListOptions::new())
            .await?;
        let ids: Vec<i64> = uses.iter().map(|used| used.tag_id).collect();
        let tags = TagRecord::repository(&self.db).load_by_keys(&ids).await?;
        let mut counted: Vec<(i64, String)> = uses
            .iter()
            .zip(tags)
            .filter_map(|(used, tag)| Some((used.articles, tag?.name)))
            .collect();
        counted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Ok(counted.into_iter().map(|(_, name)| name).collect())
    }
}

/// Which users favourited an article that count as the viewer's own: none when anonymous.
fn viewer_filter(viewer: Option<i64>) -> Filter<UserRecord> {
    match viewer {
        Some(viewer) => UserRecord::ID.eq(viewer),
        None => Filter::none(),
    }
}

fn profile(user: &UserRecord, followed: &HashSet<i64>) -> Profile {
    Profile {
        username: user.username.clone(),
        bio: user.bio.clone(),
        image: user.image.clone(),
        following: followed.contains(&user.id),
    }
}

#[async_trait::async_trait]
impl Store for Persistence {
    fn users(&self) -> &dyn Users {
        &self.users
    }

    fn articles(&self) -> &dyn Articles {
        &self.articles
    }

    fn comments(&self) -> &dyn Comments {
        &self.comments
    }

    fn follows(&self) -> &dyn Follows {
        &self.follows
    }

    fn favorites(&self) -> &dyn Favorites {
        &self.favorites
    }

    fn reads(&self) -> &dyn Reads {
        self
    }

    async fn publish(&self, article: Article, tags: &[String]) -> Result<Article, RepoError> {
        self.db
            .unit_of_work(async |tx| {
                let article = ArticleRecord::repository(&tx)
                    .insert(article.clone())
                    .await?;
                if tags.is_empty() {
                    return Ok(article);
                }
                let tag_repository = TagRecord::repository(&tx);
                let new = tags.iter().map(|name| NewTagRecord { name: name.clone() });
                tag_repository
                    .insert_or_ignore(new.collect(), TagRecord::BY_NAME)
                    .await?;
                let named = TagRecord::NAME.is_in(tags.iter().cloned());
                let ids: Vec<i64> = tag_repository
                    .find_where(&named, ListOptions::new())
                    .await?
                    .into_iter()
                    .map(|tag| tag.id)
                    .collect();
                ArticleTagRecord::repository(&tx)
                    .link(
                        ArticleTagRecord::ARTICLE_ID,
                        article.id,
                        ArticleTagRecord::TAG_ID,
                        &ids,
                        |article_id, tag_id| ArticleTagRecord { article_id, tag_id },
                    )
                    .await?;
                Ok(article)
            })
            .await
    }

    async fn change_user(&self, id: i64, changes: UserChanges) -> Result<User, RepoError> {
        let patch = UserRecordPatch {
            email: changes.email,
            username: changes.username,
            password_hash: changes.password_hash,
            bio: changes.bio,
            image: changes.image,
        };
        self.users.patch(id, patch).await
    }

    async fn change_article(&self, id: i64, changes: ArticleChanges) -> Result<Article, RepoError> {
        let patch = ArticleRecordPatch {
            slug: changes.slug,
            title: changes.title,
            description: changes.description,
            body: changes.body,
            ..Default::default()
        };
        self.articles.patch(id, patch).await
    }
}
