use repo_runtime::Repository;

#[derive(Repository)]
struct Counter {
    #[repo(id, generated)]
    id: i64,
}

fn main() {}
