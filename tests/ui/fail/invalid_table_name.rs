use repo_runtime::Repository;

#[derive(Repository)]
#[repo(table = "user-data")]
struct User {
    #[repo(id)]
    id: i64,
}

fn main() {}
