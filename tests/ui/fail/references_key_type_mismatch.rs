use repo_runtime::Repository;

#[derive(Repository)]
struct Team {
    #[repo(id)]
    code: String,
}

#[derive(Repository)]
struct Member {
    #[repo(id)]
    id: i64,
    #[repo(references = Team)]
    team: i64,
}

fn main() {}
