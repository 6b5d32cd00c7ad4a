use repo_runtime::Repository;

#[derive(Repository)]
struct Marker;

fn main() {}
