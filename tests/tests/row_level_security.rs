//! PostgreSQL's Row-Level Security under tenant scoping (`#[repo(tenant, row_level_security)]`
//! and `DbOptions::row_level_security`): hand-written SQL inside a transaction of a handle
//! scoped to a tenant reads and writes that tenant's rows only, even as a role that could
//! otherwise read them all. Elsewhere the flag adds nothing to the library's own scope.

use repo_runtime::DbOptions;
use repo_runtime::prelude::*;
use repo_tests::{Backend, TestDb};

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "rls_notes")]
pub(crate) struct Note {
    #[repo(id, generated)]
    pub(crate) id: i64,
    #[repo(tenant, row_level_security)]
    pub(crate) org_id: i64,
    pub(crate) body: String,
}

/// A role that is neither a superuser nor the table's owner, as an application's reporting
/// or ad-hoc access would use: Row-Level Security applies to it. Created once per cluster.
const READER: &str = "repo_rls_reader";

async fn seed(db: &Db) {
    db.create_schema::<Note>().await.expect("schema");
    // Creating the schema again replaces the policy rather than failing on it.
    db.create_schema::<Note>().await.expect("schema again");
    for (org, body) in [(1_i64, "a1"), (1, "a2"), (2, "b1")] {
        Note::repository(db.for_tenant(org))
            .insert(NewNote { body: body.into() })
            .await
            .expect("insert");
    }
}

/// Counts the notes hand-written SQL sees inside a transaction of `db`, as [`READER`], and
/// tries to move one to tenant 2.
async fn as_reader(db: &Db) -> (i64, Result<u64, sqlx::Error>) {
    let tx = db.begin().await.expect("begin");
    let seen = {
        let mut connection = tx.connection().await.expect("connection");
        let pg = connection.as_postgres().expect("PostgreSQL");
        sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL ROLE {READER}")))
            .execute(&mut *pg)
            .await
            .expect("set role");
        let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rls_notes")
            .fetch_one(&mut *pg)
            .await
            .expect("count");
        let moved = sqlx::query("UPDATE rls_notes SET org_id = 2 WHERE body = 'a1'")
            .execute(&mut *pg)
            .await
            .map(|done| done.rows_affected());
        (seen, moved)
    };
    tx.rollback().await.expect("rollback");
    seen
}

#[tokio::test]
async fn hand_written_sql_in_a_tenants_transaction_sees_that_tenant_only() {
    let options = DbOptions {
        row_level_security: true,
        ..DbOptions::default()
    };
    let Some(test) = TestDb::with_options(Backend::Postgres, "row_level_security", options).await
    else {
        return;
    };
    let db = &test.db;
    seed(db).await;
    let pool = db.as_postgres().expect("PostgreSQL");
    let role = format!(
        "DO $$ BEGIN CREATE ROLE {READER} NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(role))
        .execute(pool)
        .await
        .expect("role");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "GRANT SELECT, UPDATE ON rls_notes TO {READER}"
    )))
    .execute(pool)
    .await
    .expect("grant");

    // Scoped to tenant 1: its two rows, and no row may be moved to tenant 2.
    let (seen, moved) = as_reader(&db.for_tenant(1_i64)).await;
    assert_eq!(seen, 2);
    let refused = moved.expect_err("the policy refuses a row of another tenant");
    assert!(
        refused.to_string().contains("row-level security"),
        "{refused}"
    );
    // Tenant 2 sees its one row; a raw query for tenant 1's rows finds none.
    let (seen, moved) = as_reader(&db.for_tenant(2_i64)).await;
    assert_eq!(seen, 1);
    assert_eq!(moved.expect("nothing of tenant 1 to update"), 0);
    // A handle that names no tenant (unscoped) is not restricted by the policy.
    let (seen, _) = as_reader(&db.unscoped()).await;
    assert_eq!(seen, 3);

    // The live table matches the entity, and a table that lost its policy is reported.
    let schema = repo_runtime::migrate::Schema::new().entity::<Note>();
    repo_runtime::migrate::assert_no_drift(db, &schema).await;
    sqlx::raw_sql("ALTER TABLE rls_notes DISABLE ROW LEVEL SECURITY")
        .execute(pool)
        .await
        .expect("disable");
    let drift = repo_runtime::migrate::check_drift(db, &schema)
        .await
        .expect("drift");
    assert!(drift.to_string().contains("row-level security"), "{drift}");
    sqlx::raw_sql("ALTER TABLE rls_notes ENABLE ROW LEVEL SECURITY")
        .execute(pool)
        .await
        .expect("enable");

    // The library's own statements, in and out of transactions, are unchanged.
    let acme = db.for_tenant(1_i64);
    assert_eq!(Note::repository(&acme).count().await.unwrap(), 2);
    let counted = acme
        .transaction(async |tx| Note::repository(&tx).count().await)
        .await
        .unwrap();
    assert_eq!(counted, 2);
    test.db.close().await;
}

#[tokio::test]
async fn elsewhere_the_library_scope_is_the_only_one() {
    for backend in [Backend::Sqlite, Backend::MySql, Backend::Memory] {
        let options = DbOptions {
            row_level_security: true,
            ..DbOptions::default()
        };
        let Some(test) = TestDb::with_options(backend, "row_level_security", options).await else {
            continue;
        };
        seed(&test.db).await;
        let acme = test.db.for_tenant(1_i64);
        let counted = acme
            .transaction(async |tx| Note::repository(&tx).count().await)
            .await
            .unwrap();
        assert_eq!(counted, 2, "{backend:?}");
        test.db.close().await;
    }
}
