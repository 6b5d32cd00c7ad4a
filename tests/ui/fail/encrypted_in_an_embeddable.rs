use repo_runtime::Embeddable;

#[derive(Embeddable)]
struct Address {
    #[repo(encrypted)]
    street: String,
    city: String,
}

fn main() {}
