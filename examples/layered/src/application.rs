//! The application: use cases over the domain's ports. It sees neither records nor databases;
//! the infrastructure hands it a [`Store`], and tests hand it one in memory.

use std::fmt;
use std::sync::Arc;

use repo_core::{RepoError, TransactionError};

use crate::domain::{Email, InvalidEmail, Order, OrderLine, OrderLines, Orders, User, Users};

/// The repositories of one unit of work: their writes are kept only if it commits, and are
/// discarded when it is dropped uncommitted.
#[async_trait::async_trait]
pub trait UnitOfWork: Send {
    /// Users, inside this unit of work.
    fn users(&self) -> &dyn Users;
    /// Orders, inside this unit of work.
    fn orders(&self) -> &dyn Orders;
    /// Order lines, inside this unit of work.
    fn order_lines(&self) -> &dyn OrderLines;
    /// Keeps every write made through this unit of work.
    async fn commit(self: Box<Self>) -> Result<(), RepoError>;
}

/// What the application needs of persistence.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Users, each call on its own.
    fn users(&self) -> Arc<dyn Users>;
    /// Starts a unit of work.
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, RepoError>;
}

/// Why a use case failed, in the application's terms.
#[derive(Debug)]
pub enum ShopError {
    /// The address is not an e-mail address.
    InvalidEmail(InvalidEmail),
    /// A user with this address exists.
    EmailTaken,
    /// No user has this address.
    UnknownUser,
    /// An order needs at least one line, each with a positive quantity, each product once.
    InvalidOrder(&'static str),
    /// The store failed; transient failures are worth a retry.
    Storage(RepoError),
}

impl fmt::Display for ShopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShopError::InvalidEmail(error) => write!(f, "{error}"),
            ShopError::EmailTaken => f.write_str("this e-mail address is already registered"),
            ShopError::UnknownUser => f.write_str("no user has this e-mail address"),
            ShopError::InvalidOrder(why) => write!(f, "invalid order: {why}"),
            ShopError::Storage(error) if error.is_transient() => {
                write!(f, "the store is busy, try again: {error}")
            }
            ShopError::Storage(error) => write!(f, "the store failed: {error}"),
        }
    }
}

impl std::error::Error for ShopError {}

impl From<RepoError> for ShopError {
    fn from(error: RepoError) -> Self {
        ShopError::Storage(error)
    }
}

/// Lets a unit of work fail with a `ShopError`: a transient storage failure inside it is still
/// retried.
impl TransactionError for ShopError {
    fn repo_error(&self) -> Option<&RepoError> {
        match self {
            ShopError::Storage(error) => Some(error),
            _ => None,
        }
    }
}

impl From<InvalidEmail> for ShopError {
    fn from(error: InvalidEmail) -> Self {
        ShopError::InvalidEmail(error)
    }
}

/// A line of an order being placed.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The product.
    pub sku: String,
    /// How many.
    pub quantity: i32,
    /// The price of one, in cents.
    pub unit_cents: i64,
}

/// The shop's use cases.
#[derive(Clone)]
pub struct Shop {
    store: Arc<dyn Store>,
}

impl Shop {
    /// The shop on `store`.
    pub fn new(store: Arc<dyn Store>) -> Shop {
        Shop { store }
    }

    /// Registers a user; an address already registered is [`ShopError::EmailTaken`], also when
    /// another registration of it wins a race (the unique key refuses the second).
    pub async fn register(&self, email: &str, name: &str) -> Result<User, ShopError> {
        let email = Email::parse(email)?;
        let users = self.store.users();
        if users.find_by_email(&email).await?.is_some() {
            return Err(ShopError::EmailTaken);
        }
        let user = User {
            id: 0,
            email,
            name: name.to_owned(),
        };
        match users.insert(user).await {
            Err(RepoError::Conflict { .. }) => Err(ShopError::EmailTaken),
            other => Ok(other?),
        }
    }

    /// Places an order for the user with `email`: the order and its lines are written in one
    /// unit of work, so that a failure leaves no order without lines behind.
    pub async fn place_order(&self, email: &str, items: &[Item]) -> Result<Order, ShopError> {
        let email = Email::parse(email)?;
        if items.is_empty() {
            return Err(ShopError::InvalidOrder("no lines"));
        }
        if items.iter().any(|item| item.quantity <= 0) {
            return Err(ShopError::InvalidOrder("a quantity is not positive"));
        }
        let work = self.store.begin().await?;
        let user = registered(&*work, &email).await?;
        let total_cents = items
            .iter()
            .map(|item| i64::from(item.quantity) * item.unit_cents)
            .sum();
        let order = work
            .orders()
            .insert(Order {
                id: 0,
                user_id: user.id,
                total_cents,
            })
            .await?;
        let lines = items
            .iter()
            .map(|item| OrderLine {
                id: 0,
                order_id: order.id,
                sku: item.sku.clone(),
                quantity: item.quantity,
                unit_cents: item.unit_cents,
            })
            .collect();
        match work.order_lines().insert_many(lines).await {
            // Dropping `work` uncommitted discards the order written above.
            Err(RepoError::Conflict { .. }) => {
                return Err(ShopError::InvalidOrder("a product appears twice"));
            }
            other => other?,
        };
        work.commit().await?;
        Ok(order)
    }

    /// The orders of the user with `email`, oldest first, with their lines.
    pub async fn orders_of(&self, email: &str) -> Result<Vec<(Order, Vec<OrderLine>)>, ShopError> {
        let email = Email::parse(email)?;
        let work = self.store.begin().await?;
        let user = registered(&*work, &email).await?;
        let mut orders = Vec::new();
        for order in work
            .orders()
            .find_all_by_user_id_order_by_id(user.id)
            .await?
        {
            let lines = work.order_lines().find_all_by_order_id(order.id).await?;
            orders.push((order, lines));
        }
        work.commit().await?;
        Ok(orders)
    }
}

/// The user registered with `email`, read inside `work`.
async fn registered(work: &dyn UnitOfWork, email: &Email) -> Result<User, ShopError> {
    work.users()
        .find_by_email(email)
        .await?
        .ok_or(ShopError::UnknownUser)
}
