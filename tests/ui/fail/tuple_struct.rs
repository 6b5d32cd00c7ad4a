use repo_runtime::Repository;

#[derive(Repository)]
struct UserId(i64, String);

fn main() {}
