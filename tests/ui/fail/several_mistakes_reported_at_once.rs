use repo_runtime::Repository;

#[derive(Repository)]
#[repo(table = "9lives")]
struct User {
    #[repo(generated)]
    id: i64,
    settings: std::collections::BTreeMap<String, i64>,
}

fn main() {}
