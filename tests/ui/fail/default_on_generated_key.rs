use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id, generated, default = 1)]
    id: i64,
    name: String,
}

fn main() {}
