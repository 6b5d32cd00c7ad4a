//! Migrations from the entities. This first part holds the schema registry and its snapshot:
//! [`Schema`] gathers the table definitions the derive produced, and [`Snapshot`] is their
//! plain, serializable form, stored beside the migrations so the next change can be diffed
//! against it.

mod snapshot;

pub use crate::schema::{ColumnKind, ColumnSnapshot, DefaultValue, ForeignKeySnapshot, TableSnapshot};
pub use snapshot::Snapshot;

use crate::entity::Entity;
use crate::error::RepoError;
use crate::schema::Table;

/// The tables of an application, registered explicitly:
/// `Schema::new().entity::<User>().entity::<Order>()`.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: Vec<&'static Table>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Schema {
        Schema::default()
    }

    /// Adds `E`'s table; adding the same entity twice keeps one.
    pub fn entity<E: Entity>(mut self) -> Schema {
        if !self
            .tables
            .iter()
            .any(|table| std::ptr::eq(*table, E::TABLE))
        {
            self.tables.push(E::TABLE);
        }
        self
    }

    /// The registered tables, in registration order.
    pub fn tables(&self) -> &[&'static Table] {
        &self.tables
    }

    /// The plain-data form of the schema. Two entities claiming one table name are an error:
    /// a snapshot has one definition per table.
    pub fn snapshot(&self) -> Result<Snapshot, RepoError> {
        Snapshot::of(&self.tables)
    }
}
