//! Runs the shop's use cases on `DATABASE_URL` (an SQLite file by default, `memory:` for the
//! in-memory store): `cargo run -p layered`.

use std::sync::Arc;

use layered::application::{Item, Shop, ShopError};
use layered::infrastructure::Persistence;
use repo_runtime::Db;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = Db::from_env().await?;
    println!("store: {}", db.url());
    let persistence = Persistence::open(db).await?;
    let shop = Shop::new(Arc::new(persistence.clone()));

    match shop.register("grace@example.com", "Grace").await {
        Ok(user) => println!("registered #{} <{}>", user.id, user.email.as_str()),
        Err(ShopError::EmailTaken) => println!("grace@example.com was registered before"),
        Err(error) => return Err(error.into()),
    }
    // The same address again is refused by the application, with its own error.
    match shop.register("Grace@Example.com", "Grace again").await {
        Err(ShopError::EmailTaken) => println!("refused: {}", ShopError::EmailTaken),
        other => return Err(format!("a second registration was not refused: {other:?}").into()),
    }

    let items = [
        Item {
            sku: "PEN-1".into(),
            quantity: 3,
            unit_cents: 150,
        },
        Item {
            sku: "PAD-2".into(),
            quantity: 1,
            unit_cents: 499,
        },
    ];
    let order = shop.place_order("grace@example.com", &items).await?;
    println!("order #{}: {} cents", order.id, order.total_cents);

    // A product twice fails the whole unit of work: no order is left without its lines.
    let twice = [items[0].clone(), items[0].clone()];
    match shop.place_order("grace@example.com", &twice).await {
        Err(error @ ShopError::InvalidOrder(_)) => println!("refused: {error}"),
        other => return Err(format!("a duplicate line was not refused: {other:?}").into()),
    }

    // A unit of work that fails with the shop's own error: an unknown address writes nothing.
    let renamed = persistence
        .rename_user("grace@example.com", "Grace Hopper")
        .await?;
    println!("renamed #{} to {}", renamed.id, renamed.name);
    match persistence
        .rename_user("nobody@example.com", "Nobody")
        .await
    {
        Err(ShopError::UnknownUser) => println!("refused: {}", ShopError::UnknownUser),
        other => return Err(format!("an unknown user was renamed: {other:?}").into()),
    }

    let orders = shop.orders_of("grace@example.com").await?;
    let lines: usize = orders.iter().map(|(_, lines)| lines.len()).sum();
    println!("grace has {} order(s) with {lines} line(s)", orders.len());
    Ok(())
}
