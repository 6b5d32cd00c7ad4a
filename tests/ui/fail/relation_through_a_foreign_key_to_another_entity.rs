use repo_runtime::Repository;

#[derive(Repository)]
#[repo(has_many(articles = Article::editor_id))]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Repository)]
pub struct Editor {
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
    #[repo(references = Editor)]
    pub editor_id: i64,
}

fn main() {}
