//! Persists the `shop-domain` crate's types, which have no database dependency, through
//! records that map to them with `#[repo(domain = ...)]` and implement its repository ports
//! with `#[repo(port = ...)]`. Runs on `DATABASE_URL`, or an embedded SQLite file by default:
//! `cargo run -p shop`.

mod records;

use records::{CustomerRecord, ProductRecord};
use repo_runtime::prelude::*;
use shop_domain::{Catalogue, Cents, Customer, Customers, Email, Product};

#[tokio::main]
async fn main() -> Result<(), RepoError> {
    let db = Db::from_env().await?;
    db.create_schema::<CustomerRecord>().await?;
    db.create_schema::<ProductRecord>().await?;

    // The application holds the domain's ports; records stay in `records`.
    let customers: std::sync::Arc<dyn Customers> =
        std::sync::Arc::new(CustomerRecord::repository(&db));
    let products: std::sync::Arc<dyn Catalogue> =
        std::sync::Arc::new(ProductRecord::repository(&db));

    let email = Email::parse("Ada@Example.com").expect("a valid address");
    let ada = match customers.find_by_email(&email).await? {
        Some(existing) => existing,
        None => {
            customers
                .insert(Customer {
                    id: 0,
                    email,
                    name: "Ada".into(),
                })
                .await?
        }
    };
    println!(
        "customer #{}: {} <{}>",
        ada.id,
        ada.name,
        ada.email.as_str()
    );

    let lamp = products
        .upsert(&Product {
            sku: "LAMP-1".into(),
            title: "Desk lamp".into(),
            price: Cents::new(3_999),
        })
        .await?;
    println!(
        "product {}: {} at {} cents",
        lamp.sku,
        lamp.title,
        lamp.price.get()
    );

    // A price the database cannot hold is refused by the mapping, before any write.
    let refused = products
        .upsert(&Product {
            price: Cents::new(u64::MAX),
            ..lamp.clone()
        })
        .await;
    match refused {
        Err(RepoError::InvalidInput { message, .. }) => println!("refused: {message}"),
        other => println!("unexpected: {other:?}"),
    }

    let cheap = products
        .find_all_by_price_less_than_order_by_price(Cents::new(5_000))
        .await?;
    println!("under 50.00: {} product(s)", cheap.len());
    println!(
        "customers named A...: {}",
        customers.count_by_name_starting_with("A").await?
    );
    Ok(())
}
