//! Field names and local types that could collide with what the derive generates.
#![allow(non_snake_case, dead_code)]

use repo_runtime::prelude::*;

/// A local type shadowing the prelude's `Option`.
struct Option;
/// Local types shadowing `Result`, `Vec`, `Some`, `Ok` and a generic parameter name.
struct Result;
struct Vec;
struct R;
#[allow(non_upper_case_globals)]
const Some: () = ();
#[allow(non_upper_case_globals)]
const Ok: () = ();

#[derive(Repository)]
struct Record {
    #[repo(id, generated)]
    id: i64,
    row: String,
    r#type: String,
    Result: i32,
    new: bool,
    statement: std::vec::Vec<u8>,
    generated: i16,
    entity: f64,
    #[repo(unique)]
    executor: String,
    nothing: std::option::Option<String>,
}

#[derive(Repository)]
#[repo(table = "keyword_table")]
struct r#Match {
    #[repo(id)]
    r#fn: String,
    #[repo(id)]
    r#in: i32,
    r#where: std::option::Option<i64>,
}

fn main() {
    let _ = NewRecord {
        row: String::new(),
        r#type: String::new(),
        Result: 0,
        new: false,
        statement: std::vec::Vec::new(),
        generated: 0,
        entity: 0.0,
        executor: String::new(),
        nothing: None,
    };
    let _ = RecordColumn::Type;
    let _ = RecordColumn::Result;
    let _ = MatchColumn::Where;
    assert_eq!(<Record as Entity>::TABLE.name, "records");
    assert_eq!(<r#Match as Entity>::NAME, "Match");
}
