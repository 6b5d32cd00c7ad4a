//! Each file under `ui/` must compile with `repo-runtime` as its only persistence dependency:
//! no `repo_core` in scope, so generated code that names it fails here.

#[test]
fn runtime_re_exports_work_as_imported() {
    trybuild::TestCases::new().pass("tests/ui/*.rs");
}
