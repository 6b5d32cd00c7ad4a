use repo_runtime::Repository;

mod model {
    #[derive(Clone)]
    pub struct Email(pub String);

    pub struct User {
        pub id: i64,
        pub email: Email,
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
