use repo_runtime::Repository;

struct Org {
    name: String,
}

#[derive(Repository)]
struct Document {
    #[repo(id, generated)]
    id: i64,
    #[repo(tenant)]
    org: Org,
}

fn main() {}
