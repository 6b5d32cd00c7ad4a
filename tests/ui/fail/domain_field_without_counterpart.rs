use repo_runtime::Repository;

mod model {
    pub struct User {
        pub id: i64,
        pub email: String,
        pub nickname: String,
    }
}

#[derive(Repository)]
#[repo(domain = model::User)]
struct UserRecord {
    #[repo(id)]
    id: i64,
    email: String,
}

fn main() {}
