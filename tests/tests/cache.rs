//! The entity cache (`#[repo(cache)]`, `DbOptions::cache`) on every backend: reads by key and
//! by unique key are served from it, every write path of the library makes it forget what it
//! touched, transactions neither read nor fill it and report their writes only when they
//! commit, and no interleaving of reads and writes through one handle returns a row other than
//! the last committed one.

use std::collections::BTreeMap;

use proptest::prelude::*;
use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, Filter};
use repo_tests::{Backend, TestDb};

/// A cached entity with a natural key and a unique key.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "cached_accounts", cache(capacity = 1_000, ttl = "60s"))]
pub struct Account {
    /// The key, given by the test.
    #[repo(id)]
    pub id: i64,
    /// A unique key, read by `find_by_email`.
    #[repo(unique)]
    pub email: String,
    /// What the writes change.
    pub balance: i64,
}

/// An entity left uncached whose deletes reach [`Note`] rows.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "cached_owners")]
pub struct Owner {
    /// The key.
    #[repo(id)]
    pub id: i64,
    /// A column besides the key.
    pub name: String,
}

/// A cached entity deleted with its owner, by the database.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "cached_notes", cache)]
pub struct Note {
    /// The key.
    #[repo(id)]
    pub id: i64,
    /// Deleted with its owner.
    #[repo(references = Owner, on_delete = "cascade")]
    pub owner_id: i64,
    /// A column besides the keys.
    pub body: String,
}

/// Rows that belong to a cached [`Account`]: `Transfer::ACCOUNT` loads it.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "cached_transfers")]
pub struct Transfer {
    /// The key.
    #[repo(id)]
    pub id: i64,
    /// The account it belongs to.
    #[repo(references = Account)]
    pub account_id: i64,
}

fn account(id: i64, balance: i64) -> Account {
    Account {
        id,
        email: format!("{id}@example.com"),
        balance,
    }
}

fn cached() -> DbOptions {
    DbOptions {
        cache: true,
        ..DbOptions::default()
    }
}

async fn cached_db(backend: Backend, test: &str) -> Option<TestDb> {
    let test = TestDb::with_options(backend, test, cached()).await?;
    test.db.create_schema::<Account>().await.unwrap();
    Some(test)
}

/// Statements run and cache hits since `before`.
fn since(db: &Db, before: &repo_runtime::MetricsSnapshot) -> (u64, u64) {
    let now = db.metrics();
    (
        now.statements - before.statements,
        now.cache_hits - before.cache_hits,
    )
}

async fn reads_by_key_and_unique_key_are_served_from_the_cache(backend: Backend) {
    let Some(test) = cached_db(backend, "cache_hits").await else {
        return;
    };
    let db = &test.db;
    let accounts = Account::repository(db);
    accounts.insert(account(1, 10)).await.unwrap();
    assert_eq!(accounts.get(1).await.unwrap(), account(1, 10));
    let before = db.metrics();
    assert_eq!(accounts.get(1).await.unwrap(), account(1, 10));
    assert_eq!(accounts.find(1).await.unwrap(), Some(account(1, 10)));
    assert_eq!(since(db, &before), (0, 2), "no statement, two hits");
    assert_eq!(
        accounts.find_by_email("1@example.com").await.unwrap(),
        Some(account(1, 10))
    );
    let before = db.metrics();
    assert_eq!(
        accounts.find_by_email("1@example.com").await.unwrap(),
        Some(account(1, 10))
    );
    assert_eq!(since(db, &before), (0, 1));
    // An absence is held too, briefly.
    assert_eq!(accounts.find(2).await.unwrap(), None);
    let before = db.metrics();
    assert_eq!(accounts.find(2).await.unwrap(), None);
    assert!(matches!(
        accounts.get(2).await,
        Err(RepoError::NotFound { .. })
    ));
    assert_eq!(since(db, &before), (0, 2));
    assert!(db.metrics().cache_misses >= 3);
    // get_many: what is held, and one statement for the rest, in the order asked.
    accounts.insert(account(3, 30)).await.unwrap();
    let many = accounts.get_many(&[3, 1, 2, 3]).await.unwrap();
    assert_eq!(many, vec![account(3, 30), account(1, 10)]);
    let before = db.metrics();
    assert_eq!(
        accounts.get_many(&[1, 3, 2]).await.unwrap(),
        vec![account(1, 10), account(3, 30)]
    );
    assert_eq!(since(db, &before), (0, 3));
}

async fn every_write_path_makes_the_cache_forget_what_it_touched(backend: Backend) {
    let Some(test) = cached_db(backend, "cache_writes").await else {
        return;
    };
    let db = &test.db;
    let accounts = Account::repository(db);
    // Held as absent, then inserted.
    assert_eq!(accounts.find(1).await.unwrap(), None);
    assert_eq!(accounts.find_by_email("1@example.com").await.unwrap(), None);
    accounts.insert(account(1, 10)).await.unwrap();
    assert_eq!(accounts.find(1).await.unwrap(), Some(account(1, 10)));
    assert_eq!(
        accounts.find_by_email("1@example.com").await.unwrap(),
        Some(account(1, 10))
    );
    // update, write
    accounts.update(&account(1, 11)).await.unwrap();
    assert_eq!(accounts.get(1).await.unwrap().balance, 11);
    accounts.write(&account(1, 12)).await.unwrap();
    assert_eq!(accounts.get(1).await.unwrap().balance, 12);
    // A unique key whose value changed: the old value finds nothing, the new one the row.
    let moved = Account {
        email: "moved@example.com".into(),
        ..account(1, 12)
    };
    accounts.update(&moved).await.unwrap();
    assert_eq!(accounts.find_by_email("1@example.com").await.unwrap(), None);
    assert_eq!(
        accounts.find_by_email("moved@example.com").await.unwrap(),
        Some(moved.clone())
    );
    // upsert
    accounts.upsert(&account(1, 13)).await.unwrap();
    assert_eq!(accounts.get(1).await.unwrap(), account(1, 13));
    assert_eq!(
        accounts.find_by_email("moved@example.com").await.unwrap(),
        None
    );
    // patch and patch_where
    accounts
        .patch(
            1,
            AccountPatch {
                balance: Some(14),
                ..AccountPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(accounts.get(1).await.unwrap().balance, 14);
    accounts
        .patch_where(
            &Account::BALANCE.eq(14),
            AccountPatch {
                balance: Some(15),
                ..AccountPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(accounts.get(1).await.unwrap().balance, 15);
    // insert_many, then delete and delete_where
    accounts
        .insert_many(vec![account(2, 20), account(3, 30)])
        .await
        .unwrap();
    assert_eq!(accounts.get(2).await.unwrap().balance, 20);
    assert_eq!(accounts.get(3).await.unwrap().balance, 30);
    accounts.delete(2).await.unwrap();
    assert_eq!(accounts.find(2).await.unwrap(), None);
    accounts
        .delete_where(&Account::BALANCE.eq(30))
        .await
        .unwrap();
    assert_eq!(accounts.find(3).await.unwrap(), None);
    assert_eq!(accounts.get(1).await.unwrap().balance, 15);
    assert!(db.metrics().cache_invalidations >= 9);
}

async fn transactions_neither_read_nor_fill_the_cache_and_report_on_commit(backend: Backend) {
    let Some(test) = cached_db(backend, "cache_tx").await else {
        return;
    };
    let db = &test.db;
    let accounts = Account::repository(db);
    accounts.insert(account(1, 10)).await.unwrap();
    assert_eq!(accounts.get(1).await.unwrap().balance, 10);
    // Rolled back: the cache still holds the committed row.
    let tx = db.begin().await.unwrap();
    let before = db.metrics();
    Account::repository(&tx)
        .update(&account(1, 11))
        .await
        .unwrap();
    assert_eq!(Account::repository(&tx).get(1).await.unwrap().balance, 11);
    assert_eq!(
        db.metrics().cache_hits,
        before.cache_hits,
        "not read inside"
    );
    tx.rollback().await.unwrap();
    let before = db.metrics();
    assert_eq!(accounts.get(1).await.unwrap().balance, 10);
    assert_eq!(since(db, &before), (0, 1), "still held after the rollback");
    // Committed: the next read outside sees the write.
    db.transaction(async |tx| {
        Account::repository(&tx).update(&account(1, 12)).await?;
        Ok::<_, RepoError>(())
    })
    .await
    .unwrap();
    assert_eq!(accounts.get(1).await.unwrap().balance, 12);
}

async fn rows_deleted_by_a_cascade_are_forgotten(backend: Backend) {
    let Some(test) = cached_db(backend, "cache_cascade").await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Owner>().await.unwrap();
    db.create_schema::<Note>().await.unwrap();
    let owner = Owner {
        id: 1,
        name: "ann".into(),
    };
    Owner::repository(db).insert(owner).await.unwrap();
    let note = Note {
        id: 7,
        owner_id: 1,
        body: "kept".into(),
    };
    let notes = Note::repository(db);
    notes.insert(note.clone()).await.unwrap();
    assert_eq!(notes.find(7).await.unwrap(), Some(note));
    assert_eq!(notes.find(7).await.unwrap().map(|n| n.id), Some(7));
    Owner::repository(db).delete(1).await.unwrap();
    assert_eq!(notes.find(7).await.unwrap(), None, "deleted with its owner");
}

async fn a_belongs_to_load_reads_cached_targets_through_the_cache(backend: Backend) {
    let Some(test) = cached_db(backend, "cache_belongs_to").await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Transfer>().await.unwrap();
    let accounts = Account::repository(db);
    accounts
        .insert_many(vec![account(1, 10), account(2, 20)])
        .await
        .unwrap();
    let transfers = vec![
        Transfer {
            id: 1,
            account_id: 2,
        },
        Transfer {
            id: 2,
            account_id: 1,
        },
        Transfer {
            id: 3,
            account_id: 2,
        },
    ];
    Transfer::repository(db)
        .insert_many(transfers.clone())
        .await
        .unwrap();
    let expected = vec![
        Some(account(2, 20)),
        Some(account(1, 10)),
        Some(account(2, 20)),
    ];
    assert_eq!(
        Transfer::ACCOUNT.load(db, &transfers).await.unwrap(),
        expected
    );
    let before = db.metrics();
    assert_eq!(
        Transfer::ACCOUNT.load(db, &transfers).await.unwrap(),
        expected
    );
    assert_eq!(since(db, &before), (0, 2), "both targets held");
    // A target written since is read again.
    accounts.update(&account(2, 21)).await.unwrap();
    let loaded = Transfer::ACCOUNT.load(db, &transfers).await.unwrap();
    assert_eq!(loaded[0], Some(account(2, 21)));
}

async fn without_the_option_nothing_is_cached(backend: Backend) {
    let Some(test) = TestDb::new(backend, "cache_off").await else {
        return;
    };
    let db = &test.db;
    db.create_schema::<Account>().await.unwrap();
    let accounts = Account::repository(db);
    accounts.insert(account(1, 10)).await.unwrap();
    let before = db.metrics();
    accounts.get(1).await.unwrap();
    accounts.get(1).await.unwrap();
    assert_eq!(since(db, &before), (2, 0));
    assert_eq!(db.metrics().cache_misses, 0);
}

/// One step of the property test.
#[derive(Debug, Clone)]
enum Step {
    Get(i64),
    GetMany(Vec<i64>),
    FindByEmail(i64),
    Insert(i64, i64),
    Update(i64, i64),
    Delete(i64),
    PatchWhere(i64, i64),
    /// An update inside a transaction, committed or rolled back.
    InTransaction(i64, i64, bool),
}

fn step() -> impl Strategy<Value = Step> {
    let key = 1_i64..5;
    prop_oneof![
        3 => key.clone().prop_map(Step::Get),
        1 => proptest::collection::vec(key.clone(), 0..4).prop_map(Step::GetMany),
        2 => key.clone().prop_map(Step::FindByEmail),
        1 => (key.clone(), 0_i64..100).prop_map(|(k, v)| Step::Insert(k, v)),
        2 => (key.clone(), 0_i64..100).prop_map(|(k, v)| Step::Update(k, v)),
        1 => key.clone().prop_map(Step::Delete),
        1 => (0_i64..100, 0_i64..100).prop_map(|(a, b)| Step::PatchWhere(a, b)),
        2 => (key, 0_i64..100, any::<bool>()).prop_map(|(k, v, c)| Step::InTransaction(k, v, c)),
    ]
}

/// Runs `steps` through one cached handle against a model of the committed rows: every read
/// returns the model's row.
async fn run_steps(db: &Db, steps: &[Step]) {
    let accounts = Account::repository(db);
    accounts
        .delete_where(&Filter::all())
        .await
        .expect("start empty");
    let mut model: BTreeMap<i64, i64> = BTreeMap::new();
    for step in steps {
        match *step {
            Step::Get(id) => {
                let read = accounts.find(id).await.unwrap();
                let expected = model.get(&id).map(|&balance| account(id, balance));
                assert_eq!(read, expected, "{step:?} after {steps:?}");
            }
            Step::GetMany(ref ids) => {
                let read = accounts.get_many(ids).await.unwrap();
                let mut seen = std::collections::BTreeSet::new();
                let expected: Vec<Account> = ids
                    .iter()
                    .filter(|id| seen.insert(**id))
                    .filter_map(|id| model.get(id).map(|&balance| account(*id, balance)))
                    .collect();
                assert_eq!(read, expected, "{step:?} after {steps:?}");
            }
            Step::FindByEmail(id) => {
                let read = accounts
                    .find_by_email(&format!("{id}@example.com"))
                    .await
                    .unwrap();
                let expected = model.get(&id).map(|&balance| account(id, balance));
                assert_eq!(read, expected, "{step:?} after {steps:?}");
            }
            Step::Insert(id, balance) => {
                let inserted = accounts.insert(account(id, balance)).await;
                assert_eq!(inserted.is_ok(), !model.contains_key(&id), "{step:?}");
                model.entry(id).or_insert(balance);
            }
            Step::Update(id, balance) => {
                let updated = accounts.update(&account(id, balance)).await;
                assert_eq!(updated.is_ok(), model.contains_key(&id), "{step:?}");
                if let Some(stored) = model.get_mut(&id) {
                    *stored = balance;
                }
            }
            Step::Delete(id) => {
                let deleted = accounts.delete(id).await.unwrap();
                assert_eq!(deleted, model.remove(&id).is_some(), "{step:?}");
            }
            Step::PatchWhere(from, to) => {
                accounts
                    .patch_where(
                        &Account::BALANCE.eq(from),
                        AccountPatch {
                            balance: Some(to),
                            ..AccountPatch::default()
                        },
                    )
                    .await
                    .unwrap();
                for balance in model.values_mut() {
                    if *balance == from {
                        *balance = to;
                    }
                }
            }
            Step::InTransaction(id, balance, commit) => {
                let tx = db.begin().await.unwrap();
                let updated = Account::repository(&tx).update(&account(id, balance)).await;
                assert_eq!(updated.is_ok(), model.contains_key(&id), "{step:?}");
                // Inside, its own write.
                let inside = Account::repository(&tx).find(id).await.unwrap();
                let written = model.get(&id).map(|_| account(id, balance));
                assert_eq!(inside, written, "{step:?} read inside, after {steps:?}");
                // Outside, the committed row meanwhile.
                let outside = accounts.find(id).await.unwrap();
                let expected = model.get(&id).map(|&balance| account(id, balance));
                assert_eq!(outside, expected, "{step:?} read outside, after {steps:?}");
                if commit {
                    tx.commit().await.unwrap();
                    if let Some(stored) = model.get_mut(&id) {
                        *stored = balance;
                    }
                } else {
                    tx.rollback().await.unwrap();
                }
            }
        }
    }
}

async fn no_interleaving_returns_a_row_other_than_the_last_committed(backend: Backend) {
    let Some(test) = cached_db(backend, "cache_property").await else {
        return;
    };
    let db = &test.db;
    // Fewer cases than the default: each runs dozens of statements on a server.
    let cases = (repo_tests::proptest_cases() / 4).max(8);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    let strategy = proptest::collection::vec(step(), 1..40);
    let runtime = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner.run(&strategy, |steps| {
            runtime.block_on(run_steps(db, &steps));
            Ok(())
        })
    });
    result.unwrap();
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Sqlite).await } )* }
        mod rusqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Rusqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::MySql).await } )* }
        mod memory { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::$case(repo_tests::Backend::Memory).await } )* }
    };
}

on_every_backend!(
    reads_by_key_and_unique_key_are_served_from_the_cache,
    every_write_path_makes_the_cache_forget_what_it_touched,
    transactions_neither_read_nor_fill_the_cache_and_report_on_commit,
    rows_deleted_by_a_cascade_are_forgotten,
    a_belongs_to_load_reads_cached_targets_through_the_cache,
    without_the_option_nothing_is_cached,
    no_interleaving_returns_a_row_other_than_the_last_committed,
);
