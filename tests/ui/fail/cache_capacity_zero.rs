use repo_runtime::Repository;

#[derive(Clone, Repository)]
#[repo(cache(capacity = 0))]
struct User {
    #[repo(id)]
    id: i64,
}

fn main() {}
