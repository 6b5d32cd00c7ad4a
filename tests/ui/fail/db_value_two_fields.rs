use repo_runtime::DbValue;

#[derive(DbValue)]
struct Money(i64, String);

fn main() {}
