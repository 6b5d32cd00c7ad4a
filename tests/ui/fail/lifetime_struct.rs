use repo_runtime::Repository;

#[derive(Repository)]
struct Borrowed<'a> {
    #[repo(id)]
    id: i64,
    name: &'a str,
}

fn main() {}
