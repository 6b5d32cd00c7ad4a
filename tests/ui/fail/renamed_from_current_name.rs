use repo_runtime::Repository;

#[derive(Repository)]
#[repo(table = "users", renamed_from = "users")]
struct User {
    #[repo(id)]
    id: i64,
    #[repo(renamed_from = "name")]
    name: String,
    #[repo(renamed_from = "bad name")]
    email: String,
}

fn main() {}
