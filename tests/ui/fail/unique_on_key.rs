use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id, unique)]
    id: i64,
}

fn main() {}
