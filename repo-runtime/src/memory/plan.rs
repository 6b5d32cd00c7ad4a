//! A condition evaluated over a table's rows with the values its statement bound, as its SQL
//! would select them: a [`Plan`]'s (finders, derived queries) or a run-time
//! [`Condition`]'s (filters, `list`), in SQL's three-valued logic, in order, paged.

use std::cmp::Ordering;

use repo_sql::{Condition, Operator, Plan, PlanLimit};

use super::table::{Row, State, TableData};
use crate::error::RepoError;
use crate::memory_value::Value;
use crate::schema::Table;
use crate::statement::{FilteredShape, ProjectedShape};

/// A condition with its columns' positions and its parameters.
pub(super) enum Resolved {
    Compare {
        position: usize,
        operator: Operator,
        arguments: Vec<Value>,
    },
    All(Vec<Resolved>),
    Any(Vec<Resolved>),
    Not(Box<Resolved>),
    /// The column's value is among those another table's linked rows hold (an `EXISTS`,
    /// evaluated once for every row).
    Within {
        position: usize,
        values: std::collections::BTreeSet<Value>,
    },
}

/// A statement's condition, order and page resolved against a table.
pub(super) struct Query {
    condition: Resolved,
    order: Vec<(usize, bool)>,
    /// Rows skipped, then most rows kept.
    page: (usize, usize),
}

pub(super) fn unknown_column(entity: &'static str, column: &str) -> RepoError {
    RepoError::Database {
        entity,
        code: None,
        source: super::violation(format!("no such column: {column}")),
    }
}

/// Resolves conditions against one table, taking the bound values in order.
struct Resolver<'a> {
    entity: &'static str,
    /// The stored table's columns.
    def: &'a Table,
    values: std::vec::IntoIter<Value>,
    /// Every table, for the rows an `EXISTS` links to; `None` where there are none to read.
    tables: Option<&'a State>,
}

impl Resolver<'_> {
    fn position(&self, column: &str) -> Result<usize, RepoError> {
        self.def
            .columns
            .iter()
            .position(|c| c.name == column)
            .ok_or_else(|| unknown_column(self.entity, column))
    }

    fn compare(
        &mut self,
        column: &str,
        operator: Operator,
        arity: usize,
    ) -> Result<Resolved, RepoError> {
        Ok(Resolved::Compare {
            position: self.position(column)?,
            operator,
            arguments: self.values.by_ref().take(arity).collect(),
        })
    }

    fn condition(&mut self, condition: &Condition) -> Result<Resolved, RepoError> {
        Ok(match condition {
            Condition::Compare {
                column,
                operator,
                values,
            } => self.compare(column, *operator, *values)?,
            Condition::All(conditions) => Resolved::All(self.conditions(conditions)?),
            Condition::Any(conditions) => Resolved::Any(self.conditions(conditions)?),
            Condition::Not(condition) => Resolved::Not(Box::new(self.condition(condition)?)),
            Condition::Exists {
                table,
                link,
                column,
                condition,
            } => self.exists(table, link, column, condition)?,
            Condition::Scope { column } => self.compare(column, Operator::Equal, 1)?,
        })
    }

    /// The values of `link` in the rows of `table` that meet `condition`, against which this
    /// table's `column` is tested. The condition takes its values here, in order.
    fn exists(
        &mut self,
        table: &str,
        link: &str,
        column: &str,
        condition: &Condition,
    ) -> Result<Resolved, RepoError> {
        let position = self.position(column)?;
        let Some(tables) = self.tables else {
            return Err(RepoError::config(
                "a filter through another table's rows is decided by the store that holds them",
            ));
        };
        let values = std::mem::take(&mut self.values);
        let mut linked = std::collections::BTreeSet::new();
        let Some(other) = tables.table(table) else {
            // Nobody wrote to it: no row links to this one. Its values are still taken.
            let mut skip = Resolver {
                entity: self.entity,
                def: self.def,
                values,
                tables: None,
            };
            skip_values(condition, &mut skip.values);
            self.values = skip.values;
            return Ok(Resolved::Within {
                position,
                values: linked,
            });
        };
        let mut inner = Resolver {
            entity: self.entity,
            def: other.def,
            values,
            tables: self.tables,
        };
        let resolved = inner.condition(condition)?;
        self.values = inner.values;
        let link_position = other
            .position(link)
            .ok_or_else(|| unknown_column(self.entity, link))?;
        for row in other.rows.values() {
            if truth(&resolved, row) == Some(true) && !row[link_position].is_null() {
                linked.insert(row[link_position].clone());
            }
        }
        Ok(Resolved::Within {
            position,
            values: linked,
        })
    }

    fn conditions(&mut self, conditions: &[Condition]) -> Result<Vec<Resolved>, RepoError> {
        conditions.iter().map(|c| self.condition(c)).collect()
    }

    /// A plan's groups of conditions: any group, each all of its conditions; no group, every
    /// row.
    fn plan(
        &mut self,
        plan: &Plan<'_>,
        lists: &[usize],
        scoped: bool,
    ) -> Result<Resolved, RepoError> {
        let groups = self.groups(plan, lists)?;
        // The tenant follows the groups' values, when the statement kept its scope.
        match plan.scope {
            Some(column) if scoped => Ok(Resolved::All(vec![
                groups,
                self.compare(column, Operator::Equal, 1)?,
            ])),
            _ => Ok(groups),
        }
    }

    fn groups(&mut self, plan: &Plan<'_>, lists: &[usize]) -> Result<Resolved, RepoError> {
        if plan.any_of.is_empty() {
            return Ok(Resolved::All(Vec::new()));
        }
        let mut lists = lists.iter();
        let mut groups = Vec::with_capacity(plan.any_of.len());
        for all in plan.any_of {
            let mut group = Vec::with_capacity(all.len());
            for condition in *all {
                let arity = if condition.operator.takes_list() {
                    lists.next().copied().unwrap_or(0)
                } else {
                    condition.operator.arity()
                };
                group.push(self.compare(condition.column, condition.operator, arity)?);
            }
            groups.push(Resolved::All(group));
        }
        Ok(Resolved::Any(groups))
    }

    fn finish(
        mut self,
        condition: Resolved,
        order: &[(&str, bool)],
        limit: PlanLimit,
    ) -> Result<Query, RepoError> {
        let order = order
            .iter()
            .map(|(column, descending)| Ok((self.position(column)?, *descending)))
            .collect::<Result<_, RepoError>>()?;
        let count = |value: Option<Value>| match value {
            Some(Value::Int(n)) => usize::try_from(n).unwrap_or(if n < 0 { 0 } else { usize::MAX }),
            _ => 0,
        };
        let page = match limit {
            PlanLimit::All => (0, usize::MAX),
            PlanLimit::Fixed(limit) => (0, usize::try_from(limit).unwrap_or(usize::MAX)),
            PlanLimit::Page => {
                let limit = count(self.values.next());
                (count(self.values.next()), limit)
            }
        };
        Ok(Query {
            condition,
            order,
            page,
        })
    }
}

/// A compile-time plan with its parameters, against `table`.
pub(super) fn resolve(
    entity: &'static str,
    plan: &Plan<'_>,
    table: &TableData,
    values: Vec<Value>,
    lists: &[usize],
    scoped: bool,
) -> Result<Query, RepoError> {
    let mut resolver = Resolver {
        entity,
        def: table.def,
        values: values.into_iter(),
        tables: None,
    };
    let condition = resolver.plan(plan, lists, scoped)?;
    resolver.finish(condition, plan.order, plan.limit)
}

/// A run-time condition, order and limit with its parameters, against `table`.
pub(super) fn resolve_filtered(
    entity: &'static str,
    filtered: &FilteredShape,
    tables: &State,
    table: &TableData,
    values: Vec<Value>,
) -> Result<Query, RepoError> {
    resolve_where(
        entity,
        &filtered.condition,
        tables,
        table,
        values,
        &filtered.order,
        filtered.limit,
    )
}

/// A run-time condition with its parameters, against `table`: every row it selects, by key.
pub(super) fn resolve_condition(
    entity: &'static str,
    condition: &Condition,
    tables: &State,
    table: &TableData,
    values: Vec<Value>,
) -> Result<Query, RepoError> {
    resolve_where(
        entity,
        condition,
        tables,
        table,
        values,
        &[],
        PlanLimit::All,
    )
}

/// `condition` in `order`, limited by `limit`, with its parameters (the page's last),
/// against `table`.
fn resolve_where(
    entity: &'static str,
    condition: &Condition,
    tables: &State,
    table: &TableData,
    values: Vec<Value>,
    order: &[(&str, bool)],
    limit: PlanLimit,
) -> Result<Query, RepoError> {
    let mut resolver = Resolver {
        entity,
        def: table.def,
        values: values.into_iter(),
        tables: Some(tables),
    };
    let condition = resolver.condition(condition)?;
    resolver.finish(condition, order, limit)
}

/// A projection's condition, order and limit with its parameters, against `table`. Grouped,
/// the page applies to the groups: the query selects every row, unordered, and the page
/// (rows skipped, most rows kept) comes apart.
pub(super) fn resolve_projected(
    entity: &'static str,
    shape: &ProjectedShape,
    tables: &State,
    table: &TableData,
    values: Vec<Value>,
    grouped: bool,
) -> Result<(Query, (usize, usize)), RepoError> {
    let order: &[(&str, bool)] = if grouped { &[] } else { &shape.order };
    let mut query = resolve_where(
        entity,
        &shape.condition,
        tables,
        table,
        values,
        order,
        shape.limit,
    )?;
    let page = query.page;
    if grouped {
        query.page = (0, usize::MAX);
    }
    Ok((query, page))
}

/// `condition` against `table`, taking its values first from `values`: what a
/// `Selected::CountMatching` counts. Returns it with the values left.
pub(super) fn resolve_matching(
    entity: &'static str,
    condition: &Condition,
    tables: &State,
    table: &TableData,
    values: Vec<Value>,
) -> Result<(Resolved, Vec<Value>), RepoError> {
    let mut resolver = Resolver {
        entity,
        def: table.def,
        values: values.into_iter(),
        tables: Some(tables),
    };
    let matching = resolver.condition(condition)?;
    Ok((matching, resolver.values.collect()))
}

/// Takes the values `condition` binds from `values`, unread: an `EXISTS` on a table nobody
/// wrote to.
fn skip_values(condition: &Condition, values: &mut std::vec::IntoIter<Value>) {
    match condition {
        Condition::Compare { values: count, .. } => {
            values.by_ref().take(*count).for_each(drop);
        }
        Condition::All(conditions) | Condition::Any(conditions) => {
            for condition in conditions {
                skip_values(condition, values);
            }
        }
        Condition::Not(condition) | Condition::Exists { condition, .. } => {
            skip_values(condition, values);
        }
        Condition::Scope { .. } => values.by_ref().take(1).for_each(drop),
    }
}

/// Whether `row`, the values of `def`'s columns in order, meets `condition` with its bound
/// `values`: what the store would select.
pub(crate) fn matches(
    def: &Table,
    condition: &Condition,
    row: &Row,
    values: Vec<Value>,
) -> Result<bool, RepoError> {
    let mut resolver = Resolver {
        entity: def.entity,
        def,
        values: values.into_iter(),
        tables: None,
    };
    Ok(truth(&resolver.condition(condition)?, row) == Some(true))
}

/// SQL's `AND` of three-valued truths: false wins, then unknown.
fn all(truths: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut result = Some(true);
    for truth in truths {
        match truth {
            Some(false) => return Some(false),
            None => result = None,
            Some(true) => {}
        }
    }
    result
}

/// SQL's `OR` of three-valued truths: true wins, then unknown.
fn any(truths: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut result = Some(false);
    for truth in truths {
        match truth {
            Some(true) => return Some(true),
            None => result = None,
            Some(false) => {}
        }
    }
    result
}

/// Whether `row` meets the condition: `None` when SQL would find it unknown (a `NULL`
/// compared), which selects the row no more than false does, but stays unknown under `NOT`.
pub(super) fn truth(condition: &Resolved, row: &Row) -> Option<bool> {
    let (position, operator, arguments) = match condition {
        Resolved::All(conditions) => return all(conditions.iter().map(|c| truth(c, row))),
        Resolved::Any(conditions) => return any(conditions.iter().map(|c| truth(c, row))),
        Resolved::Not(condition) => return truth(condition, row).map(|truth| !truth),
        Resolved::Within { position, values } => {
            let value = &row[*position];
            return Some(!value.is_null() && values.contains(value));
        }
        Resolved::Compare {
            position,
            operator,
            arguments,
        } => (*position, *operator, arguments),
    };
    let value = &row[position];
    let first = arguments.first().unwrap_or(&Value::Null);
    let ordered =
        |argument: &Value, accept: fn(Ordering) -> bool| value.compare(argument).map(accept);
    let text = |test: fn(&str, &str) -> bool| match (value.as_text(), first.as_text()) {
        (Some(value), Some(part)) => Some(test(value, part)),
        _ => None,
    };
    let within = || {
        any(arguments
            .iter()
            .map(|argument| ordered(argument, Ordering::is_eq)))
    };
    match operator {
        Operator::Equal => ordered(first, Ordering::is_eq),
        Operator::NotEqual => ordered(first, Ordering::is_ne),
        Operator::IsNull => Some(value.is_null()),
        Operator::IsNotNull => Some(!value.is_null()),
        Operator::In => within(),
        Operator::NotIn => within().map(|found| !found),
        Operator::Containing => text(|value, part| value.contains(part)),
        Operator::StartingWith => text(|value, part| value.starts_with(part)),
        Operator::EndingWith => text(|value, part| value.ends_with(part)),
        Operator::GreaterThan => ordered(first, Ordering::is_gt),
        Operator::GreaterThanEqual => ordered(first, Ordering::is_ge),
        Operator::LessThan => ordered(first, Ordering::is_lt),
        Operator::LessThanEqual => ordered(first, Ordering::is_le),
        Operator::Between => {
            let high = arguments.get(1).unwrap_or(&Value::Null);
            all([
                ordered(first, Ordering::is_ge),
                ordered(high, Ordering::is_le),
            ]
            .into_iter())
        }
    }
}

impl Query {
    /// Whether the query selects `row`.
    pub(super) fn selects(&self, row: &Row) -> bool {
        truth(&self.condition, row) == Some(true)
    }

    /// Whether its order is the stored order of `table`'s rows (its key, ascending): then its
    /// rows can be read one by one, without sorting them all first.
    pub(super) fn in_key_order(&self, table: &TableData) -> bool {
        self.order.iter().all(|&(_, descending)| !descending)
            && self
                .order
                .iter()
                .map(|&(position, _)| position)
                .eq(table.key_positions().iter().copied())
    }

    /// Rows skipped, then most rows kept.
    pub(super) fn page(&self) -> (usize, usize) {
        self.page
    }
}

/// The equalities of a condition that is only equalities (a finder, mostly): column position
/// and value.
fn equalities(condition: &Resolved) -> Option<Vec<(usize, &Value)>> {
    let conditions = match condition {
        Resolved::All(conditions) if !conditions.is_empty() => conditions,
        Resolved::Any(groups) if groups.len() == 1 => return equalities(&groups[0]),
        Resolved::Compare { .. } => std::slice::from_ref(condition),
        _ => return None,
    };
    conditions
        .iter()
        .map(|condition| match condition {
            Resolved::Compare {
                position,
                operator: Operator::Equal,
                arguments,
            } => Some((*position, arguments.first()?)),
            _ => None,
        })
        .collect()
}

/// The rows the query selects, in its order and page, as (key, row).
pub(super) fn select<'t>(query: &Query, table: &'t TableData) -> Vec<(&'t Vec<Value>, &'t Row)> {
    let (offset, limit) = query.page;
    // Equality on a whole key (a finder, mostly) is one lookup in its index.
    if let Some(equal) = equalities(&query.condition)
        && let Some(found) = table.find_unique(&equal)
    {
        return found
            .into_iter()
            .filter(|(_, row)| truth(&query.condition, row) == Some(true))
            .skip(offset)
            .take(limit)
            .collect();
    }
    let mut rows: Vec<(&Vec<Value>, &Row)> = table
        .rows
        .iter()
        .filter(|(_, row)| truth(&query.condition, row) == Some(true))
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
    rows.into_iter().skip(offset).take(limit).collect()
}
