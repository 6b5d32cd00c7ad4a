use repo_runtime::Repository;

#[derive(Repository)]
struct Document {
    #[repo(id, json)]
    id: String,
    body: String,
}

fn main() {}
