use repo_runtime::{Embeddable, Repository};

#[derive(Embeddable)]
pub struct Code {
    pub prefix: String,
    pub number: i32,
}

#[derive(Repository)]
struct Item {
    #[repo(id, embed)]
    code: Code,
    name: String,
}

fn main() {}
