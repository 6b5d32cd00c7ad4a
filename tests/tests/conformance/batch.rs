//! Batch methods: insert_many and get_many.

use repo_runtime::prelude::*;

use crate::entities::*;

pub async fn insert_many_returns_rows_in_input_order_with_keys(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    users.insert(new_user(0)).await.unwrap();
    let input: Vec<NewUser> = (1..=2_500).map(new_user).collect();
    let stored = users.insert_many(input.clone()).await.unwrap();
    assert_eq!(stored.len(), input.len());
    for (row, new) in stored.iter().zip(&input) {
        assert_eq!(
            (&row.email, &row.name, &row.bio),
            (&new.email, &new.name, &new.bio)
        );
    }
    assert!(
        stored.windows(2).all(|pair| pair[0].id < pair[1].id),
        "keys follow input order"
    );
    assert_eq!(users.get(stored[1_234].id).await.unwrap(), stored[1_234]);
    assert_eq!(users.count().await.unwrap(), 2_501);
    // Entities without a generated key are returned as given.
    let measurements = Measurement::repository(db);
    let codes: Vec<Measurement> = (0..5).map(|i| measurement(&format!("c{i}"))).collect();
    assert_eq!(
        measurements.insert_many(codes.clone()).await.unwrap(),
        codes
    );
}

pub async fn insert_many_of_nothing_runs_no_statement(db: &Db) {
    // No table exists: any statement would fail.
    let users = User::repository(db);
    assert_eq!(
        users.insert_many(Vec::new()).await.unwrap(),
        Vec::<User>::new()
    );
}

pub async fn insert_many_writes_nothing_when_one_row_conflicts(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    // The duplicate sits in a later chunk than the first rows.
    let mut input: Vec<NewUser> = (0..1_500).map(new_user).collect();
    input.push(new_user(3));
    let error = users.insert_many(input).await.unwrap_err();
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
    assert_eq!(users.count().await.unwrap(), 0);
}

pub async fn insert_many_of_100_000_rows_succeeds(db: &Db) {
    create_all(db).await;
    let notes = Note::repository(db);
    let input: Vec<NewNote> = (0..100_000)
        .map(|i| NewNote {
            body: format!("note {i}"),
        })
        .collect();
    let stored = notes.insert_many(input).await.unwrap();
    assert_eq!(stored.len(), 100_000);
    assert_eq!(stored[99_999].body, "note 99999");
    assert_eq!(notes.count().await.unwrap(), 100_000);
    assert_eq!(notes.get(stored[54_321].id).await.unwrap(), stored[54_321]);
}

pub async fn get_many_returns_found_rows_in_request_order(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let stored = users
        .insert_many((0..10).map(new_user).collect())
        .await
        .unwrap();
    let ids = [
        stored[7].id,
        999_999,
        stored[2].id,
        stored[7].id,
        stored[5].id,
    ];
    let found = users.get_many(&ids).await.unwrap();
    assert_eq!(
        found,
        vec![stored[7].clone(), stored[2].clone(), stored[5].clone()]
    );
    assert_eq!(users.get_many(&[]).await.unwrap(), Vec::<User>::new());
    // More keys than one statement may bind.
    let notes = Note::repository(db);
    let many = notes
        .insert_many(
            (0..3_000)
                .map(|i| NewNote {
                    body: i.to_string(),
                })
                .collect(),
        )
        .await
        .unwrap();
    let ids: Vec<i32> = many.iter().rev().map(|n| n.id).collect();
    let found = notes.get_many(&ids).await.unwrap();
    assert_eq!(found.len(), 3_000);
    assert_eq!(found.first(), many.last());
}

pub async fn get_many_with_composite_keys(db: &Db) {
    create_all(db).await;
    let memberships = Membership::repository(db);
    let rows: Vec<Membership> = (0..30)
        .map(|i| membership(i % 3, &format!("u{i}")))
        .collect();
    memberships.insert_many(rows.clone()).await.unwrap();
    let ids = vec![rows[20].id(), (9, "none".into()), rows[4].id()];
    assert_eq!(
        memberships.get_many(&ids).await.unwrap(),
        vec![rows[20].clone(), rows[4].clone()]
    );
}
