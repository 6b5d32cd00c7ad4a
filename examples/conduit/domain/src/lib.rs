//! Conduit's domain: the entities of a blogging platform and the repository ports the
//! application needs. It names `repo_core` only (the error type and `#[port]`): no database,
//! no SQL, no persistence record. The infrastructure's records implement every port here.

use chrono::{DateTime, Utc};
use repo_core::{RepoError, port};

/// A registered user; `id` is 0 until stored.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// The user's number.
    pub id: i64,
    /// The public name, unique.
    pub username: String,
    /// The login, unique, lowercased.
    pub email: String,
    /// The password's hash (a PHC string); never the password.
    pub password_hash: String,
    /// A few words about them.
    pub bio: Option<String>,
    /// The address of their picture.
    pub image: Option<String>,
}

/// An article; `id` is 0 until stored, the dates are set when it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// The article's number.
    pub id: i64,
    /// Its name in addresses, unique.
    pub slug: String,
    /// Who wrote it.
    pub author_id: i64,
    /// Its title.
    pub title: String,
    /// What it is about, in a line.
    pub description: String,
    /// Its text.
    pub body: String,
    /// When it was published.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A comment on an article; `id` is 0 until stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// The comment's number.
    pub id: i64,
    /// The article it is on.
    pub article_id: i64,
    /// Who wrote it.
    pub author_id: i64,
    /// Its text.
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One user following another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Follow {
    /// Who follows.
    pub follower_id: i64,
    /// Whom.
    pub followee_id: i64,
}

/// One user's favourite article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Favorite {
    /// Whose favourite.
    pub user_id: i64,
    /// Which article.
    pub article_id: i64,
}

/// The slug of a title: its words in lowercase ASCII letters and digits, joined by `-`
/// ("How to train your dragon" → `how-to-train-your-dragon`); `article` when none is left.
pub fn slug_of(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        "article".to_owned()
    } else {
        words.join("-")
    }
}

/// Where users are kept.
#[port]
pub trait Users: Send + Sync {
    /// Stores a new user and returns it with its number.
    async fn insert(&self, user: User) -> Result<User, RepoError>;
    /// Writes a changed user; `Conflict` when the new name or address is taken.
    async fn update(&self, user: &User) -> Result<User, RepoError>;
    /// The user with this number, if any.
    async fn find(&self, id: i64) -> Result<Option<User>, RepoError>;
    /// The user with this address, if any.
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, RepoError>;
    /// The user with this name, if any.
    async fn find_by_username(&self, username: &str) -> Result<Option<User>, RepoError>;
}

/// Where articles are kept.
#[port]
pub trait Articles: Send + Sync {
    /// The article with this slug, if any.
    async fn find_by_slug(&self, slug: &str) -> Result<Option<Article>, RepoError>;
    /// Writes a changed article; its `updated_at` moves on.
    async fn update(&self, article: &Article) -> Result<Article, RepoError>;
    /// Removes an article (its tags, favourites and comments go with it); `false` when it
    /// was not there.
    async fn delete(&self, id: i64) -> Result<bool, RepoError>;
}

/// Where comments are kept.
#[port]
pub trait Comments: Send + Sync {
    /// Stores a new comment and returns it with its number and dates.
    async fn insert(&self, comment: Comment) -> Result<Comment, RepoError>;
    /// The comment with this number, if any.
    async fn find(&self, id: i64) -> Result<Option<Comment>, RepoError>;
    /// Removes a comment; `false` when it was not there.
    async fn delete(&self, id: i64) -> Result<bool, RepoError>;
}

/// Who follows whom.
#[port]
pub trait Follows: Send + Sync {
    /// Stores a follow; `Conflict` when it exists.
    async fn insert(&self, follow: Follow) -> Result<Follow, RepoError>;
    /// Whether `follower_id` follows `followee_id`.
    async fn exists_by_follower_id_and_followee_id(
        &self,
        follower_id: i64,
        followee_id: i64,
    ) -> Result<bool, RepoError>;
    /// Stops a follow; how many there were (0 or 1).
    async fn delete_by_follower_id_and_followee_id(
        &self,
        follower_id: i64,
        followee_id: i64,
    ) -> Result<u64, RepoError>;
}

/// Which articles each user favourited.
#[port]
pub trait Favorites: Send + Sync {
    /// Stores a favourite; `Conflict` when it exists.
    async fn insert(&self, favorite: Favorite) -> Result<Favorite, RepoError>;
    /// Removes a favourite; how many there were (0 or 1).
    async fn delete_by_user_id_and_article_id(
        &self,
        user_id: i64,
        article_id: i64,
    ) -> Result<u64, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::slug_of;

    #[test]
    fn a_slug_keeps_letters_and_digits_in_lowercase() {
        assert_eq!(
            slug_of("How to train your dragon"),
            "how-to-train-your-dragon"
        );
        assert_eq!(
            slug_of("  Rust 2024: what's new?! "),
            "rust-2024-what-s-new"
        );
        assert_eq!(slug_of("¿?"), "article");
    }
}
