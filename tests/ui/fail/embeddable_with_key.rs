use repo_runtime::Embeddable;

#[derive(Embeddable)]
pub struct Address {
    #[repo(id)]
    pub street: String,
}

fn main() {}
