use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id)]
    id: Option<i64>,
    name: String,
}

fn main() {}
