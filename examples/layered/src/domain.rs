//! The domain: entities, value objects and the repository ports. It names `repo_core` only,
//! for `RepoError` and `#[port]`: no database, no SQL, no persistence record.

use std::fmt;

use repo_core::{RepoError, port};

/// An e-mail address, lowercased and checked on construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Accepts `user@domain.tld`.
    pub fn parse(text: &str) -> Result<Email, InvalidEmail> {
        match text.trim().split_once('@') {
            Some((user, domain)) if !user.is_empty() && domain.contains('.') => {
                Ok(Email(text.trim().to_ascii_lowercase()))
            }
            _ => Err(InvalidEmail),
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a text is not an [`Email`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidEmail;

impl fmt::Display for InvalidEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an e-mail address is `user@domain.tld`")
    }
}

impl std::error::Error for InvalidEmail {}

/// A registered user; `id` is 0 until stored.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// The user's number.
    pub id: i64,
    /// Where to write to; one user per address.
    pub email: Email,
    /// How to address them.
    pub name: String,
}

/// An order of one user; `id` is 0 until stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The order's number.
    pub id: i64,
    /// Who placed it.
    pub user_id: i64,
    /// The sum of its lines, in cents.
    pub total_cents: i64,
}

/// One product in an order; `id` is 0 until stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    /// The line's number.
    pub id: i64,
    /// The order it belongs to.
    pub order_id: i64,
    /// The product; once per order.
    pub sku: String,
    /// How many.
    pub quantity: i32,
    /// The price of one, in cents.
    pub unit_cents: i64,
}

/// Where users are kept.
#[port]
pub trait Users: Send + Sync {
    /// Stores a new user and returns it with its number.
    async fn insert(&self, user: User) -> Result<User, RepoError>;
    /// The user with this address, if any.
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError>;
    /// How many users there are.
    async fn count(&self) -> Result<u64, RepoError>;
}

/// Where orders are kept.
#[port]
pub trait Orders: Send + Sync {
    /// Stores a new order and returns it with its number.
    async fn insert(&self, order: Order) -> Result<Order, RepoError>;
    /// A user's orders, oldest first.
    async fn find_all_by_user_id_order_by_id(&self, user_id: i64) -> Result<Vec<Order>, RepoError>;
}

/// Where the lines of orders are kept.
#[port]
pub trait OrderLines: Send + Sync {
    /// Stores all lines or none.
    async fn insert_many(&self, lines: Vec<OrderLine>) -> Result<Vec<OrderLine>, RepoError>;
    /// The lines of one order.
    async fn find_all_by_order_id(&self, order_id: i64) -> Result<Vec<OrderLine>, RepoError>;
}
