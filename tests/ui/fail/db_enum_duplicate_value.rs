use repo_runtime::DbEnum;

#[derive(DbEnum)]
enum Status {
    Active,
    #[db_enum(rename = "active")]
    Enabled,
}

fn main() {}
