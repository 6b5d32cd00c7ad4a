use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    email: String,
}

fn main() {}
