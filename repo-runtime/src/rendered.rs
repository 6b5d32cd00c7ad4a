//! Statement text that only the call decides (the lengths of a derived query's `IN` lists, the
//! order and paging of a `list`), rendered from a [`Plan`] on first use and cached per shape,
//! so a repeated call renders nothing.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use repo_sql::{Dialect, Plan, PlanAction, PlanLimit, PlanTable};

use crate::schema::Table;

/// Shapes kept; past it a new shape is rendered on each call (lists of ever-new lengths).
const CAPACITY: usize = 4096;

/// What decides a statement's text. A plan is compared by value: two entities' plans may be
/// equal, their tables are not.
#[derive(PartialEq, Eq, Hash)]
enum Shape {
    /// A derived query with lists of these lengths.
    Lists {
        table: &'static str,
        dialect: Dialect,
        plan: &'static Plan<'static>,
        lists: Box<[usize]>,
    },
    /// A `list` in this order, paged or not.
    List {
        table: &'static str,
        dialect: Dialect,
        order: Box<[(&'static str, bool)]>,
        limit: PlanLimit,
    },
}

type Cache = RwLock<HashMap<Shape, Arc<str>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

/// The text of `shape`, rendered by `render` unless cached.
fn cached(shape: Shape, render: impl FnOnce() -> String) -> Arc<str> {
    // A poisoned lock only means another thread panicked mid-insert: the map is still whole.
    if let Some(text) = cache()
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&shape)
    {
        return Arc::clone(text);
    }
    let text: Arc<str> = render().into();
    let mut cache = cache()
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if cache.len() < CAPACITY {
        cache.insert(shape, Arc::clone(&text));
    }
    text
}

/// `plan` on `table`, in `dialect`.
fn render(table: &Table, dialect: Dialect, plan: &Plan<'_>, lists: Option<&[usize]>) -> String {
    let columns: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    let plan_table = PlanTable {
        name: table.name,
        columns: &columns,
        key: table.primary_key.columns,
    };
    plan.render_with_lists(dialect, &plan_table, lists)
}

/// `plan`'s text on `table` in `dialect` with lists of these lengths.
pub(crate) fn with_lists(
    table: &'static Table,
    dialect: Dialect,
    plan: &'static Plan<'static>,
    lists: &[usize],
) -> Arc<str> {
    let shape = Shape::Lists {
        table: table.name,
        dialect,
        plan,
        lists: lists.into(),
    };
    cached(shape, || render(table, dialect, plan, Some(lists)))
}

/// `list` on `table`: every row in `order` (column, descending), limited by `limit`
/// (`Page`: a limit and an offset as the two parameters).
pub(crate) fn list(
    table: &'static Table,
    dialect: Dialect,
    order: &[(&'static str, bool)],
    limit: PlanLimit,
) -> Arc<str> {
    let shape = Shape::List {
        table: table.name,
        dialect,
        order: order.into(),
        limit,
    };
    cached(shape, || {
        let plan = Plan {
            action: PlanAction::Select,
            any_of: &[],
            order,
            limit,
        };
        render(table, dialect, &plan, None)
    })
}

#[cfg(test)]
mod tests {
    use repo_sql::{Operator, PlanCondition};

    use super::*;
    use crate::schema::{Column, ColumnType, Constraint};

    const fn column(name: &'static str) -> Column {
        Column {
            name,
            field: name,
            ty: ColumnType::BigInt,
            nullable: false,
            generated: false,
            sensitive: false,
            default: None,
            renamed_from: None,
        }
    }

    static TABLE: Table = Table {
        name: "rendered_cache_probe",
        entity: "Probe",
        columns: &[column("id"), column("score")],
        primary_key: Constraint {
            name: "rendered_cache_probe_pkey",
            columns: &["id"],
            fields: "id",
        },
        unique: &[],
        indexes: &[],
        foreign_keys: &[],
        renamed_from: None,
    };

    static PLAN: Plan<'static> = Plan {
        action: PlanAction::Select,
        any_of: &[&[PlanCondition {
            column: "score",
            operator: Operator::In,
        }]],
        order: &[],
        limit: PlanLimit::All,
    };

    #[test]
    fn a_shape_is_rendered_once_and_then_shared() {
        let first = with_lists(&TABLE, Dialect::MySql, &PLAN, &[3]);
        assert_eq!(
            &*first,
            "SELECT `id`, `score` FROM `rendered_cache_probe` WHERE `score` IN (?, ?, ?)"
        );
        let again = with_lists(&TABLE, Dialect::MySql, &PLAN, &[3]);
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second call rendered nothing"
        );
        let other = with_lists(&TABLE, Dialect::MySql, &PLAN, &[0]);
        assert_eq!(
            &*other,
            "SELECT `id`, `score` FROM `rendered_cache_probe` WHERE 1 = 0"
        );
        let page = list(
            &TABLE,
            Dialect::Postgres,
            &[("score", true), ("id", false)],
            PlanLimit::Page,
        );
        assert_eq!(
            &*page,
            "SELECT \"id\", \"score\" FROM \"rendered_cache_probe\" ORDER BY \"score\" DESC, \"id\" \
             LIMIT $1 OFFSET $2"
        );
        let same = list(
            &TABLE,
            Dialect::Postgres,
            &[("score", true), ("id", false)],
            PlanLimit::Page,
        );
        assert!(Arc::ptr_eq(&page, &same));
    }
}
