use repo_runtime::Repository;

#[derive(Repository)]
struct Document {
    #[repo(id, generated)]
    id: i64,
    #[repo(version)]
    version: String,
    #[repo(updated_at)]
    updated_at: Option<repo_runtime::chrono::DateTime<repo_runtime::chrono::Utc>>,
    #[repo(deleted_at)]
    deleted_at: repo_runtime::chrono::DateTime<repo_runtime::chrono::Utc>,
    #[repo(created_by)]
    created_by: f64,
}

fn main() {}
