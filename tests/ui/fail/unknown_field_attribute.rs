use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id)]
    id: i64,
    #[repo(uniqe)]
    email: String,
}

fn main() {}
