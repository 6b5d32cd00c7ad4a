use repo_runtime::Repository;

#[derive(Repository)]
struct Document {
    #[repo(id, generated)]
    id: i64,
    #[repo(version)]
    version: i32,
    #[repo(version)]
    revision: i32,
    #[repo(created_at, updated_at)]
    stamped: repo_runtime::chrono::DateTime<repo_runtime::chrono::Utc>,
}

fn main() {}
