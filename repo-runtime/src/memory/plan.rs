//! A [`Plan`] evaluated over a table's rows with the values its statement bound, as its SQL
//! would select them: finders, derived queries and `list` on the in-memory store.

use std::cmp::Ordering;

use repo_sql::{Operator, Plan, PlanLimit};

use super::table::{Row, TableData};
use crate::error::RepoError;
use crate::memory_value::Value;

/// One condition with its column's position and its parameters.
struct Resolved {
    position: usize,
    operator: Operator,
    arguments: Vec<Value>,
}

/// A statement's plan with its parameters resolved against a table.
pub(super) struct Query {
    any_of: Vec<Vec<Resolved>>,
    order: Vec<(usize, bool)>,
    /// Rows skipped, then most rows kept.
    page: (usize, usize),
}

fn unknown_column(entity: &'static str, column: &str) -> RepoError {
    RepoError::Database {
        entity,
        code: None,
        source: super::violation(format!("no such column: {column}")),
    }
}

pub(super) fn resolve(
    entity: &'static str,
    plan: &Plan<'_>,
    table: &TableData,
    values: Vec<Value>,
    lists: &[usize],
) -> Result<Query, RepoError> {
    let mut values = values.into_iter();
    let mut lists = lists.iter();
    let mut any_of = Vec::with_capacity(plan.any_of.len());
    for all in plan.any_of {
        let mut resolved = Vec::with_capacity(all.len());
        for condition in *all {
            let position = table
                .position(condition.column)
                .ok_or_else(|| unknown_column(entity, condition.column))?;
            let arity = if condition.operator.takes_list() {
                lists.next().copied().unwrap_or(0)
            } else {
                condition.operator.arity()
            };
            resolved.push(Resolved {
                position,
                operator: condition.operator,
                arguments: values.by_ref().take(arity).collect(),
            });
        }
        any_of.push(resolved);
    }
    let order = plan
        .order
        .iter()
        .map(|(column, descending)| {
            table
                .position(column)
                .map(|position| (position, *descending))
                .ok_or_else(|| unknown_column(entity, column))
        })
        .collect::<Result<_, _>>()?;
    let count = |value: Option<Value>| match value {
        Some(Value::Int(n)) => usize::try_from(n).unwrap_or(if n < 0 { 0 } else { usize::MAX }),
        _ => 0,
    };
    let page = match plan.limit {
        PlanLimit::All => (0, usize::MAX),
        PlanLimit::Fixed(limit) => (0, usize::try_from(limit).unwrap_or(usize::MAX)),
        PlanLimit::Page => {
            let limit = count(values.next());
            (count(values.next()), limit)
        }
    };
    Ok(Query {
        any_of,
        order,
        page,
    })
}

fn equal(a: &Value, b: &Value) -> bool {
    a.compare(b) == Some(Ordering::Equal)
}

fn holds(condition: &Resolved, row: &Row) -> bool {
    let value = &row[condition.position];
    let arguments = &condition.arguments;
    let first = arguments.first().unwrap_or(&Value::Null);
    let ordered = |accept: fn(Ordering) -> bool| value.compare(first).is_some_and(accept);
    let text = |test: fn(&str, &str) -> bool| match (value.as_text(), first.as_text()) {
        (Some(value), Some(part)) => test(value, part),
        _ => false,
    };
    match condition.operator {
        Operator::Equal => equal(value, first),
        Operator::NotEqual => ordered(Ordering::is_ne),
        Operator::IsNull => value.is_null(),
        Operator::IsNotNull => !value.is_null(),
        Operator::In => arguments.iter().any(|argument| equal(value, argument)),
        // Unknown, hence false, when the value or any listed value is NULL.
        Operator::NotIn => arguments
            .iter()
            .all(|argument| value.compare(argument).is_some_and(Ordering::is_ne)),
        Operator::Containing => text(|value, part| value.contains(part)),
        Operator::StartingWith => text(|value, part| value.starts_with(part)),
        Operator::EndingWith => text(|value, part| value.ends_with(part)),
        Operator::GreaterThan => ordered(Ordering::is_gt),
        Operator::GreaterThanEqual => ordered(Ordering::is_ge),
        Operator::LessThan => ordered(Ordering::is_lt),
        Operator::LessThanEqual => ordered(Ordering::is_le),
        Operator::Between => {
            let high = arguments.get(1).unwrap_or(&Value::Null);
            ordered(Ordering::is_ge) && value.compare(high).is_some_and(Ordering::is_le)
        }
    }
}

/// The rows the query selects, in its order and page, as (key, row).
pub(super) fn select<'t>(query: &Query, table: &'t TableData) -> Vec<(&'t Vec<Value>, &'t Row)> {
    // Equality on a whole key (a finder, mostly) is one lookup in its index.
    if let [all] = query.any_of.as_slice()
        && all
            .iter()
            .all(|condition| condition.operator == Operator::Equal)
    {
        let equal: Vec<(usize, &Value)> = all
            .iter()
            .filter_map(|condition| Some((condition.position, condition.arguments.first()?)))
            .collect();
        if let Some(found) = table.find_unique(&equal) {
            let (offset, limit) = query.page;
            return found
                .into_iter()
                .filter(|(_, row)| all.iter().all(|condition| holds(condition, row)))
                .skip(offset)
                .take(limit)
                .collect();
        }
    }
    let mut rows: Vec<(&Vec<Value>, &Row)> = table
        .rows
        .iter()
        // No group of conditions is no `WHERE`: every row.
        .filter(|(_, row)| {
            query.any_of.is_empty()
                || query
                    .any_of
                    .iter()
                    .any(|all| all.iter().all(|condition| holds(condition, row)))
        })
        .collect();
    // Rows come by key; a stable sort keeps the key as the last sort key.
    rows.sort_by(|(_, a), (_, b)| {
        query
            .order
            .iter()
            .map(|&(position, descending)| {
                let ordering = a[position].cmp(&b[position]);
                if descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    let (offset, limit) = query.page;
    rows.into_iter().skip(offset).take(limit).collect()
}
