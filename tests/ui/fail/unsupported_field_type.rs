use std::collections::HashMap;

use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id)]
    id: i64,
    settings: HashMap<String, String>,
}

fn main() {}
