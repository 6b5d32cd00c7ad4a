use repo_core::{RepoError, port};

pub struct User;

#[port]
pub trait Users: Send + Sync {
    fn count(&self) -> Result<u64, RepoError>;
    async fn delete(self, id: i64) -> Result<bool, RepoError>;
    async fn exists(&self, id: i64) -> Result<bool, RepoError> {
        Ok(id > 0)
    }
}

fn main() {}
