//! Filters built at run time: typed fields, and / or / not, optional conditions, every
//! operator, SQL's treatment of `NULL`, ordering and pages, counts, existence and deletes.

use repo_runtime::prelude::*;

use crate::entities::{
    Measurement, MeasurementColumn, NewUser, User, UserColumn, create_all, measurement,
};

/// Users named `names`, with a bio for every other one.
async fn users_named(db: &Db, names: &[&str]) -> Vec<User> {
    let users = User::repository(db);
    let mut stored = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let user = users
            .insert(NewUser {
                email: format!("{name}@x.io"),
                name: (*name).into(),
                bio: (i % 2 == 0).then(|| format!("{name} writes")),
            })
            .await
            .unwrap();
        stored.push(user);
    }
    stored
}

fn names(users: Vec<User>) -> Vec<String> {
    users.into_iter().map(|user| user.name).collect()
}

/// What a search form sends: every field optional.
#[derive(Default)]
struct Search<'a> {
    name_starts: Option<&'a str>,
    email_ends: Option<&'a str>,
    with_bio: Option<bool>,
    ids: Option<Vec<i64>>,
}

impl Search<'_> {
    /// The form as one filter: the fields left empty drop out.
    fn filter(&self) -> Filter<User> {
        Filter::all()
            .and(self.name_starts.map(|start| User::NAME.starts_with(start)))
            .and(self.email_ends.map(|end| User::EMAIL.ends_with(end)))
            .and(self.with_bio.map(|with| match with {
                true => User::BIO.is_not_null(),
                false => User::BIO.is_null(),
            }))
            .and(self.ids.clone().map(|ids| User::ID.is_in(ids)))
    }
}

pub async fn a_search_form_of_optional_fields_is_one_filter_for_a_page_and_its_total(db: &Db) {
    create_all(db).await;
    let stored = users_named(db, &["anna", "andy", "bob", "ada", "alice", "carl"]).await;
    let users = User::repository(db);

    let empty = Search::default().filter();
    assert_eq!(users.count_where(&empty).await.unwrap(), 6);

    let search = Search {
        name_starts: Some("a"),
        with_bio: Some(true),
        ..Search::default()
    };
    let filter = search.filter();
    // Every other user has a bio: of those starting with "a", anna and alice.
    let page = ListOptions::new().asc(UserColumn::Name).limit(1);
    let first = users.find_where(&filter, page.clone()).await.unwrap();
    assert_eq!(names(first), ["alice"]);
    let second = users.find_where(&filter, page.offset(1)).await.unwrap();
    assert_eq!(names(second), ["anna"]);
    let by_page = ListOptions::new()
        .asc(UserColumn::Name)
        .page(Page::number(1, 1));
    assert_eq!(
        names(users.find_where(&filter, by_page).await.unwrap()),
        ["anna"]
    );
    assert_eq!(users.count_where(&filter).await.unwrap(), 2);

    let narrower = Search {
        name_starts: Some("a"),
        ids: Some(vec![stored[0].id, stored[1].id, stored[2].id]),
        ..Search::default()
    };
    let found = users
        .find_where(&narrower.filter(), ListOptions::new())
        .await
        .unwrap();
    assert_eq!(names(found), ["anna", "andy"], "in key order by default");

    let no_bio = Search {
        with_bio: Some(false),
        email_ends: Some("@x.io"),
        ..Search::default()
    };
    let found = users
        .find_where(&no_bio.filter(), ListOptions::new().desc(UserColumn::Name))
        .await
        .unwrap();
    assert_eq!(names(found), ["carl", "andy", "ada"]);
}

pub async fn every_operator_selects_what_sql_selects(db: &Db) {
    create_all(db).await;
    let repository = Measurement::repository(db);
    for (code, medium, double) in [("a", 1, 0.5), ("b", 2, 1.5), ("c", 3, 2.5), ("d", 4, 3.5)] {
        let mut row = measurement(code);
        row.medium = medium;
        row.double = double;
        row.flag = (medium % 2 == 0).then_some(medium == 2);
        repository.insert(row).await.unwrap();
    }
    let codes = |rows: Vec<Measurement>| rows.into_iter().map(|m| m.code).collect::<Vec<_>>();
    let by_code = || ListOptions::new().asc(MeasurementColumn::Code);
    let cases: Vec<(Filter<Measurement>, &[&str])> = vec![
        (Measurement::MEDIUM.eq(2), &["b"]),
        (Measurement::MEDIUM.ne(2), &["a", "c", "d"]),
        (Measurement::MEDIUM.gt(2), &["c", "d"]),
        (Measurement::MEDIUM.ge(2), &["b", "c", "d"]),
        (Measurement::MEDIUM.lt(2), &["a"]),
        (Measurement::MEDIUM.le(2), &["a", "b"]),
        (Measurement::DOUBLE.between(1.0, 3.0), &["b", "c"]),
        (Measurement::CODE.is_in(["d", "a", "zz"]), &["a", "d"]),
        (Measurement::CODE.is_in(Vec::<String>::new()), &[]),
        (Measurement::CODE.not_in(["a"]), &["b", "c", "d"]),
        (
            Measurement::CODE.not_in(Vec::<String>::new()),
            &["a", "b", "c", "d"],
        ),
        (Measurement::FLAG.is_null(), &["a", "c"]),
        (Measurement::FLAG.is_not_null(), &["b", "d"]),
        (Measurement::FLAG.eq(true), &["b"]),
        (!Measurement::FLAG.eq(true), &["d"]),
        (
            Measurement::MEDIUM.lt(2).or(Measurement::MEDIUM.gt(3)),
            &["a", "d"],
        ),
        (
            !(Measurement::MEDIUM.lt(2).or(Measurement::MEDIUM.gt(3))),
            &["b", "c"],
        ),
        (Filter::any_of([]), &[]),
        (Filter::all_of([]), &["a", "b", "c", "d"]),
    ];
    for (filter, expected) in cases {
        let found = repository.find_where(&filter, by_code()).await.unwrap();
        assert_eq!(codes(found), expected, "{filter:?}");
        let count = repository.count_where(&filter).await.unwrap();
        assert_eq!(count, expected.len() as u64, "{filter:?}");
        let exists = repository.exists_where(&filter).await.unwrap();
        assert_eq!(exists, !expected.is_empty(), "{filter:?}");
    }

    // A list longer than any backend's bind limit per statement is still one list.
    let many: Vec<String> = (0..10_000)
        .map(|n| format!("code{n}"))
        .chain(["c".into()])
        .collect();
    let found = repository
        .find_where(&Measurement::CODE.is_in(&many), by_code())
        .await
        .unwrap();
    assert_eq!(codes(found), ["c"]);
}

pub async fn text_matches_are_literal_and_a_null_meets_neither_a_filter_nor_its_negation(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let texts = ["100%", "a_b", "it's", "C:\\dir", "x!y", "plain"];
    for (i, text) in texts.iter().enumerate() {
        users
            .insert(NewUser {
                email: format!("user{i}@x.io"),
                name: (*text).into(),
                bio: (i != 0).then(|| (*text).into()),
            })
            .await
            .unwrap();
    }
    let found = |filter: Filter<User>| {
        let users = &users;
        async move {
            names(
                users
                    .find_where(&filter, ListOptions::new().asc(UserColumn::Id))
                    .await
                    .unwrap(),
            )
        }
    };
    assert_eq!(found(User::NAME.contains("%")).await, ["100%"]);
    assert_eq!(found(User::NAME.contains("_")).await, ["a_b"]);
    assert_eq!(found(User::NAME.starts_with("it'")).await, ["it's"]);
    assert_eq!(found(User::NAME.ends_with("\\dir")).await, ["C:\\dir"]);
    assert_eq!(found(User::NAME.contains("!")).await, ["x!y"]);
    assert!(
        found(User::NAME.contains("PLAIN")).await.is_empty(),
        "case counts"
    );
    assert_eq!(found(User::NAME.starts_with("")).await.len(), texts.len());
    // "100%" has no bio: it meets neither the comparison nor its negation.
    assert_eq!(found(User::BIO.eq("plain")).await, ["plain"]);
    let not_plain = found(!User::BIO.eq("plain")).await;
    assert_eq!(not_plain, ["a_b", "it's", "C:\\dir", "x!y"]);
    assert_eq!(found(User::BIO.not_in(["plain"])).await, not_plain);
    // An empty text is at the start and the end of any text, but not of a NULL.
    let with_bio = ["a_b", "it's", "C:\\dir", "x!y", "plain"];
    assert_eq!(found(User::BIO.ends_with("")).await, with_bio);
    assert_eq!(found(User::BIO.starts_with("")).await, with_bio);
    assert_eq!(found(User::BIO.contains("")).await, with_bio);
    assert!(found(!User::BIO.ends_with("")).await.is_empty());
}

pub async fn delete_where_deletes_what_the_filter_selects_and_first_where_takes_the_order(db: &Db) {
    create_all(db).await;
    users_named(db, &["dora", "dan", "eve", "dirk"]).await;
    let users = User::repository(db);
    let ds = User::NAME.starts_with("d");
    let first = users
        .first_where(&ds, ListOptions::new().desc(UserColumn::Name))
        .await
        .unwrap();
    assert_eq!(first.map(|user| user.name).as_deref(), Some("dora"));
    assert!(
        users
            .first_where(&User::NAME.eq("zed"), ListOptions::new())
            .await
            .unwrap()
            .is_none()
    );

    // Inside a transaction that rolls back, the delete leaves nothing behind.
    let tx = db.begin().await.unwrap();
    assert_eq!(User::repository(&tx).delete_where(&ds).await.unwrap(), 3);
    assert_eq!(User::repository(&tx).count().await.unwrap(), 1);
    tx.rollback().await.unwrap();
    assert_eq!(users.count_where(&ds).await.unwrap(), 3);

    assert_eq!(users.delete_where(&ds).await.unwrap(), 3);
    assert!(!users.exists_where(&ds).await.unwrap());
    assert_eq!(
        names(users.list(ListOptions::new()).await.unwrap()),
        ["eve"]
    );
    assert_eq!(users.delete_where(&Filter::none()).await.unwrap(), 0);
    assert_eq!(users.delete_where(&Filter::all()).await.unwrap(), 1);
    assert_eq!(users.count().await.unwrap(), 0);
}
