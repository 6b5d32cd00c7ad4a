use repo_runtime::Repository;

#[derive(Repository)]
struct Wrapper<T> {
    #[repo(id)]
    id: i64,
    value: T,
}

fn main() {}
