//! Finders and derived queries on the in-memory store: the statement's [`Plan`] evaluated
//! over the rows with the values the statement bound, as its SQL would select them.

use std::cmp::Ordering;

use repo_sql::{Operator, Plan, PlanAction, PlanLimit};

use super::table::{Row, State, TableData};
use super::value::Value;
use super::{Handle, ops};
use crate::entity::Entity;
use crate::error::RepoError;
use crate::executor::{Executor, Outcome};
use crate::statement::Statement;

/// One condition with its column's position and its parameters.
struct Resolved {
    position: usize,
    operator: Operator,
    arguments: Vec<Value>,
}

/// A statement's plan with its parameters resolved against a table.
struct Query {
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

fn resolve(
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
fn select<'t>(query: &Query, table: &'t TableData) -> Vec<(&'t Vec<Value>, &'t Row)> {
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

/// The statement's plan and parameters, or the error of a statement memory cannot run.
fn planned<E: Entity>(
    statement: Statement,
) -> Result<(&'static Plan<'static>, Vec<Value>, Vec<usize>), RepoError> {
    let operation = statement.operation;
    let memory = statement.into_memory(E::TABLE)?;
    match memory.plan {
        Some(plan) => Ok((plan, memory.values, memory.lists)),
        None => Err(RepoError::config(format!(
            "`{operation}` of {} is written in SQL and cannot run on the in-memory store",
            E::NAME
        ))),
    }
}

fn unavailable() -> RepoError {
    RepoError::config("the statement was built for the in-memory store but its database is not")
}

/// Runs a planned statement that returns rows of `E`.
pub(crate) async fn fetch_rows<E: Entity>(
    executor: &Executor,
    statement: Statement,
) -> Result<Vec<E>, RepoError> {
    let memory = Handle::of(executor).ok_or_else(unavailable)?;
    let operation = statement.operation;
    let (plan, values, lists) = planned::<E>(statement)?;
    select_rows::<E>(&memory, operation, plan, values, &lists).await
}

/// The rows of `E` that `plan` selects with these parameters: what a finder, a derived query
/// and `list` run on the in-memory store, the same plan their SQL is rendered from.
pub(crate) async fn select_rows<E: Entity>(
    memory: &Handle<'_>,
    operation: &'static str,
    plan: &Plan<'_>,
    values: Vec<Value>,
    lists: &[usize],
) -> Result<Vec<E>, RepoError> {
    let read = |state: &State| {
        let Some(table) = state.table(E::TABLE_NAME) else {
            return Ok(Vec::new());
        };
        let columns = ops::projection::<E>(table)?;
        let query = resolve(E::NAME, plan, table, values, lists)?;
        select(&query, table)
            .into_iter()
            .map(|(_, row)| ops::decode::<E>(row, &columns))
            .collect()
    };
    memory
        .read(E::TABLE, operation, read, |rows| rows.len() as u64)
        .await
}

/// Runs a planned statement and counts the rows it selects.
pub(crate) async fn fetch_count<E: Entity>(
    executor: &Executor,
    statement: Statement,
) -> Result<u64, RepoError> {
    let memory = Handle::of(executor).ok_or_else(unavailable)?;
    let operation = statement.operation;
    let (plan, values, lists) = planned::<E>(statement)?;
    let read = |state: &State| {
        let Some(table) = state.table(E::TABLE_NAME) else {
            return Ok(0);
        };
        let query = resolve(E::NAME, plan, table, values, &lists)?;
        Ok(select(&query, table).len() as u64)
    };
    memory.read(E::TABLE, operation, read, |_| 1).await
}

/// Runs a planned statement and reports whether it selects any row.
pub(crate) async fn fetch_exists<E: Entity>(
    executor: &Executor,
    statement: Statement,
) -> Result<bool, RepoError> {
    fetch_count::<E>(executor, statement).await.map(|n| n > 0)
}

/// Runs a planned `Delete`: the selected rows go, with what their foreign keys say.
pub(crate) async fn execute_plan<E: Entity>(
    executor: &Executor,
    statement: Statement,
) -> Result<Outcome, RepoError> {
    let memory = Handle::of(executor).ok_or_else(unavailable)?;
    let operation = statement.operation;
    let (plan, values, lists) = planned::<E>(statement)?;
    if plan.action != PlanAction::Delete {
        return Err(RepoError::config(format!(
            "`{operation}` of {} selects rows and returns none",
            E::NAME
        )));
    }
    let write = |state: &mut State| {
        let Some(table) = state.table(E::TABLE_NAME) else {
            return Ok(0);
        };
        let query = resolve(E::NAME, plan, table, values, &lists)?;
        let keys = select(&query, table)
            .into_iter()
            .map(|(key, _)| key.clone())
            .collect();
        state.delete(E::NAME, E::TABLE_NAME, keys)
    };
    let rows_affected = memory
        .write(E::TABLE, operation, write, |deleted| *deleted)
        .await?;
    Ok(Outcome {
        rows_affected,
        last_insert_id: 0,
    })
}
