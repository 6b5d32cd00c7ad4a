use repo_runtime::Repository;

#[derive(Repository)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(relation = author)]
    pub author_id: i64,
}

fn main() {}
