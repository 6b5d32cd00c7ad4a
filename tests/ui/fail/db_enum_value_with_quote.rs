use repo_runtime::DbEnum;

#[derive(DbEnum)]
enum Status {
    #[db_enum(rename = "it's active")]
    Active,
    Banned,
}

fn main() {}
