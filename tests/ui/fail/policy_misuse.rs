use repo_runtime::Repository;

#[derive(Repository)]
struct Document {
    #[repo(id, version)]
    id: i64,
    #[repo(skip, created_at)]
    cache: Option<String>,
    #[repo(json, updated_at)]
    touched: String,
}

fn main() {}
