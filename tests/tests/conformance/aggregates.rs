//! Aggregates: a root and the children it owns, declared on the records (`owns`), saved,
//! loaded and deleted as one unit: new children inserted, changed ones updated, removed ones
//! deleted, in one transaction; in record and in domain mode.

use futures_util::StreamExt;
use repo_runtime::prelude::*;

/// A port whose queries return whole orders and delete them with their lines.
mod store {
    use repo_core::{RepoError, port};

    use super::Order;

    #[port]
    pub trait Orders: Send + Sync {
        async fn find_all_by_customer_order_by_id(
            &self,
            customer: &str,
        ) -> Result<Vec<Order>, RepoError>;
        async fn find_first_by_customer(&self, customer: &str) -> Result<Option<Order>, RepoError>;
        async fn delete_by_customer(&self, customer: &str) -> Result<u64, RepoError>;
    }
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "agg_orders",
    owns(lines = OrderLine::order_id),
    port = store::Orders
)]
pub struct Order {
    #[repo(id, generated)]
    pub id: i64,
    pub customer: String,
    #[repo(skip)]
    pub lines: Vec<OrderLine>,
}

/// A child with a key the database generates: a line new to its order has any key no line of
/// the order has (0).
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "agg_order_lines", unique(order_id, sku))]
pub struct OrderLine {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Order)]
    pub order_id: i64,
    pub sku: String,
    pub quantity: i32,
}

fn line(sku: &str, quantity: i32) -> OrderLine {
    OrderLine {
        id: 0,
        order_id: 0,
        sku: sku.into(),
        quantity,
    }
}

async fn schema(db: &Db) {
    db.create_schema::<Order>().await.unwrap();
    db.create_schema::<OrderLine>().await.unwrap();
}

fn skus(order: &Order) -> Vec<(String, i32)> {
    order
        .lines
        .iter()
        .map(|line| (line.sku.clone(), line.quantity))
        .collect()
}

pub async fn an_aggregate_is_saved_loaded_and_deleted_as_one_unit(db: &Db) {
    schema(db).await;
    let orders = Order::repository(db);
    let stored = orders
        .insert(NewOrder {
            customer: "ann".into(),
            lines: vec![line("apple", 1), line("pear", 2)],
        })
        .await
        .unwrap();
    assert_eq!(skus(&stored), [("apple".into(), 1), ("pear".into(), 2)]);
    assert!(
        stored
            .lines
            .iter()
            .all(|line| line.order_id == stored.id && line.id > 0)
    );

    let before = db.metrics().statements;
    let loaded = orders.get(stored.id).await.unwrap();
    assert_eq!(
        db.metrics().statements - before,
        2,
        "the root, then its lines"
    );
    assert_eq!(loaded, stored);

    // Changed, removed and new lines in one save.
    let mut changed = loaded.clone();
    changed.lines[0].quantity = 5;
    changed.lines.remove(1);
    changed.lines.push(line("plum", 3));
    let saved = orders.update(&changed).await.unwrap();
    assert_eq!(skus(&saved), [("apple".into(), 5), ("plum".into(), 3)]);
    assert_eq!(
        saved.lines[0].id, stored.lines[0].id,
        "an updated line keeps its key"
    );
    assert_eq!(orders.get(stored.id).await.unwrap(), saved);
    let lines = OrderLine::repository(db);
    assert_eq!(lines.count().await.unwrap(), 2, "the pear is gone");

    // A page of roots: one statement for them, one for all their lines.
    let other = orders
        .insert(NewOrder {
            customer: "bob".into(),
            lines: vec![line("fig", 1)],
        })
        .await
        .unwrap();
    let empty = orders
        .insert(NewOrder {
            customer: "cy".into(),
            lines: vec![],
        })
        .await
        .unwrap();
    let before = db.metrics().statements;
    let page = orders.list(ListOptions::new()).await.unwrap();
    assert_eq!(db.metrics().statements - before, 2);
    assert_eq!(page, [saved.clone(), other.clone(), empty.clone()]);
    let found = orders
        .find_where(&Order::CUSTOMER.eq("bob"), ListOptions::new())
        .await
        .unwrap();
    assert_eq!(found, std::slice::from_ref(&other));
    assert_eq!(
        orders.get_many(&[other.id, saved.id]).await.unwrap(),
        [other.clone(), saved.clone()]
    );

    // Finders and derived queries return whole orders too, and delete them with their lines.
    let port: &dyn store::Orders = &orders;
    assert_eq!(
        port.find_all_by_customer_order_by_id("bob").await.unwrap(),
        std::slice::from_ref(&other)
    );
    assert_eq!(
        port.find_first_by_customer("ann").await.unwrap(),
        Some(saved.clone())
    );
    // A relation's load of roots brings their lines: the order of each line, with its lines.
    let of_lines = OrderLine::ORDER.load(db, &saved.lines).await.unwrap();
    assert_eq!(of_lines, [Some(saved.clone()), Some(saved.clone())]);

    // Deleting the root deletes its lines first.
    assert!(orders.delete(saved.id).await.unwrap());
    assert_eq!(lines.count().await.unwrap(), 1);
    assert_eq!(port.delete_by_customer("bob").await.unwrap(), 1);
    assert_eq!(lines.count().await.unwrap(), 0);
    assert_eq!(
        orders.list(ListOptions::new()).await.unwrap(),
        std::slice::from_ref(&empty)
    );
    assert_eq!(orders.delete_where(&Filter::all()).await.unwrap(), 1);
}

pub async fn a_failed_save_of_an_aggregate_writes_nothing(db: &Db) {
    schema(db).await;
    let orders = Order::repository(db);
    let stored = orders
        .insert(NewOrder {
            customer: "ann".into(),
            lines: vec![line("apple", 1)],
        })
        .await
        .unwrap();
    // The root's change and a first line are written, then a second line with the same sku
    // conflicts: all of it is undone.
    let mut changed = stored.clone();
    changed.customer = "ann b.".into();
    changed.lines[0].quantity = 9;
    changed.lines.push(line("kiwi", 1));
    changed.lines.push(line("kiwi", 2));
    let error = orders.update(&changed).await.unwrap_err();
    assert!(matches!(error, RepoError::Conflict { .. }), "{error:?}");
    assert_eq!(orders.get(stored.id).await.unwrap(), stored);
    let error = orders
        .insert(NewOrder {
            customer: "bob".into(),
            lines: vec![line("fig", 1), line("fig", 1)],
        })
        .await
        .unwrap_err();
    assert!(matches!(error, RepoError::Conflict { .. }), "{error:?}");
    assert_eq!(
        orders.count().await.unwrap(),
        1,
        "the root went with its lines"
    );

    // Inside a transaction: rolled back with it.
    let tx = db.begin().await.unwrap();
    let mut emptied = stored.clone();
    emptied.lines.clear();
    Order::repository(&tx).update(&emptied).await.unwrap();
    assert_eq!(
        Order::repository(&tx).get(stored.id).await.unwrap().lines,
        []
    );
    tx.rollback().await.unwrap();
    assert_eq!(orders.get(stored.id).await.unwrap(), stored);

    // What cannot tell its rows' children apart is refused, with a typed error.
    let refused = orders
        .insert_or_ignore(vec![], Order::BY_ID)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RepoError::InvalidInput { .. }),
        "{refused:?}"
    );
    let mut stream = orders.stream(&Filter::all(), ListOptions::new());
    let first = stream.next().await.unwrap();
    assert!(
        matches!(first, Err(RepoError::InvalidInput { .. })),
        "{first:?}"
    );
}

/// The domain: an invoice and its items, plain types with a `Vec` of children.
mod domain {
    #[derive(Debug, Clone, PartialEq)]
    pub struct Invoice {
        pub number: i64,
        pub customer: String,
        pub items: Vec<Item>,
    }

    #[derive(Debug, Clone, PartialEq)]
    pub struct Item {
        pub line: i32,
        pub text: String,
    }
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "agg_invoices",
    domain = domain::Invoice,
    owns(items = ItemRecord::invoice)
)]
pub struct InvoiceRecord {
    #[repo(id)]
    pub number: i64,
    pub customer: String,
    #[repo(skip)]
    pub items: Vec<ItemRecord>,
}

/// A child keyed by its root's key and its own line number; the domain item has no key to its
/// invoice: saving the invoice sets it.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "agg_invoice_items", domain = domain::Item)]
pub struct ItemRecord {
    #[repo(id, references = InvoiceRecord, relation = of_invoice, domain_skip)]
    pub invoice: i64,
    #[repo(id)]
    pub line: i32,
    pub text: String,
}

pub async fn an_aggregate_speaks_its_domain_type(db: &Db) {
    db.create_schema::<InvoiceRecord>().await.unwrap();
    db.create_schema::<ItemRecord>().await.unwrap();
    let invoices = InvoiceRecord::repository(db);
    let item = |line, text: &str| domain::Item {
        line,
        text: text.into(),
    };
    let invoice = domain::Invoice {
        number: 7,
        customer: "ann".into(),
        items: vec![item(1, "design"), item(2, "build")],
    };
    assert_eq!(invoices.insert(invoice.clone()).await.unwrap(), invoice);
    assert_eq!(invoices.get(7).await.unwrap(), invoice);

    let mut changed = invoice.clone();
    changed.items[1].text = "build, twice".into();
    changed.items.remove(0);
    changed.items.push(item(3, "ship"));
    assert_eq!(invoices.update(&changed).await.unwrap(), changed);
    assert_eq!(invoices.find(7).await.unwrap(), Some(changed.clone()));
    assert_eq!(ItemRecord::repository(db).count().await.unwrap(), 2);

    // An upsert writes the root and its items the same way.
    let mut again = changed.clone();
    again.items.truncate(1);
    assert_eq!(invoices.upsert(&again).await.unwrap(), again);
    assert_eq!(invoices.get(7).await.unwrap(), again);
    assert!(invoices.delete(7).await.unwrap());
    assert_eq!(ItemRecord::repository(db).count().await.unwrap(), 0);
}
