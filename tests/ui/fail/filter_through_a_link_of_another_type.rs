use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Author)]
    pub author_id: i64,
    pub slug: String,
}

fn main() {
    // The link's values are text, the column's numbers.
    let _ = Article::AUTHOR_ID.exists_in(Author::USERNAME, Author::ID.eq(1));
}
