//! The shop's domain model. It knows nothing of databases: the persistence records in the
//! `shop` crate map to these types and implement its repository ports, and validation lives
//! here.

use std::fmt;

use repo_core::{RepoError, port};

/// A customer's e-mail address, validated on construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// Why a text is not an [`Email`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEmail;

impl fmt::Display for InvalidEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an e-mail address needs one `@` between a user and a domain")
    }
}

impl Email {
    /// Accepts `user@domain`.
    pub fn parse(text: &str) -> Result<Email, InvalidEmail> {
        match text.split_once('@') {
            Some((user, domain)) if !user.is_empty() && domain.contains('.') => {
                Ok(Email(text.to_ascii_lowercase()))
            }
            _ => Err(InvalidEmail),
        }
    }

    /// The address, lowercased.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An amount of money in cents; never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cents(u64);

impl Cents {
    /// `cents` cents.
    pub fn new(cents: u64) -> Cents {
        Cents(cents)
    }

    /// The amount in cents.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// A registered customer. `id` is 0 until the customer is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// The customer's number.
    pub id: i64,
    /// Where to write to.
    pub email: Email,
    /// How to address them.
    pub name: String,
}

/// A product in the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// Stock-keeping unit, the natural key.
    pub sku: String,
    /// What it is called.
    pub title: String,
    /// Its price.
    pub price: Cents,
}

/// Where customers are kept. Implemented by the persistence layer; the application sees only
/// this trait.
#[port]
pub trait Customers: Send + Sync {
    /// Stores a new customer and returns it with its number.
    async fn insert(&self, customer: Customer) -> Result<Customer, RepoError>;
    /// The customer with this address, if any.
    async fn find_by_email(&self, email: &Email) -> Result<Option<Customer>, RepoError>;
    /// How many customers' names start with `prefix`.
    async fn count_by_name_starting_with(&self, prefix: &str) -> Result<u64, RepoError>;
}

/// The product catalogue.
#[port]
pub trait Catalogue: Send + Sync {
    /// Adds the product, or replaces the one with its SKU.
    async fn upsert(&self, product: &Product) -> Result<Product, RepoError>;
    /// Products cheaper than `price`, cheapest first.
    async fn find_all_by_price_less_than_order_by_price(
        &self,
        price: Cents,
    ) -> Result<Vec<Product>, RepoError>;
}
