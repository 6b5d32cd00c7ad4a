//! The runtime under another name, as `#[repo(crate = ...)]` allows.

extern crate repo_runtime as persistence;

use persistence::Repository;

#[derive(Debug, Repository)]
#[repo(crate = ::persistence, table = "accounts")]
pub struct Account {
    #[repo(id, generated)]
    pub id: i64,
    pub owner: String,
}

fn main() {
    let _: fn(&persistence::Db) -> SqlAccountRepository = |db| Account::repository(db);
    assert_eq!(<Account as persistence::Entity>::TABLE.name, "accounts");
}
