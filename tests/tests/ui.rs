//! Compile tests of the derive: each file under `ui/fail` holds one mistake and its exact
//! message; each file under `ui/pass` must compile (hygiene, renamed crate, every type).

#[test]
fn derive_misuse_fails_with_a_pointed_message() {
    trybuild::TestCases::new().compile_fail("ui/fail/*.rs");
}

#[test]
fn valid_entities_compile() {
    trybuild::TestCases::new().pass("ui/pass/*.rs");
}
