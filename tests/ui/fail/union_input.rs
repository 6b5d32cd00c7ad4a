use repo_runtime::Repository;

#[derive(Repository)]
union Bits {
    int: i64,
    float: f64,
}

fn main() {}
