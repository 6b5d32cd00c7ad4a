//! Statement text that only the call decides (the lengths of a derived query's `IN` lists, the
//! order and paging of a `list`, the rows of a batch or of `get_many`, a filter built at run
//! time), rendered from its description in `repo-sql` on first use and cached per shape, so a
//! repeated call renders nothing.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock, RwLock};

use repo_sql::{
    Condition, ConflictTarget, Dialect, Filtered, Insert, OnConflict, Patched, Plan, PlanAction,
    PlanLimit, PlanTable, Projected, Selected,
};

use crate::schema::Table;

/// Shapes kept; past it a new shape is rendered on each call (lists of ever-new lengths).
const CAPACITY: usize = 4096;

/// What decides a statement's text. A plan is compared by value: two entities' plans may be
/// equal, their tables are not.
#[derive(PartialEq, Eq, Hash)]
enum Shape {
    /// A derived query with lists of these lengths, without its scope when `unscoped`.
    Lists {
        table: &'static str,
        dialect: Dialect,
        plan: &'static Plan<'static>,
        lists: Box<[usize]>,
        unscoped: bool,
    },
    /// A batch insert of this many rows as `VALUES` lists.
    Batch {
        table: &'static str,
        dialect: Dialect,
        rows: usize,
        returning: bool,
    },
    /// PostgreSQL's batch insert by arrays, whatever its length.
    Unnest { table: &'static str },
    /// The rows with this many keys (`get_many`).
    Keys {
        table: &'static str,
        dialect: Dialect,
        keys: usize,
    },
    /// A conditional insert of this many rows on a unique key (`None`: the primary key).
    Conditional {
        table: &'static str,
        dialect: Dialect,
        rows: usize,
        unnest: bool,
        key: Option<usize>,
        action: OnConflict,
    },
    /// The update of one row by its key that returns nothing.
    UpdateInPlace {
        table: &'static str,
        dialect: Dialect,
    },
    /// MySQL's update of the row a one-row insert conflicted with on a unique key.
    DuplicateKeyUpdate {
        table: &'static str,
        key: Option<usize>,
    },
    /// The rows of a table a link table ties to parents (`linked.keys` of them; one array on
    /// PostgreSQL).
    Linked {
        table: &'static str,
        dialect: Dialect,
        linked: repo_sql::Linked<'static>,
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

/// `read` of `table` as a plan reads it.
fn with_plan_table<R>(table: &Table, read: impl FnOnce(&PlanTable<'_>) -> R) -> R {
    let columns: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    read(&PlanTable {
        name: table.name,
        columns: &columns,
        key: table.primary_key.columns,
    })
}

/// `plan` on `table`, in `dialect`.
fn render(table: &Table, dialect: Dialect, plan: &Plan<'_>, lists: Option<&[usize]>) -> String {
    with_plan_table(table, |plan_table| {
        plan.render_with_lists(dialect, plan_table, lists)
    })
}

/// `write` of the insert into `table` of every column the database does not generate.
fn with_insert<R>(table: &Table, write: impl FnOnce(&Insert<'_>) -> R) -> R {
    let columns: Vec<&str> = table.inserted_columns().map(|column| column.name).collect();
    let generated = table.columns.iter().find(|column| column.generated);
    table.with_stamps(|stamps| {
        write(&Insert {
            table: table.name,
            columns: &columns,
            generated: generated.map(|column| column.name),
            stamps,
        })
    })
}

/// A batch insert of `rows` rows into `table`, returning the generated keys when `returning`.
pub(crate) fn batch(
    table: &'static Table,
    dialect: Dialect,
    rows: usize,
    returning: bool,
) -> Arc<str> {
    let shape = Shape::Batch {
        table: table.name,
        dialect,
        rows,
        returning,
    };
    cached(shape, || {
        with_insert(table, |insert| insert.batch(dialect, rows, returning))
    })
}

/// PostgreSQL's batch insert into `table`: one array per column, unnested into rows.
pub(crate) fn unnest(table: &'static Table) -> Arc<str> {
    let shape = Shape::Unnest { table: table.name };
    cached(shape, || {
        with_insert(table, |insert| insert.postgres_unnest())
    })
}

/// The rows of `table` with `keys` keys, in `dialect`.
pub(crate) fn by_keys(table: &'static Table, dialect: Dialect, keys: usize) -> Arc<str> {
    let shape = Shape::Keys {
        table: table.name,
        dialect,
        keys,
    };
    cached(shape, || {
        with_plan_table(table, |plan_table| plan_table.select_by_keys(dialect, keys))
    })
}

/// `read` of the unique key `key` of `table` (`None`: the primary key) as a conditional insert
/// tests it.
fn with_conflict_target<R>(
    table: &Table,
    key: Option<usize>,
    read: impl FnOnce(&ConflictTarget<'_>) -> R,
) -> R {
    let columns: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
    let constraint = key.map_or(&table.primary_key, |index| &table.unique[index]);
    read(&ConflictTarget {
        key: constraint.columns,
        primary: table.primary_key.columns,
        returning: &columns,
    })
}

/// An insert of `rows` rows into `table` that skips or updates (`action`) a row conflicting on
/// its unique key `key`, returning the rows written (SQLite, PostgreSQL).
pub(crate) fn conditional(
    table: &'static Table,
    dialect: Dialect,
    rows: usize,
    unnest: bool,
    key: Option<usize>,
    action: OnConflict,
) -> Arc<str> {
    let shape = Shape::Conditional {
        table: table.name,
        dialect,
        rows,
        unnest,
        key,
        action,
    };
    cached(shape, || {
        with_insert(table, |insert| {
            with_conflict_target(table, key, |target| {
                insert.on_conflict(dialect, rows, unnest, target, action)
            })
        })
    })
}

/// The update of every column outside the key of the row with the bound key, returning
/// nothing (what `Repository::write` runs).
pub(crate) fn update_in_place(table: &'static Table, dialect: Dialect) -> Arc<str> {
    let shape = Shape::UpdateInPlace {
        table: table.name,
        dialect,
    };
    cached(shape, || {
        let columns: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
        let set: Vec<&str> = table
            .columns
            .iter()
            .map(|column| column.name)
            .filter(|name| !table.primary_key.columns.contains(name))
            .collect();
        table.with_stamps(|stamps| {
            repo_sql::RowWrite {
                table: table.name,
                columns: &columns,
                set: &set,
                key: table.primary_key.columns,
                stamps,
            }
            .update_in_place(dialect)
        })
    })
}

/// MySQL's insert of one row into `table` that updates the row it conflicts with instead.
pub(crate) fn duplicate_key_update(table: &'static Table, key: Option<usize>) -> Arc<str> {
    let shape = Shape::DuplicateKeyUpdate {
        table: table.name,
        key,
    };
    cached(shape, || {
        with_insert(table, |insert| {
            with_conflict_target(table, key, |target| insert.on_duplicate_key_update(target))
        })
    })
}

/// The rows of `table` linked to `keys` parents through the `link` table's `from` and `to`
/// columns, each with its parent's key.
pub(crate) fn linked(
    table: &'static Table,
    dialect: Dialect,
    linked: repo_sql::Linked<'static>,
) -> Arc<str> {
    let keys = if dialect == Dialect::Postgres {
        1
    } else {
        linked.keys
    };
    let shape = Shape::Linked {
        table: table.name,
        dialect,
        linked: repo_sql::Linked { keys, ..linked },
    };
    cached(shape, || {
        with_plan_table(table, |plan_table| linked.render(dialect, plan_table))
    })
}

/// `plan`'s text on `table` in `dialect` with lists of these lengths.
pub(crate) fn with_lists(
    table: &'static Table,
    dialect: Dialect,
    plan: &'static Plan<'static>,
    lists: &[usize],
    unscoped: bool,
) -> Arc<str> {
    let shape = Shape::Lists {
        table: table.name,
        dialect,
        plan,
        lists: lists.into(),
        unscoped,
    };
    cached(shape, || {
        let plan = Plan {
            scope: plan.scope.filter(|_| !unscoped),
            ..*plan
        };
        render(table, dialect, &plan, Some(lists))
    })
}

/// Statements whose condition is built at run time, by the hash of their shape; equal hashes
/// are told apart by comparing. `K` is what decides the text besides the table.
struct ShapeCache<K> {
    entries: RwLock<HashMap<u64, Vec<Rendered<K>>>>,
}

/// A shape and its text.
type Rendered<K> = (K, Arc<str>);

impl<K> ShapeCache<K> {
    fn new() -> Self {
        ShapeCache {
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The text of the shape that hashes to `hash` and is `same`, else `render`ed and kept
    /// under the key `keep` makes: a lookup clones nothing.
    fn get(
        &self,
        hash: u64,
        same: impl Fn(&K) -> bool,
        render: impl FnOnce() -> String,
        keep: impl FnOnce() -> K,
    ) -> Arc<str> {
        if let Some(entries) = self
            .entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&hash)
            && let Some((_, text)) = entries.iter().find(|(shape, _)| same(shape))
        {
            return Arc::clone(text);
        }
        let text: Arc<str> = render().into();
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() < CAPACITY {
            entries
                .entry(hash)
                .or_default()
                .push((keep(), Arc::clone(&text)));
        }
        text
    }
}

/// What decides a filtered statement's text: a filter's condition is compared by shape (what
/// it renders, not the values it binds).
struct FilteredShape {
    table: &'static str,
    dialect: Dialect,
    action: PlanAction,
    condition: Arc<Condition>,
    order: Box<[(&'static str, bool)]>,
    limit: PlanLimit,
}

fn shape_hash(
    table: &'static Table,
    dialect: Dialect,
    condition: &Condition,
    rest: impl Hash,
) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (table.name, dialect, rest).hash(&mut hasher);
    condition.hash_shape(dialect, &mut hasher);
    hasher.finish()
}

/// A statement on the rows of `table` that `condition` selects (`action`, in `order`,
/// limited by `limit`), in `dialect`: rendered on the first call of its shape, then shared.
pub(crate) fn filtered(
    table: &'static Table,
    dialect: Dialect,
    action: PlanAction,
    condition: &Arc<Condition>,
    order: &[(&'static str, bool)],
    limit: PlanLimit,
) -> Arc<str> {
    static CACHE: OnceLock<ShapeCache<FilteredShape>> = OnceLock::new();
    let hash = shape_hash(table, dialect, condition, (action, order, limit));
    let same = |shape: &FilteredShape| {
        shape.table == table.name
            && shape.dialect == dialect
            && shape.action == action
            && *shape.order == *order
            && shape.limit == limit
            && shape.condition.same_shape(condition, dialect)
    };
    let render = || {
        with_plan_table(table, |plan_table| {
            let statement = Filtered {
                action,
                condition,
                order,
                limit,
            };
            statement.render(dialect, plan_table)
        })
    };
    let keep = || FilteredShape {
        table: table.name,
        dialect,
        action,
        condition: Arc::clone(condition),
        order: order.into(),
        limit,
    };
    CACHE
        .get_or_init(ShapeCache::new)
        .get(hash, same, render, keep)
}

/// What decides a patch's text: the columns it sets and its condition's shape.
struct PatchedShape {
    table: &'static str,
    dialect: Dialect,
    set: Box<[&'static str]>,
    condition: Arc<Condition>,
    returning: bool,
}

/// An update of the `set` columns of the rows of `table` that `condition` selects, returning
/// them when `returning`, in `dialect`: rendered on the first call of its shape.
pub(crate) fn patched(
    table: &'static Table,
    dialect: Dialect,
    set: &[&'static str],
    condition: &Arc<Condition>,
    returning: bool,
) -> Arc<str> {
    static CACHE: OnceLock<ShapeCache<PatchedShape>> = OnceLock::new();
    let hash = shape_hash(table, dialect, condition, (set, returning));
    let same = |shape: &PatchedShape| {
        shape.table == table.name
            && shape.dialect == dialect
            && *shape.set == *set
            && shape.returning == returning
            && shape.condition.same_shape(condition, dialect)
    };
    let render = || {
        with_plan_table(table, |plan_table| {
            let statement = Patched {
                set,
                condition,
                returning,
                version: table
                    .policy_column(repo_sql::Policy::Version)
                    .map(|column| column.name),
            };
            statement.render(dialect, plan_table)
        })
    };
    let keep = || PatchedShape {
        table: table.name,
        dialect,
        set: set.into(),
        condition: Arc::clone(condition),
        returning,
    };
    CACHE
        .get_or_init(ShapeCache::new)
        .get(hash, same, render, keep)
}

/// What decides a projection's text: its items, its condition's shape, its order and limit.
struct ProjectedKey {
    table: &'static str,
    dialect: Dialect,
    items: Arc<[Selected<'static>]>,
    condition: Arc<Condition>,
    order: Arc<[(&'static str, bool)]>,
    limit: PlanLimit,
    matching: Option<Arc<Condition>>,
}

/// A select of `items` (columns, or aggregates grouped by columns) from the rows of `table`
/// that `condition` selects, in `order`, limited, in `dialect`: rendered once per shape.
pub(crate) fn projected(
    table: &'static Table,
    dialect: Dialect,
    items: &Arc<[Selected<'static>]>,
    condition: &Arc<Condition>,
    order: &Arc<[(&'static str, bool)]>,
    limit: PlanLimit,
    matching: Option<&Arc<Condition>>,
) -> Arc<str> {
    static CACHE: OnceLock<ShapeCache<ProjectedKey>> = OnceLock::new();
    let mut hash = shape_hash(table, dialect, condition, (&**items, &**order, limit));
    if let Some(matching) = matching {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        hash.hash(&mut hasher);
        matching.hash_shape(dialect, &mut hasher);
        hash = hasher.finish();
    }
    let same = |shape: &ProjectedKey| {
        shape.table == table.name
            && shape.dialect == dialect
            && *shape.items == **items
            && *shape.order == **order
            && shape.limit == limit
            && shape.condition.same_shape(condition, dialect)
            && match (&shape.matching, matching) {
                (None, None) => true,
                (Some(kept), Some(matching)) => kept.same_shape(matching, dialect),
                _ => false,
            }
    };
    let render = || {
        with_plan_table(table, |plan_table| {
            let statement = Projected {
                items,
                condition,
                order,
                limit,
                matching: matching.map(|matching| &**matching),
            };
            statement.render(dialect, plan_table)
        })
    };
    let keep = || ProjectedKey {
        table: table.name,
        dialect,
        items: Arc::clone(items),
        condition: Arc::clone(condition),
        order: Arc::clone(order),
        limit,
        matching: matching.cloned(),
    };
    CACHE
        .get_or_init(ShapeCache::new)
        .get(hash, same, render, keep)
}

#[cfg(test)]
mod tests {
    use repo_sql::{Operator, PlanCondition};

    use super::*;
    use crate::schema::{Column, ColumnType, Constraint};

    const fn column(name: &'static str) -> Column {
        Column::new(name, name, ColumnType::BigInt, false)
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
        queries: &[],
    };

    static PLAN: Plan<'static> = Plan {
        action: PlanAction::Select,
        any_of: &[&[PlanCondition {
            column: "score",
            operator: Operator::In,
        }]],
        order: &[],
        limit: PlanLimit::All,
        scope: None,
    };

    #[test]
    fn a_shape_is_rendered_once_and_then_shared() {
        let first = with_lists(&TABLE, Dialect::MySql, &PLAN, &[3], false);
        assert_eq!(
            &*first,
            "SELECT `id`, `score` FROM `rendered_cache_probe` WHERE `score` IN (?, ?, ?)"
        );
        let again = with_lists(&TABLE, Dialect::MySql, &PLAN, &[3], false);
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second call rendered nothing"
        );
        let other = with_lists(&TABLE, Dialect::MySql, &PLAN, &[0], false);
        assert_eq!(
            &*other,
            "SELECT `id`, `score` FROM `rendered_cache_probe` WHERE 1 = 0"
        );
        let every = Arc::new(Condition::always());
        let page = filtered(
            &TABLE,
            Dialect::Postgres,
            PlanAction::Select,
            &every,
            &[("score", true), ("id", false)],
            PlanLimit::Page,
        );
        assert_eq!(
            &*page,
            "SELECT \"id\", \"score\" FROM \"rendered_cache_probe\" ORDER BY \"score\" DESC, \"id\" \
             LIMIT $1 OFFSET $2"
        );
        let same = filtered(
            &TABLE,
            Dialect::Postgres,
            PlanAction::Select,
            &Arc::new(Condition::always()),
            &[("score", true), ("id", false)],
            PlanLimit::Page,
        );
        assert!(Arc::ptr_eq(&page, &same));
        let scores = |n| {
            Arc::new(Condition::Compare {
                column: "score",
                operator: Operator::In,
                values: n,
            })
        };
        let count = |condition: &Arc<Condition>, dialect| {
            filtered(
                &TABLE,
                dialect,
                PlanAction::Count,
                condition,
                &[],
                PlanLimit::All,
            )
        };
        assert_eq!(
            &*count(&scores(2), Dialect::Sqlite),
            "SELECT COUNT(*) FROM \"rendered_cache_probe\" WHERE \"score\" IN (?, ?)"
        );
        assert!(!Arc::ptr_eq(
            &count(&scores(2), Dialect::Sqlite),
            &count(&scores(3), Dialect::Sqlite)
        ));
        assert!(
            Arc::ptr_eq(
                &count(&scores(2), Dialect::Postgres),
                &count(&scores(3), Dialect::Postgres)
            ),
            "one array whatever the list's length"
        );
    }
}
