use repo_runtime::Repository;

#[derive(Repository)]
#[repo(unique(org_id, emial))]
struct Member {
    #[repo(id)]
    id: i64,
    org_id: i64,
    email: String,
}

fn main() {}
