//! Partial updates: a patch writes only the fields it gives, by key or by filter, returning
//! the stored rows; a nullable field can be set to `NULL` or left alone.

use repo_runtime::prelude::*;

use crate::entities::{
    Membership, MembershipPatch, NewUser, User, UserPatch, create_all, membership,
};

async fn user(db: &Db, name: &str, bio: Option<&str>) -> User {
    User::repository(db)
        .insert(NewUser {
            email: format!("{name}@x.io"),
            name: name.into(),
            bio: bio.map(Into::into),
        })
        .await
        .unwrap()
}

pub async fn a_patch_writes_only_the_fields_it_gives_and_returns_the_stored_row(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let ann = user(db, "ann", Some("writes")).await;
    let bob = user(db, "bob", None).await;

    let renamed = UserPatch {
        name: Some("Ann B.".into()),
        ..UserPatch::default()
    };
    let stored = users.patch(ann.id, renamed).await.unwrap();
    let expected = User {
        name: "Ann B.".into(),
        ..ann.clone()
    };
    assert_eq!(stored, expected);
    assert_eq!(users.get(ann.id).await.unwrap(), expected);

    // `Some(None)` writes NULL; `None` leaves the bio as it is.
    let cleared = UserPatch {
        bio: Some(None),
        ..UserPatch::default()
    };
    let stored = users.patch(ann.id, cleared).await.unwrap();
    assert_eq!(stored.bio, None);
    assert_eq!(stored.name, "Ann B.");

    // An empty patch writes nothing and returns the row as stored.
    assert_eq!(
        users.patch(bob.id, UserPatch::default()).await.unwrap(),
        bob
    );
    // The other row was never touched.
    assert_eq!(users.get(bob.id).await.unwrap(), bob);

    // A composite key, a renamed column.
    let memberships = Membership::repository(db);
    let member = memberships.insert(membership(7, "ann")).await.unwrap();
    let patch = MembershipPatch {
        since: Some(2024),
        avatar: Some(Some(vec![1, 2, 3])),
        ..MembershipPatch::default()
    };
    let stored = memberships
        .patch((7, "ann".to_owned()), patch)
        .await
        .unwrap();
    assert_eq!(
        stored,
        Membership {
            since: 2024,
            avatar: Some(vec![1, 2, 3]),
            ..member
        }
    );
}

pub async fn a_patch_of_a_missing_row_is_not_found_and_a_conflict_writes_nothing(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let ann = user(db, "ann", None).await;
    let bob = user(db, "bob", None).await;
    let rename = UserPatch {
        name: Some("ghost".into()),
        ..UserPatch::default()
    };
    let missing = users.patch(bob.id + 100, rename).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let missing = users
        .patch(bob.id + 100, UserPatch::default())
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");

    // Bob takes Ann's address: refused, and Bob's name, in the same patch, is not written.
    let taken = UserPatch {
        email: Some(ann.email.clone()),
        name: Some("Bobby".into()),
        ..UserPatch::default()
    };
    let conflict = users.patch(bob.id, taken).await.unwrap_err();
    assert!(conflict.is_conflict(), "{conflict:?}");
    assert_eq!(users.get(bob.id).await.unwrap(), bob);

    // By filter, all or nothing: both rows cannot take one address.
    let every = User::ID.is_in([ann.id, bob.id]);
    let same = UserPatch {
        email: Some("same@x.io".into()),
        ..UserPatch::default()
    };
    let conflict = users.patch_where(&every, same).await.unwrap_err();
    assert!(conflict.is_conflict(), "{conflict:?}");
    assert_eq!(users.get(ann.id).await.unwrap(), ann);
    assert_eq!(users.get(bob.id).await.unwrap(), bob);
}

pub async fn patch_where_writes_every_selected_row_and_returns_them_in_key_order(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let ann = user(db, "ann", None).await;
    let bob = user(db, "bob", Some("b")).await;
    let cat = user(db, "cat", None).await;

    // The patch writes the very column the filter reads: the rows selected before the write
    // are the rows returned.
    let without_bio = User::BIO.is_null();
    let welcome = || UserPatch {
        bio: Some(Some("new here".into())),
        ..UserPatch::default()
    };
    let written = users.patch_where(&without_bio, welcome()).await.unwrap();
    let with_bio = |user: &User| User {
        bio: Some("new here".into()),
        ..user.clone()
    };
    assert_eq!(written, [with_bio(&ann), with_bio(&cat)]);
    assert_eq!(users.get(bob.id).await.unwrap(), bob);
    assert_eq!(users.count_where(&User::BIO.is_null()).await.unwrap(), 0);

    // No row selected: nothing written, nothing returned.
    let nobody = User::NAME.eq("nobody");
    assert!(
        users
            .patch_where(&nobody, welcome())
            .await
            .unwrap()
            .is_empty()
    );
    // An empty patch returns the selected rows as they are.
    let selected = users
        .patch_where(&User::NAME.ne("bob"), UserPatch::default())
        .await
        .unwrap();
    assert_eq!(selected, [with_bio(&ann), with_bio(&cat)]);

    // Inside a transaction that rolls back, nothing stays written.
    let failed: Result<(), RepoError> = db
        .transaction(async |tx| {
            let rename = UserPatch {
                name: Some("renamed".into()),
                ..UserPatch::default()
            };
            let written = User::repository(&tx)
                .patch_where(&Filter::all(), rename)
                .await?;
            assert_eq!(written.len(), 3);
            Err(RepoError::not_found("User"))
        })
        .await;
    assert!(failed.unwrap_err().is_not_found());
    assert_eq!(
        users.count_where(&User::NAME.eq("renamed")).await.unwrap(),
        0
    );
}
