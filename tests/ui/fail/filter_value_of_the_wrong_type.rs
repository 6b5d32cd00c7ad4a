use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct User {
    #[repo(id, generated)]
    pub id: i64,
    pub age: i32,
}

fn main() {
    let _ = User::AGE.eq("forty");
}
