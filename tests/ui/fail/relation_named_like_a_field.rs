use repo_runtime::Repository;

#[derive(Repository)]
#[repo(has_many(title = Article::author_id))]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    pub title: String,
}

#[derive(Repository)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Author)]
    pub author_id: i64,
}

fn main() {}
