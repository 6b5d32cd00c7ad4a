use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    pub views: i64,
}

#[derive(Projection)]
pub struct NoEntity {
    pub id: i64,
}

#[derive(Projection)]
#[repo(entity = Article)]
pub struct TwoAggregates {
    #[repo(count, sum = views)]
    pub both: i64,
    #[repo(field = views, max = views)]
    pub renamed_aggregate: Option<i64>,
}

fn main() {}
