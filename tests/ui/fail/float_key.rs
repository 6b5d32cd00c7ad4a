use repo_runtime::Repository;

#[derive(Repository)]
struct Reading {
    #[repo(id)]
    value: f64,
}

fn main() {}
