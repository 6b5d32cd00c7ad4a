//! Entity policies the library keeps on every write path: optimistic locking (`version`: every
//! write checks the version it read and moves it on; a stale one is `StaleVersion` and writes
//! nothing) and write timestamps (`created_at` set once, `updated_at` on every write, from one
//! clock, to the microsecond).

use repo_runtime::ErrorKind;
use repo_runtime::chrono::{DateTime, NaiveDateTime, Utc};
use repo_runtime::prelude::*;

/// A versioned, timestamped entity with a generated key and a unique key.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "policy_documents")]
pub struct Document {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub slug: String,
    pub body: String,
    #[repo(version)]
    pub version: i32,
    #[repo(created_at)]
    pub created_at: DateTime<Utc>,
    #[repo(updated_at)]
    pub updated_at: DateTime<Utc>,
}

/// A natural key, a 64-bit version and a zoneless timestamp: upserts by key.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "policy_settings")]
pub struct Setting {
    #[repo(id)]
    pub name: String,
    pub value: String,
    #[repo(version)]
    pub version: i64,
    #[repo(updated_at)]
    pub changed: NaiveDateTime,
}

/// Who wrote what: optional actors, and a required one of another type.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "policy_notes")]
pub struct Note {
    #[repo(id, generated)]
    pub id: i64,
    pub body: String,
    #[repo(created_by)]
    pub created_by: Option<i64>,
    #[repo(updated_by)]
    pub updated_by: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "policy_ledger")]
pub struct Entry {
    #[repo(id, generated)]
    pub id: i64,
    pub amount: i64,
    #[repo(created_by)]
    pub clerk: String,
}

/// A versioned aggregate root: saved at the version it was read at, children and all.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "policy_carts", owns(items = CartItem::cart_id))]
pub struct Cart {
    #[repo(id, generated)]
    pub id: i64,
    pub owner: String,
    #[repo(version)]
    pub version: i64,
    #[repo(skip)]
    pub items: Vec<CartItem>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "policy_cart_items")]
pub struct CartItem {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Cart)]
    pub cart_id: i64,
    pub sku: String,
}

fn item(sku: &str) -> CartItem {
    CartItem {
        id: 0,
        cart_id: 0,
        sku: sku.into(),
    }
}

async fn create(db: &Db) {
    db.create_schema::<Document>().await.expect("documents");
    db.create_schema::<Setting>().await.expect("settings");
    db.create_schema::<Note>().await.expect("notes");
    db.create_schema::<Entry>().await.expect("ledger");
    db.create_schema::<Cart>().await.expect("carts");
    db.create_schema::<CartItem>().await.expect("cart items");
}

fn document(slug: &str) -> NewDocument {
    NewDocument {
        slug: slug.into(),
        body: format!("{slug} v1"),
    }
}

fn stale(error: &RepoError, entity: &str, key: &str) {
    match error {
        RepoError::StaleVersion { entity: e, key: k } => {
            assert_eq!((*e, k.as_str()), (entity, key), "{error}");
        }
        other => panic!("expected StaleVersion, got {other:?}"),
    }
}

pub async fn inserts_start_at_version_one_stamped_to_the_microsecond(db: &Db) {
    create(db).await;
    let documents = Document::repository(db);
    let before = Utc::now() - chrono_seconds(5);
    let stored = documents.insert(document("a")).await.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.created_at, stored.updated_at);
    assert!(stored.created_at >= before && stored.created_at <= Utc::now() + chrono_seconds(5));
    // What insert returns is exactly what the database keeps, microseconds included.
    assert_eq!(documents.get(stored.id).await.unwrap(), stored);
    assert_eq!(stored.created_at.timestamp_subsec_nanos() % 1_000, 0);

    // A batch shares one time and starts every row at 1.
    let batch = documents
        .insert_many(vec![document("b"), document("c")])
        .await
        .unwrap();
    assert!(batch.iter().all(|row| row.version == 1));
    assert_eq!(batch[0].created_at, batch[1].created_at);
    assert!(batch[0].created_at >= stored.created_at);
    for row in &batch {
        assert_eq!(&documents.get(row.id).await.unwrap(), row);
    }
}

pub async fn update_checks_and_moves_the_version_and_only_updated_at(db: &Db) {
    create(db).await;
    let documents = Document::repository(db);
    let read = documents.insert(document("a")).await.unwrap();
    let mut edit = read.clone();
    edit.body = "a v2".into();
    // The caller's own version and timestamps are not written: the library's are.
    edit.created_at = DateTime::from_timestamp(0, 0).unwrap();
    let updated = documents.update(&edit).await.unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.body, "a v2");
    assert_eq!(updated.created_at, read.created_at);
    assert!(updated.updated_at >= read.updated_at);
    assert_eq!(documents.get(read.id).await.unwrap(), updated);

    // The copy read at version 1 is stale now: refused, nothing written.
    let mut late = read.clone();
    late.body = "lost update".into();
    let error = documents.update(&late).await.unwrap_err();
    stale(&error, "Document", &read.id.to_string());
    assert!(error.is_stale_version());
    assert_eq!(error.kind(), ErrorKind::StaleVersion);
    assert_eq!(documents.get(read.id).await.unwrap(), updated);

    // A row that is gone is not found, not stale.
    let mut gone = updated.clone();
    gone.id += 1_000;
    assert!(documents.update(&gone).await.unwrap_err().is_not_found());
}

pub async fn patches_move_the_version_and_check_the_one_they_expect(db: &Db) {
    create(db).await;
    let documents = Document::repository(db);
    let read = documents.insert(document("a")).await.unwrap();
    let other = documents.insert(document("b")).await.unwrap();

    // Without an expected version, a patch writes and moves the version on.
    let patched = documents
        .patch(
            read.id,
            DocumentPatch {
                body: Some("patched".into()),
                ..DocumentPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((patched.version, patched.body.as_str()), (2, "patched"));
    assert_eq!(patched.created_at, read.created_at);
    assert!(patched.updated_at >= read.updated_at);

    // Expecting the version it was read at: stale now, nothing written.
    let error = documents
        .patch(
            read.id,
            DocumentPatch {
                body: Some("late".into()),
                expected_version: Some(1),
                ..DocumentPatch::default()
            },
        )
        .await
        .unwrap_err();
    stale(&error, "Document", &read.id.to_string());
    assert_eq!(documents.get(read.id).await.unwrap(), patched);
    // An empty patch expecting a version only checks it.
    let error = documents
        .patch(
            read.id,
            DocumentPatch {
                expected_version: Some(1),
                ..DocumentPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert!(error.is_stale_version());
    let current = DocumentPatch {
        body: Some("current".into()),
        expected_version: Some(2),
        ..DocumentPatch::default()
    };
    assert_eq!(documents.patch(read.id, current).await.unwrap().version, 3);
    let missing = DocumentPatch {
        body: Some("x".into()),
        expected_version: Some(1),
        ..DocumentPatch::default()
    };
    assert!(
        documents
            .patch(other.id + 1_000, missing)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // By filter: every row written moves on; an expected version selects the rows at it.
    let all = documents
        .patch_where(
            &Document::SLUG.is_in(["a", "b"]),
            DocumentPatch {
                body: Some("bulk".into()),
                ..DocumentPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|row| row.version).collect::<Vec<_>>(),
        vec![4, 2]
    );
    let at_two = documents
        .patch_where(
            &Document::SLUG.is_in(["a", "b"]),
            DocumentPatch {
                body: Some("only b".into()),
                expected_version: Some(2),
                ..DocumentPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(at_two.len(), 1);
    assert_eq!((at_two[0].id, at_two[0].version), (other.id, 3));
    assert_eq!(documents.get(read.id).await.unwrap().body, "bulk");
}

pub async fn remove_deletes_only_the_version_it_read(db: &Db) {
    create(db).await;
    let documents = Document::repository(db);
    let read = documents.insert(document("a")).await.unwrap();
    let mut edit = read.clone();
    edit.body = "edited".into();
    let updated = documents.update(&edit).await.unwrap();

    let error = documents.remove(&read).await.unwrap_err();
    stale(&error, "Document", &read.id.to_string());
    assert!(documents.exists(read.id).await.unwrap());

    documents.remove(&updated).await.unwrap();
    assert!(!documents.exists(read.id).await.unwrap());
    assert!(documents.remove(&updated).await.unwrap_err().is_not_found());
    // `delete` by key reads no version and checks none.
    let other = documents.insert(document("b")).await.unwrap();
    assert!(documents.delete(other.id).await.unwrap());
}

pub async fn upserts_insert_at_one_and_update_only_the_version_read(db: &Db) {
    create(db).await;
    let settings = Setting::repository(db);
    let given = Setting {
        name: "theme".into(),
        value: "dark".into(),
        version: 41,
        changed: NaiveDateTime::default(),
    };
    let inserted = settings.upsert(&given).await.unwrap();
    assert_eq!(inserted.version, 1);
    assert_ne!(inserted.changed, NaiveDateTime::default());
    assert_eq!(settings.get("theme".into()).await.unwrap(), inserted);

    let mut next = inserted.clone();
    next.value = "light".into();
    let updated = settings.upsert(&next).await.unwrap();
    assert_eq!((updated.version, updated.value.as_str()), (2, "light"));
    assert!(updated.changed >= inserted.changed);

    // The copy read at version 1 is stale.
    let error = settings.upsert(&next).await.unwrap_err();
    stale(&error, "Setting", "\"theme\"");
    assert_eq!(settings.get("theme".into()).await.unwrap(), updated);

    // By a unique key: the update moves the version on and keeps `created_at`.
    let documents = Document::repository(db);
    let first = documents.insert(document("a")).await.unwrap();
    let again = documents
        .upsert_on(
            NewDocument {
                slug: "a".into(),
                body: "by slug".into(),
            },
            Document::BY_SLUG,
        )
        .await
        .unwrap();
    assert_eq!((again.id, again.version), (first.id, 2));
    assert_eq!(again.created_at, first.created_at);
    assert!(again.updated_at >= first.updated_at);
    let ignored = documents
        .insert_or_ignore(vec![document("a"), document("b")], Document::BY_SLUG)
        .await
        .unwrap();
    assert_eq!(ignored.len(), 1);
    assert_eq!((ignored[0].slug.as_str(), ignored[0].version), ("b", 1));
    assert_eq!(&documents.get(ignored[0].id).await.unwrap(), &ignored[0]);
}

pub async fn of_two_writers_who_read_the_same_version_one_wins(db: &Db) {
    create(db).await;
    let documents = Document::repository(db);
    for round in 0..5 {
        let read = documents
            .insert(document(&format!("race-{round}")))
            .await
            .unwrap();
        let write = |body: &'static str| {
            let documents = Document::repository(db);
            let mut edit = read.clone();
            edit.body = body.into();
            async move { documents.update(&edit).await }
        };
        let (first, second) = tokio::join!(write("first"), write("second"));
        let (won, lost) = match (first, second) {
            (Ok(won), Err(lost)) | (Err(lost), Ok(won)) => (won, lost),
            (first, second) => panic!("one writer must win: {first:?} / {second:?}"),
        };
        assert!(lost.is_stale_version(), "{lost:?}");
        assert_eq!(won.version, 2);
        assert_eq!(documents.get(read.id).await.unwrap(), won);
    }
}

pub async fn a_stale_write_rolls_back_its_unit_of_work(db: &Db) {
    create(db).await;
    let documents = Document::repository(db);
    let read = documents.insert(document("a")).await.unwrap();
    let mut edit = read.clone();
    edit.body = "elsewhere".into();
    documents.update(&edit).await.unwrap();

    let result: Result<(), RepoError> = db
        .transaction(async |tx| {
            Document::repository(&tx).insert(document("b")).await?;
            let mut late = read.clone();
            late.body = "late".into();
            Document::repository(&tx).update(&late).await?;
            Ok(())
        })
        .await;
    assert!(result.unwrap_err().is_stale_version());
    assert_eq!(documents.count().await.unwrap(), 1);
}

pub async fn writes_record_the_actor_of_the_handle(db: &Db) {
    create(db).await;
    let note = |body: &str| NewNote { body: body.into() };
    let by_ann = db.acting_as(7_i64);
    let notes = Note::repository(&by_ann);
    let written = notes.insert(note("first")).await.unwrap();
    assert_eq!((written.created_by, written.updated_by), (Some(7), Some(7)));
    assert_eq!(Note::repository(db).get(written.id).await.unwrap(), written);

    // Another actor's writes move `updated_by` only, on every write path.
    let by_bob = db.acting_as(8_i64);
    let notes = Note::repository(&by_bob);
    let mut edit = written.clone();
    edit.body = "edited".into();
    edit.created_by = Some(99);
    let updated = notes.update(&edit).await.unwrap();
    assert_eq!((updated.created_by, updated.updated_by), (Some(7), Some(8)));
    let patch = NotePatch {
        body: Some("patched".into()),
    };
    let patched = Note::repository(db.acting_as(9_i64))
        .patch(written.id, patch)
        .await
        .unwrap();
    assert_eq!((patched.created_by, patched.updated_by), (Some(7), Some(9)));
    let all = notes
        .patch_where(&Filter::all(), NotePatch::default())
        .await
        .unwrap();
    assert_eq!(all[0].updated_by, Some(9));
    let all = notes
        .patch_where(
            &Filter::all(),
            NotePatch {
                body: Some("bulk".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(all[0].updated_by, Some(8));
    let batch = notes
        .insert_many(vec![note("b1"), note("b2")])
        .await
        .unwrap();
    assert!(batch.iter().all(|row| row.created_by == Some(8)));
    assert_eq!(
        Note::repository(db).get(batch[1].id).await.unwrap(),
        batch[1]
    );
    // A transaction of the handle writes as its actor.
    let in_tx = by_ann
        .transaction(async |tx| Note::repository(&tx).insert(note("tx")).await)
        .await
        .unwrap();
    assert_eq!(in_tx.created_by, Some(7));
    // A handle that names no one leaves an optional actor empty.
    let anonymous = Note::repository(db).insert(note("anon")).await.unwrap();
    assert_eq!((anonymous.created_by, anonymous.updated_by), (None, None));

    // A required actor: missing, or of another type, is an error, and nothing is written.
    let ledger = Entry::repository(db);
    let entry = || NewEntry { amount: 5 };
    let missing = ledger.insert(entry()).await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidInput, "{missing}");
    let wrong = Entry::repository(&by_ann)
        .insert(entry())
        .await
        .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Config, "{wrong}");
    let batch = Entry::repository(&by_ann)
        .insert_many(vec![entry(), entry()])
        .await
        .unwrap_err();
    assert_eq!(batch.kind(), ErrorKind::Config, "{batch}");
    assert_eq!(ledger.count().await.unwrap(), 0);
    let kept = Entry::repository(db.acting_as(String::from("ann")))
        .insert(entry())
        .await
        .unwrap();
    assert_eq!(kept.clerk, "ann");
    assert_eq!(ledger.get(kept.id).await.unwrap(), kept);
}

pub async fn an_aggregate_is_saved_at_the_version_it_was_read_at(db: &Db) {
    create(db).await;
    let carts = Cart::repository(db);
    let read = carts
        .insert(NewCart {
            owner: "ann".into(),
            items: vec![item("tea")],
        })
        .await
        .unwrap();
    assert_eq!(read.version, 1);
    let mut mine = read.clone();
    mine.items.push(item("milk"));
    let saved = carts.update(&mine).await.unwrap();
    assert_eq!((saved.version, saved.items.len()), (2, 2));

    // The copy read at version 1: refused before any child is written.
    let mut theirs = read.clone();
    theirs.items.clear();
    theirs.items.push(item("coffee"));
    let error = carts.update(&theirs).await.unwrap_err();
    stale(&error, "Cart", &read.id.to_string());
    assert_eq!(carts.get(read.id).await.unwrap(), saved);
    assert!(carts.upsert(&theirs).await.unwrap_err().is_stale_version());
    assert!(carts.remove(&theirs).await.unwrap_err().is_stale_version());
    assert_eq!(CartItem::repository(db).count().await.unwrap(), 2);
    carts.remove(&saved).await.unwrap();
    assert_eq!(CartItem::repository(db).count().await.unwrap(), 0);
}

pub async fn write_returns_nothing_in_one_statement(db: &Db) {
    create(db).await;
    crate::entities::create_all(db).await;
    let users = crate::entities::User::repository(db);
    let ann = users
        .insert(crate::entities::NewUser {
            email: "ann@x.io".into(),
            name: "Ann".into(),
            bio: None,
        })
        .await
        .unwrap();
    let mut renamed = ann.clone();
    renamed.name = "Ann B.".into();
    let before = db.metrics().statements;
    users.write(&renamed).await.unwrap();
    assert_eq!(db.metrics().statements - before, 1, "no read-back");
    assert_eq!(users.get(ann.id).await.unwrap(), renamed);
    let mut gone = renamed.clone();
    gone.id += 1_000;
    assert!(users.write(&gone).await.unwrap_err().is_not_found());

    // With a version: written at the version read, which moves on; a stale copy is refused.
    let documents = Document::repository(db);
    let read = documents.insert(document("a")).await.unwrap();
    let mut edit = read.clone();
    edit.body = "written".into();
    documents.write(&edit).await.unwrap();
    let stored = documents.get(read.id).await.unwrap();
    assert_eq!((stored.version, stored.body.as_str()), (2, "written"));
    assert!(stored.updated_at >= read.updated_at);
    let error = documents.write(&edit).await.unwrap_err();
    stale(&error, "Document", &read.id.to_string());
    assert_eq!(documents.get(read.id).await.unwrap(), stored);
}

fn chrono_seconds(seconds: i64) -> repo_runtime::chrono::TimeDelta {
    repo_runtime::chrono::TimeDelta::seconds(seconds)
}
