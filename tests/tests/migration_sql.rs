//! Snapshots of the SQL generated for each kind of schema change, up and down, per dialect,
//! and of the message that refuses unsafe changes.

use std::collections::BTreeMap;

use repo_runtime::migrate::{
    ColumnKind, ColumnSnapshot, DefaultValue, Diff, ForeignKeySnapshot, Snapshot, TableSnapshot,
};
use repo_runtime::{Dialect, OnDelete};

fn column(name: &str, ty: ColumnKind, nullable: bool) -> ColumnSnapshot {
    ColumnSnapshot {
        name: name.into(),
        ty,
        nullable,
        generated: false,
        default: None,
        renamed_from: None,
    }
}

fn key(name: &str) -> ColumnSnapshot {
    ColumnSnapshot {
        generated: true,
        ..column(name, ColumnKind::BigInt, false)
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// `users (id, email UNIQUE, name)`.
fn users() -> TableSnapshot {
    TableSnapshot {
        entity: "User".into(),
        columns: vec![
            key("id"),
            column("email", ColumnKind::Text, false),
            column("name", ColumnKind::Text, false),
        ],
        primary_key: ("users_pkey".into(), names(&["id"])),
        unique: BTreeMap::from([("users_email_key".into(), names(&["email"]))]),
        indexes: BTreeMap::new(),
        foreign_keys: BTreeMap::new(),
        deleted: None,
        row_security: None,
        renamed_from: None,
    }
}

/// `posts (id, user_id -> users ON DELETE CASCADE, title)`.
fn posts() -> TableSnapshot {
    TableSnapshot {
        entity: "Post".into(),
        columns: vec![
            key("id"),
            column("user_id", ColumnKind::BigInt, false),
            column("title", ColumnKind::Text, false),
        ],
        primary_key: ("posts_pkey".into(), names(&["id"])),
        unique: BTreeMap::new(),
        indexes: BTreeMap::new(),
        foreign_keys: BTreeMap::from([(
            "posts_user_id_fkey".into(),
            ForeignKeySnapshot {
                columns: names(&["user_id"]),
                table: "users".into(),
                references: names(&["id"]),
                on_delete: OnDelete::Cascade,
            },
        )]),
        deleted: None,
        row_security: None,
        renamed_from: None,
    }
}

fn snapshot(tables: Vec<(&str, TableSnapshot)>) -> Snapshot {
    let mut snapshot = Snapshot::empty();
    for (name, table) in tables {
        snapshot.tables.insert(name.into(), table);
    }
    snapshot
}

/// Up and down SQL on every dialect, as one reviewable text.
fn rendered(old: &Snapshot, new: &Snapshot, allow_unsafe: bool) -> String {
    let diff = Diff::between(old, new, allow_unsafe).expect("diff");
    let mut text = format!("changes: {}\n", diff.changes().join("; "));
    for dialect in Dialect::ALL {
        for (direction, statements) in [("up", diff.up(dialect)), ("down", diff.down(dialect))] {
            text.push_str(&format!("\n-- {} {direction}\n", dialect.name()));
            for statement in statements {
                text.push_str(&statement);
                text.push_str(";\n");
            }
        }
    }
    text
}

#[test]
fn create_tables_referenced_first() {
    let new = snapshot(vec![("posts", posts()), ("users", users())]);
    insta::assert_snapshot!(rendered(&Snapshot::empty(), &new, false));
}

#[test]
fn add_columns_nullable_or_with_default() {
    let old = snapshot(vec![("users", users())]);
    let mut table = users();
    table.columns.push(ColumnSnapshot {
        default: Some(DefaultValue::Number("0".into())),
        ..column("karma", ColumnKind::BigInt, false)
    });
    table.columns.push(ColumnSnapshot {
        default: Some(DefaultValue::Text("it's new".into())),
        ..column(
            "status",
            ColumnKind::Enum(names(&["new", "it's new"])),
            false,
        )
    });
    table.columns.push(column("bio", ColumnKind::Text, true));
    let new = snapshot(vec![("users", table)]);
    insta::assert_snapshot!(rendered(&old, &new, false));
}

#[test]
fn row_level_security_scopes_a_table_by_its_tenant_on_postgres() {
    let old = snapshot(vec![("users", users())]);
    let mut table = users();
    table.columns.push(ColumnSnapshot {
        default: Some(DefaultValue::Number("1".into())),
        ..column("org_id", ColumnKind::BigInt, false)
    });
    table.row_security = Some("org_id".into());
    let new = snapshot(vec![("users", table.clone())]);
    insta::assert_snapshot!(rendered(&old, &new, false));
    insta::assert_snapshot!(
        "row_level_security_create",
        rendered(&Snapshot::empty(), &snapshot(vec![("users", table)]), false)
    );
}

#[test]
fn soft_delete_makes_unique_keys_hold_among_the_rows_that_live() {
    let old = snapshot(vec![("users", users())]);
    let mut table = users();
    table
        .columns
        .push(column("deleted_at", ColumnKind::TimestampTz, true));
    table.deleted = Some("deleted_at".into());
    let new = snapshot(vec![("users", table.clone())]);
    insta::assert_snapshot!(rendered(&old, &new, false));
    // A new table with soft delete, from nothing.
    insta::assert_snapshot!(
        "soft_delete_create",
        rendered(&Snapshot::empty(), &new, false)
    );
}

#[test]
fn drop_column_when_allowed() {
    let old = snapshot(vec![("users", users())]);
    let mut table = users();
    table.columns.retain(|c| c.name != "name");
    let new = snapshot(vec![("users", table)]);
    insta::assert_snapshot!(rendered(&old, &new, true));
}

#[test]
fn rename_column_with_its_unique_key() {
    let old = snapshot(vec![("users", users())]);
    let mut table = users();
    table.columns[1].name = "email_address".into();
    table.columns[1].renamed_from = Some("email".into());
    table.unique = BTreeMap::from([("users_email_address_key".into(), names(&["email_address"]))]);
    let new = snapshot(vec![("users", table)]);
    insta::assert_snapshot!(rendered(&old, &new, false));
}

#[test]
fn rename_table_referenced_by_a_foreign_key() {
    let old = snapshot(vec![("users", users()), ("posts", posts())]);
    let mut accounts = users();
    accounts.renamed_from = Some("users".into());
    accounts.primary_key.0 = "accounts_pkey".into();
    accounts.unique = BTreeMap::from([("accounts_email_key".into(), names(&["email"]))]);
    let mut referring = posts();
    for key in referring.foreign_keys.values_mut() {
        key.table = "accounts".into();
    }
    let new = snapshot(vec![("accounts", accounts), ("posts", referring)]);
    insta::assert_snapshot!(rendered(&old, &new, false));
}

#[test]
fn add_and_drop_indexes_and_unique_keys() {
    let mut before = users();
    before.indexes = BTreeMap::from([("users_email_idx".into(), names(&["email"]))]);
    let old = snapshot(vec![("users", before)]);
    let mut after = users();
    after.unique.clear();
    after
        .unique
        .insert("users_name_email_key".into(), names(&["name", "email"]));
    after.indexes = BTreeMap::from([("users_name_idx".into(), names(&["name"]))]);
    let new = snapshot(vec![("users", after)]);
    insta::assert_snapshot!(rendered(&old, &new, false));
}

#[test]
fn add_and_drop_foreign_keys() {
    let mut unlinked = posts();
    unlinked.foreign_keys.clear();
    let old = snapshot(vec![("users", users()), ("posts", unlinked)]);
    let new = snapshot(vec![("users", users()), ("posts", posts())]);
    insta::assert_snapshot!(rendered(&old, &new, false));
}

#[test]
fn change_type_default_and_nullability_when_allowed() {
    let mut before = users();
    before
        .columns
        .push(column("age", ColumnKind::Integer, true));
    let old = snapshot(vec![("users", before)]);
    let mut after = users();
    after.columns.push(ColumnSnapshot {
        default: Some(DefaultValue::Number("18".into())),
        ..column("age", ColumnKind::BigInt, false)
    });
    let new = snapshot(vec![("users", after)]);
    insta::assert_snapshot!(rendered(&old, &new, true));
}

/// An enum column renamed with its table, then given a new value: safe, and on PostgreSQL its
/// check follows the renames, so the next change of values finds it by its conventional name.
#[test]
fn enum_gains_a_value_after_its_table_and_column_were_renamed() {
    let states = |values: &[&str]| ColumnKind::Enum(names(values));
    let mut before = users();
    before
        .columns
        .push(column("state", states(&["open", "closed"]), false));
    let old = snapshot(vec![("users", before)]);
    let mut after = users();
    after.renamed_from = Some("users".into());
    after.primary_key.0 = "accounts_pkey".into();
    after.unique = BTreeMap::from([("accounts_email_key".into(), names(&["email"]))]);
    after.columns.push(ColumnSnapshot {
        renamed_from: Some("state".into()),
        ..column("status", states(&["open", "closed"]), false)
    });
    let renamed = snapshot(vec![("accounts", after.clone())]);
    let mut widened = after;
    widened.renamed_from = None;
    widened.columns[3] = column("status", states(&["open", "blocked", "closed"]), false);
    let widened = snapshot(vec![("accounts", widened)]);
    insta::assert_snapshot!(format!(
        "{}\n==== then\n\n{}",
        rendered(&old, &renamed, false),
        rendered(&renamed, &widened, false)
    ));
    // Losing a value is not safe: rows may hold it.
    let error = Diff::between(&widened, &renamed, false).expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("column `accounts.status` changes type"),
        "{error}"
    );
}

#[test]
fn drop_table_when_allowed() {
    let old = snapshot(vec![("users", users()), ("posts", posts())]);
    let new = snapshot(vec![("users", users())]);
    insta::assert_snapshot!(rendered(&old, &new, true));
}

#[test]
fn unsafe_changes_are_refused_with_what_to_do() {
    let mut before = users();
    before
        .columns
        .push(column("age", ColumnKind::Integer, true));
    let old = snapshot(vec![("users", before), ("posts", posts())]);
    let mut after = users();
    after.columns.retain(|c| c.name != "name");
    after.columns.push(column("age", ColumnKind::Text, false));
    after
        .columns
        .push(column("score", ColumnKind::Double, false));
    let new = snapshot(vec![("users", after)]);
    let error = Diff::between(&old, &new, false).expect_err("refused");
    insta::assert_snapshot!(error.to_string());
}

#[test]
fn a_default_that_does_not_fit_its_column_is_refused() {
    let mut table = users();
    table.columns.push(ColumnSnapshot {
        default: Some(DefaultValue::Text("unknown".into())),
        ..column(
            "status",
            ColumnKind::Enum(names(&["active", "gone"])),
            false,
        )
    });
    let new = snapshot(vec![("users", table)]);
    let error = Diff::between(&Snapshot::empty(), &new, true).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "migration error: some defaults do not fit their columns:\n  - default of `users.status`: `unknown` is not one of the enum's values (active, gone)"
    );
}

/// Patients with an e-mail looked up through its blind index and notes that are not.
#[derive(Clone, PartialEq, repo_runtime::Repository)]
#[repo(table = "patients")]
struct Patient {
    #[repo(id, generated)]
    id: i64,
    #[repo(encrypted, unique)]
    email: String,
    #[repo(encrypted, index)]
    ssn: Option<String>,
    #[repo(encrypted)]
    notes: Option<String>,
}

#[test]
fn encrypted_fields_store_bytes_and_their_keys_are_on_the_blind_index() {
    let new = repo_runtime::migrate::Schema::new()
        .entity::<Patient>()
        .snapshot()
        .expect("snapshot");
    insta::assert_snapshot!(rendered(&Snapshot::empty(), &new, false));
}
