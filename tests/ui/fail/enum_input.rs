use repo_runtime::Repository;

#[derive(Repository)]
enum Status {
    Active,
    Disabled,
}

fn main() {}
