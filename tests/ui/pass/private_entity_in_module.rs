//! A private entity in a private module: generated items take its visibility.
#![deny(warnings)]

mod persistence {
    use repo_runtime::prelude::*;

    #[derive(Repository)]
    pub(crate) struct Session {
        #[repo(id)]
        pub(crate) token: String,
        pub(crate) user_id: i64,
    }

    pub(crate) fn table() -> &'static str {
        <Session as Entity>::TABLE.name
    }

    pub(crate) fn repository(db: &Db) -> SqlSessionRepository {
        Session::repository(db)
    }
}

fn main() {
    assert_eq!(persistence::table(), "sessions");
    let _ = persistence::repository;
}
