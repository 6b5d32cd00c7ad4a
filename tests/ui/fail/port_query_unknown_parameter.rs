use repo_core::{RepoError, port};
use repo_runtime::Repository;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub status: String,
}

#[port]
pub trait Users: Send + Sync {
    #[query("SELECT * FROM users WHERE status = :stauts")]
    async fn with_status(&self, status: &str) -> Result<Vec<User>, RepoError>;
    #[query("SELECT * FROM users")]
    async fn everyone(&self, unused: i64) -> Result<Vec<User>, RepoError>;
}

#[derive(Repository)]
#[repo(domain = User, port = Users)]
pub struct UserRecord {
    #[repo(id, generated)]
    pub id: i64,
    pub status: String,
}

fn main() {}
