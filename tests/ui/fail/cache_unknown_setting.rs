use repo_runtime::Repository;

#[derive(Clone, Repository)]
#[repo(cache(size = 10))]
struct User {
    #[repo(id)]
    id: i64,
}

fn main() {}
