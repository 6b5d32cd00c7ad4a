use repo_runtime::Repository;

#[derive(Repository)]
struct Ticket {
    #[repo(id)]
    code: String,
    #[repo(generated)]
    number: i64,
}

fn main() {}
