//! Least privilege, on every backend: the generated views of a repository (`UserReader` reads
//! only, `UserWriter` cannot delete), a read-only handle that refuses writes and whose
//! transactions the database keeps read-only, and on the servers the application running as a
//! role with only `SELECT/INSERT/UPDATE/DELETE` while migrations run as the owner.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use std::sync::Arc;

use entities::{NewUser, Post, User, UserReader, UserRepository, UserWriter};
use repo_runtime::{Db, ErrorKind, NoDelete, ReadOnly, RepoError, Repository, Tx};
use repo_tests::{Backend, TestDb};

fn new_user(n: u32) -> NewUser {
    NewUser {
        email: format!("user{n}@example.com"),
        name: format!("user {n}"),
        bio: None,
    }
}

/// The refusal of a write: `Forbidden`, from the handle (`source` none) or from the database.
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, RepoError>, by_database: bool) {
    match result {
        Err(RepoError::Forbidden { source, .. }) => {
            assert_eq!(source.is_some(), by_database, "refused by the database?")
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_privilege_on_every_backend() {
    for backend in Backend::ALL {
        let Some(test) = TestDb::new(backend, "least_privilege").await else {
            continue;
        };
        test.db.create_schema::<User>().await.unwrap();
        views_read_and_write_without_deleting(&test.db).await;
        a_read_only_handle_refuses_writes(backend, &test.db).await;
    }
}

/// `ReadOnly` gives the reads and the finders, `NoDelete` everything but the deletes; what
/// they leave out does not compile (`tests/ui/views_*`).
async fn views_read_and_write_without_deleting(db: &Db) {
    let users = User::repository(db);
    let ada = users.insert(new_user(1)).await.unwrap();
    let reader: Arc<dyn UserReader> = Arc::new(ReadOnly::new(User::repository(db)));
    assert_eq!(reader.get(ada.id).await.unwrap(), ada);
    assert_eq!(
        reader.find_by_email("user1@example.com").await.unwrap(),
        Some(ada.clone())
    );
    assert_eq!(reader.count().await.unwrap(), 1);
    assert_eq!(
        reader
            .find_where(&User::NAME.eq("user 1".to_owned()), Default::default())
            .await
            .unwrap(),
        vec![ada.clone()]
    );
    let writer: Arc<dyn UserWriter> = Arc::new(NoDelete::new(User::repository(db)));
    let grace = writer.insert(new_user(2)).await.unwrap();
    let renamed = writer
        .update(&User {
            name: "Grace".into(),
            ..grace.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        writer.find_by_email("user2@example.com").await.unwrap(),
        Some(renamed)
    );
    assert_eq!(writer.count().await.unwrap(), 2);
    // A reader taken from a transaction's repository reads inside it.
    db.transaction(async |tx| {
        let inside: Arc<dyn UserReader> = Arc::new(ReadOnly::new(User::repository(&tx)));
        User::repository(&tx).insert(new_user(3)).await?;
        assert_eq!(inside.count().await?, 3);
        Err::<(), _>(RepoError::config("rolled back on purpose"))
    })
    .await
    .unwrap_err();
    assert_eq!(users.count().await.unwrap(), 2);
    users.delete_where(&User::ID.gt(0)).await.unwrap();
}

/// A read-only handle reads; every write outside a transaction is refused before the
/// database, DDL and migrations too; inside its transactions the database refuses writes,
/// hand-written ones included; and the connections it used write again afterwards.
async fn a_read_only_handle_refuses_writes(backend: Backend, db: &Db) {
    let ada = User::repository(db).insert(new_user(1)).await.unwrap();
    let read_only = db.read_only();
    assert!(read_only.is_read_only() && !db.is_read_only());
    let users = User::repository(&read_only);
    assert_eq!(users.get(ada.id).await.unwrap(), ada);
    assert_eq!(users.count().await.unwrap(), 1);
    assert_forbidden(users.insert(new_user(2)).await, false);
    assert_forbidden(users.update(&ada).await, false);
    assert_forbidden(users.delete(ada.id).await, false);
    assert_forbidden(users.delete_where(&User::ID.gt(0)).await, false);
    assert_forbidden(read_only.create_schema::<Post>().await, false);
    assert_forbidden(read_only.drop_schema::<User>().await, false);
    // A batch of one statement is refused by the handle, a larger one by its transaction.
    let sql = backend != Backend::Memory;
    assert!(matches!(
        users.insert_many(vec![new_user(3)]).await,
        Err(RepoError::Forbidden { .. })
    ));
    let inside = read_only
        .transaction(async |tx| User::repository(&tx).insert(new_user(4)).await)
        .await;
    assert_forbidden(inside, sql);
    if sql {
        let raw = read_only
            .transaction(async |tx| hand_written_insert(&tx).await)
            .await;
        assert_forbidden(raw, true);
    }
    let counted = read_only
        .transaction(async |tx| User::repository(&tx).count().await)
        .await
        .unwrap();
    assert_eq!(counted, 1);
    // The connections the read-only transactions used write again through `db`.
    for n in 5..9 {
        User::repository(db).insert(new_user(n)).await.unwrap();
        db.transaction(async |tx| User::repository(&tx).insert(new_user(n + 10)).await)
            .await
            .unwrap();
    }
    assert_eq!(User::repository(db).count().await.unwrap(), 9);
    assert_eq!(
        RepoError::Forbidden {
            entity: "User",
            reason: "a write through a read-only handle",
            source: None
        }
        .kind(),
        ErrorKind::Forbidden
    );
}

/// An insert written by hand, on the transaction's connection.
async fn hand_written_insert(tx: &Tx) -> Result<(), RepoError> {
    const INSERT: &str = "INSERT INTO users (email, name) VALUES ('raw@example.com', 'raw')";
    let mut connection = tx.connection().await?;
    if let Some(conn) = connection.as_postgres() {
        return repo_runtime::sqlx::query(INSERT)
            .execute(conn)
            .await
            .map(drop)
            .map_err(repo_runtime::from_sqlx);
    }
    if let Some(conn) = connection.as_mysql() {
        return repo_runtime::sqlx::query(INSERT)
            .execute(conn)
            .await
            .map(drop)
            .map_err(repo_runtime::from_sqlx);
    }
    if let Some(conn) = connection.as_sqlite() {
        return repo_runtime::sqlx::query(INSERT)
            .execute(conn)
            .await
            .map(drop)
            .map_err(repo_runtime::from_sqlx);
    }
    if let Some(conn) = connection.as_rusqlite() {
        return conn
            .execute(INSERT, [])
            .map(drop)
            .map_err(repo_runtime::from_rusqlite);
    }
    Err(RepoError::config("no SQL connection"))
}

/// The servers: migrations run as the owner, the application as a role (a user on
/// MySQL/MariaDB) with only `SELECT/INSERT/UPDATE/DELETE` on the tables (and, on PostgreSQL,
/// the sequences' `USAGE`). The application does everything a repository does; DDL and
/// migrations through it fail as `Forbidden` (`insufficient_privilege`, 42501; MySQL's 1142).
/// Swapped, the migrations fail the same way, and the application running as the owner could
/// drop the tables it serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_role_with_rows_only() {
    for backend in [Backend::Postgres, Backend::MySql] {
        let Some(test) = TestDb::new(backend, "application_role").await else {
            continue;
        };
        application_role_with_rows_only(backend, &test.db).await;
    }
}

async fn application_role_with_rows_only(backend: Backend, owner: &Db) {
    owner.create_schema::<User>().await.unwrap();
    let role = format!("repo_app_{}", std::process::id());
    let database = owner.url().rsplit_once('/').unwrap().1.to_owned();
    let (variable, grants, revokes) = match backend {
        Backend::Postgres => (
            "DATABASE_URL_POSTGRES",
            vec![
                format!("DROP ROLE IF EXISTS {role}"),
                format!("CREATE ROLE {role} LOGIN"),
                format!("GRANT CONNECT ON DATABASE {database} TO {role}"),
                format!("GRANT USAGE ON SCHEMA public TO {role}"),
                format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
                ),
                format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"),
            ],
            vec![format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")],
        ),
        _ => (
            "DATABASE_URL_MYSQL",
            vec![
                format!("DROP USER IF EXISTS '{role}'@'127.0.0.1'"),
                format!("CREATE USER '{role}'@'127.0.0.1'"),
                format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO '{role}'@'127.0.0.1'"
                ),
            ],
            vec![format!("DROP USER '{role}'@'127.0.0.1'")],
        ),
    };
    run_as_owner(owner, &grants).await;
    let server = std::env::var(variable).unwrap();
    let (scheme, rest) = server.split_once("://").unwrap();
    let (_, host) = rest.split_once('@').unwrap();
    let (host, _) = host.rsplit_once('/').unwrap();
    let application = Db::connect(&format!("{scheme}://{role}@{host}/{database}"))
        .await
        .unwrap();
    let users = User::repository(&application);
    let ada = users.insert(new_user(1)).await.unwrap();
    let ada = users
        .update(&User {
            bio: Some("role".into()),
            ..ada
        })
        .await
        .unwrap();
    assert_eq!(users.find_by_email(&ada.email).await.unwrap(), Some(ada));
    users
        .insert_many(vec![new_user(2), new_user(3)])
        .await
        .unwrap();
    assert!(users.delete(1).await.unwrap());
    assert_eq!(users.count().await.unwrap(), 2);
    // What only the owner may do: DDL, and so the migrations.
    assert_forbidden(application.create_schema::<Post>().await, true);
    assert_forbidden(application.drop_schema::<User>().await, true);
    let migrations = repo_runtime::migrate::Migrations::from_files([(
        String::from("20261207000000_posts.up.sql"),
        String::from("CREATE TABLE posts (id BIGINT PRIMARY KEY)"),
    )])
    .unwrap();
    match repo_runtime::migrate::Migrator::new(migrations)
        .run(&application)
        .await
    {
        Err(RepoError::Forbidden { .. }) => {}
        Err(RepoError::Migration {
            source: Some(cause),
            ..
        }) if matches!(*cause, RepoError::Forbidden { .. }) => {}
        other => panic!("{backend:?}: a migration as the application role: {other:?}"),
    }
    application.close().await;
    run_as_owner(owner, &revokes).await;
}

/// Statements of the test's own, on the owner's connection.
async fn run_as_owner(owner: &Db, statements: &[String]) {
    for statement in statements {
        let statement = repo_runtime::sqlx::AssertSqlSafe(statement.clone());
        let ran = match (owner.as_postgres(), owner.as_mysql()) {
            (Some(pool), _) => repo_runtime::sqlx::raw_sql(statement)
                .execute(pool)
                .await
                .map(drop),
            (_, Some(pool)) => repo_runtime::sqlx::raw_sql(statement)
                .execute(pool)
                .await
                .map(drop),
            _ => unreachable!("a server"),
        };
        ran.unwrap();
    }
}
