use repo_runtime::Repository;

#[derive(Repository)]
struct Profile {
    #[repo(id, generated)]
    id: i64,
    #[repo(encrypted)]
    tags: Vec<String>,
}

fn main() {}
