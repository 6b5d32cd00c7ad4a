//! Index advice before production: which reads of a table no index of it serves, each a table
//! scan waiting for data, and the attribute that would fix it. Read from the schema alone
//! (the table's keys and indexes, its port's derived queries, its foreign keys, filters
//! handed in), so it runs in a unit test or the CLI's `check`, with no database.
//!
//! The rule is the one every planner here follows for a B-tree: a condition is served when
//! an index's first column is compared in it by equality, `IN`, a range or `IS NULL`; a
//! disjunction when each of its branches is; an unconditioned read of a few rows in some
//! order when an index starts with that order.

use std::fmt;

use repo_sql::{Condition, Operator, Plan, PlanLimit};

use super::Table;

/// The queries a port derives for an entity: implemented where the port is implemented.
#[doc(hidden)]
pub trait DerivedQueries {
    /// One per derived query method.
    const QUERIES: &'static [super::DeclaredQuery];
}

/// A read of a table that no index of it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexAdvice {
    /// The entity whose table is read.
    pub entity: &'static str,
    /// The table.
    pub table: &'static str,
    /// What reads it: a port's method (`find_all_by_status`), `foreign key author_id`, or the
    /// name given to a filter.
    pub query: String,
    /// Why no index serves it.
    pub problem: String,
    /// The attribute that would fix it, when one would.
    pub fix: Option<String>,
}

impl fmt::Display for IndexAdvice {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            out,
            "{} ({}): {} {}",
            self.entity, self.table, self.query, self.problem
        )?;
        match &self.fix {
            Some(fix) => write!(out, "; add {fix}"),
            None => Ok(()),
        }
    }
}

/// What an index serves of a comparison: its column leads a lookup.
fn seeks(operator: Operator) -> bool {
    matches!(
        operator,
        Operator::Equal
            | Operator::In
            | Operator::IsNull
            | Operator::Between
            | Operator::GreaterThan
            | Operator::GreaterThanEqual
            | Operator::LessThan
            | Operator::LessThanEqual
    )
}

/// One branch of a condition: the columns it compares in a way an index serves, equalities
/// first, and the rest by name, for the message.
#[derive(Debug, Clone, Default)]
struct Branch {
    /// Columns compared by equality or `IN`, in order.
    equal: Vec<&'static str>,
    /// Columns compared by a range or `IS NULL`, in order.
    range: Vec<&'static str>,
    /// Columns compared in a way no index serves (`<>`, `NOT IN`, `LIKE '%...'`, negations).
    other: Vec<&'static str>,
    /// Whether it selects through a relation only (a derived query's `author_username`):
    /// the table is then reached by its key or its foreign key, whose advice is its own.
    related: bool,
}

impl Branch {
    fn compare(&mut self, column: &'static str, operator: Operator) {
        let list = match operator {
            Operator::Equal | Operator::In => &mut self.equal,
            _ if seeks(operator) => &mut self.range,
            _ => &mut self.other,
        };
        if !list.contains(&column) {
            list.push(column);
        }
    }

    fn joined(&self, other: &Branch) -> Branch {
        let mut joined = self.clone();
        joined.related |= other.related;
        for &column in &other.equal {
            joined.compare(column, Operator::Equal);
        }
        for &column in &other.range {
            joined.compare(column, Operator::LessThan);
        }
        for &column in &other.other {
            joined.compare(column, Operator::NotEqual);
        }
        joined
    }

    fn seekable(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.equal.iter().chain(&self.range).copied()
    }

    /// Whether it compares no column at all.
    fn compares_nothing(&self) -> bool {
        self.seekable().next().is_none() && self.other.is_empty()
    }
}

/// Whether comparing `column` by `operator` narrows the rows read: not the live-row test of a
/// soft delete on `deleted`, which every live row passes.
fn narrows(column: &str, operator: Operator, deleted: Option<&str>) -> bool {
    !(Some(column) == deleted && operator == Operator::IsNull)
}

/// Past this many branches a condition is judged by its first ones: a search form's
/// disjunctions of disjunctions multiply.
const MOST_BRANCHES: usize = 64;

/// The branches of `condition` (its disjunctive form), without what does not narrow.
fn branches(condition: &Condition, deleted: Option<&str>) -> Vec<Branch> {
    match condition {
        Condition::Compare {
            column, operator, ..
        } => {
            let mut branch = Branch::default();
            if narrows(column, *operator, deleted) {
                branch.compare(column, *operator);
            }
            vec![branch]
        }
        Condition::Scope { column } => {
            let mut branch = Branch::default();
            branch.compare(column, Operator::Equal);
            vec![branch]
        }
        Condition::All(items) => items.iter().fold(vec![Branch::default()], |sofar, item| {
            let next = branches(item, deleted);
            let mut joined = Vec::new();
            for left in &sofar {
                for right in &next {
                    if joined.len() < MOST_BRANCHES {
                        joined.push(left.joined(right));
                    }
                }
            }
            joined
        }),
        Condition::Any(items) => {
            let mut all: Vec<Branch> = items
                .iter()
                .flat_map(|item| branches(item, deleted))
                .collect();
            all.truncate(MOST_BRANCHES);
            all
        }
        // A negation is served by no index; a test of another table narrows this one through
        // that table's lookup by its link column (its foreign key's advice).
        Condition::Not(inner) => {
            let mut branch = Branch::default();
            for inner in branches(inner, deleted) {
                branch
                    .other
                    .extend(inner.seekable().chain(inner.other.iter().copied()));
                if inner.related {
                    branch.other.push("NOT EXISTS");
                }
            }
            vec![branch]
        }
        Condition::Exists { .. } => vec![Branch {
            related: true,
            ..Branch::default()
        }],
    }
}

/// The branches of a plan: its groups, each with the table's tenant scope.
fn plan_branches(plan: &Plan<'static>, deleted: Option<&str>) -> Vec<Branch> {
    plan.any_of
        .iter()
        .map(|group| {
            let mut branch = Branch::default();
            for condition in group.iter() {
                if narrows(condition.column, condition.operator, deleted) {
                    branch.compare(condition.column, condition.operator);
                }
            }
            // A method's name always compares something: nothing left is a relation's.
            branch.related = branch.compares_nothing();
            if let Some(tenant) = plan.scope {
                branch.compare(tenant, Operator::Equal);
            }
            branch
        })
        .collect()
}

impl Table {
    /// The column lists of the primary key, the unique keys and the indexes.
    fn index_columns(&self) -> impl Iterator<Item = &'static [&'static str]> {
        std::iter::once(self.primary_key.columns)
            .chain(self.unique.iter().map(|key| key.columns))
            .chain(self.indexes.iter().map(|index| index.columns))
    }

    /// Whether some index leads with a column `branch` seeks by.
    fn serves(&self, branch: &Branch) -> bool {
        branch.related
            || self.index_columns().any(|columns| {
                columns
                    .first()
                    .is_some_and(|first| branch.seekable().any(|c| c == *first))
            })
    }

    /// Whether some index gives rows in the order of `columns`: starts with them, the primary
    /// key's columns at their end implied (an index entry leads to its row by key: InnoDB and
    /// SQLite keep the key in it, PostgreSQL sorts ties of a few rows at most).
    fn orders_by(&self, columns: &[&str]) -> bool {
        let key = self.primary_key.columns;
        let mut wanted = columns;
        while let [rest @ .., last] = wanted
            && !rest.is_empty()
            && key.contains(last)
        {
            wanted = rest;
        }
        self.leads_with(wanted)
    }

    /// Whether some index starts with `columns`, in order.
    fn leads_with(&self, columns: &[&str]) -> bool {
        self.index_columns().any(|index| index.starts_with(columns))
    }

    /// The Rust field of `column`, for an attribute.
    fn field_of<'a>(&'a self, column: &'a str) -> &'a str {
        self.column(column).map_or(column, |column| column.field)
    }

    /// How the advice and the planners name the lookup by foreign `key`: `foreign key author_id`.
    pub(crate) fn foreign_key_read(&self, key: &super::ForeignKey) -> String {
        let fields: Vec<&str> = key.columns.iter().map(|c| self.field_of(c)).collect();
        format!("foreign key {}", fields.join(", "))
    }

    /// The attribute that adds an index on `columns` (fields, in order).
    fn index_attribute(&self, columns: &[&str]) -> String {
        match columns {
            [one] => format!("#[repo(index)] to field `{}`", self.field_of(one)),
            _ => {
                let fields: Vec<&str> =
                    columns.iter().map(|column| self.field_of(column)).collect();
                format!("#[repo(index({}))] to `{}`", fields.join(", "), self.entity)
            }
        }
    }

    /// The advice for a read of `branches` ordered by `order`, limited or not; `None` when
    /// an index serves it.
    fn advise(
        &self,
        query: String,
        branches: &[Branch],
        order: &[(&str, bool)],
        limited: bool,
    ) -> Option<IndexAdvice> {
        let advice = |problem: String, fix: Option<String>| IndexAdvice {
            entity: self.entity,
            table: self.name,
            query: query.clone(),
            problem,
            fix,
        };
        // No condition at all: every row is what was asked for, unless a few in some order.
        let unconditioned = branches
            .iter()
            .all(|branch| !branch.related && branch.compares_nothing());
        if branches.is_empty() || unconditioned {
            let columns: Vec<&str> = order.iter().map(|(column, _)| *column).collect();
            let one_direction = order.windows(2).all(|pair| pair[0].1 == pair[1].1);
            if !limited || columns.is_empty() || (one_direction && self.orders_by(&columns)) {
                return None;
            }
            let fix = one_direction.then(|| self.index_attribute(&columns));
            return Some(advice(
                format!(
                    "sorts every row for a few, by {}: no index starts with that order",
                    columns.join(", ")
                ),
                fix,
            ));
        }
        let unserved = branches.iter().find(|branch| !self.serves(branch))?;
        let compared: Vec<&str> = unserved.seekable().collect();
        if compared.is_empty() {
            return Some(advice(
                format!(
                    "reads every row: it compares {} only in ways no index serves (<>, NOT IN, \
                     a match inside or at the end of text, a negation)",
                    unserved.other.join(", ")
                ),
                None,
            ));
        }
        // Equalities lead a composite index; one range may follow them.
        let mut columns: Vec<&str> = unserved.equal.clone();
        columns.extend(unserved.range.first());
        columns.truncate(3);
        Some(advice(
            format!(
                "reads every row: no index starts with {}",
                compared.join(" or ")
            ),
            Some(self.index_attribute(&columns)),
        ))
    }

    /// The reads of this table that no index serves: its port's derived queries, and loads
    /// and cascades through its foreign keys.
    pub fn index_advice(&'static self) -> Vec<IndexAdvice> {
        let deleted = self.deleted_column();
        let mut advice: Vec<IndexAdvice> = self
            .queries
            .iter()
            .filter_map(|query| {
                let plan = query.plan;
                self.advise(
                    query.method.to_owned(),
                    &plan_branches(plan, deleted),
                    plan.order,
                    plan.limit != PlanLimit::All,
                )
            })
            .collect();
        for key in self.foreign_keys {
            if self.leads_with(key.columns) {
                continue;
            }
            advice.push(IndexAdvice {
                entity: self.entity,
                table: self.name,
                query: self.foreign_key_read(key),
                problem: format!(
                    "reads every row for each row of `{}` it refers to (loading the relation, \
                     checking or cascading a delete there): no index starts with {}",
                    key.table,
                    key.columns.join(", ")
                ),
                fix: Some(self.index_attribute(key.columns)),
            });
        }
        advice
    }

    /// The advice for a filter built at run time, read in `order` (limited or not); `None`
    /// when an index serves it.
    pub(crate) fn filter_advice(
        &'static self,
        name: &str,
        condition: &Condition,
        order: &[(&'static str, bool)],
        limited: bool,
    ) -> Option<IndexAdvice> {
        let branches = branches(condition, self.deleted_column());
        self.advise(name.to_owned(), &branches, order, limited)
    }
}
