//! Fault injection: `Faulty` wraps a port or a generated repository and fails chosen calls,
//! so application code can be tested on its error paths.

use repo_core::{Faults, Faulty, RepoError, port};
use repo_runtime::Db;
use repo_runtime::Repository;

#[derive(Debug, Clone, PartialEq)]
struct Account {
    id: i64,
    email: String,
}

#[port]
trait Accounts: Send + Sync {
    async fn insert(&self, account: Account) -> Result<Account, RepoError>;
    async fn count_by_email(&self, email: &str) -> Result<u64, RepoError>;
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "accounts", domain = Account, port = Accounts)]
struct AccountRecord {
    #[repo(id, generated)]
    id: i64,
    #[repo(unique)]
    email: String,
}

/// Application code under test: retries transient failures, reports a taken e-mail plainly.
async fn register(accounts: &dyn Accounts, email: &str) -> Result<Account, String> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let account = Account {
            id: 0,
            email: email.to_owned(),
        };
        match accounts.insert(account).await {
            Ok(account) => return Ok(account),
            Err(error) if error.is_transient() && attempts < 3 => continue,
            Err(RepoError::Conflict { .. }) => return Err(format!("{email} is taken")),
            Err(error) => return Err(error.to_string()),
        }
    }
}

fn transient() -> RepoError {
    RepoError::Transient {
        entity: "Account",
        source: "injected".into(),
    }
}

async fn database() -> Db {
    let db = Db::connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    db.create_schema::<AccountRecord>().await.expect("schema");
    db
}

#[tokio::test]
async fn transient_failures_are_retried_by_the_application() {
    let db = database().await;
    let faults = Faults::new().fail_first("insert", 2, transient);
    let accounts = Faulty::new(AccountRecord::repository(&db), faults.clone());
    let account = register(&accounts, "ada@example.com")
        .await
        .expect("registered on the third try");
    assert_eq!(account.email, "ada@example.com");
    assert_eq!(faults.log(), ["insert", "insert", "insert"]);
    assert_eq!(
        accounts
            .count_by_email("ada@example.com")
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn a_conflict_and_a_persistent_failure_reach_the_application_as_errors() {
    let db = database().await;
    let conflict = || RepoError::Conflict {
        entity: "Account",
        constraint: "accounts_email_key".into(),
        field: Some("email"),
        source: "injected".into(),
    };
    let accounts = Faulty::new(
        AccountRecord::repository(&db),
        Faults::new().fail_nth("insert", 1, conflict),
    );
    assert_eq!(
        register(&accounts, "bob@example.com").await,
        Err("bob@example.com is taken".to_owned())
    );
    let always = Faulty::new(
        AccountRecord::repository(&db),
        Faults::new().fail_always("insert", transient),
    );
    assert!(register(&always, "cy@example.com").await.is_err());
    assert_eq!(always.faults().calls(), 3, "three attempts, then the error");
}

#[tokio::test]
async fn generated_repository_traits_can_be_wrapped_too() {
    let db = database().await;
    let faults = Faults::new().fail_call(1, || RepoError::not_found("Account"));
    let repository = Faulty::new(AccountRecord::repository(&db), faults);
    let accounts: &dyn AccountRepository = &repository;
    assert!(matches!(
        accounts.count().await,
        Err(RepoError::NotFound { .. })
    ));
    assert_eq!(
        accounts
            .count()
            .await
            .expect("the second call goes through"),
        0
    );
}
