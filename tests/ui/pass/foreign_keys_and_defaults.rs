use repo_runtime::{DbValue, Entity, Repository};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, DbValue)]
pub struct TeamId(i64);

#[derive(Repository)]
#[repo(table = "teams", renamed_from = "squads")]
pub struct Team {
    #[repo(id)]
    pub id: TeamId,
    /// Entities may refer to each other: the captain is a member.
    #[repo(references = Member, on_delete = "set_null")]
    pub captain: Option<i64>,
    #[repo(default = "unnamed", renamed_from = "title")]
    pub name: String,
    #[repo(default = true)]
    pub active: bool,
    #[repo(default = 2.5)]
    pub rating: f64,
    #[repo(default = "-3")]
    pub offset: i32,
}

#[derive(Repository)]
pub struct Member {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Team, on_delete = "cascade")]
    pub team: TeamId,
    /// A tree: the mentor is another member.
    #[repo(references = Member)]
    pub mentor: Option<i64>,
}

fn main() {
    let keys = Member::TABLE.foreign_keys;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].table, "teams");
    assert_eq!(keys[1].table, "members");
    assert_eq!(Team::TABLE.renamed_from, Some("squads"));
    assert_eq!(Team::TABLE.columns[2].renamed_from, Some("title"));
}
