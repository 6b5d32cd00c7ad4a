use repo_runtime::Repository;

/// A key type without `Hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, repo_runtime::DbValue)]
struct Code(i64);

#[derive(Clone, Repository)]
#[repo(cache)]
struct Item {
    #[repo(id)]
    code: Code,
    name: String,
}

fn main() {}
