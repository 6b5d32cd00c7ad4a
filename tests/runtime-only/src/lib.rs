//! Nothing: this crate exists for its compile tests (`tests/ui/`), which see `repo-runtime` as
//! their only persistence dependency, as an application that depends on it alone does.
