//! The repository trait is object-safe and its futures are `Send`, so services can hold
//! `Arc<dyn Trait>` and run inside `tokio::spawn`.

use std::sync::Arc;

use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct User {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub email: String,
}

pub struct Service {
    users: Arc<dyn UserRepository>,
}

impl Service {
    pub async fn email_taken(&self, email: &str) -> Result<bool, RepoError> {
        Ok(self.users.find_by_email(email).await?.is_some())
    }
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    let build = |db: &Db| Service { users: Arc::new(User::repository(db)) };
    let _ = build;
    let _ = |service: Service| assert_send(async move { service.email_taken("x").await });
    let _ = |tx: Tx| assert_send(async move { User::repository(&tx).count().await });
}
