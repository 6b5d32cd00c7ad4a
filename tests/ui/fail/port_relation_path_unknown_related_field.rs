use repo_core::{RepoError, port};
use repo_runtime::Repository;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    pub username: String,
}

#[port]
pub trait Posts: Send + Sync {
    async fn find_all_by_author_usernme(&self, username: &str) -> Result<Vec<Post>, RepoError>;
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(port = Posts)]
pub struct Post {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Author)]
    pub author_id: i64,
}

fn main() {}
