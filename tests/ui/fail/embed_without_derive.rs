use repo_runtime::Repository;

pub struct Address {
    pub street: String,
}

#[derive(Repository)]
struct Site {
    #[repo(id)]
    id: i64,
    #[repo(embed)]
    address: Address,
}

fn main() {}
