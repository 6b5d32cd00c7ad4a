use repo_runtime::Repository;

#[derive(Repository)]
#[repo(table = 5)]
struct User {
    #[repo(id)]
    id: i64,
}

fn main() {}
