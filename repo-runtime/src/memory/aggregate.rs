//! Projections in the in-memory store: some columns of the selected rows, or aggregates of
//! them grouped by columns, as `repo_sql::Projected` renders them in SQL (SQLite's semantics:
//! a sum, mean, least or greatest of no value is `NULL`; without grouped columns there is
//! always one row).

use std::collections::BTreeMap;

use repo_sql::{Numeric, Selected};

use super::exec::MemoryRecord;
use super::plan::{Resolved, resolve_matching, resolve_projected, select, truth, unknown_column};
use super::table::{Row, State, TableData};
use crate::error::RepoError;
use crate::memory_value::Value;
use crate::statement::ProjectedShape;

/// The rows of `shape` over `data` (`None`: a table nobody wrote to) with the values bound.
pub(super) fn projected(
    entity: &'static str,
    shape: &ProjectedShape,
    tables: &State,
    data: Option<&TableData>,
    values: Vec<Value>,
) -> Result<Vec<MemoryRecord>, RepoError> {
    let grouped = shape.items.iter().any(Selected::is_aggregate);
    let group: Vec<&str> = shape
        .items
        .iter()
        .filter_map(|item| match item {
            Selected::Column(column) if grouped => Some(*column),
            _ => None,
        })
        .collect();
    let Some(data) = data else {
        // No rows: one row of empty aggregates when nothing is grouped, else none.
        return Ok(if grouped && group.is_empty() {
            vec![aggregate_row(
                entity,
                &shape.items,
                &[],
                &[],
                &[],
                None,
                &|_| Ok(0),
            )?]
        } else {
            Vec::new()
        });
    };
    let position = |column: &str| {
        data.position(column)
            .ok_or_else(|| unknown_column(entity, column))
    };
    if !grouped {
        let query = resolve_projected(entity, shape, tables, data, values, false)?.0;
        let positions = shape
            .items
            .iter()
            .map(|item| match item {
                Selected::Column(column) => position(column),
                _ => unreachable_aggregate(),
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(select(&query, data)
            .into_iter()
            .map(|(_, row)| MemoryRecord::new(positions.iter().map(|&i| row[i].clone()).collect()))
            .collect());
    }
    let (matching, values) = match &shape.matching {
        Some(matching) => {
            let (matching, rest) = resolve_matching(entity, matching, tables, data, values)?;
            (Some(matching), rest)
        }
        None => (None, values),
    };
    let (query, (offset, limit)) = resolve_projected(entity, shape, tables, data, values, true)?;
    let group_positions = group
        .iter()
        .map(|column| position(column))
        .collect::<Result<Vec<_>, _>>()?;
    let mut groups: BTreeMap<Vec<Value>, Vec<&Row>> = BTreeMap::new();
    if group.is_empty() {
        groups.insert(Vec::new(), Vec::new());
    }
    for (_, row) in select(&query, data) {
        let key = group_positions.iter().map(|&i| row[i].clone()).collect();
        groups.entry(key).or_default().push(row);
    }
    let mut keyed = Vec::with_capacity(groups.len());
    for (key, rows) in &groups {
        let row = aggregate_row(
            entity,
            &shape.items,
            &group,
            key,
            rows,
            matching.as_ref(),
            &|column| position(column),
        )?;
        keyed.push((key, row));
    }
    // The order names grouped columns only (the runtime checks it).
    let order: Vec<(usize, bool)> = shape
        .order
        .iter()
        .filter_map(|(column, descending)| {
            group
                .iter()
                .position(|grouped| grouped == column)
                .map(|index| (index, *descending))
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        order
            .iter()
            .map(|&(index, descending)| {
                let ordering = a[index].cmp(&b[index]);
                if descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(keyed
        .into_iter()
        .map(|(_, row)| row)
        .skip(offset)
        .take(limit)
        .collect())
}

fn unreachable_aggregate() -> Result<usize, RepoError> {
    Err(RepoError::config(
        "an aggregate in a projection without grouping",
    ))
}

/// One group's row: each item's value over `rows`, whose grouped columns hold `key`.
fn aggregate_row(
    entity: &'static str,
    items: &[Selected<'static>],
    group: &[&str],
    key: &[Value],
    rows: &[&Row],
    matching: Option<&Resolved>,
    position: &dyn Fn(&str) -> Result<usize, RepoError>,
) -> Result<MemoryRecord, RepoError> {
    let mut values = Vec::with_capacity(items.len());
    for item in items {
        let column_values = |column: &str| -> Result<Vec<&Value>, RepoError> {
            let index = position(column)?;
            Ok(rows
                .iter()
                .map(|row| &row[index])
                .filter(|value| !value.is_null())
                .collect())
        };
        let value = match item {
            Selected::Column(column) => group
                .iter()
                .position(|grouped| grouped == column)
                .and_then(|index| key.get(index).cloned())
                .unwrap_or(Value::Null),
            Selected::Count => Value::Int(i64::try_from(rows.len()).unwrap_or(i64::MAX)),
            Selected::CountMatching => {
                let count = rows
                    .iter()
                    .filter(|row| {
                        matching.is_none_or(|matching| truth(matching, row) == Some(true))
                    })
                    .count();
                Value::Int(i64::try_from(count).unwrap_or(i64::MAX))
            }
            Selected::Sum(column, numeric) => sum(entity, &column_values(column)?, *numeric)?,
            Selected::Avg(column) => {
                let present = column_values(column)?;
                match present.len() {
                    0 => Value::Null,
                    count => Value::Float(
                        present
                            .iter()
                            .filter_map(|value| as_float(value))
                            .sum::<f64>()
                            / count as f64,
                    ),
                }
            }
            Selected::Min(column) => column_values(column)?
                .into_iter()
                .min()
                .cloned()
                .unwrap_or(Value::Null),
            Selected::Max(column) => column_values(column)?
                .into_iter()
                .max()
                .cloned()
                .unwrap_or(Value::Null),
        };
        values.push(value);
    }
    Ok(MemoryRecord::new(values))
}

fn as_float(value: &Value) -> Option<f64> {
    match value {
        Value::Int(n) => Some(*n as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    }
}

/// The sum of `present`: `NULL` for none; an integer sum that overflows fails, as SQLite's.
fn sum(entity: &'static str, present: &[&Value], numeric: Numeric) -> Result<Value, RepoError> {
    if present.is_empty() {
        return Ok(Value::Null);
    }
    match numeric {
        Numeric::Float => Ok(Value::Float(
            present.iter().filter_map(|v| as_float(v)).sum(),
        )),
        Numeric::Integer => {
            let mut total: i64 = 0;
            for value in present {
                let Value::Int(n) = value else { continue };
                total = total.checked_add(*n).ok_or_else(|| RepoError::Database {
                    entity,
                    code: None,
                    source: super::violation("integer overflow"),
                })?;
            }
            Ok(Value::Int(total))
        }
    }
}
