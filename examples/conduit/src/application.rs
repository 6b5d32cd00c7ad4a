//! The use cases of Conduit over the domain's ports. This layer sees neither records nor
//! databases: the infrastructure hands it a [`Store`], and its reads come through [`Reads`],
//! the query side, which returns whole views of a page in a bounded number of statements.

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use conduit_domain::{
    Article, Articles, Comment, Comments, Favorite, Favorites, Follow, Follows, User, Users,
    slug_of,
};
use repo_core::{RepoError, TransactionError};

/// A user as others see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Their public name.
    pub username: String,
    /// A few words about them.
    pub bio: Option<String>,
    /// The address of their picture.
    pub image: Option<String>,
    /// Whether the viewer follows them (`false` for an anonymous viewer).
    pub following: bool,
}

impl Profile {
    /// The profile of `user`, as a viewer who does or does not follow them sees it.
    pub fn of(user: &User, following: bool) -> Profile {
        Profile {
            username: user.username.clone(),
            bio: user.bio.clone(),
            image: user.image.clone(),
            following,
        }
    }
}

/// An article as a viewer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleView {
    /// The article.
    pub article: Article,
    /// Its author.
    pub author: Profile,
    /// Its tags, in alphabetical order.
    pub tags: Vec<String>,
    /// Whether the viewer favourited it.
    pub favorited: bool,
    /// How many users favourited it.
    pub favorites_count: u64,
}

/// A comment as a viewer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentView {
    /// The comment.
    pub comment: Comment,
    /// Its author.
    pub author: Profile,
}

/// Which articles a listing shows: each condition given narrows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleQuery {
    /// Articles with this tag.
    pub tag: Option<String>,
    /// Articles by the user with this name.
    pub author: Option<String>,
    /// Articles the user with this name favourited.
    pub favorited: Option<String>,
    /// Articles by the users this user follows (the feed).
    pub followed_by: Option<i64>,
    /// At most this many (20 by default, 100 at most).
    pub limit: Option<u32>,
    /// After skipping this many.
    pub offset: Option<u32>,
}

impl ArticleQuery {
    /// The page size asked for, within 1..=100.
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(20).clamp(1, 100)
    }

    /// The rows skipped before the page.
    pub fn offset(&self) -> u32 {
        self.offset.unwrap_or(0)
    }
}

/// A page of articles and how many the listing has in all.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticlePage {
    /// The page, newest first.
    pub articles: Vec<ArticleView>,
    /// How many articles the query selects, over every page.
    pub total: u64,
}

/// The query side: views assembled from several tables, each in a bounded number of
/// statements whatever the number of rows.
#[async_trait::async_trait]
pub trait Reads: Send + Sync {
    /// A page of the articles `query` selects, newest first, as `viewer` sees them.
    async fn articles(
        &self,
        query: &ArticleQuery,
        viewer: Option<i64>,
    ) -> Result<ArticlePage, RepoError>;
    /// Articles as `viewer` sees them, in the given order.
    async fn views(
        &self,
        articles: Vec<Article>,
        viewer: Option<i64>,
    ) -> Result<Vec<ArticleView>, RepoError>;
    /// The comments on an article, oldest first, as `viewer` sees them.
    async fn comments(
        &self,
        article_id: i64,
        viewer: Option<i64>,
    ) -> Result<Vec<CommentView>, RepoError>;
    /// The tags in use, most used first.
    async fn tags(&self) -> Result<Vec<String>, RepoError>;
}

/// The fields of a user that a change may give.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChanges {
    /// A new login.
    pub email: Option<String>,
    /// A new public name.
    pub username: Option<String>,
    /// A new password's hash.
    pub password_hash: Option<String>,
    /// A new bio (`Some(None)` clears it).
    pub bio: Option<Option<String>>,
    /// A new picture (`Some(None)` clears it).
    pub image: Option<Option<String>>,
}

/// The fields of an article that a change may give.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleChanges {
    /// A new slug (follows a new title).
    pub slug: Option<String>,
    /// A new title.
    pub title: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new text.
    pub body: Option<String>,
}

/// What the application needs of persistence.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Users.
    fn users(&self) -> &dyn Users;
    /// Articles.
    fn articles(&self) -> &dyn Articles;
    /// Comments.
    fn comments(&self) -> &dyn Comments;
    /// Follows.
    fn follows(&self) -> &dyn Follows;
    /// Favourites.
    fn favorites(&self) -> &dyn Favorites;
    /// The query side.
    fn reads(&self) -> &dyn Reads;
    /// Stores a new article with its tags (created when new) in one unit of work.
    async fn publish(&self, article: Article, tags: &[String]) -> Result<Article, RepoError>;
    /// Writes the fields `changes` gives to a user, leaving the others as stored.
    async fn change_user(&self, id: i64, changes: UserChanges) -> Result<User, RepoError>;
    /// Writes the fields `changes` gives to an article, leaving the others as stored.
    async fn change_article(&self, id: i64, changes: ArticleChanges) -> Result<Article, RepoError>;
}

/// Why a use case failed, in the API's terms.
#[derive(Debug)]
pub enum ConduitError {
    /// No valid credentials were given.
    Unauthorized,
    /// The user may not do this (someone else's article or comment).
    Forbidden,
    /// The named thing does not exist.
    NotFound(&'static str),
    /// A field is missing or malformed.
    Invalid(&'static str, String),
    /// The field's value belongs to another user or article.
    Taken(&'static str),
    /// The store failed; transient failures are worth a retry.
    Storage(RepoError),
}

impl fmt::Display for ConduitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConduitError::Unauthorized => f.write_str("missing or invalid credentials"),
            ConduitError::Forbidden => f.write_str("not allowed"),
            ConduitError::NotFound(what) => write!(f, "{what} not found"),
            ConduitError::Invalid(field, why) => write!(f, "{field} {why}"),
            ConduitError::Taken(field) => write!(f, "{field} has already been taken"),
            ConduitError::Storage(error) => write!(f, "the store failed: {error}"),
        }
    }
}

impl std::error::Error for ConduitError {}

impl From<RepoError> for ConduitError {
    fn from(error: RepoError) -> Self {
        // A unique key the application checks first can still be taken by a concurrent
        // request: the database's verdict is the answer.
        match &error {
            RepoError::Conflict {
                field: Some(field), ..
            } => match *field {
                "email" => ConduitError::Taken("email"),
                "username" => ConduitError::Taken("username"),
                _ => ConduitError::Storage(error),
            },
            _ => ConduitError::Storage(error),
        }
    }
}

impl TransactionError for ConduitError {
    fn repo_error(&self) -> Option<&RepoError> {
        match self {
            ConduitError::Storage(error) => Some(error),
            _ => None,
        }
    }
}

/// A registration.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The public name.
    pub username: String,
    /// The login.
    pub email: String,
    /// The password, in clear: hashed before it is stored.
    pub password: String,
}

/// Changes to the current user, as the API takes them.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    /// A new login.
    pub email: Option<String>,
    /// A new public name.
    pub username: Option<String>,
    /// A new password, in clear.
    pub password: Option<String>,
    /// A new bio (`Some(None)` clears it).
    pub bio: Option<Option<String>>,
    /// A new picture (`Some(None)` clears it).
    pub image: Option<Option<String>>,
}

/// A new article, as the API takes it.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Its title.
    pub title: String,
    /// What it is about.
    pub description: String,
    /// Its text.
    pub body: String,
    /// Its tags.
    pub tags: Vec<String>,
}

/// Changes to an article, as the API takes them.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// A new title (and so a new slug).
    pub title: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new text.
    pub body: Option<String>,
}

/// Conduit's use cases.
#[derive(Clone)]
pub struct Conduit {
    store: Arc<dyn Store>,
}

impl Conduit {
    /// The use cases on `store`.
    pub fn new(store: Arc<dyn Store>) -> Conduit {
        Conduit { store }
    }

    /// Registers a user: name and address free, password hashed.
    pub async fn register(&self, registration: Registration) -> Result<User, ConduitError> {
        let username = required("username", &registration.username)?;
        let email = email(&registration.email)?;
        let password = required("password", &registration.password)?;
        let users = self.store.users();
        if users.find_by_email(&email).await?.is_some() {
            return Err(ConduitError::Taken("email"));
        }
        if users.find_by_username(&username).await?.is_some() {
            return Err(ConduitError::Taken("username"));
        }
        let password_hash = hash(password).await?;
        let user = User {
            id: 0,
            username,
            email,
            password_hash,
            bio: None,
            image: None,
        };
        Ok(users.insert(user).await?)
    }

    /// The user with this address and password.
    pub async fn login(&self, email: &str, password: &str) -> Result<User, ConduitError> {
        let email = email.trim().to_ascii_lowercase();
        let user = self.store.users().find_by_email(&email).await?;
        let Some(user) = user else {
            return Err(ConduitError::Unauthorized);
        };
        match verify(password.to_owned(), user.password_hash.clone()).await? {
            true => Ok(user),
            false => Err(ConduitError::Unauthorized),
        }
    }

    /// The user a token names; `Unauthorized` when they no longer exist.
    pub async fn user(&self, id: i64) -> Result<User, ConduitError> {
        self.store
            .users()
            .find(id)
            .await?
            .ok_or(ConduitError::Unauthorized)
    }

    /// Changes the current user's fields that `update` gives.
    pub async fn update_user(&self, id: i64, update: ProfileUpdate) -> Result<User, ConduitError> {
        let password_hash = match update.password {
            Some(password) => Some(hash(required("password", &password)?).await?),
            None => None,
        };
        let changes = UserChanges {
            email: update.email.as_deref().map(email).transpose()?,
            username: update
                .username
                .as_deref()
                .map(|name| required("username", name))
                .transpose()?,
            password_hash,
            bio: update.bio,
            image: update.image,
        };
        match self.store.change_user(id, changes).await {
            Err(RepoError::NotFound { .. }) => Err(ConduitError::Unauthorized),
            changed => Ok(changed?),
        }
    }

    /// The profile of the user named `username`, as `viewer` sees it.
    pub async fn profile(
        &self,
        username: &str,
        viewer: Option<i64>,
    ) -> Result<Profile, ConduitError> {
        let user = self.named(username).await?;
        let following = match viewer {
            Some(viewer) => {
                self.store
                    .follows()
                    .exists_by_follower_id_and_followee_id(viewer, user.id)
                    .await?
            }
            None => false,
        };
        Ok(Profile::of(&user, following))
    }

    /// `viewer` follows the user named `username` (again: no change).
    pub async fn follow(&self, viewer: i64, username: &str) -> Result<Profile, ConduitError> {
        let user = self.named(username).await?;
        let follow = Follow {
            follower_id: viewer,
            followee_id: user.id,
        };
        match self.store.follows().insert(follow).await {
            Ok(_) => {}
            Err(error) if error.is_conflict() => {}
            Err(error) => return Err(error.into()),
        }
        Ok(Profile::of(&user, true))
    }

    /// `viewer` stops following the user named `username`.
    pub async fn unfollow(&self, viewer: i64, username: &str) -> Result<Profile, ConduitError> {
        let user = self.named(username).await?;
        self.store
            .follows()
            .delete_by_follower_id_and_followee_id(viewer, user.id)
            .await?;
        Ok(Profile::of(&user, false))
    }

    /// A page of articles, as `viewer` sees them.
    pub async fn articles(
        &self,
        query: &ArticleQuery,
        viewer: Option<i64>,
    ) -> Result<ArticlePage, ConduitError> {
        Ok(self.store.reads().articles(query, viewer).await?)
    }

    /// The article with this slug, as `viewer` sees it.
    pub async fn article(
        &self,
        slug: &str,
        viewer: Option<i64>,
    ) -> Result<ArticleView, ConduitError> {
        let article = self.slugged(slug).await?;
        self.view(article, viewer).await
    }

    /// Publishes an article by `author`, under a slug of its title (made unique).
    pub async fn publish(&self, author: i64, draft: Draft) -> Result<ArticleView, ConduitError> {
        let title = required("title", &draft.title)?;
        let description = required("description", &draft.description)?;
        let body = required("body", &draft.body)?;
        let mut tags: Vec<String> = draft
            .tags
            .iter()
            .map(|tag| tag.trim().to_owned())
            .filter(|tag| !tag.is_empty())
            .collect();
        tags.sort();
        tags.dedup();
        let base = slug_of(&title);
        let mut article = Article {
            id: 0,
            slug: base.clone(),
            author_id: author,
            title,
            description,
            body,
            created_at: Default::default(),
            updated_at: Default::default(),
        };
        let stored = loop {
            match self.store.publish(article.clone(), &tags).await {
                Err(error) if taken_slug(&error) => article.slug = unique_slug(&base),
                stored => break stored?,
            }
        };
        self.view(stored, Some(author)).await
    }

    /// Changes an article of `user`'s.
    pub async fn edit(
        &self,
        user: i64,
        slug: &str,
        edit: Edit,
    ) -> Result<ArticleView, ConduitError> {
        let article = self.authored(user, slug).await?;
        let title = edit
            .title
            .as_deref()
            .map(|title| required("title", title))
            .transpose()?;
        let base = title.as_deref().map(slug_of);
        let mut changes = ArticleChanges {
            slug: base.clone().filter(|base| *base != article.slug),
            title,
            description: edit
                .description
                .as_deref()
                .map(|text| required("description", text))
                .transpose()?,
            body: edit
                .body
                .as_deref()
                .map(|text| required("body", text))
                .transpose()?,
        };
        let changed = loop {
            match self.store.change_article(article.id, changes.clone()).await {
                Err(error) if taken_slug(&error) => {
                    changes.slug = base.as_deref().map(unique_slug);
                }
                changed => break changed?,
            }
        };
        self.view(changed, Some(user)).await
    }

    /// Deletes an article of `user`'s, with its comments, tags and favourites.
    pub async fn delete(&self, user: i64, slug: &str) -> Result<(), ConduitError> {
        let article = self.authored(user, slug).await?;
        self.store.articles().delete(article.id).await?;
        Ok(())
    }

    /// `user` favourites an article (again: no change).
    pub async fn favorite(&self, user: i64, slug: &str) -> Result<ArticleView, ConduitError> {
        let article = self.slugged(slug).await?;
        let favorite = Favorite {
            user_id: user,
            article_id: article.id,
        };
        match self.store.favorites().insert(favorite).await {
            Ok(_) => {}
            Err(error) if error.is_conflict() => {}
            Err(error) => return Err(error.into()),
        }
        self.view(article, Some(user)).await
    }

    /// `user` no longer favourites an article.
    pub async fn unfavorite(&self, user: i64, slug: &str) -> Result<ArticleView, ConduitError> {
        let article = self.slugged(slug).await?;
        self.store
            .favorites()
            .delete_by_user_id_and_article_id(user, article.id)
            .await?;
        self.view(article, Some(user)).await
    }

    /// `user` comments on an article.
    pub async fn comment(
        &self,
        user: i64,
        slug: &str,
        body: &str,
    ) -> Result<CommentView, ConduitError> {
        let body = required("body", body)?;
        let article = self.slugged(slug).await?;
        let comment = Comment {
            id: 0,
            article_id: article.id,
            author_id: user,
            body,
            created_at: Default::default(),
            updated_at: Default::default(),
        };
        let comment = self.store.comments().insert(comment).await?;
        let author = self.user(user).await?;
        Ok(CommentView {
            comment,
            author: Profile::of(&author, false),
        })
    }

    /// The comments on an article, oldest first.
    pub async fn comments(
        &self,
        slug: &str,
        viewer: Option<i64>,
    ) -> Result<Vec<CommentView>, ConduitError> {
        let article = self.slugged(slug).await?;
        Ok(self.store.reads().comments(article.id, viewer).await?)
    }

    /// Deletes a comment of `user`'s on an article.
    pub async fn uncomment(&self, user: i64, slug: &str, id: i64) -> Result<(), ConduitError> {
        let article = self.slugged(slug).await?;
        let comment = self.store.comments().find(id).await?;
        let comment = comment
            .filter(|comment| comment.article_id == article.id)
            .ok_or(ConduitError::NotFound("comment"))?;
        if comment.author_id != user {
            return Err(ConduitError::Forbidden);
        }
        self.store.comments().delete(comment.id).await?;
        Ok(())
    }

    /// The tags in use, most used first.
    pub async fn tags(&self) -> Result<Vec<String>, ConduitError> {
        Ok(self.store.reads().tags().await?)
    }

    async fn named(&self, username: &str) -> Result<User, ConduitError> {
        self.store
            .users()
            .find_by_username(username)
            .await?
            .ok_or(ConduitError::NotFound("profile"))
    }

    async fn slugged(&self, slug: &str) -> Result<Article, ConduitError> {
        self.store
            .articles()
            .find_by_slug(slug)
            .await?
            .ok_or(ConduitError::NotFound("article"))
    }

    async fn authored(&self, user: i64, slug: &str) -> Result<Article, ConduitError> {
        let article = self.slugged(slug).await?;
        match article.author_id == user {
            true => Ok(article),
            false => Err(ConduitError::Forbidden),
        }
    }

    async fn view(
        &self,
        article: Article,
        viewer: Option<i64>,
    ) -> Result<ArticleView, ConduitError> {
        let mut views = self.store.reads().views(vec![article], viewer).await?;
        views.pop().ok_or(ConduitError::NotFound("article"))
    }
}

fn required(field: &'static str, value: &str) -> Result<String, ConduitError> {
    match value.trim() {
        "" => Err(ConduitError::Invalid(field, "can't be blank".into())),
        value => Ok(value.to_owned()),
    }
}

fn email(text: &str) -> Result<String, ConduitError> {
    let email = required("email", text)?.to_ascii_lowercase();
    match email.split_once('@') {
        Some((user, domain)) if !user.is_empty() && domain.contains('.') => Ok(email),
        _ => Err(ConduitError::Invalid("email", "is invalid".into())),
    }
}

fn taken_slug(error: &RepoError) -> bool {
    matches!(
        error,
        RepoError::Conflict {
            field: Some("slug"),
            ..
        }
    )
}

/// `base` with a random suffix, for a title whose slug is taken.
fn unique_slug(base: &str) -> String {
    let suffix = RandomState::new().hash_one(base) & 0xff_ffff;
    format!("{base}-{suffix:06x}")
}

/// The PHC string of `password`: Argon2id with its default parameters and a random salt.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
}

/// [`hash_password`] on a blocking thread: hashing is meant to be slow.
async fn hash(password: String) -> Result<String, ConduitError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| ConduitError::Storage(RepoError::config(error.to_string())))?
        .map_err(|error| ConduitError::Invalid("password", error.to_string()))
}

async fn verify(password: String, stored: String) -> Result<bool, ConduitError> {
    tokio::task::spawn_blocking(move || {
        let Ok(hash) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
    .await
    .map_err(|error| ConduitError::Storage(RepoError::config(error.to_string())))
}
