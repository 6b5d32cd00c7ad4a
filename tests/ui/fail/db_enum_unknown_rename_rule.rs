use repo_runtime::DbEnum;

#[derive(DbEnum)]
#[db_enum(rename_all = "Title Case")]
enum Status {
    Active,
    Banned,
}

fn main() {}
