use repo_core::{RepoError, port};
use repo_runtime::Repository;
use repo_runtime::chrono::{DateTime, Utc};

#[port]
pub trait Sessions: Send + Sync {
    async fn delete_by_user(&self, user: &str) -> Result<u64, RepoError>;
}

#[derive(Repository)]
#[repo(port = Sessions)]
pub struct Session {
    #[repo(id, generated)]
    pub id: i64,
    pub user: String,
    #[repo(deleted_at)]
    pub deleted_at: Option<DateTime<Utc>>,
}

fn main() {}
