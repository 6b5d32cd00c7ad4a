//! TLS to the servers (`scripts/tls.sh`: a PostgreSQL and a MariaDB that accept only TLS, with
//! a certificate authority made by the script): with the authority's certificate in the URL
//! and the server's name checked (`sslmode=verify-full`, `ssl-mode=VERIFY_IDENTITY`) the
//! repositories work over TLS; a certificate from another authority, or no TLS, is refused.

#[path = "conformance/entities.rs"]
#[allow(dead_code, unreachable_pub)]
mod entities;

use entities::{NewUser, User, UserRepository};
use repo_runtime::{Db, RepoError, Repository};
use repo_tests::server_url;

const WHY: &str = "eval \"$(scripts/tls.sh)\" starts the TLS servers";

/// `base` (a server's `/postgres` or `/mysql` URL) with its database `name` and `query`.
fn with(base: &str, name: &str, query: &str) -> String {
    let (server, _) = base.rsplit_once('/').expect("a database URL");
    format!("{server}/{name}?{query}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repositories_over_tls_that_verifies_the_server() {
    let (Some(postgres), Some(mysql), Some(ca), Some(other)) = (
        server_url("DATABASE_URL_POSTGRES_TLS", WHY),
        server_url("DATABASE_URL_MYSQL_TLS", WHY),
        server_url("TLS_CA", WHY),
        server_url("TLS_OTHER_CA", WHY),
    ) else {
        return;
    };
    let servers = [
        (
            postgres,
            "postgres",
            format!("sslmode=verify-full&sslrootcert={ca}"),
            format!("sslmode=verify-full&sslrootcert={other}"),
            String::from("sslmode=disable"),
        ),
        (
            mysql,
            "mysql",
            format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}"),
            format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={other}"),
            String::from("ssl-mode=DISABLED"),
        ),
    ];
    for (base, admin, verified, wrong_authority, plain) in servers {
        let server = Db::connect(&with(&base, admin, &verified)).await.unwrap();
        let created = match (server.as_postgres(), server.as_mysql()) {
            (Some(pool), _) => {
                let _ = repo_runtime::sqlx::raw_sql("CREATE DATABASE repo_tls")
                    .execute(pool)
                    .await;
                true
            }
            (_, Some(pool)) => {
                repo_runtime::sqlx::raw_sql("CREATE DATABASE IF NOT EXISTS repo_tls")
                    .execute(pool)
                    .await
                    .is_ok()
            }
            _ => false,
        };
        assert!(created, "{base}");
        server.close().await;
        let db = Db::connect(&with(&base, "repo_tls", &verified))
            .await
            .unwrap();
        db.drop_schema::<User>().await.unwrap();
        db.create_schema::<User>().await.unwrap();
        let users = User::repository(&db);
        let ada = users
            .insert(NewUser {
                email: "ada@example.com".into(),
                name: "Ada".into(),
                bio: None,
            })
            .await
            .unwrap();
        assert_eq!(
            users.find_by_email("ada@example.com").await.unwrap(),
            Some(ada)
        );
        // The session is encrypted, as the server reports it.
        let encrypted = match (db.as_postgres(), db.as_mysql()) {
            (Some(pool), _) => repo_runtime::sqlx::query_scalar::<_, bool>(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            )
            .fetch_one(pool)
            .await
            .unwrap(),
            (_, Some(pool)) => {
                let (_, cipher): (String, String) =
                    repo_runtime::sqlx::query_as("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
                        .fetch_one(pool)
                        .await
                        .unwrap();
                !cipher.is_empty()
            }
            _ => false,
        };
        assert!(encrypted, "{base}: not encrypted");
        db.close().await;
        // A server whose certificate another authority signed is not the one asked for.
        match Db::connect(&with(&base, "repo_tls", &wrong_authority)).await {
            Err(RepoError::Config { message }) => {
                assert!(message.contains("certificate"), "{base}: {message}");
            }
            other => panic!("{base}: through the wrong authority: {:?}", other.err()),
        }
        // Nor does the server take a connection without TLS.
        match Db::connect(&with(&base, "repo_tls", &plain)).await {
            Err(RepoError::Forbidden { .. }) => {}
            other => panic!("{base}: without TLS: {:?}", other.err()),
        }
        // A CA file that is not there says so, and is not retried.
        let missing = with(
            &base,
            "repo_tls",
            &verified.replace(&ca, "/nonexistent/ca.crt"),
        );
        match Db::connect(&missing).await {
            Err(RepoError::Config { .. }) => {}
            other => panic!("{base}: without its CA file: {:?}", other.err()),
        }
    }
}
