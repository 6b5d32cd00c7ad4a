use repo_runtime::Repository;

#[derive(Clone, Repository)]
#[repo(cache(ttl = "a minute"))]
struct User {
    #[repo(id)]
    id: i64,
}

fn main() {}
