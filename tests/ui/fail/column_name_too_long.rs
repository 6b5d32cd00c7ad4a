use repo_runtime::Repository;

#[derive(Repository)]
struct User {
    #[repo(id)]
    id: i64,
    #[repo(column = "a_column_name_that_is_far_too_long_for_postgresql_to_keep_intact")]
    name: String,
}

fn main() {}
