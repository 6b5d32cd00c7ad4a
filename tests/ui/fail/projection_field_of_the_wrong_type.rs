use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    pub title: String,
    pub views: i32,
}

#[derive(Projection)]
#[repo(entity = Article)]
pub struct Card {
    pub id: String,
    #[repo(sum = views)]
    pub views: i32,
    #[repo(sum = title)]
    pub letters: Option<i64>,
    #[repo(count)]
    pub articles: u32,
}

fn main() {}
