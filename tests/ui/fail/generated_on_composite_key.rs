use repo_runtime::Repository;

#[derive(Repository)]
struct Membership {
    #[repo(id, generated)]
    org_id: i64,
    #[repo(id)]
    user_id: i64,
}

fn main() {}
