use repo_runtime::Repository;

#[derive(Repository)]
struct Account {
    #[repo(id, encrypted)]
    id: String,
    #[repo(encrypted, json)]
    settings: String,
    #[repo(encrypted, default = "none")]
    note: String,
    #[repo(encrypted, renamed_from = "mail")]
    email: String,
    #[repo(encrypted, references = Account)]
    parent: String,
    #[repo(encrypted, version)]
    version: i64,
}

fn main() {}
