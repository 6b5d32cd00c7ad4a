use repo_core::{RepoError, port};
use repo_runtime::Repository;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub status: String,
}

#[port]
pub trait Users: Send + Sync {
    async fn count_by_status(&self, status: i64) -> Result<u64, RepoError>;
}

#[derive(Repository)]
#[repo(domain = User, port = Users)]
pub struct UserRecord {
    #[repo(id, generated)]
    pub id: i64,
    pub status: String,
}

fn main() {}
