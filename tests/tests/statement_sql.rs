//! Snapshots of the SQL of every statement built at run time, per dialect: filters with their
//! order and page, patches, conditional inserts, projections, filters through relations. A
//! changed snapshot is reviewed like code.

use repo_runtime::__private::{PlanAction, PlanLimit, Selected};
use repo_runtime::Dialect;
use repo_sql::{
    Condition, ConflictTarget, Filtered, Insert, Linked, Numeric, OnConflict, Operator, Patched,
    Plan, PlanCondition, PlanTable, Projected, RowWrite, Stamps,
};

const TABLE: PlanTable<'static> = PlanTable {
    name: "articles",
    columns: &["id", "author_id", "title", "views", "rating"],
    key: &["id"],
};

fn compare(column: &'static str, operator: Operator, values: usize) -> Condition {
    Condition::Compare {
        column,
        operator,
        values,
    }
}

/// A search form's filter: a list, a negated text match, a null test, a range.
fn search() -> Condition {
    Condition::All(vec![
        compare("author_id", Operator::In, 3),
        Condition::Any(vec![
            Condition::Not(Box::new(compare("title", Operator::Containing, 1))),
            compare("rating", Operator::IsNull, 0),
        ]),
        compare("views", Operator::Between, 2),
    ])
}

fn statements(dialect: Dialect) -> String {
    let condition = search();
    let mut out = Vec::new();
    for (name, action, order, limit) in [
        (
            "page",
            PlanAction::Select,
            &[("views", true), ("id", false)][..],
            PlanLimit::Page,
        ),
        ("count", PlanAction::Count, &[][..], PlanLimit::All),
        ("exists", PlanAction::Exists, &[][..], PlanLimit::All),
        ("delete", PlanAction::Delete, &[][..], PlanLimit::All),
    ] {
        let filtered = Filtered {
            action,
            condition: &condition,
            order,
            limit,
        };
        out.push(format!(
            "-- filter: {name}\n{}",
            filtered.render(dialect, &TABLE)
        ));
    }
    let patch = Patched {
        set: &["title", "rating"],
        condition: &condition,
        returning: dialect != Dialect::MySql,
        version: None,
    };
    out.push(format!("-- patch_where\n{}", patch.render(dialect, &TABLE)));
    let insert = Insert {
        table: "articles",
        columns: &["author_id", "title", "views", "rating"],
        generated: Some("id"),
        stamps: Stamps::NONE,
    };
    let by_title = ConflictTarget {
        key: &["author_id", "title"],
        primary: &["id"],
        returning: TABLE.columns,
    };
    match dialect {
        Dialect::MySql => out.push(format!(
            "-- upsert_on, after a plain insert conflicted on the key\n{}",
            insert.on_duplicate_key_update(&by_title)
        )),
        _ => {
            out.push(format!(
                "-- insert_or_ignore of 2 rows\n{}",
                insert.on_conflict(dialect, 2, false, &by_title, OnConflict::Ignore)
            ));
            out.push(format!(
                "-- upsert_on\n{}",
                insert.on_conflict(dialect, 1, false, &by_title, OnConflict::Update)
            ));
        }
    }
    // A versioned, timestamped table with soft delete: a patch stamps `updated_at` and moves
    // the version on; a conflicting row's update keeps `created_at` and the deletion mark,
    // and moves the version on; the unique key is a partial index over the rows that live.
    let stamps = Stamps {
        version: Some("version"),
        kept: &["created_at", "deleted_at"],
        deleted: Some("deleted_at"),
        tenant: None,
    };
    let at_version = Condition::All(vec![
        compare("id", Operator::Equal, 1),
        compare("version", Operator::Equal, 1),
    ]);
    let patch = Patched {
        set: &["title", "updated_at"],
        condition: &at_version,
        returning: dialect != Dialect::MySql,
        version: stamps.version,
    };
    out.push(format!(
        "-- policies: patch at the version read\n{}",
        patch.render(dialect, &TABLE)
    ));
    let stamped = Insert {
        table: "articles",
        columns: &[
            "author_id",
            "title",
            "version",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
        generated: Some("id"),
        stamps,
    };
    out.push(match dialect {
        Dialect::MySql => format!(
            "-- policies: upsert_on\n{}",
            stamped.on_duplicate_key_update(&by_title)
        ),
        _ => format!(
            "-- policies: upsert_on\n{}",
            stamped.on_conflict(dialect, 1, false, &by_title, OnConflict::Update)
        ),
    });
    // Scoped by tenant: every statement selects the tenant's rows (the scope's value follows
    // the conditions'), an `EXISTS` on a scoped table too; an update binds the tenant after the
    // key; an upsert writes into a stored row of the inserted row's tenant only.
    let scoped = Condition::All(vec![
        compare("title", Operator::StartingWith, 1),
        Condition::Exists {
            table: "authors",
            link: "id",
            column: "author_id",
            condition: Box::new(Condition::All(vec![
                compare("name", Operator::Equal, 1),
                Condition::Scope { column: "org_id" },
            ])),
        },
        Condition::Scope { column: "org_id" },
    ]);
    let listed = Filtered {
        action: PlanAction::Select,
        condition: &scoped,
        order: &[("id", false)],
        limit: PlanLimit::Page,
    };
    out.push(format!(
        "-- tenant: a filter's page\n{}",
        listed.render(dialect, &TABLE)
    ));
    out.push(format!(
        "-- tenant: the same on an unscoped handle\n{}",
        Filtered {
            condition: &scoped.without_scope(),
            ..listed
        }
        .render(dialect, &TABLE)
    ));
    let finder: &[&[PlanCondition<'_>]] = &[&[PlanCondition {
        column: "title",
        operator: Operator::Equal,
    }]];
    let find = Plan {
        action: PlanAction::Select,
        any_of: finder,
        order: &[],
        limit: PlanLimit::Fixed(1),
        scope: Some("org_id"),
    };
    out.push(format!(
        "-- tenant: a finder\n{}",
        find.render(dialect, &TABLE)
    ));
    let tenant_row = RowWrite {
        table: "articles",
        columns: &["id", "org_id", "title"],
        set: &["org_id", "title"],
        key: &["id"],
        stamps: Stamps {
            version: None,
            kept: &["org_id"],
            deleted: None,
            tenant: Some("org_id"),
        },
    };
    out.push(format!("-- tenant: update\n{}", tenant_row.update(dialect)));
    out.push(format!("-- tenant: upsert\n{}", tenant_row.upsert(dialect)));
    let grouped = [
        Selected::Column("author_id"),
        Selected::Count,
        Selected::Sum("views", Numeric::Integer),
        Selected::Sum("rating", Numeric::Float),
        Selected::Avg("rating"),
        Selected::Min("title"),
        Selected::Max("views"),
    ];
    let projected = Projected {
        items: &grouped,
        condition: &condition,
        order: &[("author_id", true)],
        limit: PlanLimit::Page,
        matching: None,
    };
    out.push(format!(
        "-- aggregates by author, paged\n{}",
        projected.render(dialect, &TABLE)
    ));
    let columns = [Selected::Column("id"), Selected::Column("title")];
    let always = Condition::always();
    let projected = Projected {
        items: &columns,
        condition: &always,
        order: &[("title", false), ("id", false)],
        limit: PlanLimit::All,
        matching: None,
    };
    out.push(format!(
        "-- projection\n{}",
        projected.render(dialect, &TABLE)
    ));
    // Through relations: articles tagged "rust" (two links away), none of whose comments is
    // flagged.
    let tagged = Condition::Exists {
        table: "article_tags",
        link: "article_id",
        column: "id",
        condition: Box::new(Condition::Exists {
            table: "tags",
            link: "id",
            column: "tag_id",
            condition: Box::new(compare("name", Operator::Equal, 1)),
        }),
    };
    let unflagged = Condition::Not(Box::new(Condition::Exists {
        table: "comments",
        link: "article_id",
        column: "id",
        condition: Box::new(compare("flagged", Operator::Equal, 1)),
    }));
    let through = Condition::All(vec![tagged, unflagged]);
    let counted = Filtered {
        action: PlanAction::Count,
        condition: &through,
        order: &[],
        limit: PlanLimit::All,
    };
    out.push(format!(
        "-- count through relations\n{}",
        counted.render(dialect, &TABLE)
    ));
    out.extend(relation_loads(dialect));
    out.join("\n\n")
}

/// The statements a page of three articles' relations load with: each relation one
/// statement, whatever the page's size.
fn relation_loads(dialect: Dialect) -> Vec<String> {
    let authors = PlanTable {
        name: "authors",
        columns: &["id", "username"],
        key: &["id"],
    };
    let tags = PlanTable {
        name: "tags",
        columns: &["id", "name"],
        key: &["id"],
    };
    let favorites = PlanTable {
        name: "favorites",
        columns: &["author_id", "article_id"],
        key: &["author_id", "article_id"],
    };
    let by_key = compare("id", Operator::In, 3);
    let parents = Filtered {
        action: PlanAction::Select,
        condition: &by_key,
        order: &[("id", false)],
        limit: PlanLimit::All,
    };
    let by_author = compare("author_id", Operator::In, 3);
    let children = Filtered {
        action: PlanAction::Select,
        condition: &by_author,
        order: &[("id", false)],
        limit: PlanLimit::All,
    };
    let linked = Linked {
        link: "article_tags",
        from: "article_id",
        to: "tag_id",
        keys: 3,
        target_deleted: None,
        link_deleted: None,
        target_tenant: None,
        link_tenant: None,
    };
    let of_page = compare("article_id", Operator::In, 3);
    let viewers = Condition::Exists {
        table: "authors",
        link: "id",
        column: "author_id",
        condition: Box::new(compare("id", Operator::Equal, 1)),
    };
    let items = [
        Selected::Column("article_id"),
        Selected::Count,
        Selected::CountMatching,
    ];
    let counted = Projected {
        items: &items,
        condition: &of_page,
        order: &[("article_id", false)],
        limit: PlanLimit::All,
        matching: Some(&viewers),
    };
    vec![
        format!(
            "-- belongs-to: Article::AUTHOR\n{}",
            parents.render(dialect, &authors)
        ),
        format!(
            "-- has-many: Author::ARTICLES\n{}",
            children.render(dialect, &TABLE)
        ),
        format!(
            "-- many-to-many: Article::TAGS\n{}",
            linked.render(dialect, &tags)
        ),
        format!(
            "-- counts per row: Article::FAVORITED_BY.count_matching(.., Author::ID.eq(viewer))\n{}",
            counted.render(dialect, &favorites)
        ),
    ]
}

#[test]
fn sqlite() {
    insta::assert_snapshot!(statements(Dialect::Sqlite));
}

#[test]
fn postgres() {
    insta::assert_snapshot!(statements(Dialect::Postgres));
}

#[test]
fn mysql() {
    insta::assert_snapshot!(statements(Dialect::MySql));
}
