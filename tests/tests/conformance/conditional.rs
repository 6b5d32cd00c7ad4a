//! Conditional writes on any unique key: insert-or-ignore ("create the tags that do not exist
//! yet") and upsert on a unique key other than the primary one, race-free.

use repo_runtime::prelude::*;

use crate::entities::{Membership, NewUser, User, UserRepository, create_all, membership};

fn new_user(email: &str, name: &str) -> NewUser {
    NewUser {
        email: email.into(),
        name: name.into(),
        bio: None,
    }
}

pub async fn insert_or_ignore_inserts_only_the_rows_whose_key_is_free(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let ann = users.insert(new_user("ann@x.io", "Ann")).await.unwrap();

    let batch = vec![
        new_user("ann@x.io", "Ann again"),
        new_user("bob@x.io", "Bob"),
        new_user("bob@x.io", "Bob's twin"),
        new_user("cat@x.io", "Cat"),
    ];
    let inserted = users.insert_or_ignore(batch, User::BY_EMAIL).await.unwrap();
    let names: Vec<&str> = inserted.iter().map(|user| user.name.as_str()).collect();
    // The first of two rows with one key wins; rows come back in key order.
    assert_eq!(names, ["Bob", "Cat"]);
    assert!(inserted[0].id < inserted[1].id);
    for user in &inserted {
        assert_eq!(users.get(user.id).await.unwrap(), *user);
    }
    assert_eq!(users.get(ann.id).await.unwrap(), ann);
    assert_eq!(users.count().await.unwrap(), 3);

    // Everything held already: nothing inserted. Nothing given: no statement.
    let again = vec![new_user("bob@x.io", "B"), new_user("cat@x.io", "C")];
    assert!(
        users
            .insert_or_ignore(again, User::BY_EMAIL)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        users
            .insert_or_ignore(Vec::new(), User::BY_EMAIL)
            .await
            .unwrap()
            .is_empty()
    );

    // A natural primary key.
    let memberships = Membership::repository(db);
    memberships.insert(membership(1, "ann")).await.unwrap();
    let inserted = memberships
        .insert_or_ignore(
            vec![membership(1, "ann"), membership(1, "bob")],
            Membership::BY_ORG_ID_AND_USER_NAME,
        )
        .await
        .unwrap();
    assert_eq!(inserted, [membership(1, "bob")]);
}

pub async fn a_conflict_on_another_unique_key_is_refused_and_writes_nothing(db: &Db) {
    create_all(db).await;
    let memberships = Membership::repository(db);
    memberships.insert(membership(1, "ann")).await.unwrap();

    // A free primary key, but Ann's nickname in the same organisation.
    let clash = Membership {
        nickname: "ann-nick".into(),
        ..membership(1, "carl")
    };
    let refused = memberships
        .insert_or_ignore(
            vec![membership(1, "bob"), clash.clone()],
            Membership::BY_ORG_ID_AND_USER_NAME,
        )
        .await
        .unwrap_err();
    assert!(refused.is_conflict(), "{refused:?}");
    assert_eq!(
        memberships.count().await.unwrap(),
        1,
        "the batch wrote nothing"
    );

    // Upsert on the nickname while the primary key is another row's: refused too.
    let taken_key = Membership {
        nickname: "fresh".into(),
        ..membership(1, "ann")
    };
    let refused = memberships
        .upsert_on(taken_key, Membership::BY_ORG_ID_AND_NICKNAME)
        .await
        .unwrap_err();
    assert!(refused.is_conflict(), "{refused:?}");
    assert_eq!(
        memberships.get((1, "ann".to_owned())).await.unwrap(),
        membership(1, "ann")
    );
}

pub async fn upsert_on_a_unique_key_updates_the_row_holding_it_and_keeps_its_key(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let ann = users.insert(new_user("ann@x.io", "Ann")).await.unwrap();

    let updated = users
        .upsert_on(
            NewUser {
                bio: Some("back".into()),
                ..new_user("ann@x.io", "Ann B.")
            },
            User::BY_EMAIL,
        )
        .await
        .unwrap();
    let expected = User {
        name: "Ann B.".into(),
        bio: Some("back".into()),
        ..ann.clone()
    };
    assert_eq!(updated, expected);
    assert_eq!(users.get(ann.id).await.unwrap(), expected);

    let bob = users
        .upsert_on(new_user("bob@x.io", "Bob"), User::BY_EMAIL)
        .await
        .unwrap();
    assert_ne!(bob.id, ann.id);
    assert_eq!(users.get(bob.id).await.unwrap(), bob);
    assert_eq!(users.count().await.unwrap(), 2);

    // On a composite unique key, the stored row keeps its primary key.
    let memberships = Membership::repository(db);
    memberships.insert(membership(1, "ann")).await.unwrap();
    let renamed = Membership {
        user_name: "annie".into(),
        nickname: "ann-nick".into(),
        since: 2031,
        ..membership(1, "annie")
    };
    let stored = memberships
        .upsert_on(renamed, Membership::BY_ORG_ID_AND_NICKNAME)
        .await
        .unwrap();
    assert_eq!(
        stored,
        Membership {
            since: 2031,
            ..membership(1, "ann")
        }
    );
    assert_eq!(memberships.count().await.unwrap(), 1);
}

pub async fn racing_conditional_writers_leave_one_row_per_key(db: &Db) {
    create_all(db).await;
    let tags = ["rust", "sql", "async", "orm", "db"];
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let db = db.clone();
            tokio::spawn(async move {
                let users = User::repository(&db);
                // The same keys in the same order, as a tag list sorted by name is.
                let batch = tags
                    .iter()
                    .map(|tag| new_user(&format!("{tag}@tags"), &format!("{tag} by {writer}")))
                    .collect();
                let inserted = users.insert_or_ignore(batch, User::BY_EMAIL).await?;
                users
                    .upsert_on(
                        new_user("hot@x.io", &format!("writer {writer}")),
                        User::BY_EMAIL,
                    )
                    .await?;
                Ok::<_, RepoError>(inserted.len())
            })
        })
        .collect();
    let mut inserted = 0;
    for writer in writers {
        inserted += writer.await.unwrap().unwrap();
    }
    assert_eq!(
        inserted,
        tags.len(),
        "each tag inserted by exactly one writer"
    );
    let users = User::repository(db);
    assert_eq!(users.count().await.unwrap(), tags.len() as u64 + 1);
    let hot = users.find_by_email("hot@x.io").await.unwrap().unwrap();
    assert!(hot.name.starts_with("writer "), "{hot:?}");
}
