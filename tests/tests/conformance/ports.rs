//! Repository ports declared in a domain module with no database code, implemented by the
//! derive: forwarded repository methods and derived queries with every operator.

use repo_runtime::prelude::*;

/// The domain: plain types and the port, naming only `repo_core`.
mod domain {
    use repo_core::{Page, RepoError, port};

    #[derive(Debug, Clone, PartialEq)]
    pub struct Member {
        pub id: i64,
        pub email: String,
        pub status: String,
        pub age: Option<i32>,
    }

    #[port]
    pub trait Members: Send + Sync {
        async fn insert(&self, member: Member) -> Result<Member, RepoError>;
        async fn get(&self, id: i64) -> Result<Member, RepoError>;
        async fn find_by_email(&self, email: &str) -> Result<Option<Member>, RepoError>;
        async fn get_by_email(&self, email: &str) -> Result<Member, RepoError>;
        async fn exists_by_email(&self, email: &str) -> Result<bool, RepoError>;
        async fn count_by_status(&self, status: &str) -> Result<u64, RepoError>;
        async fn delete_by_status(&self, status: &str) -> Result<u64, RepoError>;
        async fn find_all_by_status_order_by_age_desc(
            &self,
            status: &str,
        ) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_status_not(&self, status: &str) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_age_greater_than(&self, age: i32) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_age_less_than_equal(&self, age: i32)
        -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_age_between(
            &self,
            low: i32,
            high: i32,
        ) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_age_is_null(&self) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_age_is_not_null(&self) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_id_in(&self, ids: &[i64]) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_id_not_in(&self, ids: Vec<i64>) -> Result<Vec<Member>, RepoError>;
        async fn count_by_id_in(&self, ids: Vec<i64>) -> Result<u64, RepoError>;
        async fn find_all_by_email_containing(&self, part: &str) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_email_starting_with(
            &self,
            prefix: &str,
        ) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_email_ending_with(
            &self,
            suffix: &str,
        ) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_status_and_age_greater_than_or_email_is_null(
            &self,
            status: &str,
            age: i32,
        ) -> Result<Vec<Member>, RepoError>;
        async fn find_top_2_by_status_order_by_id_desc(
            &self,
            status: &str,
        ) -> Result<Vec<Member>, RepoError>;
        async fn find_first_by_status_order_by_id(
            &self,
            status: &str,
        ) -> Result<Option<Member>, RepoError>;
        async fn find_all_by_status(
            &self,
            status: &str,
            page: Page,
        ) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_age_greater_than_equal(
            &self,
            age: i32,
        ) -> Result<Vec<Member>, RepoError>;
        async fn find_all_by_age_before(&self, age: i32) -> Result<Vec<Member>, RepoError>;

        /// What a name cannot say: SQL with named parameters, mapped by the record's mapper.
        #[query(
            "SELECT * FROM port_members WHERE status = :status AND (age IS NULL OR age < :age)"
        )]
        async fn young_or_unknown(&self, status: &str, age: i32) -> Result<Vec<Member>, RepoError>;
        #[query("SELECT COUNT(*) FROM port_members WHERE email LIKE '%.org'")]
        async fn count_org(&self) -> Result<u64, RepoError>;
        /// Its own order, kept: the rows are read by column name, not re-selected.
        #[query("SELECT age, email, id, status FROM port_members ORDER BY email DESC")]
        async fn by_email_descending(&self) -> Result<Vec<Member>, RepoError>;
        /// A trailing page becomes the statement's `LIMIT` and `OFFSET`.
        #[query("SELECT * FROM port_members WHERE status = :status ORDER BY email")]
        async fn by_status_paged(&self, status: &str, page: Page)
        -> Result<Vec<Member>, RepoError>;
        #[query("DELETE FROM port_members WHERE age > :age OR age = :age")]
        async fn purge_from_age(&self, age: i32) -> Result<u64, RepoError>;
    }
}

/// The persistence record: no method bodies anywhere.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "port_members", domain = domain::Member, port = domain::Members)]
pub struct MemberRecord {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub email: String,
    #[repo(index)]
    pub status: String,
    pub age: Option<i32>,
}

// The port's signatures are implemented here: the types they name must be in scope.
use domain::{Member, Members};

fn member(email: &str, status: &str, age: Option<i32>) -> Member {
    Member {
        id: 0,
        email: email.into(),
        status: status.into(),
        age,
    }
}

async fn seed(members: &dyn Members) -> Vec<Member> {
    let mut stored = Vec::new();
    for (email, status, age) in [
        ("ada@example.com", "active", Some(36)),
        ("bob@example.com", "active", Some(17)),
        ("cy@example.com", "banned", None),
        ("a%b@example.com", "active", None),
        ("a_b@example.com", "pending", Some(50)),
        ("Ax!b@example.org", "pending", Some(18)),
    ] {
        stored.push(
            members
                .insert(member(email, status, age))
                .await
                .expect("insert"),
        );
    }
    stored
}

fn emails(rows: &[Member]) -> Vec<&str> {
    let mut emails: Vec<&str> = rows.iter().map(|m| m.email.as_str()).collect();
    emails.sort_unstable();
    emails
}

pub async fn a_port_declared_in_the_domain_is_implemented_with_forwarded_and_derived_methods(
    db: &Db,
) {
    db.create_schema::<MemberRecord>().await.expect("schema");
    let members: std::sync::Arc<dyn Members> = std::sync::Arc::new(MemberRecord::repository(db));
    let stored = seed(members.as_ref()).await;
    let ada = &stored[0];
    assert_eq!(members.get(ada.id).await.expect("get"), *ada);
    assert_eq!(
        members
            .find_by_email("ada@example.com")
            .await
            .expect("find"),
        Some(ada.clone())
    );
    assert_eq!(
        members
            .find_by_email("nobody@example.com")
            .await
            .expect("find"),
        None
    );
    assert_eq!(
        members
            .get_by_email("ada@example.com")
            .await
            .expect("get_by"),
        *ada
    );
    assert!(matches!(
        members.get_by_email("nobody@example.com").await,
        Err(RepoError::NotFound { .. })
    ));
    assert!(
        members
            .exists_by_email("bob@example.com")
            .await
            .expect("exists")
    );
    assert!(
        !members
            .exists_by_email("BOB@example.com")
            .await
            .expect("exists")
    );
    assert_eq!(members.count_by_status("active").await.expect("count"), 3);

    let by_age: Vec<Option<i32>> = members
        .find_all_by_status_order_by_age_desc("pending")
        .await
        .expect("ordered")
        .iter()
        .map(|m| m.age)
        .collect();
    assert_eq!(by_age, [Some(50), Some(18)]);
    assert_eq!(
        emails(&members.find_all_by_status_not("active").await.expect("not")),
        ["Ax!b@example.org", "a_b@example.com", "cy@example.com"]
    );
    // Comparisons leave NULL out, as SQL does.
    assert_eq!(
        emails(&members.find_all_by_age_greater_than(17).await.expect(">")),
        ["Ax!b@example.org", "a_b@example.com", "ada@example.com"]
    );
    assert_eq!(
        emails(
            &members
                .find_all_by_age_less_than_equal(18)
                .await
                .expect("<=")
        ),
        ["Ax!b@example.org", "bob@example.com"]
    );
    assert_eq!(
        emails(
            &members
                .find_all_by_age_between(17, 36)
                .await
                .expect("between")
        ),
        ["Ax!b@example.org", "ada@example.com", "bob@example.com"]
    );
    assert_eq!(
        emails(&members.find_all_by_age_is_null().await.expect("is null")),
        ["a%b@example.com", "cy@example.com"]
    );
    assert_eq!(
        members
            .find_all_by_age_is_not_null()
            .await
            .expect("not null")
            .len(),
        4
    );
    assert_eq!(
        emails(
            &members
                .find_all_by_status_and_age_greater_than_or_email_is_null("active", 20)
                .await
                .expect("and/or")
        ),
        ["ada@example.com"]
    );

    let top: Vec<i64> = members
        .find_top_2_by_status_order_by_id_desc("active")
        .await
        .expect("top")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(top, [stored[3].id, stored[1].id]);
    assert_eq!(
        members
            .find_first_by_status_order_by_id("active")
            .await
            .expect("first"),
        Some(ada.clone())
    );
    let page = members
        .find_all_by_status("active", repo_core::Page::number(1, 2))
        .await
        .expect("page");
    assert_eq!(page, vec![stored[3].clone()]);

    assert_eq!(members.delete_by_status("banned").await.expect("delete"), 1);
    assert_eq!(members.count_by_status("banned").await.expect("count"), 0);
}

pub async fn derived_in_lists_and_text_matches_treat_values_literally(db: &Db) {
    db.create_schema::<MemberRecord>().await.expect("schema");
    let members = MemberRecord::repository(db);
    let stored = seed(&members).await;
    let ids: Vec<i64> = stored.iter().map(|m| m.id).collect();

    assert!(
        members
            .find_all_by_id_in(&[])
            .await
            .expect("empty in")
            .is_empty()
    );
    assert_eq!(
        members
            .find_all_by_id_not_in(Vec::new())
            .await
            .expect("empty not in")
            .len(),
        6
    );
    assert_eq!(
        emails(&members.find_all_by_id_in(&ids[..2]).await.expect("in")),
        ["ada@example.com", "bob@example.com"]
    );
    assert_eq!(
        members
            .find_all_by_id_not_in(ids[..2].to_vec())
            .await
            .expect("not in")
            .len(),
        4
    );
    // Ten thousand values, most of them matching nothing.
    let many: Vec<i64> = ids.iter().copied().chain(1_000_000..1_009_994).collect();
    assert_eq!(many.len(), 10_000);
    assert_eq!(
        members.count_by_id_in(many).await.expect("10,000 values"),
        6
    );

    // `%`, `_` and `!` in the value match only themselves; matching is case-sensitive.
    assert_eq!(
        emails(&members.find_all_by_email_containing("%").await.expect("%")),
        ["a%b@example.com"]
    );
    assert_eq!(
        emails(&members.find_all_by_email_containing("_").await.expect("_")),
        ["a_b@example.com"]
    );
    assert_eq!(
        emails(&members.find_all_by_email_containing("x!").await.expect("!")),
        ["Ax!b@example.org"]
    );
    assert!(
        members
            .find_all_by_email_containing("ADA")
            .await
            .expect("case")
            .is_empty()
    );
    assert_eq!(
        emails(
            &members
                .find_all_by_email_starting_with("a_")
                .await
                .expect("prefix")
        ),
        ["a_b@example.com"]
    );
    assert_eq!(
        emails(
            &members
                .find_all_by_email_ending_with(".org")
                .await
                .expect("suffix")
        ),
        ["Ax!b@example.org"]
    );
    assert_eq!(
        members
            .find_all_by_email_ending_with("")
            .await
            .expect("empty suffix")
            .len(),
        6
    );
    assert_eq!(
        members
            .find_all_by_email_starting_with("")
            .await
            .expect("empty prefix")
            .len(),
        6
    );
}

pub async fn hand_written_queries_bind_named_parameters_and_map_rows(db: &Db) {
    db.create_schema::<MemberRecord>().await.expect("schema");
    let members = MemberRecord::repository(db);
    seed(&members).await;
    assert_eq!(
        emails(
            &members
                .find_all_by_age_greater_than_equal(36)
                .await
                .expect(">=")
        ),
        ["a_b@example.com", "ada@example.com"]
    );
    assert_eq!(
        emails(&members.find_all_by_age_before(18).await.expect("before")),
        ["bob@example.com"]
    );
    assert_eq!(
        emails(&members.young_or_unknown("active", 20).await.expect("query")),
        ["a%b@example.com", "bob@example.com"]
    );
    assert_eq!(members.count_org().await.expect("count query"), 1);
    let rows = members.by_email_descending().await.expect("ordered query");
    let descending: Vec<&str> = rows.iter().map(|m| m.email.as_str()).collect();
    let mut sorted = descending.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(descending, sorted);
    assert_eq!(descending.len(), 6);
    let page = Page {
        limit: Some(2),
        offset: 1,
    };
    let paged = members
        .by_status_paged("active", page)
        .await
        .expect("paged query");
    let paged: Vec<&str> = paged.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(paged, ["ada@example.com", "bob@example.com"]);
    assert_eq!(members.purge_from_age(36).await.expect("delete query"), 2);
    assert_eq!(
        members
            .find_all_by_age_is_not_null()
            .await
            .expect("rest")
            .len(),
        2
    );
}

pub async fn port_methods_run_inside_a_transaction_and_roll_back(db: &Db) {
    db.create_schema::<MemberRecord>().await.expect("schema");
    let result: Result<(), RepoError> = db
        .transaction(async |tx| {
            let repository = MemberRecord::repository(&tx);
            let members: &dyn Members = &repository;
            members
                .insert(member("tx@example.com", "active", None))
                .await?;
            assert_eq!(members.count_by_status("active").await?, 1);
            Err(RepoError::invalid_input("Member", "roll back"))
        })
        .await;
    assert!(result.is_err());
    let members = MemberRecord::repository(db);
    assert_eq!(members.count_by_status("active").await.expect("count"), 0);
}
