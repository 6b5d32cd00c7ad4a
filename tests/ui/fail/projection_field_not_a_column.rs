use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    pub title: String,
}

#[derive(Projection)]
#[repo(entity = Article)]
pub struct Card {
    pub id: i64,
    pub subtitle: String,
    #[repo(sum = words)]
    pub words: Option<i64>,
}

fn main() {}
