//! The difference between two snapshots as a [`Plan`]: tables created, dropped and changed,
//! renames taken only from `renamed_from` hints (never guessed from a drop and an add), and the
//! changes that need the user's decision.

use std::collections::BTreeMap;

use super::Snapshot;
use crate::schema::{ColumnKind, ColumnSnapshot, TableSnapshot, default_mismatch};

/// What turns one snapshot into the next.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub creates: Vec<(String, TableSnapshot)>,
    pub drops: Vec<(String, TableSnapshot)>,
    pub alters: Vec<TableChange>,
}

/// One table present before and after.
#[derive(Debug, Clone)]
pub(crate) struct TableChange {
    /// The table's name before, when it was renamed.
    pub old_name: Option<String>,
    pub name: String,
    /// The table before, with renamed columns already under their new names (constraints
    /// included), so that it compares with `new` directly.
    pub old: TableSnapshot,
    pub new: TableSnapshot,
    /// `(before, after)` column names.
    pub column_renames: Vec<(String, String)>,
}

impl TableChange {
    /// The table's name before the change.
    pub(crate) fn old_name(&self) -> &str {
        self.old_name.as_deref().unwrap_or(&self.name)
    }

    pub(crate) fn added_columns(&self) -> impl Iterator<Item = &ColumnSnapshot> {
        self.new
            .columns
            .iter()
            .filter(|column| self.old.column(&column.name).is_none())
    }

    pub(crate) fn dropped_columns(&self) -> impl Iterator<Item = &ColumnSnapshot> {
        self.old
            .columns
            .iter()
            .filter(|column| self.new.column(&column.name).is_none())
    }

    /// Columns present before and after whose definition changed: `(before, after)`.
    pub(crate) fn altered_columns(
        &self,
    ) -> impl Iterator<Item = (&ColumnSnapshot, &ColumnSnapshot)> {
        self.new.columns.iter().filter_map(|new| {
            let old = self.old.column(&new.name)?;
            let same = old.ty == new.ty
                && old.nullable == new.nullable
                && old.generated == new.generated
                && old.default == new.default;
            (!same).then_some((old, new))
        })
    }

    /// Whether anything changed besides the names.
    pub(crate) fn is_empty(&self) -> bool {
        self.old_name.is_none()
            && self.column_renames.is_empty()
            && strip_hints(&self.old) == strip_hints(&self.new)
    }
}

fn strip_hints(table: &TableSnapshot) -> TableSnapshot {
    let mut table = table.clone();
    table.renamed_from = None;
    table.entity.clear();
    for column in &mut table.columns {
        column.renamed_from = None;
    }
    table
}

/// Which tables of `old` map to which of `new`, by name or by a `renamed_from` hint.
pub(crate) fn plan(old: &Snapshot, new: &Snapshot) -> Plan {
    let mut plan = Plan::default();
    let mut paired_old = Vec::new();
    for (name, table) in &new.tables {
        let source = if old.tables.contains_key(name) {
            Some(name.clone())
        } else {
            table
                .renamed_from
                .clone()
                .filter(|from| old.tables.contains_key(from) && !new.tables.contains_key(from))
        };
        match source {
            Some(source) => {
                let before = &old.tables[&source];
                paired_old.push(source.clone());
                let change = pair_table(&source, name, before, table);
                if !change.is_empty() {
                    plan.alters.push(change);
                }
            }
            None => plan.creates.push((name.clone(), table.clone())),
        }
    }
    for (name, table) in &old.tables {
        if !paired_old.contains(name) {
            plan.drops.push((name.clone(), table.clone()));
        }
    }
    let renamed: BTreeMap<String, String> = plan
        .alters
        .iter()
        .filter_map(|change| Some((change.old_name.clone()?, change.name.clone())))
        .collect();
    // Foreign keys of unchanged definition follow a renamed table on every backend.
    for change in &mut plan.alters {
        for key in change.old.foreign_keys.values_mut() {
            if let Some(new_name) = renamed.get(&key.table) {
                key.table = new_name.clone();
            }
        }
    }
    plan.alters.retain(|change| !change.is_empty());
    order_by_references(&mut plan.creates);
    // Referring tables go first.
    order_by_references(&mut plan.drops);
    plan.drops.reverse();
    plan
}

fn pair_table(old_name: &str, name: &str, old: &TableSnapshot, new: &TableSnapshot) -> TableChange {
    let mut renames = Vec::new();
    for column in &new.columns {
        if old.column(&column.name).is_some() {
            continue;
        }
        if let Some(from) = &column.renamed_from
            && old.column(from).is_some()
            && new.column(from).is_none()
        {
            renames.push((from.clone(), column.name.clone()));
        }
    }
    let rename = |column: &String| {
        renames
            .iter()
            .find(|(from, _)| from == column)
            .map_or_else(|| column.clone(), |(_, to)| to.clone())
    };
    let rename_all = |columns: &Vec<String>| columns.iter().map(rename).collect::<Vec<_>>();
    let mut before = old.clone();
    for column in &mut before.columns {
        column.name = rename(&column.name);
    }
    before.primary_key.1 = rename_all(&before.primary_key.1);
    for columns in before
        .unique
        .values_mut()
        .chain(before.indexes.values_mut())
    {
        *columns = rename_all(columns);
    }
    for key in before.foreign_keys.values_mut() {
        key.columns = rename_all(&key.columns);
    }
    TableChange {
        old_name: (old_name != name).then(|| old_name.to_owned()),
        name: name.to_owned(),
        old: before,
        new: new.clone(),
        column_renames: renames,
    }
}

/// Referenced tables before the tables referring to them.
fn order_by_references(creates: &mut Vec<(String, TableSnapshot)>) {
    let mut ordered: Vec<(String, TableSnapshot)> = Vec::with_capacity(creates.len());
    let mut pending = std::mem::take(creates);
    while !pending.is_empty() {
        let ready = pending.iter().position(|(name, table)| {
            table.foreign_keys.values().all(|key| {
                key.table == *name || !pending.iter().any(|(other, _)| *other == key.table)
            })
        });
        // A cycle: take the first; its foreign keys are checked at commit on PostgreSQL and
        // MySQL cannot have it anyway without a second statement.
        let next = ready.unwrap_or(0);
        ordered.push(pending.remove(next));
    }
    *creates = ordered;
}

/// One change that loses data or may fail on existing rows, with what to do about it.
pub(crate) fn refusals(plan: &Plan) -> Vec<String> {
    let mut refusals = Vec::new();
    for (name, _) in &plan.drops {
        refusals.push(format!(
            "table `{name}` would be dropped with all its rows: if it was renamed, add #[repo(renamed_from = \"{name}\")] to the entity that maps it now; if no entity maps it any more on purpose, allow unsafe changes"
        ));
    }
    for change in &plan.alters {
        let table = &change.name;
        for column in change.dropped_columns() {
            refusals.push(format!(
                "column `{table}.{}` would be dropped with its values: if it was renamed, add #[repo(renamed_from = \"{}\")] to the field; if it is gone on purpose, allow unsafe changes",
                column.name, column.name
            ));
        }
        for column in change.added_columns() {
            if !column.nullable && column.default.is_none() && !column.generated {
                refusals.push(format!(
                    "column `{table}.{}` is added NOT NULL without a default, which fails on a table with rows: add #[repo(default = ...)] to the field, or make it an Option",
                    column.name
                ));
            }
        }
        for (old, new) in change.altered_columns() {
            if old.ty != new.ty && !only_gains_values(&old.ty, &new.ty) {
                refusals.push(format!(
                    "column `{table}.{}` changes type from {:?} to {:?}: existing values may not convert; write the conversion in a migration of your own, or allow unsafe changes to alter it in place",
                    new.name, old.ty, new.ty
                ));
            } else if old.generated != new.generated {
                refusals.push(format!(
                    "column `{table}.{}` changes whether the database generates it: allow unsafe changes to alter it in place",
                    new.name
                ));
            }
            if old.nullable && !new.nullable {
                refusals.push(format!(
                    "column `{table}.{}` becomes NOT NULL, which fails while rows hold NULL: fill them in a migration of your own first, or allow unsafe changes",
                    new.name
                ));
            }
        }
        if change.old.primary_key.1 != change.new.primary_key.1 {
            refusals.push(format!(
                "the primary key of `{table}` changes from ({}) to ({}): allow unsafe changes to rebuild it",
                change.old.primary_key.1.join(", "),
                change.new.primary_key.1.join(", ")
            ));
        }
    }
    refusals
}

/// Whether an enum column only gains values: every stored value stays valid.
fn only_gains_values(old: &ColumnKind, new: &ColumnKind) -> bool {
    match (old, new) {
        (ColumnKind::Enum(old), ColumnKind::Enum(new)) => old.iter().all(|v| new.contains(v)),
        _ => false,
    }
}

/// Defaults that do not fit their column, which no backend would accept.
pub(crate) fn invalid_defaults(snapshot: &Snapshot) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, table) in &snapshot.tables {
        for column in &table.columns {
            if let Some(default) = &column.default
                && let Some(problem) = default_mismatch(&column.ty, default)
            {
                problems.push(format!("default of `{name}.{}`: {problem}", column.name));
            }
        }
    }
    problems
}

/// One line per change, for the migration's header and the CLI.
pub(crate) fn summary(plan: &Plan) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, _) in &plan.creates {
        lines.push(format!("create table {name}"));
    }
    for change in &plan.alters {
        let table = &change.name;
        if let Some(old) = &change.old_name {
            lines.push(format!("rename table {old} to {table}"));
        }
        for (from, to) in &change.column_renames {
            lines.push(format!("rename column {table}.{from} to {to}"));
        }
        for column in change.added_columns() {
            lines.push(format!("add column {table}.{}", column.name));
        }
        for column in change.dropped_columns() {
            lines.push(format!("drop column {table}.{}", column.name));
        }
        for (_, column) in change.altered_columns() {
            lines.push(format!("alter column {table}.{}", column.name));
        }
        let (old_key, new_key) = (&change.old.primary_key, &change.new.primary_key);
        if old_key.1 != new_key.1 {
            lines.push(format!("change primary key of {table}"));
        } else if old_key.0 != new_key.0 {
            lines.push(format!(
                "rename primary key {} to {} on {table}",
                old_key.0, new_key.0
            ));
        }
        let (old, new) = (&change.old, &change.new);
        match (&old.deleted, &new.deleted) {
            (None, Some(deleted)) => lines.push(format!(
                "soft delete on {table}: unique keys hold among the rows whose {deleted} is NULL"
            )),
            (Some(_), None) => lines.push(format!(
                "soft delete off on {table}: unique keys hold among every row"
            )),
            _ => {}
        }
        if old.row_security != new.row_security {
            lines.push(match &new.row_security {
                Some(tenant) => format!("row-level security on {table} by {tenant} (PostgreSQL)"),
                None => format!("row-level security off on {table} (PostgreSQL)"),
            });
        }
        diff_lines(&mut lines, table, "unique key", &old.unique, &new.unique);
        diff_lines(&mut lines, table, "index", &old.indexes, &new.indexes);
        diff_lines(
            &mut lines,
            table,
            "foreign key",
            &old.foreign_keys,
            &new.foreign_keys,
        );
    }
    for (name, _) in &plan.drops {
        lines.push(format!("drop table {name}"));
    }
    lines
}

fn diff_lines<T: PartialEq>(
    lines: &mut Vec<String>,
    table: &str,
    what: &str,
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
) {
    let mut renamed = Vec::new();
    for (name, value) in old.iter().filter(|(name, _)| !new.contains_key(*name)) {
        let twin = new.iter().find(|(other, v)| {
            *v == value && !old.contains_key(*other) && !renamed.contains(other)
        });
        match twin {
            Some((other, _)) => {
                renamed.push(other);
                lines.push(format!("rename {what} {name} to {other} on {table}"));
            }
            None => lines.push(format!("drop {what} {name} on {table}")),
        }
    }
    for (name, value) in new {
        match old.get(name) {
            None if !renamed.contains(&name) => {
                lines.push(format!("add {what} {name} on {table}"));
            }
            Some(before) if before != value => {
                lines.push(format!("change {what} {name} on {table}"));
            }
            _ => {}
        }
    }
}
