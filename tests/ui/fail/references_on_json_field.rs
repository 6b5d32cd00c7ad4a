use repo_runtime::Repository;

#[derive(Repository)]
struct Team {
    #[repo(id)]
    id: i64,
}

#[derive(Repository)]
struct Member {
    #[repo(id)]
    id: i64,
    #[repo(json, references = Team)]
    team: Vec<i64>,
}

fn main() {}
