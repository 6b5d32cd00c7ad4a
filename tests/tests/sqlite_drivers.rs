//! One SQLite file, two drivers: rows written through sqlx's driver read back the same through
//! rusqlite and the other way round, for every column type (dates and times of both crates,
//! UUIDs, decimals, JSON, enums, optional values), and a file's schema made by one is migrated
//! and read by the other.

#[path = "conformance/mapping.rs"]
#[allow(dead_code, unreachable_pub)]
mod mapping;

use mapping::{Account, AccountRepository as _, new_account};
use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, SqliteDriver};

async fn open(url: &str, driver: SqliteDriver) -> Db {
    let options = DbOptions {
        sqlite_driver: driver,
        ..DbOptions::default()
    };
    Db::connect_with(url, options).await.expect("open")
}

async fn rows_written_by_one_driver_read_the_same_through_the_other(
    writer: SqliteDriver,
    reader: SqliteDriver,
) {
    let path = std::env::temp_dir().join(format!(
        "repo_t_drivers_{writer:?}_{reader:?}_{}.db",
        std::process::id()
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let url = format!("sqlite://{}", path.display());
    let written = {
        let db = open(&url, writer).await;
        db.create_schema::<Account>().await.unwrap();
        let accounts = Account::repository(&db);
        let mut written = vec![accounts.insert(new_account(1)).await.unwrap()];
        written.extend(
            accounts
                .insert_many((2..8).map(new_account).collect())
                .await
                .unwrap(),
        );
        db.close().await;
        written
    };
    let db = open(&url, reader).await;
    let accounts = Account::repository(&db);
    for account in &written {
        assert_eq!(accounts.get(account.id).await.unwrap(), *account);
        // Values bound by the reader compare with those the writer stored.
        assert_eq!(
            accounts
                .find_by_email(&account.email)
                .await
                .unwrap()
                .as_ref(),
            Some(account)
        );
    }
    assert_eq!(accounts.list(ListOptions::new()).await.unwrap(), written);
    // The reader writes into the writer's rows as the writer would.
    let mut changed = written[0].clone();
    changed.draft = None;
    assert_eq!(accounts.update(&changed).await.unwrap(), changed);
    db.close().await;
    let back = open(&url, writer).await;
    assert_eq!(
        Account::repository(&back).get(changed.id).await.unwrap(),
        changed
    );
    back.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn rows_written_through_sqlx_read_the_same_through_rusqlite() {
    rows_written_by_one_driver_read_the_same_through_the_other(
        SqliteDriver::Sqlx,
        SqliteDriver::Rusqlite,
    )
    .await;
}

#[tokio::test]
async fn rows_written_through_rusqlite_read_the_same_through_sqlx() {
    rows_written_by_one_driver_read_the_same_through_the_other(
        SqliteDriver::Rusqlite,
        SqliteDriver::Sqlx,
    )
    .await;
}
