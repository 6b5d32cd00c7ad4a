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

pub async fn nested_transaction_rolls_back_only_its_own_writes(db: &Db) {
    create_all(db).await;
    db.transaction(async |tx| {
        let notes = Note::repository(&tx);
        notes
            .insert(NewNote {
                body: "outer".into(),
            })
            .await?;
        let inner = tx
            .transaction(async |nested| {
                Note::repository(&nested)
                    .insert(NewNote {
                        body: "inner".into(),
                    })
                    .await?;
                User::repository(&nested).insert(new_user(1)).await?;
                User::repository(&nested).insert(new_user(1)).await
            })
            .await;
        assert!(inner.unwrap_err().is_conflict());
        notes
            .insert(NewNote {
                body: "after".into(),
            })
            .await?;
        Ok(())
    })
    .await
    .unwrap();
    let bodies: Vec<String> = Note::repository(db)
        .list(ListOptions::new())
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.body)
        .collect();
    assert_eq!(bodies, ["outer", "after"]);
    assert_eq!(User::repository(db).count().await.unwrap(), 0);
}

pub async fn abandoned_savepoint_aborts_the_whole_transaction(db: &Db) {
    create_all(db).await;
    let tx = db.begin().await.unwrap();
    Note::repository(&tx)
        .insert(NewNote {
            body: "outer".into(),
        })
        .await
        .unwrap();
    {
        let nested = tx.begin_nested().await.unwrap();
        Note::repository(&nested)
            .insert(NewNote {
                body: "forgotten".into(),
            })
            .await
            .unwrap();
    }
    assert!(matches!(
        tx.commit().await,
        Err(RepoError::TransactionAborted)
    ));
    assert_eq!(Note::repository(db).count().await.unwrap(), 0);
}

pub async fn transient_failure_reruns_the_whole_unit_of_work(db: &Db) {
    create_all(db).await;
    let attempts = std::sync::atomic::AtomicUsize::new(0);
    let note = db
        .transaction(async |tx| {
            let attempt = attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let note = Note::repository(&tx)
                .insert(NewNote {
                    body: format!("attempt {attempt}"),
                })
                .await?;
            if attempt == 0 {
                // What a deadlock or serialization failure looks like to the caller.
                return Err(RepoError::PoolTimeout);
            }
            Ok(note)
        })
        .await
        .unwrap();
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        Note::repository(db).list(ListOptions::new()).await.unwrap(),
        vec![note]
    );
    assert_eq!(db.metrics().retries, 1);
}

pub async fn permanent_failure_is_not_retried(db: &Db) {
    create_all(db).await;
    let attempts = std::sync::atomic::AtomicUsize::new(0);
    let result = db
        .transaction(async |tx| {
            attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            User::repository(&tx).insert(new_user(1)).await?;
            User::repository(&tx).insert(new_user(1)).await
        })
        .await;
    assert!(result.unwrap_err().is_conflict());
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(User::repository(db).count().await.unwrap(), 0);
}

pub async fn read_only_and_isolated_transactions_run_on_every_backend(db: &Db) {
    create_all(db).await;
    User::repository(db).insert(new_user(1)).await.unwrap();
    let options = TxOptions::new()
        .isolation(repo_runtime::Isolation::Serializable)
        .read_only();
    let count = db
        .transaction_with(&options, async |tx| User::repository(&tx).count().await)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let options = TxOptions::new().isolation(repo_runtime::Isolation::ReadCommitted);
    db.transaction_with(&options, async |tx| {
        User::repository(&tx).insert(new_user(2)).await
    })
    .await
    .unwrap();
    assert_eq!(User::repository(db).count().await.unwrap(), 2);
}

pub async fn deadlocked_transactions_both_succeed_through_retry(db: &Db) {
    create_all(db).await;
    let measurements = Measurement::repository(db);
    measurements.insert(measurement("a")).await.unwrap();
    measurements.insert(measurement("b")).await.unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let worker = |first: &'static str, second: &'static str| {
        let db = db.clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            let met = std::sync::atomic::AtomicBool::new(false);
            // Read-modify-write needs SERIALIZABLE: under READ COMMITTED a retried transaction
            // could read a value the other is about to overwrite and lose an increment.
            let options = TxOptions::new().isolation(repo_runtime::Isolation::Serializable);
            db.transaction_with(&options, async |tx| {
                let repository = Measurement::repository(&tx);
                let mut row = repository.get(first.into()).await?;
                row.large += 1;
                repository.update(&row).await?;
                if !met.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    // Both hold their first lock before either takes its second. SQLite
                    // serializes writers, so there the wait simply times out.
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), barrier.wait())
                        .await;
                }
                let mut row = repository.get(second.into()).await?;
                row.large += 1;
                repository.update(&row).await?;
                Ok(())
            })
            .await
        })
    };
    let (one, two) = tokio::join!(worker("a", "b"), worker("b", "a"));
    one.unwrap().unwrap();
    two.unwrap().unwrap();
    assert_eq!(measurements.get("a".into()).await.unwrap().large, 5);
    assert_eq!(measurements.get("b".into()).await.unwrap().large, 5);
    if db.dialect() != repo_runtime::Dialect::Sqlite {
        // The servers detected the deadlock and one transaction ran again.
        assert!(db.metrics().retries >= 1, "{:?}", db.metrics());
        assert!(
            db.metrics().errors_of("transient") >= 1,
            "{:?}",
            db.metrics()
        );
    }
}

pub async fn concurrent_writers_lose_nothing(db: &Db) {
    create_all(db).await;
    let writers: Vec<_> = (0..16)
        .map(|writer| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..100 {
                    db.transaction(async |tx| {
                        Note::repository(&tx)
                            .insert(NewNote {
                                body: format!("{writer}-{i}"),
                            })
                            .await
                    })
                    .await?;
                }
                Ok::<_, RepoError>(())
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    assert_eq!(Note::repository(db).count().await.unwrap(), 1_600);
}

pub async fn serializable_write_skew_is_retried_until_both_succeed(db: &Db) {
    create_all(db).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let options = TxOptions::new().isolation(repo_runtime::Isolation::Serializable);
    let worker = |name: &'static str| {
        let db = db.clone();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            let met = std::sync::atomic::AtomicBool::new(false);
            db.transaction_with(&options, async |tx| {
                let notes = Note::repository(&tx);
                let seen = notes.count().await?;
                if !met.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    // Both read before either writes (SQLite serializes them instead).
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), barrier.wait())
                        .await;
                }
                notes
                    .insert(NewNote {
                        body: format!("{name} saw {seen}"),
                    })
                    .await
            })
            .await
        })
    };
    let (one, two) = tokio::join!(worker("one"), worker("two"));
    let (one, two) = (one.unwrap().unwrap(), two.unwrap().unwrap());
    let mut bodies = [one.body, two.body];
    bodies.sort();
    // Serializable: one of them ran after the other and saw its row.
    assert!(bodies.iter().any(|b| b.ends_with("saw 1")), "{bodies:?}");
    assert_eq!(Note::repository(db).count().await.unwrap(), 2);
    if db.dialect() != repo_runtime::Dialect::Sqlite {
        assert!(db.metrics().retries >= 1, "{:?}", db.metrics());
    }
}

/// An application's error, as a use case would return from a unit of work.
#[derive(Debug)]
enum AppError {
    Forbidden,
    Store(RepoError),
}

impl From<RepoError> for AppError {
    fn from(error: RepoError) -> Self {
        AppError::Store(error)
    }
}

impl TransactionError for AppError {
    fn repo_error(&self) -> Option<&RepoError> {
        match self {
            AppError::Store(error) => Some(error),
            AppError::Forbidden => None,
        }
    }
}

pub async fn a_unit_of_work_fails_with_the_applications_error_and_retries_through_it(db: &Db) {
    create_all(db).await;
    let notes = Note::repository(db);
    // The application's own error rolls back and is returned as it is, without a retry.
    let attempts = std::sync::atomic::AtomicUsize::new(0);
    let result: Result<(), AppError> = db
        .unit_of_work(async |tx| {
            attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Note::repository(&tx)
                .insert(NewNote {
                    body: "refused".into(),
                })
                .await?;
            Err(AppError::Forbidden)
        })
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(notes.count().await.unwrap(), 0, "rolled back");

    // A transient failure inside the application's error is retried as a whole.
    let attempts = std::sync::atomic::AtomicUsize::new(0);
    let note = db
        .unit_of_work(async |tx| {
            let note = Note::repository(&tx)
                .insert(NewNote {
                    body: "kept once".into(),
                })
                .await?;
            if attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return Err(AppError::Store(RepoError::Transient {
                    entity: "Note",
                    source: "injected".into(),
                }));
            }
            Ok::<_, AppError>(note)
        })
        .await
        .unwrap();
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(notes.list(ListOptions::new()).await.unwrap(), vec![note]);

    // The same in a savepoint: its writes go, the transaction's stay.
    let tx = db.begin().await.unwrap();
    Note::repository(&tx)
        .insert(NewNote {
            body: "outer".into(),
        })
        .await
        .unwrap();
    let nested: Result<(), AppError> = tx
        .unit_of_work(async |inner| {
            Note::repository(&inner)
                .insert(NewNote {
                    body: "inner".into(),
                })
                .await?;
            Err(AppError::Forbidden)
        })
        .await;
    assert!(matches!(nested, Err(AppError::Forbidden)));
    tx.commit().await.unwrap();
    let bodies: Vec<String> = notes
        .list(ListOptions::new())
        .await
        .unwrap()
        .into_iter()
        .map(|note| note.body)
        .collect();
    assert_eq!(bodies, ["kept once", "outer"]);
}

/// Runs `sql` with `value` bound on the transaction's own connection.
async fn execute_on(tx: &Tx, sql: &str, value: &str) -> Result<u64, RepoError> {
    let mut connection = tx.connection().await?;
    let sql = repo_runtime::sqlx::AssertSqlSafe(sql.to_owned());
    let result = if let Some(conn) = connection.as_sqlite() {
        sqlx::query(sql)
            .bind(value)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    } else if let Some(conn) = connection.as_postgres() {
        sqlx::query(sql)
            .bind(value)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    } else if let Some(conn) = connection.as_mysql() {
        sqlx::query(sql)
            .bind(value)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    } else if let Some(conn) = connection.as_rusqlite() {
        return conn
            .execute(&sql.0, [value])
            .map(|rows| rows as u64)
            .map_err(repo_runtime::from_rusqlite);
    } else {
        unreachable!("a SQL backend")
    };
    result.map_err(repo_runtime::from_sqlx)
}

pub async fn statements_of_ones_own_join_the_unit_of_work(db: &Db) {
    create_all(db).await;
    let notes = Note::repository(db);
    let insert = match db.dialect() {
        repo_runtime::Dialect::Postgres => "INSERT INTO notes (body) VALUES ($1)",
        _ => "INSERT INTO notes (body) VALUES (?)",
    };
    // Rolled back with the repositories' writes.
    let tx = db.begin().await.unwrap();
    Note::repository(&tx)
        .insert(NewNote {
            body: "by the repository".into(),
        })
        .await
        .unwrap();
    assert_eq!(execute_on(&tx, insert, "by hand").await.unwrap(), 1);
    assert_eq!(Note::repository(&tx).count().await.unwrap(), 2, "one unit");
    tx.rollback().await.unwrap();
    assert_eq!(notes.count().await.unwrap(), 0);
    // Committed with them.
    let tx = db.begin().await.unwrap();
    execute_on(&tx, insert, "by hand").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        notes.list(ListOptions::new()).await.unwrap()[0].body,
        "by hand"
    );
    assert!(matches!(
        execute_on(&tx, insert, "late").await,
        Err(RepoError::TransactionFinished)
    ));
    // Its errors are classified as the repositories' are, with no value kept.
    let users = User::repository(db);
    let taken = users.insert(new_user(1)).await.unwrap().email;
    let insert_user = match db.dialect() {
        repo_runtime::Dialect::Postgres => "INSERT INTO users (email, name) VALUES ($1, 'x')",
        _ => "INSERT INTO users (email, name) VALUES (?, 'x')",
    };
    let tx = db.begin().await.unwrap();
    let error = execute_on(&tx, insert_user, &taken).await.unwrap_err();
    assert!(error.is_conflict(), "{error:?}");
    assert!(!format!("{error:?}").contains(&taken), "{error:?}");
}
