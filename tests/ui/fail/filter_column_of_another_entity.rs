use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct User {
    #[repo(id, generated)]
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Post {
    #[repo(id, generated)]
    pub id: i64,
    pub title: String,
}

async fn search(db: &Db) -> Result<Vec<User>, RepoError> {
    User::repository(db)
        .find_where(&Post::TITLE.eq("hello"), ListOptions::new())
        .await
}

fn main() {
    let _ = search;
    let _ = User::NAME.eq("a").and(Post::TITLE.eq("b"));
}
