use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id)]
    id: i64,
    #[repo(default = "many")]
    logins: i64,
    #[repo(default = 3)]
    name: String,
}

fn main() {}
