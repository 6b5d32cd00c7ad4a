//! The shop's use cases, each run twice by `both!`: on the in-memory store (no I/O at all) and
//! on an SQLite file. The application code under test is the same; only the `Db` differs.

use std::sync::Arc;

use layered::application::{Item, Shop, ShopError};
use layered::infrastructure::Persistence;
use repo_runtime::Db;

/// A shop on a new in-memory store.
async fn in_memory() -> (Shop, Cleanup) {
    let store = Persistence::open(Db::memory())
        .await
        .expect("in-memory store");
    (Shop::new(Arc::new(store)), Cleanup(None))
}

/// A shop on a new SQLite file, removed when the test ends.
async fn on_sqlite(test: &str) -> (Shop, Cleanup) {
    let path = std::env::temp_dir().join(format!("layered_{test}_{}.db", std::process::id()));
    let db = Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("SQLite file");
    let store = Persistence::open(db).await.expect("SQLite store");
    (Shop::new(Arc::new(store)), Cleanup(Some(path)))
}

/// Removes an SQLite file and its journals.
struct Cleanup(Option<std::path::PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    let (shop, _cleanup) = super::in_memory().await;
                    super::$case(shop).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let (shop, _cleanup) = super::on_sqlite(stringify!($case)).await;
                    super::$case(shop).await;
                }
            )*
        }
    };
}

both!(
    registering_gives_the_user_a_number,
    a_registered_address_is_refused_with_a_domain_error,
    an_invalid_address_is_refused_before_any_write,
    an_order_is_written_with_its_lines,
    a_failed_order_leaves_no_order_behind,
    an_order_of_an_unknown_user_is_refused,
);

fn pens(quantity: i32) -> Item {
    Item {
        sku: "PEN".into(),
        quantity,
        unit_cents: 150,
    }
}

fn pad() -> Item {
    Item {
        sku: "PAD".into(),
        quantity: 1,
        unit_cents: 499,
    }
}

async fn registering_gives_the_user_a_number(shop: Shop) {
    let ada = shop.register("ada@example.com", "Ada").await.unwrap();
    let bob = shop.register("bob@example.com", "Bob").await.unwrap();
    assert_eq!((ada.id, bob.id), (1, 2));
    assert_eq!(ada.email.as_str(), "ada@example.com");
    assert_eq!(ada.name, "Ada");
}

async fn a_registered_address_is_refused_with_a_domain_error(shop: Shop) {
    shop.register("ada@example.com", "Ada").await.unwrap();
    let again = shop.register(" ADA@example.com ", "Ada again").await;
    assert!(matches!(again, Err(ShopError::EmailTaken)), "{again:?}");
}

async fn an_invalid_address_is_refused_before_any_write(shop: Shop) {
    let refused = shop.register("not an address", "Nobody").await;
    assert!(
        matches!(refused, Err(ShopError::InvalidEmail(_))),
        "{refused:?}"
    );
    let user = shop.register("ada@example.com", "Ada").await.unwrap();
    assert_eq!(user.id, 1, "nothing was written before");
}

async fn an_order_is_written_with_its_lines(shop: Shop) {
    let ada = shop.register("ada@example.com", "Ada").await.unwrap();
    let order = shop
        .place_order("ada@example.com", &[pens(3), pad()])
        .await
        .unwrap();
    assert_eq!((order.user_id, order.total_cents), (ada.id, 3 * 150 + 499));
    let orders = shop.orders_of("ada@example.com").await.unwrap();
    assert_eq!(orders.len(), 1);
    let (stored, lines) = &orders[0];
    assert_eq!(stored, &order);
    let mut skus: Vec<&str> = lines.iter().map(|line| line.sku.as_str()).collect();
    skus.sort_unstable();
    assert_eq!(skus, ["PAD", "PEN"]);
    assert!(lines.iter().all(|line| line.order_id == order.id));
}

async fn a_failed_order_leaves_no_order_behind(shop: Shop) {
    shop.register("ada@example.com", "Ada").await.unwrap();
    // The order row is written before the lines refuse the repeated product.
    let refused = shop
        .place_order("ada@example.com", &[pens(1), pens(2)])
        .await;
    assert!(
        matches!(refused, Err(ShopError::InvalidOrder(_))),
        "{refused:?}"
    );
    assert!(shop.orders_of("ada@example.com").await.unwrap().is_empty());
    // The unit of work that failed took nothing with it: the next order is whole.
    let order = shop.place_order("ada@example.com", &[pad()]).await.unwrap();
    assert_eq!(shop.orders_of("ada@example.com").await.unwrap().len(), 1);
    assert_eq!(order.total_cents, 499);
}

async fn an_order_of_an_unknown_user_is_refused(shop: Shop) {
    let refused = shop.place_order("nobody@example.com", &[pad()]).await;
    assert!(
        matches!(refused, Err(ShopError::UnknownUser)),
        "{refused:?}"
    );
    let refused = shop.place_order("nobody@example.com", &[]).await;
    assert!(
        matches!(refused, Err(ShopError::InvalidOrder(_))),
        "{refused:?}"
    );
}

/// A unit of work written against the database that fails with the shop's own error.
async fn renaming(store: Persistence) {
    let shop = Shop::new(Arc::new(store.clone()));
    let grace = shop.register("grace@example.com", "Grace").await.unwrap();
    let renamed = store
        .rename_user("grace@example.com", "Grace Hopper")
        .await
        .unwrap();
    assert_eq!(
        (renamed.id, renamed.name.as_str()),
        (grace.id, "Grace Hopper")
    );
    assert!(matches!(
        store.rename_user("nobody@example.com", "Nobody").await,
        Err(ShopError::UnknownUser)
    ));
    assert!(matches!(
        store.rename_user("not an address", "Nobody").await,
        Err(ShopError::InvalidEmail(_))
    ));
}

#[tokio::test]
async fn renaming_fails_with_the_shops_own_error_in_memory() {
    renaming(Persistence::open(Db::memory()).await.unwrap()).await;
}

#[tokio::test]
async fn renaming_fails_with_the_shops_own_error_on_sqlite() {
    let path = std::env::temp_dir().join(format!("layered_renaming_{}.db", std::process::id()));
    let _cleanup = Cleanup(Some(path.clone()));
    let db = Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    renaming(Persistence::open(db).await.unwrap()).await;
}
