use repo_runtime::Repository;

#[derive(Clone, Repository)]
#[repo(cache)]
struct Invoice {
    #[repo(id)]
    id: i64,
    #[repo(tenant)]
    org_id: i64,
}

fn main() {}
