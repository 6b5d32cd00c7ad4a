use repo_core::{RepoError, port};
use repo_runtime::Repository;

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub email: String,
}

#[port]
pub trait Users: Send + Sync {
    async fn find_by_emial(&self, email: &str) -> Result<Option<User>, RepoError>;
}

#[derive(Repository)]
#[repo(domain = User, port = Users)]
pub struct UserRecord {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub email: String,
}

fn main() {}
