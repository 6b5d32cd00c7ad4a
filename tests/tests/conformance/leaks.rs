//! No bound value reaches an error: not its `Display`, not its `Debug`, not its `source()`
//! chain, for every kind of failure a server reports with values in its message or detail
//! (PostgreSQL's `Key (token)=(...)` and `Failing row contains (...)`, MySQL's
//! `Duplicate entry '...'`).

use repo_runtime::prelude::*;
use repo_runtime::{DbOptions, Dialect};

use repo_runtime::chrono::NaiveDateTime;

use crate::mapping::Status;

/// The marker bound in every failing statement; no error may show it.
const MARKER: &str = "TOPSECRET-42";

/// A referenced row, keyed by text so that a foreign key value can carry the marker.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "leak_parents")]
pub struct LeakParent {
    #[repo(id)]
    pub code: String,
}

/// A secret token, unique, optionally referring to a parent (`Debug` is generated, redacted).
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "leak_secrets")]
pub struct Secret {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique, sensitive)]
    pub token: String,
    #[repo(references = LeakParent)]
    pub parent: Option<String>,
    pub note: String,
}

/// A table with a required column and a status under a `CHECK` (an enum).
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "leak_rows")]
pub struct LeakRow {
    #[repo(id)]
    pub id: i64,
    pub note: String,
    pub amount: i64,
    pub status: Status,
    pub at: NaiveDateTime,
}

/// The same table seen loosely: a missing amount, any status text.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "leak_rows")]
pub struct LooseRow {
    #[repo(id)]
    pub id: i64,
    pub note: String,
    pub amount: Option<i64>,
    pub status: String,
    pub at: NaiveDateTime,
}

/// The same table as text throughout, for values the columns cannot hold on SQLite and MySQL.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "leak_rows")]
pub struct TextRow {
    #[repo(id)]
    pub id: String,
    pub note: String,
    pub amount: i64,
    pub status: String,
    pub at: String,
}

/// Everything the error shows: `Display` and `Debug` of it and of each source.
fn shown(error: &RepoError) -> String {
    let mut shown = format!("{error}\n{error:?}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        shown.push_str(&format!("\n{cause}\n{cause:?}"));
        source = cause.source();
    }
    shown
}

fn assert_no_marker(error: &RepoError) {
    let shown = shown(error);
    assert!(!shown.contains(MARKER), "a bound value leaked:\n{shown}");
}

fn marked(suffix: &str) -> String {
    format!("{MARKER}-{suffix}")
}

fn loose(id: i64) -> LooseRow {
    LooseRow {
        id,
        note: marked("note"),
        amount: Some(1),
        status: "active".into(),
        at: NaiveDateTime::default(),
    }
}

pub async fn a_unique_violation_keeps_no_bound_value(db: &Db) {
    db.create_schema::<LeakParent>().await.unwrap();
    db.create_schema::<Secret>().await.unwrap();
    let secrets = Secret::repository(db);
    let new = || NewSecret {
        token: marked("token"),
        parent: None,
        note: marked("note"),
    };
    secrets.insert(new()).await.unwrap();
    let error = secrets.insert(new()).await.unwrap_err();
    assert!(
        matches!(
            &error,
            RepoError::Conflict {
                field: Some("token"),
                ..
            }
        ),
        "{error}"
    );
    assert_no_marker(&error);
    // The names stay: the classification still has what it needs.
    assert!(shown(&error).contains("token"), "{}", shown(&error));
}

pub async fn a_foreign_key_violation_keeps_no_bound_value(db: &Db) {
    db.create_schema::<LeakParent>().await.unwrap();
    db.create_schema::<Secret>().await.unwrap();
    let error = Secret::repository(db)
        .insert(NewSecret {
            token: "t".into(),
            parent: Some(marked("parent")),
            note: marked("note"),
        })
        .await
        .unwrap_err();
    assert!(matches!(error, RepoError::ForeignKey { .. }), "{error}");
    assert_no_marker(&error);
}

pub async fn a_not_null_violation_keeps_no_bound_value(db: &Db) {
    db.create_schema::<LeakRow>().await.unwrap();
    let error = LooseRow::repository(db)
        .insert(LooseRow {
            amount: None,
            ..loose(1)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RepoError::NotNull { column: Some(c), .. } if c == "amount"),
        "{error}"
    );
    assert_no_marker(&error);
}

/// The in-memory store has no `CHECK` constraints (its columns are typed by the entity).
pub async fn a_check_violation_keeps_no_bound_value(db: &Db) {
    db.create_schema::<LeakRow>().await.unwrap();
    let error = LooseRow::repository(db)
        .insert(LooseRow {
            status: marked("status"),
            ..loose(1)
        })
        .await
        .unwrap_err();
    assert!(matches!(error, RepoError::Check { .. }), "{error}");
    assert_no_marker(&error);
}

/// A value the column cannot hold: text with a NUL on PostgreSQL (whose error quotes the
/// parameter), text that is not a timestamp on MySQL (`Incorrect datetime value: '...'`),
/// text as an integer key on SQLite (`datatype mismatch`).
pub async fn a_data_exception_keeps_no_bound_value(db: &Db) {
    db.create_schema::<LeakRow>().await.unwrap();
    let text = TextRow {
        id: "1".into(),
        note: marked("note"),
        amount: 1,
        status: "active".into(),
        at: "2024-01-02 03:04:05".into(),
    };
    let error = match db.dialect() {
        Dialect::Postgres => LeakRow::repository(db)
            .insert(LeakRow {
                id: 1,
                note: format!("{MARKER}\0"),
                amount: 1,
                status: Status::Active,
                at: NaiveDateTime::default(),
            })
            .await
            .unwrap_err(),
        Dialect::MySql => TextRow::repository(db)
            .insert(TextRow {
                at: marked("at"),
                ..text
            })
            .await
            .unwrap_err(),
        Dialect::Sqlite => TextRow::repository(db)
            .insert(TextRow {
                id: marked("id"),
                ..text
            })
            .await
            .unwrap_err(),
    };
    assert!(matches!(error, RepoError::InvalidInput { .. }), "{error:?}");
    assert_no_marker(&error);
    assert_eq!(LeakRow::repository(db).count().await.unwrap(), 0);
}

/// Two transactions lock two rows in opposite orders: the servers break the deadlock by
/// failing one, SQLite refuses the second writer as busy. Retries are off so the error is seen.
pub async fn a_deadlock_keeps_no_bound_value(db: &Db) {
    db.create_schema::<LeakParent>().await.unwrap();
    db.create_schema::<Secret>().await.unwrap();
    let (first, second) = (marked("a"), marked("b"));
    let secrets = Secret::repository(db);
    for token in [&first, &second] {
        secrets
            .insert(NewSecret {
                token: token.clone(),
                parent: None,
                note: String::new(),
            })
            .await
            .unwrap();
    }
    // SQLite's busy wait is shortened on a second handle of the same file.
    let db = match db.dialect() {
        Dialect::Sqlite => Db::connect_with(
            db.url(),
            DbOptions {
                sqlite_busy_timeout: std::time::Duration::from_millis(200),
                ..db.options().clone()
            },
        )
        .await
        .unwrap(),
        _ => db.clone(),
    };
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let worker = |one: String, other: String| {
        let db = db.clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            let options = TxOptions::new().retry(RetryPolicy::never());
            db.transaction_with(&options, async |tx| {
                let secrets = Secret::repository(&tx);
                let mut row = secrets.find_by_token(&one).await?.expect("seeded");
                row.note.push('x');
                secrets.update(&row).await?;
                let _ =
                    tokio::time::timeout(std::time::Duration::from_secs(2), barrier.wait()).await;
                let mut row = secrets.find_by_token(&other).await?.expect("seeded");
                row.note.push('y');
                secrets.update(&row).await?;
                Ok(())
            })
            .await
        })
    };
    let (one, two) = tokio::join!(worker(first.clone(), second.clone()), worker(second, first));
    let errors: Vec<RepoError> = [one.unwrap(), two.unwrap()]
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert!(!errors.is_empty(), "one of the two must fail");
    for error in &errors {
        assert!(
            matches!(
                error,
                RepoError::Transient { .. } | RepoError::Timeout { .. }
            ),
            "{error:?}"
        );
        assert_no_marker(error);
    }
}
