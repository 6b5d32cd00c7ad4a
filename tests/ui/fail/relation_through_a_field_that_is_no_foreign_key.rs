use repo_runtime::Repository;

#[derive(Repository)]
#[repo(has_many(articles = Article::title))]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Repository)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Author)]
    pub author_id: i64,
    pub title: String,
}

fn main() {}
