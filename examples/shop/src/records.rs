//! The persistence records of the domain types: the only place that knows tables and columns.
//! They implement the domain's repository ports; no method is written by hand.

use repo_runtime::prelude::*;
// The types the ports' methods name, for the implementations written here.
use shop_domain::{Cents, Customer, Email, InvalidEmail, Product};

/// The stored form of [`shop_domain::Customer`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "customers", domain = shop_domain::Customer, port = shop_domain::Customers)]
pub struct CustomerRecord {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique, domain_with = email_text)]
    pub email: String,
    #[repo(column = "display_name")]
    pub name: String,
}

/// The stored form of [`shop_domain::Product`].
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "products", domain = shop_domain::Product, port = shop_domain::Catalogue)]
pub struct ProductRecord {
    #[repo(id)]
    pub sku: String,
    pub title: String,
    #[repo(column = "price_cents", domain_with = cents)]
    pub price: i64,
}

/// E-mail addresses are text in the database and validated on the way back.
mod email_text {
    use super::{Email, InvalidEmail};

    pub(super) fn to_domain(text: String) -> Result<Email, InvalidEmail> {
        Email::parse(&text)
    }

    pub(super) fn from_domain(email: &Email) -> Result<String, std::convert::Infallible> {
        Ok(email.as_str().to_owned())
    }
}

/// Cents are a `BIGINT`: amounts above `i64::MAX` cannot be stored, negative ones cannot be read.
mod cents {
    use super::Cents;

    pub(super) fn to_domain(stored: i64) -> Result<Cents, std::num::TryFromIntError> {
        u64::try_from(stored).map(Cents::new)
    }

    pub(super) fn from_domain(cents: &Cents) -> Result<i64, std::num::TryFromIntError> {
        i64::try_from(cents.get())
    }
}
