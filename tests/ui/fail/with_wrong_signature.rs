use repo_runtime::Repository;

mod as_text {
    pub fn to_db(value: &u32) -> Result<String, std::convert::Infallible> {
        Ok(value.to_string())
    }
    pub fn from_db(text: String) -> Result<u32, std::num::ParseIntError> {
        text.parse()
    }
}

#[derive(Repository)]
struct Ledger {
    #[repo(id)]
    id: i64,
    #[repo(with = as_text)]
    cents: i64,
}

fn main() {}
