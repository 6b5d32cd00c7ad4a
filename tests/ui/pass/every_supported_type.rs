//! Every supported column type, plain and optional, with keys, unique keys and indexes.

use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(unique(a16, a32), index(text, a64))]
pub struct Everything {
    #[repo(id)]
    pub key: String,
    pub a16: i16,
    pub a32: i32,
    pub a64: i64,
    pub f: f32,
    pub d: f64,
    pub b: bool,
    #[repo(index)]
    pub text: String,
    #[repo(unique)]
    pub bytes: Vec<u8>,
    pub o16: Option<i16>,
    pub o32: Option<i32>,
    pub o64: Option<i64>,
    pub of: Option<f32>,
    pub od: Option<f64>,
    pub ob: Option<bool>,
    pub otext: Option<String>,
    pub obytes: Option<Vec<u8>>,
    #[repo(skip)]
    pub transient: Vec<String>,
}

fn main() {
    assert_eq!(<Everything as Entity>::TABLE.columns.len(), 17);
    let _ = |repo: SqlEverythingRepository| async move {
        let _ = repo.find_by_a16_and_a32(1, 2).await;
        let _ = repo.find_by_bytes(&[1, 2]).await;
    };
}
