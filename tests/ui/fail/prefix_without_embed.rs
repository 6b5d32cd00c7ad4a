use repo_runtime::Repository;

#[derive(Repository)]
struct Site {
    #[repo(id)]
    id: i64,
    #[repo(prefix = "home_")]
    street: String,
}

fn main() {}
