//! The SQL that the derive renders at compile time and the runtime renders at run time, in one
//! place so that the two cannot drift: [`Dialect`] (identifier quoting, placeholders, bind
//! limits, the [`Sql`] text of a statement per dialect), [`Operator`], the one list of
//! comparisons a condition can make, with its rendering per dialect and its arity, [`Plan`],
//! the one description of a read or delete by conditions fixed at compile time, [`Condition`]
//! and [`Filtered`], the same built at run time (a tree of and / or / not), [`Linked`], the rows
//! a many-to-many relation reaches, [`Insert`] and [`RowWrite`], the writes of one row, and [`Policy`], the columns the library
//! writes itself (a version, the time of a write).
//!
//! No proc-macro, no driver: `repo-derive` and `repo-runtime` both depend on it. With the
//! `tokens` feature (the derive's), the model also writes itself as Rust tokens.

mod dialect;
mod filter;
mod linked;
mod operator;
mod plan;
mod policy;
mod projection;
mod write;

pub use dialect::{Dialect, Sql};
pub use filter::{Condition, Filtered, Patched};
pub use linked::Linked;
pub use operator::Operator;
pub use plan::{Plan, PlanAction, PlanCondition, PlanLimit, PlanTable};
pub use policy::{Policy, Stamps};
pub use projection::{Numeric, Projected, Selected};
pub use write::{ConflictTarget, Insert, OnConflict, RowWrite};
