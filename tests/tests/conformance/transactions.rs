//! Repositories on a transaction: one Unit of Work across entities.

use repo_runtime::prelude::*;

use crate::entities::*;

pub async fn unit_of_work_commits_writes_of_several_repositories(db: &Db) {
    create_all(db).await;
    let (user, note) = db
        .transaction(async |tx| {
            let user = User::repository(&tx).insert(new_user(1)).await?;
            let note = Note::repository(&tx)
                .insert(NewNote {
                    body: format!("by {}", user.id),
                })
                .await?;
            Ok((user, note))
        })
        .await
        .unwrap();
    assert_eq!(User::repository(db).get(user.id).await.unwrap(), user);
    assert_eq!(Note::repository(db).get(note.id).await.unwrap(), note);
}

pub async fn failed_unit_of_work_leaves_no_partial_write(db: &Db) {
    create_all(db).await;
    let users = User::repository(db);
    let existing = users.insert(new_user(1)).await.unwrap();
    let result = db
        .transaction(async |tx| {
            Note::repository(&tx)
                .insert(NewNote {
                    body: "first write".into(),
                })
                .await?;
            User::repository(&tx).insert(new_user(1)).await?;
            Ok(())
        })
        .await;
    assert!(result.unwrap_err().is_conflict());
    assert_eq!(
        Note::repository(db).count().await.unwrap(),
        0,
        "the first write was rolled back"
    );
    assert_eq!(
        users.list(ListOptions::new()).await.unwrap(),
        vec![existing]
    );
}

pub async fn dropped_transaction_rolls_back(db: &Db) {
    create_all(db).await;
    {
        let tx = db.begin().await.unwrap();
        Note::repository(&tx)
            .insert(NewNote {
                body: "never committed".into(),
            })
            .await
            .unwrap();
    }
    let tx = db.begin().await.unwrap();
    Note::repository(&tx)
        .insert(NewNote {
            body: "rolled back".into(),
        })
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(matches!(
        Note::repository(&tx).count().await,
        Err(RepoError::TransactionFinished)
    ));
    assert_eq!(Note::repository(db).count().await.unwrap(), 0);
}

pub async fn insert_many_inside_a_transaction_fails_alone(db: &Db) {
    create_all(db).await;
    let tx = db.begin().await.unwrap();
    let users = User::repository(&tx);
    let kept = users.insert(new_user(1)).await.unwrap();
    let error = users
        .insert_many(vec![new_user(2), new_user(1)])
        .await
        .unwrap_err();
    assert!(error.is_conflict(), "{error:?}");
    // The batch was undone to its savepoint; the transaction goes on.
    let later = users.insert(new_user(3)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        User::repository(db).list(ListOptions::new()).await.unwrap(),
        vec![kept, later]
    );
}
