use repo_runtime::Repository;

#[derive(Repository)]
struct UserRecord {
    #[repo(id)]
    id: i64,
    #[repo(domain_with = email_text)]
    email: String,
}

fn main() {}
