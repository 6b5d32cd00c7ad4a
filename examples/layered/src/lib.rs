//! A layered application on the generated persistence layer:
//!
//! - [`domain`]: entities, value objects and repository ports, with no database code;
//! - [`application`]: the use cases, which depend on the ports only;
//! - [`infrastructure`]: the records implementing the ports, and the store on a `Db`.
//!
//! Its tests run the use cases on the in-memory store and on SQLite.

pub mod application;
pub mod domain;
pub mod infrastructure;
