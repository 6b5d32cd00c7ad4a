//! Values round-trip unchanged through every backend.

use repo_runtime::prelude::*;

use crate::entities::*;

pub async fn option_fields_round_trip_none_and_some(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let none = users.insert(new_user(1)).await.unwrap();
    let some = users
        .insert(NewUser {
            bio: Some(String::new()),
            ..new_user(2)
        })
        .await
        .unwrap();
    assert_eq!(users.get(none.id).await.unwrap().bio, None);
    assert_eq!(
        users.get(some.id).await.unwrap().bio,
        Some(String::new()),
        "empty is not NULL"
    );
    let memberships = Membership::repository(db);
    let with_avatar = Membership {
        avatar: Some(vec![0, 255, 0]),
        ..membership(1, "a")
    };
    memberships.insert(with_avatar.clone()).await.unwrap();
    assert_eq!(
        memberships.get(with_avatar.id()).await.unwrap(),
        with_avatar
    );
    let measurements = Measurement::repository(db);
    for (code, flag) in [("t", Some(true)), ("f", Some(false)), ("n", None)] {
        let m = Measurement {
            flag,
            ..measurement(code)
        };
        measurements.insert(m.clone()).await.unwrap();
        assert_eq!(measurements.get(code.into()).await.unwrap().flag, flag);
    }
}

pub async fn hostile_strings_round_trip_unchanged(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let values = [
        "O'Brien \"quoted\"",
        "'; DROP TABLE users; --",
        "back\\slash \\' \\\" \\0",
        "emoji 🦀🎉 and ünïcödé",
        "line\nbreak\ttab\r",
        "  padded  ",
        "%_ wildcards _%",
    ];
    for (i, value) in values.iter().enumerate() {
        let stored = users
            .insert(NewUser {
                email: format!("{i}{value}"),
                name: (*value).into(),
                bio: Some((*value).into()),
            })
            .await
            .unwrap();
        let read = users.get(stored.id).await.unwrap();
        assert_eq!(read.name, *value);
        assert_eq!(read.bio.as_deref(), Some(*value));
        assert_eq!(
            users.find_by_email(&format!("{i}{value}")).await.unwrap(),
            Some(read)
        );
    }
    let big = "x".repeat(1024 * 1024 - 3) + "end";
    let stored = users
        .insert(NewUser {
            bio: Some(big.clone()),
            ..new_user(99)
        })
        .await
        .unwrap();
    assert_eq!(
        users.get(stored.id).await.unwrap().bio.map(|b| b.len()),
        Some(big.len())
    );
    assert_eq!(
        users.count().await.unwrap(),
        values.len() as u64 + 1,
        "the table survived"
    );
}

pub async fn numeric_edge_values_round_trip(db: &Db) {
    create_all(db).await;
    let measurements = Measurement::repository(db);
    let cases = [
        Measurement {
            small: i16::MIN,
            medium: i32::MIN,
            large: i64::MIN,
            single: f32::MIN_POSITIVE,
            double: -0.1,
            raw: Vec::new(),
            ..measurement("min")
        },
        Measurement {
            small: i16::MAX,
            medium: i32::MAX,
            large: i64::MAX,
            single: 3.402_823e38,
            double: 1.797_693_134_862_315_7e308,
            raw: (0..=255).collect(),
            ..measurement("max")
        },
        Measurement {
            small: 0,
            medium: 0,
            large: 0,
            single: 0.0,
            double: 0.0,
            ..measurement("zero")
        },
    ];
    for case in cases {
        measurements.insert(case.clone()).await.unwrap();
        assert_eq!(measurements.get(case.code.clone()).await.unwrap(), case);
    }
}

pub async fn skipped_field_is_default_when_read(db: &Db) {
    create_all(db).await;
    let measurements = Measurement::repository(db);
    let stored = measurements
        .insert(Measurement {
            cached: Some("not persisted".into()),
            ..measurement("s")
        })
        .await
        .unwrap();
    let read = measurements.get("s".into()).await.unwrap();
    assert_eq!(read.cached, None);
    assert_eq!(
        read,
        Measurement {
            cached: None,
            ..stored
        }
    );
    assert!(
        Measurement::TABLE
            .columns
            .iter()
            .all(|c| c.field != "cached")
    );
}

pub async fn renamed_column_is_used_in_the_table(db: &Db) {
    create_all(db).await;
    assert!(Membership::TABLE.column("member_since").is_some());
    assert!(Membership::TABLE.column("since").is_none());
    let memberships = Membership::repository(db);
    let m = Membership {
        since: 1984,
        ..membership(5, "r")
    };
    memberships.insert(m.clone()).await.unwrap();
    let sorted = memberships
        .list(ListOptions::new().desc(MembershipColumn::Since))
        .await
        .unwrap();
    assert_eq!(sorted, vec![m]);
}
