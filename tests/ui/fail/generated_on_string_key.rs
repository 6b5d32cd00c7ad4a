use repo_runtime::Repository;

#[derive(Repository)]
struct Tag {
    #[repo(id, generated)]
    code: String,
}

fn main() {}
