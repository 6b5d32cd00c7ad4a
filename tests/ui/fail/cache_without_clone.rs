use repo_runtime::Repository;

#[derive(Repository)]
#[repo(cache)]
struct User {
    #[repo(id)]
    id: i64,
}

fn main() {}
