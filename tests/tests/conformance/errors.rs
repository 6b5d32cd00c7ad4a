//! Bad input at run time: typed errors, nothing written, no values in messages.

use repo_runtime::prelude::*;

use crate::entities::*;

pub async fn duplicate_unique_value_is_a_conflict_naming_the_field(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let alice = users.insert(new_user(1)).await.unwrap();
    let error = users
        .insert(NewUser {
            email: alice.email.clone(),
            name: "Other".into(),
            bio: None,
        })
        .await
        .unwrap_err();
    match &error {
        RepoError::Conflict {
            entity,
            constraint,
            field,
            ..
        } => {
            assert_eq!(
                (*entity, constraint.as_str(), *field),
                ("User", "users_email_key", Some("email"))
            );
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    assert_eq!(
        users.list(ListOptions::new()).await.unwrap(),
        vec![alice.clone()],
        "nothing written"
    );
    // The same through update.
    let bob = users.insert(new_user(2)).await.unwrap();
    let error = users
        .update(&User {
            email: alice.email.clone(),
            ..bob.clone()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RepoError::Conflict {
                field: Some("email"),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(users.get(bob.id).await.unwrap(), bob);
    // A composite unique key names both fields.
    let memberships = Membership::repository(db);
    memberships.insert(membership(1, "ann")).await.unwrap();
    let error = memberships
        .insert(Membership {
            user_name: "other".into(),
            ..membership(1, "ann")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RepoError::Conflict { constraint, field: Some("org_id, nickname"), .. }
            if constraint == "memberships_org_id_nickname_key"),
        "{error:?}"
    );
}

pub async fn duplicate_key_is_a_conflict_naming_the_key(db: &Db) {
    create_all(db).await;
    let measurements = Measurement::repository(db);
    measurements.insert(measurement("k")).await.unwrap();
    let error = measurements
        .insert(Measurement {
            large: 9,
            ..measurement("k")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            RepoError::Conflict {
                field: Some("code"),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        measurements.get("k".into()).await.unwrap().large,
        3,
        "nothing overwritten"
    );
}

pub async fn upsert_conflicting_on_another_unique_key_changes_nothing(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let alice = users.insert(new_user(1)).await.unwrap();
    let bob = users.insert(new_user(2)).await.unwrap();
    // A new key whose e-mail belongs to Alice: a conflict, not an update of Alice's row.
    let intruder = User {
        id: bob.id + 100,
        email: alice.email.clone(),
        name: "Intruder".into(),
        bio: None,
    };
    let error = users.upsert(&intruder).await.unwrap_err();
    assert!(
        matches!(
            error,
            RepoError::Conflict {
                field: Some("email"),
                ..
            }
        ),
        "{error:?}"
    );
    // An existing key taking Alice's e-mail: the same.
    let error = users
        .upsert(&User {
            email: alice.email.clone(),
            ..bob.clone()
        })
        .await
        .unwrap_err();
    assert!(error.is_conflict(), "{error:?}");
    assert_eq!(
        users.list(ListOptions::new()).await.unwrap(),
        vec![alice, bob]
    );
}

pub async fn conflict_messages_never_contain_the_value(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let secret = "hunter2-secret@example.com";
    let new = || NewUser {
        email: secret.into(),
        name: "S".into(),
        bio: None,
    };
    users.insert(new()).await.unwrap();
    let error = users.insert(new()).await.unwrap_err();
    let message = error.to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains("User") && message.contains("email"),
        "{message}"
    );
}

pub async fn column_of_the_wrong_type_is_a_decode_error_naming_it(db: &Db) {
    db.create_schema::<ProbeInt>().await.unwrap();
    ProbeInt::repository(db)
        .insert(ProbeInt { id: 1, value: 7 })
        .await
        .unwrap();
    match ProbeText::repository(db).get(1).await {
        Err(RepoError::Decode {
            entity,
            column,
            rust_type,
            ..
        }) => {
            assert_eq!((entity, column), ("ProbeText", "value"));
            assert!(rust_type.ends_with("String"), "{rust_type}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

pub async fn null_in_a_required_column_is_not_null(db: &Db) {
    db.create_schema::<ProbeInt>().await.unwrap();
    let error = ProbeOptional::repository(db)
        .insert(ProbeOptional { id: 1, value: None })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, RepoError::NotNull { entity: "ProbeOptional", column: Some(c), .. } if c == "value"),
        "{error:?}"
    );
    assert_eq!(ProbeInt::repository(db).count().await.unwrap(), 0);
}
