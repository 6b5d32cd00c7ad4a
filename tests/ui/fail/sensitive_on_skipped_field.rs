use repo_runtime::Repository;

#[derive(Repository)]
struct Credential {
    #[repo(id)]
    id: i64,
    #[repo(skip, sensitive)]
    token: String,
}

fn main() {}
