//! Migrations on every backend: generated from the entities, applied, changed, reverted,
//! guarded by checksums and locks, checked for drift; seeds run once.

use std::path::{Path, PathBuf};

use repo_runtime::migrate::{
    self, GenerateOptions, MigrationState, Migrations, Migrator, Schema, Seeds,
};
use repo_runtime::prelude::*;
use v1::AuthorRepository as _;
use v2::AuthorRepository as _;

mod v1 {
    use repo_runtime::prelude::*;

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(table = "authors")]
    pub struct Author {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(unique)]
        pub email: String,
        pub name: String,
    }

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(table = "posts")]
    pub struct Post {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(references = Author, on_delete = "cascade")]
        pub author_id: i64,
        pub title: String,
    }
}

mod v2 {
    use repo_runtime::prelude::*;

    /// v1's author with a renamed column, a new column with a default, a nullable one, an
    /// index and a composite unique key (which SQLite can only add by rebuilding the table).
    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(table = "authors", unique(name, karma))]
    pub struct Author {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(unique, renamed_from = "email")]
        pub email_address: String,
        #[repo(index)]
        pub name: String,
        #[repo(default = 0)]
        pub karma: i64,
        pub bio: Option<String>,
    }

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(table = "posts")]
    pub struct Post {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(references = Author, on_delete = "cascade")]
        pub author_id: i64,
        pub title: String,
    }
}

/// v1 without `name`: a column dropped, which needs a decision.
mod v3 {
    use repo_runtime::prelude::*;

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(table = "authors")]
    pub struct Author {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(unique)]
        pub email: String,
    }

    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(table = "posts")]
    pub struct Post {
        #[repo(id, generated)]
        pub id: i64,
        #[repo(references = Author, on_delete = "cascade")]
        pub author_id: i64,
        pub title: String,
    }
}

/// An enum column whose table and column are renamed, then whose enum gains a value.
mod tickets {
    pub mod v1 {
        use repo_runtime::prelude::*;

        #[derive(Debug, Clone, Copy, PartialEq, Eq, DbEnum)]
        pub enum State {
            Open,
            Closed,
        }

        #[derive(Debug, Clone, PartialEq, Repository)]
        #[repo(table = "tickets")]
        pub struct Ticket {
            #[repo(id, generated)]
            pub id: i64,
            pub title: String,
            pub state: State,
        }
    }

    pub mod v2 {
        use repo_runtime::prelude::*;

        pub use super::v1::State;

        #[derive(Debug, Clone, PartialEq, Repository)]
        #[repo(table = "issues", renamed_from = "tickets")]
        pub struct Issue {
            #[repo(id, generated)]
            pub id: i64,
            pub title: String,
            #[repo(renamed_from = "state")]
            pub status: State,
        }
    }

    pub mod v3 {
        use repo_runtime::prelude::*;

        #[derive(Debug, Clone, Copy, PartialEq, Eq, DbEnum)]
        pub enum State {
            Open,
            Blocked,
            Closed,
        }

        #[derive(Debug, Clone, PartialEq, Repository)]
        #[repo(table = "issues")]
        pub struct Issue {
            #[repo(id, generated)]
            pub id: i64,
            pub title: String,
            pub status: State,
        }
    }
}

/// A table that gains optimistic locking and soft delete: its unique key becomes one among
/// the rows that live.
mod binned {
    pub mod v1 {
        use repo_runtime::prelude::*;

        #[derive(Debug, Clone, PartialEq, Repository)]
        #[repo(table = "members")]
        pub struct Member {
            #[repo(id, generated)]
            pub id: i64,
            #[repo(unique)]
            pub email: String,
        }
    }

    pub mod v2 {
        use repo_runtime::chrono::{DateTime, Utc};
        use repo_runtime::prelude::*;

        #[derive(Debug, Clone, PartialEq, Repository)]
        #[repo(table = "members")]
        pub struct Member {
            #[repo(id, generated)]
            pub id: i64,
            #[repo(unique)]
            pub email: String,
            #[repo(version, default = 1)]
            pub version: i32,
            #[repo(deleted_at)]
            pub deleted_at: Option<DateTime<Utc>>,
        }
    }
}

fn schema_v1() -> Schema {
    Schema::new().entity::<v1::Author>().entity::<v1::Post>()
}

fn schema_v2() -> Schema {
    Schema::new().entity::<v2::Author>().entity::<v2::Post>()
}

/// A migrations directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(db: &Db) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "repo_migrations_{}_{}_{nanos}",
            db.dialect().name(),
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create the migrations directory");
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn generate(&self, schema: &Schema, name: &str, version: i64) -> migrate::Generated {
        let options = GenerateOptions {
            version: Some(version),
            ..GenerateOptions::default()
        };
        migrate::generate(schema, self.path(), name, &options)
            .expect("generate")
            .expect("a change to migrate")
    }

    fn migrator(&self, db: &Db) -> Migrator {
        Migrator::new(Migrations::load(self.path(), db.dialect()).expect("load migrations"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn generated_migrations_build_the_schema_the_repositories_use_with_no_drift(db: &Db) {
    let dir = Scratch::new(db);
    let generated = dir.generate(&schema_v1(), "create blog", 1);
    assert_eq!(
        generated.changes,
        vec!["create table authors", "create table posts"]
    );
    let migrator = dir.migrator(db);
    let applied = migrator.run(db).await.expect("apply");
    assert_eq!(applied.iter().map(|a| a.version).collect::<Vec<_>>(), [1]);
    assert_eq!(applied[0].description, "create blog");
    migrate::assert_no_drift(db, &schema_v1()).await;

    let authors = v1::Author::repository(db);
    let ada = authors
        .insert(v1::NewAuthor {
            email: "ada@example.com".into(),
            name: "Ada".into(),
        })
        .await
        .expect("insert author");
    let posts = v1::Post::repository(db);
    let post = posts
        .insert(v1::NewPost {
            author_id: ada.id,
            title: "Notes".into(),
        })
        .await
        .expect("insert post");
    assert_eq!(posts.get(post.id).await.expect("get post"), post);
    let orphan = posts
        .insert(v1::NewPost {
            author_id: ada.id + 100,
            title: "Orphan".into(),
        })
        .await;
    assert!(
        matches!(orphan, Err(RepoError::ForeignKey { .. })),
        "{orphan:?}"
    );

    assert!(migrator.run(db).await.expect("second run").is_empty());
    let status = migrator.status(db).await.expect("status");
    assert_eq!(status.len(), 1);
    assert!(matches!(status[0].state, MigrationState::Applied { .. }));
    assert!(
        migrate::generate(
            &schema_v1(),
            dir.path(),
            "again",
            &GenerateOptions::default()
        )
        .expect("generate with nothing to do")
        .is_none()
    );
}

pub async fn a_changed_entity_migrates_with_rows_preserved_and_down_restores_it(db: &Db) {
    let dir = Scratch::new(db);
    dir.generate(&schema_v1(), "create blog", 1);
    let migrator = dir.migrator(db);
    migrator.run(db).await.expect("apply v1");
    let ada = v1::Author::repository(db)
        .insert(v1::NewAuthor {
            email: "ada@example.com".into(),
            name: "Ada".into(),
        })
        .await
        .expect("insert author");
    let post = v1::Post::repository(db)
        .insert(v1::NewPost {
            author_id: ada.id,
            title: "Notes".into(),
        })
        .await
        .expect("insert post");

    let generated = dir.generate(&schema_v2(), "author details", 2);
    assert!(
        generated
            .changes
            .contains(&"rename column authors.email to email_address".to_owned()),
        "{:?}",
        generated.changes
    );
    let applied = dir.migrator(db).run(db).await.expect("apply v2");
    assert_eq!(applied.len(), 1);
    migrate::assert_no_drift(db, &schema_v2()).await;
    let migrated = v2::Author::repository(db)
        .get(ada.id)
        .await
        .expect("author after v2");
    assert_eq!(
        migrated,
        v2::Author {
            id: ada.id,
            email_address: "ada@example.com".into(),
            name: "Ada".into(),
            karma: 0,
            bio: None,
        }
    );
    // The rebuilt parent table (SQLite) kept the rows that refer to it.
    let kept = v2::Post::repository(db)
        .get(post.id)
        .await
        .expect("post after v2");
    assert_eq!(kept.title, "Notes");
    let found = v2::Author::repository(db)
        .find_by_email_address("ada@example.com")
        .await
        .expect("find by the renamed column");
    assert_eq!(found.map(|a| a.id), Some(ada.id));

    let reverted = dir.migrator(db).undo(db, None).await.expect("revert v2");
    assert_eq!(reverted.iter().map(|r| r.version).collect::<Vec<_>>(), [2]);
    migrate::assert_no_drift(db, &schema_v1()).await;
    assert_eq!(
        v1::Author::repository(db)
            .get(ada.id)
            .await
            .expect("author after down"),
        ada
    );
    assert_eq!(
        v1::Post::repository(db)
            .get(post.id)
            .await
            .expect("post after down"),
        post
    );
    let status = dir.migrator(db).status(db).await.expect("status");
    assert_eq!(status[1].state, MigrationState::Pending);
}

pub async fn soft_delete_migrates_unique_keys_to_the_rows_that_live_and_back(db: &Db) {
    use binned::{v1, v2};
    let dir = Scratch::new(db);
    dir.generate(&Schema::new().entity::<v1::Member>(), "members", 1);
    dir.migrator(db).run(db).await.expect("apply v1");
    let ada = v1::Member::repository(db)
        .insert(v1::NewMember {
            email: "ada@example.com".into(),
        })
        .await
        .expect("insert");

    let v2_schema = Schema::new().entity::<v2::Member>();
    dir.generate(&v2_schema, "soft delete", 2);
    dir.migrator(db).run(db).await.expect("apply v2");
    migrate::assert_no_drift(db, &v2_schema).await;
    let members = v2::Member::repository(db);
    let kept = members.get(ada.id).await.expect("the row kept");
    assert_eq!((kept.version, kept.deleted_at), (1, None));
    assert!(members.delete(ada.id).await.expect("delete"));
    let again = members
        .insert(v2::NewMember {
            email: "ada@example.com".into(),
        })
        .await
        .expect("the email is free among the rows that live");
    assert!(
        members
            .insert(v2::NewMember {
                email: "ada@example.com".into(),
            })
            .await
            .expect_err("taken by a row that lives")
            .is_conflict()
    );

    // Back to a unique key over every row, once the deleted duplicate is gone.
    assert!(members.purge(ada.id).await.expect("purge"));
    dir.migrator(db).undo(db, None).await.expect("revert v2");
    migrate::assert_no_drift(db, &Schema::new().entity::<v1::Member>()).await;
    assert_eq!(
        v1::Member::repository(db).get(again.id).await.expect("row"),
        v1::Member {
            id: again.id,
            email: "ada@example.com".into(),
        }
    );
}

pub async fn an_enum_gains_a_value_after_renames_without_unsafe_changes(db: &Db) {
    let dir = Scratch::new(db);
    dir.generate(&Schema::new().entity::<tickets::v1::Ticket>(), "tickets", 1);
    dir.migrator(db).run(db).await.expect("apply v1");
    let old = tickets::v1::Ticket::repository(db)
        .insert(tickets::v1::NewTicket {
            title: "Crash on start".into(),
            state: tickets::v1::State::Open,
        })
        .await
        .expect("insert ticket");
    dir.generate(&Schema::new().entity::<tickets::v2::Issue>(), "rename", 2);
    let widened = dir.generate(&Schema::new().entity::<tickets::v3::Issue>(), "blocked", 3);
    assert_eq!(widened.changes, ["alter column issues.status"]);
    let applied = dir.migrator(db).run(db).await.expect("apply v2 and v3");
    assert_eq!(applied.len(), 2);
    migrate::assert_no_drift(db, &Schema::new().entity::<tickets::v3::Issue>()).await;

    let issues = tickets::v3::Issue::repository(db);
    let blocked = issues
        .insert(tickets::v3::NewIssue {
            title: "Waits on a release".into(),
            status: tickets::v3::State::Blocked,
        })
        .await
        .expect("the new value is accepted");
    let kept = issues.get(old.id).await.expect("the old row");
    assert_eq!(kept.status, tickets::v3::State::Open);
    assert_eq!(kept.title, old.title);

    // Down narrows the enum again, which the rows must allow.
    issues.delete(blocked.id).await.expect("delete");
    let reverted = dir
        .migrator(db)
        .undo(db, Some(1))
        .await
        .expect("down to v1");
    assert_eq!(reverted.len(), 2);
    migrate::assert_no_drift(db, &Schema::new().entity::<tickets::v1::Ticket>()).await;
    assert_eq!(
        tickets::v1::Ticket::repository(db)
            .get(old.id)
            .await
            .expect("the row after down"),
        old
    );
}

pub async fn a_tampered_migration_is_refused_naming_it(db: &Db) {
    let dir = Scratch::new(db);
    dir.generate(&schema_v1(), "create blog", 7);
    dir.migrator(db).run(db).await.expect("apply");
    let file = dir
        .path()
        .join(db.dialect().name())
        .join("7_create_blog.up.sql");
    let mut text = std::fs::read_to_string(&file).expect("read the migration");
    text.push_str("\n-- edited after it was applied\n");
    std::fs::write(&file, text).expect("edit the migration");
    let error = dir
        .migrator(db)
        .run(db)
        .await
        .expect_err("a changed migration must be refused");
    let message = error.to_string();
    assert!(matches!(error, RepoError::Migration { .. }), "{error:?}");
    assert!(
        message.contains("7 (create blog)") && message.contains("checksum"),
        "{message}"
    );
    let status = dir.migrator(db).status(db).await.expect("status");
    assert_eq!(status[0].state, MigrationState::ChecksumMismatch);
}

pub async fn concurrent_runners_apply_each_migration_exactly_once(db: &Db) {
    let dir = Scratch::new(db);
    dir.generate(&schema_v1(), "create blog", 1);
    let folder = dir.path().join(db.dialect().name());
    std::fs::write(
        folder.join("2_first_author.up.sql"),
        "INSERT INTO authors (email, name) VALUES ('once@example.com', 'Once');\n",
    )
    .expect("write a data migration");
    let other = Db::connect(db.url()).await.expect("a second handle");
    let (first, second) = (dir.migrator(db), dir.migrator(&other));
    let (left, right) = tokio::join!(first.run(db), second.run(&other));
    let (left, right) = (left.expect("first runner"), right.expect("second runner"));
    let mut versions: Vec<i64> = left.iter().chain(&right).map(|a| a.version).collect();
    versions.sort_unstable();
    assert_eq!(versions, [1, 2]);
    assert_eq!(v1::Author::repository(db).count().await.expect("count"), 1);
    other.close().await;
}

pub async fn an_unsafe_change_is_refused_until_allowed(db: &Db) {
    let dir = Scratch::new(db);
    dir.generate(&schema_v1(), "create blog", 1);
    let v3 = Schema::new().entity::<v3::Author>().entity::<v3::Post>();
    let error = migrate::generate(&v3, dir.path(), "drop name", &GenerateOptions::default())
        .expect_err("dropping a column needs a decision");
    let message = error.to_string();
    assert!(
        message.contains("column `authors.name` would be dropped with its values")
            && message.contains("renamed_from"),
        "{message}"
    );
    let allowed = GenerateOptions {
        allow_unsafe: true,
        version: Some(2),
        ..GenerateOptions::default()
    };
    migrate::generate(&v3, dir.path(), "drop name", &allowed)
        .expect("allowed")
        .expect("a change");
    dir.migrator(db).run(db).await.expect("apply both");
    migrate::assert_no_drift(db, &v3).await;
    let drift = migrate::check_drift(db, &schema_v1()).await.expect("drift");
    assert_eq!(
        drift.differences,
        vec![migrate::Difference::MissingColumn {
            table: "authors".into(),
            column: "name".into()
        }]
    );
}

pub async fn seeds_run_once_per_database_and_refuse_a_changed_seed(db: &Db) {
    let dir = Scratch::new(db);
    dir.generate(&schema_v1(), "create blog", 1);
    dir.migrator(db).run(db).await.expect("apply");
    let seeds = Seeds::new()
        .sql(
            "authors",
            &["dev", "test"],
            "INSERT INTO authors (email, name) VALUES ('seed@example.com', 'Seed');",
        )
        .code("posts", &["dev"], |tx| {
            Box::pin(async move {
                let author = v1::Author::repository(tx)
                    .find_by_email("seed@example.com")
                    .await?
                    .ok_or(RepoError::not_found("Author"))?;
                v1::Post::repository(tx)
                    .insert(v1::NewPost {
                        author_id: author.id,
                        title: "Hello".into(),
                    })
                    .await?;
                Ok(())
            })
        })
        .sql("prod only", &["prod"], "DELETE FROM authors;");
    assert_eq!(
        seeds.run(db, "dev").await.expect("seed"),
        vec!["authors", "posts"]
    );
    assert!(seeds.run(db, "dev").await.expect("seed again").is_empty());
    assert_eq!(v1::Author::repository(db).count().await.expect("count"), 1);
    assert_eq!(v1::Post::repository(db).count().await.expect("count"), 1);

    let changed = Seeds::new().sql(
        "authors",
        &[],
        "INSERT INTO authors (email, name) VALUES ('other@example.com', 'Other');",
    );
    let error = changed.run(db, "dev").await.expect_err("a changed seed");
    assert!(
        error.to_string().contains("seed `authors` changed"),
        "{error}"
    );
    assert_eq!(v1::Author::repository(db).count().await.expect("count"), 1);

    let failing = Seeds::new().sql("broken", &[], "INSERT INTO no_such_table VALUES (1);");
    assert!(failing.run(db, "dev").await.is_err());
    assert!(
        failing.run(db, "dev").await.is_err(),
        "a failed seed is not recorded: it fails again"
    );
}

pub async fn drift_reports_what_was_changed_by_hand(db: &Db) {
    let dir = Scratch::new(db);
    dir.generate(&schema_v1(), "create blog", 1);
    std::fs::write(
        dir.path().join(db.dialect().name()).join("2_by_hand.up.sql"),
        "ALTER TABLE authors ADD COLUMN extra INTEGER;\nCREATE INDEX authors_manual_idx ON authors (email);\nCREATE TABLE scratch (id INTEGER PRIMARY KEY);\n",
    )
    .expect("write a hand-made migration");
    dir.migrator(db).run(db).await.expect("apply");
    let drift = migrate::check_drift(db, &schema_v1()).await.expect("drift");
    assert_eq!(
        drift.differences,
        vec![
            migrate::Difference::ExtraColumn {
                table: "authors".into(),
                column: "extra".into()
            },
            migrate::Difference::ExtraConstraint {
                table: "authors".into(),
                kind: "index",
                definition: "authors_manual_idx (email)".into()
            },
            migrate::Difference::ExtraTable("scratch".into()),
        ],
        "{drift}"
    );
}

/// Accounts before and after an encrypted, indexed field is added.
mod sealed {
    pub mod v1 {
        use repo_runtime::prelude::*;

        #[derive(Debug, Clone, PartialEq, Repository)]
        #[repo(table = "sealed_accounts")]
        pub struct Account {
            #[repo(id, generated)]
            pub id: i64,
            pub name: String,
        }
    }

    pub mod v2 {
        use repo_runtime::prelude::*;

        #[derive(Clone, PartialEq, Repository)]
        #[repo(table = "sealed_accounts")]
        pub struct Account {
            #[repo(id, generated)]
            pub id: i64,
            pub name: String,
            /// Encrypted, with its blind index and the index on it.
            #[repo(encrypted, index)]
            pub tax_id: Option<String>,
        }
    }
}

pub async fn encrypted_fields_migrate_with_their_blind_indexes_and_no_drift(db: &Db) {
    use sealed::{v1, v2};
    let dir = Scratch::new(db);
    dir.generate(&Schema::new().entity::<v1::Account>(), "accounts", 1);
    dir.migrator(db).run(db).await.expect("apply v1");
    let ada = v1::Account::repository(db)
        .insert(v1::NewAccount { name: "Ada".into() })
        .await
        .expect("insert");

    // The field and its blind index arrive as nullable byte columns, with the index.
    let v2_schema = Schema::new().entity::<v2::Account>();
    let generated = dir.generate(&v2_schema, "tax id", 2);
    assert_eq!(
        generated.changes,
        [
            "add column sealed_accounts.tax_id",
            "add column sealed_accounts.tax_id_bidx",
            "add index sealed_accounts_tax_id_idx on sealed_accounts"
        ],
        "{:?}",
        generated.changes
    );
    dir.migrator(db).run(db).await.expect("apply v2");
    migrate::assert_no_drift(db, &v2_schema).await;
    let keys = repo_runtime::Keyring::parse(&format!("k1:{}", "5c".repeat(32)))
        .and_then(|keys| keys.with_blind_index_key(&"c5".repeat(32)))
        .expect("keys");
    let db = db.with_keyring(keys);
    v2_schema.verify_keys(&db).await.expect("the keys fit");
    let accounts = v2::Account::repository(&db);
    let mut kept = accounts.get(ada.id).await.expect("the row kept");
    assert_eq!(kept.tax_id, None);
    kept.tax_id = Some("DE-123".into());
    accounts.update(&kept).await.expect("update");
    let found = accounts
        .find_where(&v2::Account::TAX_ID.eq("DE-123"), ListOptions::new())
        .await
        .expect("lookup");
    assert_eq!(found, [kept]);

    dir.migrator(&db).undo(&db, None).await.expect("revert v2");
    migrate::assert_no_drift(&db, &Schema::new().entity::<v1::Account>()).await;
}
