//! Index advice before production: which derived queries, foreign keys and filters no index
//! serves, and the attribute that would fix each, read from the schema alone.

use repo_runtime::migrate::Schema;
use repo_runtime::prelude::*;
use repo_tests::{Backend, TestDb, every_backend};

mod domain {
    use repo_core::{RepoError, port};

    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Post {
        pub(crate) id: i64,
        pub(crate) author_id: i64,
        pub(crate) status: String,
        pub(crate) title: String,
        pub(crate) views: i64,
        pub(crate) created: i64,
    }

    /// Listed for the advice (and implemented), not called.
    #[allow(dead_code)]
    #[port]
    pub(crate) trait Posts: Send + Sync {
        async fn insert(&self, post: Post) -> Result<Post, RepoError>;
        // Served: `status` leads an index, `id` the primary key.
        async fn find_all_by_status_order_by_created_desc(
            &self,
            status: &str,
        ) -> Result<Vec<Post>, RepoError>;
        async fn find_all_by_id_in(&self, ids: &[i64]) -> Result<Vec<Post>, RepoError>;
        async fn count_by_status_and_views_greater_than(
            &self,
            status: &str,
            views: i64,
        ) -> Result<u64, RepoError>;
        // Not served: no index on `views`; one branch of the `or` on `title`; a match inside
        // text; the foreign key `author_id` without an index of its own.
        async fn count_by_views_greater_than(&self, views: i64) -> Result<u64, RepoError>;
        async fn find_all_by_status_or_title(
            &self,
            status: &str,
            title: &str,
        ) -> Result<Vec<Post>, RepoError>;
        async fn find_all_by_title_containing(&self, text: &str) -> Result<Vec<Post>, RepoError>;
        async fn find_all_by_author_id_and_created_after(
            &self,
            author_id: i64,
            created: i64,
        ) -> Result<Vec<Post>, RepoError>;
    }
}

use domain::Post;

/// An author.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "advice_authors")]
pub struct Author {
    /// Key.
    #[repo(id, generated)]
    pub id: i64,
    /// Unique name.
    #[repo(unique)]
    pub name: String,
}

/// A post of an author.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "advice_posts", domain = Post, port = domain::Posts)]
struct PostRecord {
    /// Key.
    #[repo(id, generated)]
    pub id: i64,
    /// Its author.
    #[repo(references = Author)]
    pub author_id: i64,
    /// Draft or published.
    #[repo(index)]
    pub status: String,
    /// Title.
    pub title: String,
    /// Times read.
    pub views: i64,
    /// When written.
    pub created: i64,
}

/// A follow: the key's first column is the foreign key's, the second has an index.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "advice_follows", index(followed_id))]
pub struct Follow {
    /// Who follows.
    #[repo(id, references = Author)]
    pub follower_id: i64,
    /// Whom.
    #[repo(id, references = Author, relation = followed)]
    pub followed_id: i64,
}

#[test]
fn the_schema_lists_the_reads_no_index_serves() {
    let schema = Schema::new()
        .entity::<Author>()
        .entity::<PostRecord>()
        .entity::<Follow>();
    let advice: Vec<String> = schema
        .index_advice()
        .iter()
        .map(ToString::to_string)
        .collect();
    insta::assert_snapshot!(advice.join("\n"));
    // The port is implemented, not only listed.
    let _: Option<&dyn domain::Posts> = None::<&SqlPostRepository>.map(|r| r as _);
    // What is served says nothing.
    for served in [
        "find_all_by_status_order_by_created_desc",
        "find_all_by_id_in",
        "count_by_status_and_views_greater_than",
        "Follow (",
        "Author (",
    ] {
        assert!(
            !advice.iter().any(|line| line.contains(served)),
            "{served}: {advice:#?}"
        );
    }
}

#[test]
fn adding_the_advised_attributes_leaves_nothing_to_say() {
    /// The posts again, indexed as advised.
    #[derive(Debug, Clone, PartialEq, Repository)]
    #[repo(
        table = "advice_posts",
        domain = Post,
        port = domain::Posts,
        index(author_id, created)
    )]
    struct IndexedPost {
        /// Key.
        #[repo(id, generated)]
        pub id: i64,
        /// Its author.
        #[repo(references = Author)]
        pub author_id: i64,
        /// Draft or published.
        #[repo(index)]
        pub status: String,
        /// Title.
        #[repo(index)]
        pub title: String,
        /// Times read.
        #[repo(index)]
        pub views: i64,
        /// When written.
        pub created: i64,
    }
    let advice = Schema::new().entity::<IndexedPost>().index_advice();
    // Only the match inside text is left, which no index serves.
    assert_eq!(advice.len(), 1, "{advice:#?}");
    assert_eq!(advice[0].query, "find_all_by_title_containing");
    assert_eq!(advice[0].fix, None);
}

#[test]
fn filters_built_at_run_time_are_checked_the_same_way() {
    let newest = ListOptions::new().desc(PostRecordColumn::Created).limit(20);
    let by_status = PostRecord::STATUS.eq("published");
    assert_eq!(
        by_status.index_advice("by_status", &ListOptions::new()),
        None
    );
    // Every row, in some order: served by reading them all, nothing to add.
    assert_eq!(
        Filter::<PostRecord>::all().index_advice("all", &ListOptions::new()),
        None
    );
    // The newest few of all rows: an index on `created` would give them in order.
    let latest = Filter::<PostRecord>::all()
        .index_advice("latest", &newest)
        .unwrap();
    assert_eq!(
        latest.fix.as_deref(),
        Some("#[repo(index)] to field `created`")
    );
    assert!(latest.problem.contains("sorts every row"), "{latest}");
    // A disjunction is served only when each branch is.
    let either = PostRecord::STATUS
        .eq("draft")
        .or(PostRecord::VIEWS.gt(10_i64));
    let advice = either.index_advice("either", &ListOptions::new()).unwrap();
    assert_eq!(
        advice.fix.as_deref(),
        Some("#[repo(index)] to field `views`")
    );
    // Equalities lead the composite index the advice names, a range after them.
    let narrow = PostRecord::TITLE
        .eq("x")
        .and(PostRecord::VIEWS.gt(1_i64))
        .and(PostRecord::AUTHOR_ID.eq(1_i64));
    let advice = narrow.index_advice("narrow", &ListOptions::new()).unwrap();
    assert_eq!(
        advice.fix.as_deref(),
        Some("#[repo(index(title, author_id, views))] to `PostRecord`")
    );
    assert_eq!(
        advice.to_string(),
        "PostRecord (advice_posts): narrow reads every row: no index starts with title or \
         author_id or views; add #[repo(index(title, author_id, views))] to `PostRecord`"
    );
    // A related row's test narrows through the relation (its foreign key's advice); its
    // absence reads every row.
    let followed =
        PostRecord::AUTHOR_ID.exists_in(Follow::FOLLOWED_ID, Follow::FOLLOWER_ID.eq(1_i64));
    assert_eq!(followed.index_advice("feed", &newest), None);
    let unfollowed = !followed;
    assert_eq!(
        unfollowed.index_advice("others", &newest).unwrap().fix,
        None
    );
    // A negation reads every row whatever the indexes.
    let not = !PostRecord::STATUS.eq("draft");
    let advice = not.index_advice("not", &ListOptions::new()).unwrap();
    assert_eq!(advice.fix, None);
}

/// The planner of each SQL backend, asked on empty tables, agrees with the advice read from
/// the schema: the reads it names scan, the others use an index. MySQL/MariaDB index every
/// foreign key themselves, so there the reads through `author_id` are served too.
async fn planners_agree_with_the_advice(backend: Backend, test: TestDb) {
    let db = &test.db;
    let schema = Schema::new()
        .entity::<Author>()
        .entity::<PostRecord>()
        .entity::<Follow>();
    db.create_schema::<Author>().await.unwrap();
    db.create_schema::<PostRecord>().await.unwrap();
    db.create_schema::<Follow>().await.unwrap();
    if backend == Backend::Memory {
        let error = schema.explain_queries(db).await.unwrap_err();
        assert!(error.to_string().contains("no query planner"), "{error}");
        test.db.close().await;
        return;
    }
    let advised: Vec<String> = schema
        .index_advice()
        .into_iter()
        .map(|advice| advice.query)
        .collect();
    let planned = schema.explain_queries(db).await.unwrap();
    assert_eq!(planned.len(), 10, "{planned:#?}");
    for read in &planned {
        let through_foreign_key = read.query.contains("author_id");
        let expected =
            advised.contains(&read.query) && !(backend == Backend::MySql && through_foreign_key);
        assert_eq!(
            read.plan.scans_a_table(),
            expected,
            "{backend:?}: {read}\n{planned:#?}"
        );
        // MariaDB reads a lookup by a unique key of an empty table as "no row" at once.
        let reads_a_key = backend == Backend::MySql && read.query == "find_all_by_id_in";
        if !expected && read.table == "advice_posts" && !reads_a_key {
            assert!(!read.plan.indexes.is_empty(), "{backend:?}: {read}");
        }
    }
    test.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planners_agree_with_the_advice_on_every_backend() {
    for (backend, test) in every_backend("index_advice").await {
        planners_agree_with_the_advice(backend, test).await;
    }
}

#[tokio::test]
async fn the_command_line_check_reports_the_advice_and_fails_on_it_when_strict() {
    use repo_runtime::cli::{Cli, NOT_CLEAN, SUCCESS};
    let dir = std::env::temp_dir().join(format!("index_advice_cli_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = |name: &str| format!("sqlite://{}/{name}.db?mode=rwc", dir.display());
    let all_url = url("all");
    let served_url = url("served");
    let db = Db::connect(&all_url).await.unwrap();
    db.create_schema::<Author>().await.unwrap();
    db.create_schema::<PostRecord>().await.unwrap();
    db.create_schema::<Follow>().await.unwrap();
    db.close().await;
    let db = Db::connect(&served_url).await.unwrap();
    db.create_schema::<Author>().await.unwrap();
    db.create_schema::<Follow>().await.unwrap();
    db.close().await;
    let check = async |schema: Schema, flags: &[&str]| {
        let url = if schema.tables().len() == 3 {
            &all_url
        } else {
            &served_url
        };
        let mut line = vec!["migrate", "--database-url", url, "check"];
        line.extend(flags);
        Cli::new(schema).run_from(line).await
    };
    let all = || {
        Schema::new()
            .entity::<Author>()
            .entity::<PostRecord>()
            .entity::<Follow>()
    };
    let served = || Schema::new().entity::<Author>().entity::<Follow>();
    assert_eq!(check(all(), &[]).await, SUCCESS, "advice alone passes");
    assert_eq!(check(all(), &["--strict"]).await, NOT_CLEAN);
    assert_eq!(check(all(), &["--strict", "--plans"]).await, NOT_CLEAN);
    assert_eq!(check(served(), &["--strict", "--plans"]).await, SUCCESS);
    let _ = std::fs::remove_dir_all(&dir);
}
