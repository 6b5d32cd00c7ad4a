use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id)]
    id: i64,
    name: String,
    #[repo(column = "name")]
    display_name: String,
}

fn main() {}
