//! A many-to-many relation's load in the in-memory store, as `repo_sql::Linked` renders it:
//! the target rows each link row with a bound parent key reaches, each with that key, in the
//! order of the target's key, then the parent's.

use std::collections::BTreeSet;

use repo_sql::Linked;

use super::exec::MemoryRecord;
use super::plan::unknown_column;
use super::table::{State, TableData};
use crate::error::RepoError;
use crate::memory_value::Value;
use crate::schema::Table;

/// The rows of `data` (the target, `table`) that `linked`'s link table ties to `keys`, with
/// the target's `columns` then the parent's key.
pub(super) fn linked_rows(
    table: &'static Table,
    linked: &Linked<'static>,
    state: &State,
    data: &TableData,
    values: Vec<Value>,
    columns: &[usize],
) -> Result<Vec<MemoryRecord>, RepoError> {
    // The parents' keys, then the tenant of the targets and of the links, where scoped.
    let mut values = values.into_iter();
    let keys: Vec<Value> = values.by_ref().take(linked.keys).collect();
    let target_tenant = linked.target_tenant.map(|column| (column, values.next()));
    let link_tenant = linked.link_tenant.map(|column| (column, values.next()));
    let Some(link) = state.table(linked.link) else {
        return Ok(Vec::new());
    };
    let column = |name: &str| {
        link.position(name)
            .ok_or_else(|| unknown_column(table.entity, &format!("{}.{name}", linked.link)))
    };
    let (from, to) = (column(linked.from)?, column(linked.to)?);
    let link_tenant = match link_tenant {
        Some((name, tenant)) => Some((column(name)?, tenant)),
        None => None,
    };
    let target_tenant = match target_tenant {
        Some((name, tenant)) => Some((
            data.position(name)
                .ok_or_else(|| unknown_column(table.entity, name))?,
            tenant,
        )),
        None => None,
    };
    let of = |row: &[Value], tenant: &Option<(usize, Option<Value>)>| match tenant {
        Some((position, tenant)) => tenant.as_ref() == Some(&row[*position]),
        None => true,
    };
    let keys: BTreeSet<&Value> = keys.iter().filter(|key| !key.is_null()).collect();
    let mut found: Vec<(&Vec<Value>, &Value, &Vec<Value>)> = Vec::new();
    // A row a soft delete marked, link or target, takes no part.
    for row in link.rows.values() {
        if !keys.contains(&row[from]) || !link.lives(row) || !of(row, &link_tenant) {
            continue;
        }
        let target_key = vec![row[to].clone()];
        if let Some((stored, target)) = data.rows.get_key_value(&target_key)
            && data.lives(target)
            && of(target, &target_tenant)
        {
            found.push((stored, &row[from], target));
        }
    }
    found.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    Ok(found
        .into_iter()
        .map(|(_, parent, target)| {
            let mut values: Vec<Value> = columns.iter().map(|&i| target[i].clone()).collect();
            values.push(parent.clone());
            MemoryRecord::new(values)
        })
        .collect())
}
