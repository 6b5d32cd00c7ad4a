use repo_runtime::Repository;

#[derive(Repository)]
#[repo(has_many(articles = author_id))]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    pub name: String,
}

fn main() {}
