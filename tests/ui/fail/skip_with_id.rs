use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id)]
    id: i64,
    #[repo(skip, unique)]
    cache: Option<String>,
}

fn main() {}
