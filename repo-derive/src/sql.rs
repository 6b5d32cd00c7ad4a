//! Statement text rendered at compile time, one string per dialect, from the validated model.
//! Identifiers are always quoted; values are always placeholders.

use repo_sql::{
    Insert, Operator, Plan, PlanAction, PlanCondition, PlanLimit, PlanTable, Policy, RowWrite,
    Stamps,
};

use crate::model::{Entity, Field};

pub(crate) use repo_sql::Dialect;

pub(crate) const DIALECTS: [Dialect; 3] = Dialect::ALL;

/// One statement in the three dialects, in `DIALECTS` order.
pub(crate) type PerDialect = [String; 3];

fn per_dialect(render: impl Fn(Dialect) -> String) -> PerDialect {
    DIALECTS.map(render)
}

/// Every column of `fields`, an embedded field's several columns included.
fn column_names<'a>(fields: impl Iterator<Item = &'a Field>) -> impl Iterator<Item = &'a str> {
    fields.flat_map(|field| field.columns.iter().map(|column| column.name.as_str()))
}

/// Equality of each of `fields` with a parameter: a finder's conditions (an encrypted field's
/// through its blind index).
pub(crate) fn equal_each<'a>(fields: &[&'a Field]) -> Vec<PlanCondition<'a>> {
    fields
        .iter()
        .map(|field| PlanCondition {
            column: field.lookup_column(),
            operator: Operator::Equal,
        })
        .collect()
}

/// `groups` (conditions any group of which selects a row) restricted to the rows that live,
/// for an entity with `deleted_at`: the scope of every fixed read, whose plan the in-memory
/// store evaluates as the database does the text. No group means every row.
pub(crate) fn live_groups<'a>(
    entity: &'a Entity,
    mut groups: Vec<Vec<PlanCondition<'a>>>,
) -> Vec<Vec<PlanCondition<'a>>> {
    let Some(deleted) = entity.policy_field(Policy::DeletedAt) else {
        return groups;
    };
    let live = PlanCondition {
        column: &deleted.column,
        operator: Operator::IsNull,
    };
    if groups.is_empty() {
        groups.push(Vec::new());
    }
    for group in &mut groups {
        group.push(live);
    }
    groups
}

/// The tenant column of an entity scoped by tenant: every fixed statement's
/// [`Plan::scope`](repo_sql::Plan), whose value the runtime binds from the handle.
pub(crate) fn scope(entity: &Entity) -> Option<&str> {
    entity
        .policy_field(Policy::Tenant)
        .map(|field| field.column.as_str())
}

/// The statements of `EntitySql` and of the finders.
pub(crate) struct Statements<'a> {
    entity: &'a Entity,
}

impl<'a> Statements<'a> {
    pub(crate) fn new(entity: &'a Entity) -> Self {
        Statements { entity }
    }

    /// Renders `plan` on the entity's table in every dialect.
    pub(crate) fn plan(&self, plan: &Plan<'_>) -> PerDialect {
        let (columns, key) = (self.all_column_names(), self.key_column_names());
        let table = PlanTable {
            name: &self.entity.table,
            columns: &columns,
            key: &key,
        };
        per_dialect(|d| plan.render(d, &table))
    }

    /// `action` on the rows where each key column equals a parameter, then the tenant's rows
    /// only where there is one; reads see only the rows that live, a delete (the hard one, of a
    /// soft-deleted entity too) any row.
    fn by_key(&self, action: PlanAction) -> PerDialect {
        let key: Vec<&Field> = self.entity.key_fields().collect();
        let conditions = vec![equal_each(&key)];
        let groups = match action {
            PlanAction::Delete => conditions,
            _ => live_groups(self.entity, conditions),
        };
        let any_of: Vec<&[PlanCondition<'_>]> = groups.iter().map(Vec::as_slice).collect();
        self.plan(&Plan {
            action,
            any_of: &any_of,
            order: &[],
            limit: PlanLimit::All,
            scope: scope(self.entity),
        })
    }

    /// `action` on every row that lives.
    fn every_row(&self, action: PlanAction) -> PerDialect {
        let groups = live_groups(self.entity, Vec::new());
        let any_of: Vec<&[PlanCondition<'_>]> = groups.iter().map(Vec::as_slice).collect();
        self.plan(&Plan {
            action,
            any_of: &any_of,
            order: &[],
            limit: PlanLimit::All,
            scope: scope(self.entity),
        })
    }

    pub(crate) fn select_by_id(&self) -> PerDialect {
        self.by_key(PlanAction::Select)
    }

    pub(crate) fn exists_by_id(&self) -> PerDialect {
        self.by_key(PlanAction::Exists)
    }

    pub(crate) fn count(&self) -> PerDialect {
        self.every_row(PlanAction::Count)
    }

    /// The insert input's columns.
    fn insert_columns(&self) -> Vec<&str> {
        column_names(self.entity.insert_fields()).collect()
    }

    /// Every column, in the order a row is read.
    fn all_column_names(&self) -> Vec<&str> {
        column_names(self.entity.fields.iter()).collect()
    }

    fn key_column_names(&self) -> Vec<&str> {
        self.entity
            .key_fields()
            .map(|field| field.column.as_str())
            .collect()
    }

    /// The columns an update never writes: those the insert sets once.
    fn kept_columns(&self) -> Vec<&str> {
        self.entity
            .fields
            .iter()
            .filter(|field| field.policy().is_some_and(Policy::kept_by_update))
            .map(|field| field.column.as_str())
            .collect()
    }

    fn with_insert<R>(&self, use_insert: impl FnOnce(&Insert<'_>) -> R) -> R {
        let (columns, kept) = (self.insert_columns(), self.kept_columns());
        use_insert(&Insert {
            table: &self.entity.table,
            columns: &columns,
            generated: self.entity.generated().map(|key| key.column.as_str()),
            stamps: self.stamps(&kept),
        })
    }

    /// The policy columns, as the writes render them.
    fn stamps<'k>(&'k self, kept: &'k [&'k str]) -> Stamps<'k> {
        Stamps {
            version: self
                .entity
                .policy_field(Policy::Version)
                .map(|field| field.column.as_str()),
            kept,
            deleted: self
                .entity
                .policy_field(Policy::DeletedAt)
                .map(|field| field.column.as_str()),
            tenant: scope(self.entity),
        }
    }

    /// `INSERT` of the insert columns. Only PostgreSQL returns the generated key: SQLite and
    /// MySQL report it as the last insert id.
    pub(crate) fn insert(&self) -> PerDialect {
        self.with_insert(|insert| per_dialect(|d| insert.one_row(d)))
    }

    /// The update and upsert of a whole row by its key.
    fn with_row_write<R>(&self, use_write: impl FnOnce(&RowWrite<'_>) -> R) -> R {
        let (columns, key) = (self.all_column_names(), self.key_column_names());
        let set: Vec<&str> = column_names(self.entity.non_key_fields()).collect();
        let kept = self.kept_columns();
        use_write(&RowWrite {
            table: &self.entity.table,
            columns: &columns,
            set: &set,
            key: &key,
            stamps: self.stamps(&kept),
        })
    }

    pub(crate) fn insert_all(&self) -> PerDialect {
        self.with_row_write(|write| per_dialect(|d| write.insert_all(d)))
    }

    pub(crate) fn update(&self) -> PerDialect {
        self.with_row_write(|write| per_dialect(|d| write.update(d)))
    }

    pub(crate) fn upsert(&self) -> PerDialect {
        self.with_row_write(|write| per_dialect(|d| write.upsert(d)))
    }

    pub(crate) fn delete_by_id(&self) -> PerDialect {
        self.by_key(PlanAction::Delete)
    }
}
