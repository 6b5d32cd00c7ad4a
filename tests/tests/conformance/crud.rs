//! Single-row methods: insert, get, find, finders, list, count, exists, update, delete, upsert.

use std::sync::Arc;

use repo_runtime::prelude::*;

use crate::entities::*;

pub async fn insert_returns_the_stored_row_with_its_generated_key(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let first = users.insert(new_user(1)).await.unwrap();
    let second = users.insert(new_user(2)).await.unwrap();
    assert_eq!(
        first,
        User {
            id: first.id,
            email: "user1@example.com".into(),
            name: "User 1".into(),
            bio: None
        }
    );
    assert!(
        second.id > first.id,
        "keys grow: {} then {}",
        first.id,
        second.id
    );
    assert_eq!(users.get(first.id).await.unwrap(), first);
}

pub async fn get_of_a_missing_key_is_not_found_and_find_is_none(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    match users.get(404).await {
        Err(RepoError::NotFound { entity }) => assert_eq!(entity, "User"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(users.find(404).await.unwrap(), None);
    let memberships = Membership::repository(db);
    assert!(
        memberships
            .get((1, "nobody".into()))
            .await
            .unwrap_err()
            .is_not_found()
    );
}

pub async fn find_by_unique_field_returns_the_row_or_none(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let alice = users.insert(new_user(1)).await.unwrap();
    users.insert(new_user(2)).await.unwrap();
    assert_eq!(
        users.find_by_email("user1@example.com").await.unwrap(),
        Some(alice)
    );
    assert_eq!(
        users.find_by_email("USER1@example.com").await.unwrap(),
        None,
        "exact match"
    );
    assert_eq!(
        users.find_by_email("nobody@example.com").await.unwrap(),
        None
    );
}

pub async fn find_by_composite_unique_key(db: &Db) {
    create_all(db).await;
    let memberships = Membership::repository(db);
    let a = memberships.insert(membership(1, "ann")).await.unwrap();
    memberships.insert(membership(2, "ann")).await.unwrap();
    assert_eq!(
        memberships
            .find_by_org_id_and_nickname(1, "ann-nick")
            .await
            .unwrap(),
        Some(a)
    );
    assert_eq!(
        memberships
            .find_by_org_id_and_nickname(3, "ann-nick")
            .await
            .unwrap(),
        None
    );
}

pub async fn list_orders_by_any_column_and_paginates(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let names = ["carol", "alice", "dave", "bob", "erin"];
    for (i, name) in names.iter().enumerate() {
        users
            .insert(NewUser {
                email: format!("{name}@x.io"),
                name: (*name).into(),
                bio: None,
            })
            .await
            .unwrap();
        let _ = i;
    }
    let by_key: Vec<String> = users
        .list(ListOptions::new())
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(by_key, names);
    let names_of = |rows: Vec<User>| rows.into_iter().map(|u| u.name).collect::<Vec<_>>();
    assert_eq!(
        names_of(
            users
                .list(ListOptions::new().asc(UserColumn::Name))
                .await
                .unwrap()
        ),
        ["alice", "bob", "carol", "dave", "erin"]
    );
    assert_eq!(
        names_of(
            users
                .list(ListOptions::new().desc(UserColumn::Name).limit(2))
                .await
                .unwrap()
        ),
        ["erin", "dave"]
    );
    assert_eq!(
        names_of(
            users
                .list(ListOptions::new().asc(UserColumn::Name).limit(2).offset(2))
                .await
                .unwrap()
        ),
        ["carol", "dave"]
    );
    assert_eq!(
        names_of(
            users
                .list(ListOptions::new().asc(UserColumn::Name).offset(3))
                .await
                .unwrap()
        ),
        ["dave", "erin"]
    );
    assert_eq!(
        users.list(ListOptions::new().limit(0)).await.unwrap(),
        Vec::<User>::new()
    );
    assert_eq!(
        users.list(ListOptions::new().offset(99)).await.unwrap(),
        Vec::<User>::new()
    );
    // Ties on the sort key are broken by the primary key, so pages never overlap.
    let memberships = Membership::repository(db);
    for user in ["d", "b", "a", "c"] {
        memberships.insert(membership(1, user)).await.unwrap();
    }
    let page = |offset| {
        let memberships = memberships.clone();
        async move {
            memberships
                .list(
                    ListOptions::new()
                        .asc(MembershipColumn::Since)
                        .limit(2)
                        .offset(offset),
                )
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.user_name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(0).await, ["a", "b"]);
    assert_eq!(page(2).await, ["c", "d"]);
}

pub async fn count_and_exists_follow_the_rows(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    assert_eq!(users.count().await.unwrap(), 0);
    let alice = users.insert(new_user(1)).await.unwrap();
    users.insert(new_user(2)).await.unwrap();
    assert_eq!(users.count().await.unwrap(), 2);
    assert!(users.exists(alice.id).await.unwrap());
    assert!(!users.exists(alice.id + 100).await.unwrap());
    users.delete(alice.id).await.unwrap();
    assert_eq!(users.count().await.unwrap(), 1);
    assert!(!users.exists(alice.id).await.unwrap());
}

pub async fn update_writes_every_non_key_field_and_returns_the_stored_row(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let alice = users.insert(new_user(1)).await.unwrap();
    let bob = users.insert(new_user(2)).await.unwrap();
    let changed = User {
        email: "alice@new.io".into(),
        name: "Alice".into(),
        bio: Some("hi".into()),
        ..alice
    };
    assert_eq!(users.update(&changed).await.unwrap(), changed);
    assert_eq!(users.get(changed.id).await.unwrap(), changed);
    assert_eq!(
        users.get(bob.id).await.unwrap(),
        bob,
        "other rows untouched"
    );
    // Writing the same values again still finds the row (MySQL reports rows matched).
    assert_eq!(users.update(&changed).await.unwrap(), changed);
}

pub async fn update_of_a_missing_row_is_not_found_and_writes_nothing(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let ghost = User {
        id: 77,
        email: "ghost@x.io".into(),
        name: "Ghost".into(),
        bio: None,
    };
    assert!(users.update(&ghost).await.unwrap_err().is_not_found());
    assert_eq!(users.count().await.unwrap(), 0);
}

pub async fn delete_reports_whether_a_row_was_deleted(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let alice = users.insert(new_user(1)).await.unwrap();
    assert!(users.delete(alice.id).await.unwrap());
    assert!(!users.delete(alice.id).await.unwrap());
    assert_eq!(users.find(alice.id).await.unwrap(), None);
}

pub async fn upsert_inserts_then_updates_by_key(db: &Db) {
    create_all(db).await;
    let measurements = Measurement::repository(db);
    let mut m = measurement("m1");
    assert_eq!(measurements.upsert(&m).await.unwrap(), m);
    m.large = 42;
    m.flag = Some(true);
    assert_eq!(measurements.upsert(&m).await.unwrap(), m);
    assert_eq!(measurements.count().await.unwrap(), 1);
    assert_eq!(measurements.get("m1".into()).await.unwrap(), m);
    // An entity with a unique key besides its primary key takes the other MySQL path.
    let users = User::repository(db);
    let alice = users.insert(new_user(1)).await.unwrap();
    let renamed = User {
        name: "Renamed".into(),
        ..alice.clone()
    };
    assert_eq!(users.upsert(&renamed).await.unwrap(), renamed);
    let fresh = User {
        id: alice.id + 10,
        email: "fresh@x.io".into(),
        name: "Fresh".into(),
        bio: None,
    };
    assert_eq!(users.upsert(&fresh).await.unwrap(), fresh);
    assert_eq!(users.count().await.unwrap(), 2);
}

pub async fn composite_key_round_trips_through_every_method(db: &Db) {
    create_all(db).await;
    let memberships = Membership::repository(db);
    let a = memberships.insert(membership(1, "ann")).await.unwrap();
    let b = memberships.insert(membership(1, "ben")).await.unwrap();
    let c = memberships.insert(membership(2, "ann")).await.unwrap();
    assert_eq!(a.id(), (1, "ann".to_owned()));
    assert_eq!(memberships.get((2, "ann".into())).await.unwrap(), c);
    assert!(memberships.exists((1, "ben".into())).await.unwrap());
    let changed = Membership {
        since: 1999,
        active: false,
        avatar: Some(vec![1, 2, 3]),
        ..b.clone()
    };
    assert_eq!(memberships.update(&changed).await.unwrap(), changed);
    assert!(memberships.delete((1, "ann".into())).await.unwrap());
    assert_eq!(memberships.count().await.unwrap(), 2);
    let upserted = Membership {
        nickname: "other".into(),
        ..a.clone()
    };
    assert_eq!(memberships.upsert(&upserted).await.unwrap(), upserted);
    assert_eq!(
        memberships.list(ListOptions::new()).await.unwrap(),
        vec![upserted, changed, c],
        "ordered by (org_id, user_name)"
    );
}

pub async fn entity_with_only_key_columns_supports_every_method(db: &Db) {
    create_all(db).await;
    let follows = Follow::repository(db);
    let f = follows
        .insert(Follow {
            follower: 1,
            followee: 2,
        })
        .await
        .unwrap();
    assert_eq!(
        f,
        Follow {
            follower: 1,
            followee: 2
        }
    );
    assert_eq!(follows.update(&f).await.unwrap(), f);
    assert!(
        follows
            .update(&Follow {
                follower: 9,
                followee: 9
            })
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(follows.upsert(&f).await.unwrap(), f);
    let g = Follow {
        follower: 2,
        followee: 1,
    };
    assert_eq!(follows.upsert(&g).await.unwrap(), g);
    assert_eq!(follows.count().await.unwrap(), 2);
    assert!(follows.delete((1, 2)).await.unwrap());
    assert_eq!(follows.list(ListOptions::new()).await.unwrap(), vec![g]);
}

pub async fn narrow_generated_key_is_returned_in_its_own_type(db: &Db) {
    create_all(db).await;
    let notes = Note::repository(db);
    let note = notes
        .insert(NewNote {
            body: "first".into(),
        })
        .await
        .unwrap();
    let id: i32 = note.id;
    assert_eq!(notes.get(id).await.unwrap(), note);
    let many = notes
        .insert_many(vec![
            NewNote { body: "a".into() },
            NewNote { body: "b".into() },
        ])
        .await
        .unwrap();
    assert_eq!(
        many.iter().map(|n| n.body.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert!(many[0].id > id && many[1].id > many[0].id);
}

/// A service that knows only the trait.
async fn register(users: &dyn UserRepository, email: &str) -> Result<User, RepoError> {
    users
        .insert(NewUser {
            email: email.into(),
            name: "Someone".into(),
            bio: None,
        })
        .await
}

pub async fn repository_works_as_a_trait_object(db: &Db) {
    create_all(db).await;
    let users: Arc<dyn UserRepository> = Arc::new(User::repository(db));
    let user = register(users.as_ref(), "dyn@x.io").await.unwrap();
    let shared = Arc::clone(&users);
    let found = tokio::spawn(async move { shared.find_by_email("dyn@x.io").await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, Some(user));
}
