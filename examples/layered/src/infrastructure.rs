//! The infrastructure: persistence records that map to the domain types and implement its
//! ports (every method generated), and [`Persistence`], the application's [`Store`] on a
//! [`Db`]: SQLite, PostgreSQL, MySQL/MariaDB or the in-memory store alike.

use std::sync::Arc;

use repo_runtime::prelude::*;

use crate::application::{ShopError, Store, UnitOfWork};
// The types the ports' methods name, for the implementations generated here.
use crate::domain::{Email, InvalidEmail, Order, OrderLine, OrderLines, Orders, User, Users};

/// The stored form of [`User`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "users", domain = crate::domain::User, port = crate::domain::Users)]
pub(crate) struct UserRecord {
    #[repo(id, generated)]
    id: i64,
    #[repo(unique, domain_with = email_text)]
    email: String,
    name: String,
}

/// The stored form of [`Order`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "orders", domain = crate::domain::Order, port = crate::domain::Orders)]
pub(crate) struct OrderRecord {
    #[repo(id, generated)]
    id: i64,
    #[repo(references = UserRecord, index)]
    user_id: i64,
    total_cents: i64,
}

/// The stored form of [`OrderLine`]: a product appears once per order.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "order_lines",
    domain = crate::domain::OrderLine,
    port = crate::domain::OrderLines,
    unique(order_id, sku)
)]
pub(crate) struct OrderLineRecord {
    #[repo(id, generated)]
    id: i64,
    #[repo(references = OrderRecord, on_delete = "cascade")]
    order_id: i64,
    sku: String,
    quantity: i32,
    unit_cents: i64,
}

/// Addresses are text in the database, validated again on the way back.
mod email_text {
    use super::{Email, InvalidEmail};

    pub(super) fn to_domain(text: String) -> Result<Email, InvalidEmail> {
        Email::parse(&text)
    }

    pub(super) fn from_domain(email: &Email) -> Result<String, std::convert::Infallible> {
        Ok(email.as_str().to_owned())
    }
}

/// The application's store on a database.
#[derive(Clone)]
pub struct Persistence {
    db: Db,
}

impl Persistence {
    /// The store on `db`, with its tables created if they do not exist.
    pub async fn open(db: Db) -> Result<Persistence, RepoError> {
        db.create_schema::<UserRecord>().await?;
        db.create_schema::<OrderRecord>().await?;
        db.create_schema::<OrderLineRecord>().await?;
        Ok(Persistence { db })
    }

    /// The database behind the store.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Renames the user with `email` in one unit of work that fails with the shop's own error:
    /// an unknown address is [`ShopError::UnknownUser`] (nothing written), a transient storage
    /// failure runs the whole unit again.
    pub async fn rename_user(&self, email: &str, name: &str) -> Result<User, ShopError> {
        let email = Email::parse(email)?;
        self.db
            .unit_of_work(async |tx| {
                let users = UserRecord::repository(&tx);
                let user = <SqlUserRepository as Users>::find_by_email(&users, &email)
                    .await?
                    .ok_or(ShopError::UnknownUser)?;
                let renamed = User {
                    name: name.to_owned(),
                    ..user
                };
                Ok(users.update(&renamed).await?)
            })
            .await
    }
}

/// One transaction and the repositories on it.
struct Transaction {
    tx: Tx,
    users: SqlUserRepository,
    orders: SqlOrderRepository,
    order_lines: SqlOrderLineRepository,
}

#[async_trait::async_trait]
impl UnitOfWork for Transaction {
    fn users(&self) -> &dyn Users {
        &self.users
    }

    fn orders(&self) -> &dyn Orders {
        &self.orders
    }

    fn order_lines(&self) -> &dyn OrderLines {
        &self.order_lines
    }

    async fn commit(self: Box<Self>) -> Result<(), RepoError> {
        self.tx.commit().await
    }
}

#[async_trait::async_trait]
impl Store for Persistence {
    fn users(&self) -> Arc<dyn Users> {
        Arc::new(UserRecord::repository(&self.db))
    }

    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, RepoError> {
        let tx = self.db.begin().await?;
        Ok(Box::new(Transaction {
            users: UserRecord::repository(&tx),
            orders: OrderRecord::repository(&tx),
            order_lines: OrderLineRecord::repository(&tx),
            tx,
        }))
    }
}

#[cfg(test)]
mod tests {
    //! The application's error paths that a database does not produce on demand, with the
    //! generated in-memory repository behind a fault injector.

    use repo_core::{Faults, Faulty};

    use super::*;
    use crate::application::{Shop, ShopError};

    /// Users that fail as told; units of work on the in-memory store.
    struct FaultyUsers {
        users: Arc<Faulty<InMemoryUserRepository>>,
        persistence: Persistence,
    }

    #[async_trait::async_trait]
    impl Store for FaultyUsers {
        fn users(&self) -> Arc<dyn Users> {
            self.users.clone()
        }

        async fn begin(&self) -> Result<Box<dyn UnitOfWork>, RepoError> {
            self.persistence.begin().await
        }
    }

    async fn shop_with(faults: Faults) -> (Shop, Arc<Faulty<InMemoryUserRepository>>) {
        let db = Db::memory();
        let persistence = Persistence::open(db.clone()).await.unwrap();
        let users = Arc::new(Faulty::new(
            InMemoryUserRepository::on(&db).unwrap(),
            faults,
        ));
        let store = FaultyUsers {
            users: users.clone(),
            persistence,
        };
        (Shop::new(Arc::new(store)), users)
    }

    #[tokio::test]
    async fn a_registration_that_loses_the_race_for_its_address_is_email_taken() {
        // Another registration takes the address between the check and the insert.
        let (shop, users) =
            shop_with(
                Faults::new().fail_first("insert", 1, || RepoError::Conflict {
                    entity: "UserRecord",
                    constraint: "users_email_key".into(),
                    field: Some("email"),
                    source: "taken by a concurrent registration".into(),
                }),
            )
            .await;
        let lost = shop.register("ada@example.com", "Ada").await;
        assert!(matches!(lost, Err(ShopError::EmailTaken)), "{lost:?}");
        assert_eq!(users.faults().log(), ["find_by_email", "insert"]);
        assert_eq!(Users::count(users.inner()).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_transient_failure_is_reported_as_worth_a_retry() {
        let (shop, _) =
            shop_with(
                Faults::new().fail_nth("find_by_email", 1, || RepoError::Transient {
                    entity: "UserRecord",
                    source: "connection reset".into(),
                }),
            )
            .await;
        let error = shop.register("ada@example.com", "Ada").await.unwrap_err();
        assert!(
            matches!(&error, ShopError::Storage(inner) if inner.is_transient()),
            "{error:?}"
        );
        assert!(error.to_string().contains("try again"), "{error}");
        // The fault was the first call only: the retry goes through.
        assert_eq!(shop.register("ada@example.com", "Ada").await.unwrap().id, 1);
    }
}
