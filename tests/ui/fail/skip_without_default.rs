use repo_runtime::Repository;

struct Connection;

#[derive(Repository)]
struct User {
    #[repo(id)]
    id: i64,
    #[repo(skip)]
    connection: Connection,
}

fn main() {}
