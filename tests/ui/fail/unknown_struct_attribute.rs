use repo_runtime::Repository;

#[derive(Repository)]
#[repo(tabel = "users")]
struct User {
    #[repo(id)]
    id: i64,
}

fn main() {}
