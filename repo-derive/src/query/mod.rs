//! Derived query methods of repository ports: method names parsed into conditions, ordering
//! and limits, checked against the entity's fields.

pub(crate) mod grammar;
