//! Rich column types, enums, newtypes, JSON and user conversions round-trip through every
//! backend, through single rows, batches (PostgreSQL's `UNNEST` arrays) and finders.

use repo_runtime::chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use repo_runtime::prelude::*;
use repo_runtime::rust_decimal::Decimal;
use repo_runtime::uuid::Uuid;
use repo_runtime::{serde_json, time};

/// The lifecycle of an account, stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, DbEnum)]
pub enum Status {
    Active,
    PendingReview,
    #[db_enum(rename = "gone")]
    Deleted,
}

/// An address, stored transparently as its text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, DbValue)]
pub struct Email(pub String);

/// A document stored as JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Preferences {
    pub theme: String,
    pub tags: Vec<String>,
}

/// Cents stored as a decimal string through a user conversion.
pub mod cents_as_text {
    /// Cents to text.
    pub fn to_db(cents: &i64) -> Result<String, std::convert::Infallible> {
        Ok(cents.to_string())
    }

    /// Text to cents; anything else is an error.
    pub fn from_db(text: String) -> Result<i64, std::num::ParseIntError> {
        text.parse()
    }
}

/// Every rich column type, required and optional.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "accounts")]
pub struct Account {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub email: Email,
    #[repo(unique)]
    pub external_id: Uuid,
    #[repo(index)]
    pub status: Status,
    pub previous_status: Option<Status>,
    pub balance: Decimal,
    pub limit: Option<Decimal>,
    pub created_at: DateTime<Utc>,
    pub local_time: NaiveDateTime,
    pub birthday: NaiveDate,
    pub alarm: Option<NaiveTime>,
    pub offset_at: time::OffsetDateTime,
    pub metadata: serde_json::Value,
    #[repo(json)]
    pub preferences: Preferences,
    #[repo(json)]
    pub draft: Option<Preferences>,
    #[repo(with = cents_as_text)]
    pub cents: i64,
}

fn micros(seconds: i64, micros: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, micros * 1_000).unwrap()
}

pub fn new_account(n: u32) -> NewAccount {
    NewAccount {
        email: Email(format!("user{n}@example.com")),
        external_id: Uuid::from_u128(0x1234_5678_9abc_def0_0000_0000_0000_0000 + u128::from(n)),
        status: if n.is_multiple_of(2) {
            Status::Active
        } else {
            Status::PendingReview
        },
        previous_status: n.is_multiple_of(3).then_some(Status::Deleted),
        balance: Decimal::from_i128_with_scale(
            -12_345_678_901_234_567_890_123_456 + i128::from(n),
            10,
        ),
        limit: (n % 2 == 1).then(|| Decimal::new(99_999, 2)),
        created_at: micros(1_700_000_000 + i64::from(n), 123_456),
        local_time: NaiveDate::from_ymd_opt(1999, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 999_999)
            .unwrap(),
        birthday: NaiveDate::from_ymd_opt(2000, 2, 29).unwrap(),
        alarm: n
            .is_multiple_of(2)
            .then(|| NaiveTime::from_hms_micro_opt(6, 30, 0, 500_001).unwrap()),
        offset_at: time::OffsetDateTime::from_unix_timestamp_nanos(1_600_000_000_654_321_000)
            .unwrap(),
        metadata: serde_json::json!({"n": n, "nested": {"list": [1, 2.5, "x", null]}}),
        preferences: Preferences {
            theme: "dark".into(),
            tags: vec![format!("t{n}"), "ü ✓".into()],
        },
        draft: n.is_multiple_of(2).then(|| Preferences {
            theme: String::new(),
            tags: Vec::new(),
        }),
        cents: -i64::from(n) * 1_000_000_007,
    }
}

pub async fn rich_types_round_trip_exactly(db: &Db) {
    db.create_schema::<Account>().await.unwrap();
    let accounts = Account::repository(db);
    let single = accounts.insert(new_account(1)).await.unwrap();
    assert_eq!(accounts.get(single.id).await.unwrap(), single);
    // A batch goes through PostgreSQL's arrays and the other backends' VALUES lists.
    let batch = accounts
        .insert_many((2..12).map(new_account).collect())
        .await
        .unwrap();
    let ids: Vec<i64> = batch.iter().map(|account| account.id).collect();
    assert_eq!(accounts.get_many(&ids).await.unwrap(), batch);
    for account in &batch {
        assert_eq!(accounts.get(account.id).await.unwrap(), *account);
    }
    let mut changed = batch[0].clone();
    changed.status = Status::Deleted;
    changed.draft = None;
    changed.alarm = None;
    changed.limit = Some(Decimal::ZERO);
    changed.created_at = micros(0, 1);
    assert_eq!(accounts.update(&changed).await.unwrap(), changed);
    assert_eq!(accounts.get(changed.id).await.unwrap(), changed);
}

pub async fn finders_take_rich_key_types(db: &Db) {
    db.create_schema::<Account>().await.unwrap();
    let accounts = Account::repository(db);
    let stored = accounts.insert(new_account(7)).await.unwrap();
    assert_eq!(
        accounts.find_by_email(&stored.email).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(
        accounts
            .find_by_external_id(&stored.external_id)
            .await
            .unwrap(),
        Some(stored.clone())
    );
    assert_eq!(
        accounts
            .find_by_email(&Email("nobody@example.com".into()))
            .await
            .unwrap(),
        None
    );
    let error = accounts
        .insert(NewAccount {
            external_id: Uuid::nil(),
            ..new_account(7)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RepoError::Conflict {
                field: Some("email"),
                ..
            }
        ),
        "{error:?}"
    );
}

pub async fn enum_column_rejects_unknown_values_by_check_and_on_read(db: &Db) {
    db.create_schema::<Account>().await.unwrap();
    let accounts = Account::repository(db);
    let stored = accounts.insert(new_account(2)).await.unwrap();
    // The CHECK constraint refuses a value outside the enum.
    let error = raw_execute(db, "UPDATE accounts SET status = 'archived'").await;
    assert!(
        error.is_some(),
        "the CHECK constraint refuses an unknown value"
    );
    assert_eq!(accounts.get(stored.id).await.unwrap(), stored);
    // A value the enum does not know, in a table without the CHECK (written by another
    // program), is a decode error naming the column and the type.
    db.create_schema::<StatusText>().await.unwrap();
    StatusText::repository(db)
        .insert(StatusText {
            id: 1,
            status: "archived".into(),
        })
        .await
        .unwrap();
    let error = StatusRead::repository(db).get(1).await.unwrap_err();
    match &error {
        RepoError::Decode {
            column, rust_type, ..
        } => {
            assert_eq!(*column, "status");
            assert!(rust_type.ends_with("Status"), "{rust_type}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert!(
        format!("{:?}", std::error::Error::source(&error)).contains("unknown value `archived`"),
        "{error:?}"
    );
}

/// A status column as plain text, to write what the enum does not know.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "statuses")]
pub struct StatusText {
    #[repo(id)]
    pub id: i64,
    pub status: String,
}

/// The same table read through the enum.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "statuses")]
pub struct StatusRead {
    #[repo(id)]
    pub id: i64,
    pub status: Status,
}

pub async fn failed_conversion_from_the_database_is_a_decode_error(db: &Db) {
    db.create_schema::<Account>().await.unwrap();
    let accounts = Account::repository(db);
    let stored = accounts.insert(new_account(3)).await.unwrap();
    raw_execute(db, "UPDATE accounts SET cents = 'not a number'").await;
    let error = accounts.get(stored.id).await.unwrap_err();
    assert!(
        matches!(
            error,
            RepoError::Decode {
                column: "cents",
                ..
            }
        ),
        "{error:?}"
    );
}

/// Runs a statement outside the repository; returns its error, if any.
pub async fn raw_execute(db: &Db, sql: &'static str) -> Option<sqlx::Error> {
    let result = if let Some(pool) = db.as_sqlite() {
        sqlx::query(sql).execute(pool).await.map(drop)
    } else if let Some(pool) = db.as_postgres() {
        sqlx::query(sql).execute(pool).await.map(drop)
    } else if let Some(pool) = db.as_mysql() {
        sqlx::query(sql).execute(pool).await.map(drop)
    } else {
        // SQLite through rusqlite: on a transaction's connection.
        let tx = db.begin().await.expect("begin");
        let result = {
            let mut connection = tx.connection().await.expect("the connection");
            let conn = connection.as_rusqlite().expect("a SQL backend");
            conn.execute_batch(sql)
                .map_err(|error| sqlx::Error::Protocol(error.to_string()))
        };
        tx.commit().await.expect("commit");
        result
    };
    result.err()
}
