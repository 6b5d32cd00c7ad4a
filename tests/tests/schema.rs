//! Snapshots of the DDL and statements each entity renders for each dialect.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

#[path = "conformance/mapping.rs"]
#[allow(dead_code, unreachable_pub)]
mod mapping;

use entities::{Follow, Measurement, Membership, Note, User};
use mapping::Account;
use repo_runtime::{Dialect, Entity};

fn ddl<E: Entity>() -> String {
    let mut out = String::new();
    for dialect in Dialect::ALL {
        out.push_str(&format!("-- {dialect}\n"));
        for statement in E::TABLE.create_statements(dialect) {
            out.push_str(&statement);
            out.push_str(";\n");
        }
        out.push('\n');
    }
    out
}

fn statements<E: Entity>() -> String {
    let sql = E::SQL;
    let named = [
        ("select_by_id", sql.select_by_id),
        ("exists_by_id", sql.exists_by_id),
        ("count", sql.count),
        ("insert", sql.insert),
        ("insert_all", sql.insert_all),
        ("update", sql.update),
        ("upsert", sql.upsert),
        ("delete_by_id", sql.delete_by_id),
    ];
    let mut out = String::new();
    for dialect in Dialect::ALL {
        out.push_str(&format!("-- {dialect}\n"));
        for (name, text) in named {
            out.push_str(&format!("{name}: {}\n", text.get(dialect)));
        }
        out.push('\n');
    }
    out
}

#[test]
fn ddl_of_each_entity_per_dialect() {
    insta::assert_snapshot!("ddl_user", ddl::<User>());
    insta::assert_snapshot!("ddl_membership", ddl::<Membership>());
    insta::assert_snapshot!("ddl_measurement", ddl::<Measurement>());
    insta::assert_snapshot!("ddl_follow", ddl::<Follow>());
    insta::assert_snapshot!("ddl_note", ddl::<Note>());
    insta::assert_snapshot!("ddl_account_rich_types", ddl::<Account>());
}

#[test]
fn statements_of_each_entity_per_dialect() {
    insta::assert_snapshot!("sql_user", statements::<User>());
    insta::assert_snapshot!("sql_membership", statements::<Membership>());
    insta::assert_snapshot!("sql_follow", statements::<Follow>());
}

#[test]
fn drop_statement_is_quoted_per_dialect() {
    let drops: Vec<String> = Dialect::ALL
        .iter()
        .map(|d| User::TABLE.drop_statement(*d))
        .collect();
    assert_eq!(
        drops,
        [
            "DROP TABLE IF EXISTS \"users\"",
            "DROP TABLE IF EXISTS \"users\"",
            "DROP TABLE IF EXISTS `users`"
        ]
    );
}

#[test]
fn schema_snapshot_is_stable_json_that_reads_back_unchanged() {
    use repo_runtime::migrate::{Schema, Snapshot};
    let schema = Schema::new()
        .entity::<User>()
        .entity::<Membership>()
        .entity::<Account>()
        .entity::<User>();
    assert_eq!(
        schema.tables().len(),
        3,
        "an entity registered twice is kept once"
    );
    let snapshot = schema.snapshot().unwrap();
    let json = snapshot.to_json();
    insta::assert_snapshot!("schema_snapshot", json);
    assert_eq!(Snapshot::from_json(&json).unwrap(), snapshot);
    // Registration order does not change the file.
    let reordered = Schema::new()
        .entity::<Account>()
        .entity::<Membership>()
        .entity::<User>();
    assert_eq!(reordered.snapshot().unwrap().to_json(), json);
}

#[test]
fn schema_snapshot_refuses_two_definitions_of_one_table_and_newer_formats() {
    use repo_runtime::RepoError;
    use repo_runtime::migrate::{Schema, Snapshot};
    let error = Schema::new()
        .entity::<mapping::StatusText>()
        .entity::<mapping::StatusRead>()
        .snapshot()
        .unwrap_err();
    assert!(
        matches!(&error, RepoError::Config { message } if message.contains("`statuses`")),
        "{error:?}"
    );
    let error = Snapshot::from_json(r#"{"format": 99, "tables": {}}"#).unwrap_err();
    assert!(matches!(error, RepoError::Config { .. }), "{error:?}");
    assert!(Snapshot::from_json("not json").is_err());
}
