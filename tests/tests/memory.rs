//! The in-memory store beyond the conformance suite: the `InMemory{Entity}Repository` types,
//! sharing one store with transactions, the one-writer lock, and what needs SQL refusing
//! clearly instead of pretending.

use std::sync::Arc;
use std::time::Duration;

use repo_runtime::DbOptions;
use repo_runtime::prelude::*;

mod domain {
    use repo_core::{RepoError, port};

    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Ticket {
        pub(crate) id: i64,
        pub(crate) title: String,
        pub(crate) priority: i32,
    }

    #[port]
    pub(crate) trait Tickets: Send + Sync {
        async fn insert(&self, ticket: Ticket) -> Result<Ticket, RepoError>;
        async fn find_all_by_priority_greater_than_order_by_priority_desc(
            &self,
            priority: i32,
        ) -> Result<Vec<Ticket>, RepoError>;
        #[query("SELECT * FROM tickets WHERE title = :title")]
        async fn by_title_in_sql(&self, title: &str) -> Result<Vec<Ticket>, RepoError>;
    }
}

use domain::Ticket;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tickets", domain = Ticket, port = domain::Tickets)]
struct TicketRecord {
    #[repo(id, generated)]
    id: i64,
    #[repo(unique)]
    title: String,
    priority: i32,
}

fn ticket(title: &str, priority: i32) -> Ticket {
    Ticket {
        id: 0,
        title: title.into(),
        priority,
    }
}

#[tokio::test]
async fn an_in_memory_repository_needs_no_database_and_keeps_the_semantics() {
    let tickets: Arc<dyn TicketRepository> = Arc::new(InMemoryTicketRepository::new());
    let first = tickets.insert(ticket("first", 1)).await.unwrap();
    let second = tickets.insert(ticket("second", 5)).await.unwrap();
    assert_eq!((first.id, second.id), (1, 2));
    let duplicate = tickets.insert(ticket("first", 9)).await.unwrap_err();
    assert!(
        matches!(
            duplicate,
            RepoError::Conflict {
                entity: "TicketRecord",
                field: Some("title"),
                ..
            }
        ),
        "{duplicate:?}"
    );
    assert!(tickets.get(3).await.unwrap_err().is_not_found());
    assert_eq!(tickets.find_by_title("second").await.unwrap(), Some(second));
    assert_eq!(tickets.count().await.unwrap(), 2);
}

#[tokio::test]
async fn an_in_memory_repository_implements_the_domain_port() {
    let tickets: Arc<dyn domain::Tickets> = Arc::new(InMemoryTicketRepository::default());
    for (title, priority) in [("low", 1), ("high", 9), ("mid", 5)] {
        tickets.insert(ticket(title, priority)).await.unwrap();
    }
    let urgent = tickets
        .find_all_by_priority_greater_than_order_by_priority_desc(2)
        .await
        .unwrap();
    let titles: Vec<&str> = urgent.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["high", "mid"]);
    // SQL written by hand has no in-memory form: a clear error, not a guess.
    let error = tickets.by_title_in_sql("low").await.unwrap_err();
    assert!(
        matches!(&error, RepoError::Config { message } if message.contains("by_title_in_sql")),
        "{error:?}"
    );
}

#[tokio::test]
async fn in_memory_repositories_share_a_store_and_its_transactions() {
    let db = Db::memory();
    assert!(db.is_memory());
    let tickets = InMemoryTicketRepository::on(&db).unwrap();
    tickets.insert(ticket("kept", 1)).await.unwrap();
    let result = db
        .transaction(async |tx| {
            let in_tx = InMemoryTicketRepository::on(&tx)?;
            in_tx.insert(ticket("discarded", 2)).await?;
            // The transaction sees its own write; the store outside does not, yet.
            assert_eq!(in_tx.count().await?, 2);
            assert_eq!(TicketRecord::repository(&db).count().await?, 1);
            Err::<(), _>(RepoError::not_found("Ticket"))
        })
        .await;
    assert!(result.unwrap_err().is_not_found());
    assert_eq!(tickets.count().await.unwrap(), 1);
    assert_eq!(TicketRecord::repository(&db).count().await.unwrap(), 1);
}

#[tokio::test]
async fn an_in_memory_repository_refuses_an_sql_database() {
    let db = Db::connect("sqlite::memory:").await.unwrap();
    let error = InMemoryTicketRepository::on(&db).unwrap_err();
    assert!(
        matches!(&error, RepoError::Config { message } if message.contains("InMemoryTicketRepository")),
        "{error:?}"
    );
}

#[tokio::test]
async fn one_transaction_writes_at_a_time_and_others_wait_within_the_busy_timeout() {
    let options = DbOptions {
        sqlite_busy_timeout: Duration::from_millis(100),
        retry: repo_runtime::RetryPolicy::never(),
        ..DbOptions::default()
    };
    let db = Db::connect_with("memory:", options).await.unwrap();
    let tickets = TicketRecord::repository(&db);
    let tx = db.begin().await.unwrap();
    TicketRecord::repository(&tx)
        .insert(ticket("in tx", 1))
        .await
        .unwrap();
    // A write outside the transaction waits for it, then gives up with a transient error.
    let blocked = tickets.insert(ticket("outside", 2)).await.unwrap_err();
    assert!(blocked.is_transient(), "{blocked:?}");
    tx.commit().await.unwrap();
    tickets.insert(ticket("outside", 2)).await.unwrap();
    assert_eq!(tickets.count().await.unwrap(), 2);
}

#[tokio::test]
async fn a_read_only_transaction_refuses_writes() {
    let db = Db::memory();
    let options = TxOptions::new().read_only();
    let result = db
        .transaction_with(&options, async |tx| {
            TicketRecord::repository(&tx).insert(ticket("no", 1)).await
        })
        .await;
    assert!(
        matches!(result, Err(RepoError::Forbidden { .. })),
        "{result:?}"
    );
    assert_eq!(TicketRecord::repository(&db).count().await.unwrap(), 0);
}

#[tokio::test]
async fn what_needs_sql_is_a_config_error_on_the_in_memory_store() {
    use repo_runtime::migrate::{Migrations, Migrator};
    let db = Db::memory();
    let migrator = Migrator::new(Migrations::default());
    let error = migrator.run(&db).await.unwrap_err();
    assert!(
        matches!(&error, RepoError::Config { message } if message.contains("runs no SQL")),
        "{error:?}"
    );
    assert!(db.as_sqlite().is_none());
}

#[tokio::test]
async fn dropping_a_table_in_memory_forgets_its_rows() {
    let db = Db::memory();
    db.create_schema::<TicketRecord>().await.unwrap();
    let tickets = TicketRecord::repository(&db);
    tickets.insert(ticket("gone", 1)).await.unwrap();
    db.drop_schema::<TicketRecord>().await.unwrap();
    assert_eq!(tickets.count().await.unwrap(), 0);
}

#[tokio::test]
async fn seeds_written_with_repositories_run_once_in_memory_and_sql_seeds_are_refused() {
    use repo_runtime::migrate::Seeds;
    let db = Db::memory();
    let seeds = Seeds::new().code("tickets", &["test"], |tx| {
        Box::pin(async move {
            TicketRecord::repository(tx)
                .insert(ticket("seeded", 3))
                .await
                .map(drop)
        })
    });
    assert_eq!(seeds.run(&db, "test").await.unwrap(), ["tickets"]);
    assert!(seeds.run(&db, "test").await.unwrap().is_empty());
    assert_eq!(TicketRecord::repository(&db).count().await.unwrap(), 1);

    let sql = Seeds::new().sql("raw", &["test"], "INSERT INTO tickets VALUES (9, 'x', 1)");
    let error = sql.run(&db, "test").await.unwrap_err();
    assert!(
        matches!(&error, RepoError::Migration { source: Some(inner), .. }
            if matches!(**inner, RepoError::Config { .. })),
        "{error:?}"
    );
    assert_eq!(TicketRecord::repository(&db).count().await.unwrap(), 1);
}
