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
    #[repo(on_delete = "cascade")]
    team_id: i64,
    #[repo(references = Team, on_delete = "set_null")]
    other_team_id: i64,
    #[repo(references = Team, on_delete = "explode")]
    third_team_id: Option<i64>,
}

fn main() {}
