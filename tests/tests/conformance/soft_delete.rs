//! Soft delete (`#[repo(deleted_at)]`): a delete marks the row; every read, by key, by
//! unique key, by filter, through a relation, in a projection or a page, leaves marked rows
//! out unless a filter asks for them; `restore` brings a row back and `purge` removes it;
//! unique keys hold among the rows that live.

use futures_util::StreamExt;
use repo_runtime::chrono::{DateTime, Utc};
use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "sd_accounts",
    has_many(comments = Comment::account_id),
    many_to_many(groups = Membership::account_id, to = group_id)
)]
pub struct Account {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub email: String,
    pub name: String,
    #[repo(version)]
    pub version: i32,
    #[repo(updated_at)]
    pub updated_at: DateTime<Utc>,
    #[repo(deleted_at)]
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "sd_comments")]
pub struct Comment {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Account)]
    pub account_id: i64,
    pub body: String,
    #[repo(deleted_at)]
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "sd_groups")]
pub struct Group {
    #[repo(id, generated)]
    pub id: i64,
    pub name: String,
    #[repo(deleted_at)]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A link that is itself deleted softly: a marked membership ties nothing.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "sd_memberships")]
pub struct Membership {
    #[repo(id)]
    #[repo(references = Account)]
    pub account_id: i64,
    #[repo(id)]
    #[repo(references = Group)]
    pub group_id: i64,
    #[repo(deleted_at)]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// An aggregate root deleted softly: its lines stay with it.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "sd_baskets", owns(items = BasketItem::basket_id))]
pub struct Basket {
    #[repo(id, generated)]
    pub id: i64,
    pub owner: String,
    #[repo(deleted_at)]
    pub deleted_at: Option<DateTime<Utc>>,
    #[repo(skip)]
    pub items: Vec<BasketItem>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "sd_basket_items")]
pub struct BasketItem {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Basket)]
    pub basket_id: i64,
    pub sku: String,
}

async fn create(db: &Db) {
    db.create_schema::<Account>().await.expect("accounts");
    db.create_schema::<Comment>().await.expect("comments");
    db.create_schema::<Group>().await.expect("groups");
    db.create_schema::<Membership>().await.expect("memberships");
    db.create_schema::<Basket>().await.expect("baskets");
    db.create_schema::<BasketItem>()
        .await
        .expect("basket items");
}

fn account(name: &str) -> NewAccount {
    NewAccount {
        email: format!("{name}@x.io"),
        name: name.into(),
    }
}

pub async fn a_deleted_row_is_marked_and_every_read_leaves_it_out(db: &Db) {
    create(db).await;
    let accounts = Account::repository(db);
    let ann = accounts.insert(account("ann")).await.unwrap();
    let bob = accounts.insert(account("bob")).await.unwrap();
    assert_eq!(ann.deleted_at, None);

    assert!(accounts.delete(ann.id).await.unwrap());
    // Marked once: a second delete finds no row that lives.
    assert!(!accounts.delete(ann.id).await.unwrap());
    assert!(accounts.get(ann.id).await.unwrap_err().is_not_found());
    assert_eq!(accounts.find(ann.id).await.unwrap(), None);
    assert!(!accounts.exists(ann.id).await.unwrap());
    assert_eq!(accounts.count().await.unwrap(), 1);
    assert_eq!(accounts.find_by_email("ann@x.io").await.unwrap(), None);
    assert_eq!(
        accounts.get_many(&[ann.id, bob.id]).await.unwrap(),
        vec![bob.clone()]
    );
    assert_eq!(
        accounts.list(ListOptions::new()).await.unwrap(),
        vec![bob.clone()]
    );
    let everyone = Account::NAME.is_in(["ann", "bob"]);
    assert_eq!(accounts.count_where(&everyone).await.unwrap(), 1);
    assert!(
        !accounts
            .exists_where(&Account::NAME.eq("ann"))
            .await
            .unwrap()
    );
    let page = accounts
        .find_page(&everyone, ListOptions::new().limit(5), None)
        .await
        .unwrap();
    assert_eq!(page.rows, vec![bob.clone()]);
    let streamed: Vec<Account> = accounts
        .stream(&everyone, ListOptions::new())
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(streamed, vec![bob.clone()]);

    // Asked for, the marked row is there, with its mark; the delete was a write.
    let bin = accounts
        .find_where(&everyone.clone().with_deleted(), ListOptions::new())
        .await
        .unwrap();
    assert_eq!(bin.len(), 2);
    let marked = &bin[0];
    assert!(marked.deleted_at.is_some());
    assert_eq!(marked.version, 2);
    assert!(marked.updated_at >= ann.updated_at);
    assert_eq!(
        accounts
            .count_where(&Account::DELETED_AT.is_not_null().with_deleted())
            .await
            .unwrap(),
        1
    );

    // Writes do not reach it either.
    let mut edit = ann.clone();
    edit.version = 2;
    assert!(accounts.update(&edit).await.unwrap_err().is_not_found());
    let rename = AccountPatch {
        name: Some("x".into()),
        ..AccountPatch::default()
    };
    assert!(
        accounts
            .patch(ann.id, rename)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let renamed = accounts
        .patch_where(
            &everyone,
            AccountPatch {
                name: Some("renamed".into()),
                ..AccountPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.len(), 1);
    assert!(accounts.upsert(&edit).await.unwrap_err().is_conflict());

    // Restore brings it back as it was, its version moved on; purge removes it for good.
    let restored = accounts.restore(ann.id).await.unwrap();
    assert_eq!((restored.deleted_at, restored.version), (None, 3));
    assert_eq!(accounts.get(ann.id).await.unwrap(), restored);
    assert!(accounts.restore(ann.id).await.unwrap_err().is_not_found());
    assert!(accounts.delete(ann.id).await.unwrap());
    assert!(accounts.purge(ann.id).await.unwrap());
    assert!(!accounts.purge(ann.id).await.unwrap());
    assert_eq!(
        accounts
            .count_where(&Filter::all().with_deleted())
            .await
            .unwrap(),
        1
    );
    // An entity without soft delete has nothing to restore.
    let error = BasketItem::repository(db).restore(1).await.unwrap_err();
    assert_eq!(
        error.kind(),
        repo_runtime::ErrorKind::InvalidInput,
        "{error:?}"
    );
}

pub async fn removes_and_deletes_by_filter_mark_and_check_the_version(db: &Db) {
    create(db).await;
    let accounts = Account::repository(db);
    let ann = accounts.insert(account("ann")).await.unwrap();
    let mut edit = ann.clone();
    edit.name = "Ann".into();
    let edited = accounts.update(&edit).await.unwrap();
    assert!(accounts.remove(&ann).await.unwrap_err().is_stale_version());
    accounts.remove(&edited).await.unwrap();
    assert!(accounts.remove(&edited).await.unwrap_err().is_not_found());

    for name in ["b1", "b2", "c1"] {
        accounts.insert(account(name)).await.unwrap();
    }
    let bs = Account::NAME.starts_with("b");
    assert_eq!(accounts.delete_where(&bs).await.unwrap(), 2);
    assert_eq!(accounts.delete_where(&bs).await.unwrap(), 0);
    assert_eq!(accounts.count().await.unwrap(), 1);
    assert_eq!(
        accounts
            .count_where(&bs.clone().with_deleted())
            .await
            .unwrap(),
        2
    );
}

pub async fn unique_keys_hold_among_the_rows_that_live(db: &Db) {
    create(db).await;
    let accounts = Account::repository(db);
    let first = accounts.insert(account("ann")).await.unwrap();
    assert!(
        accounts
            .insert(account("ann"))
            .await
            .unwrap_err()
            .is_conflict()
    );
    accounts.delete(first.id).await.unwrap();
    // The email is free again while the first row is deleted...
    let second = accounts.insert(account("ann")).await.unwrap();
    assert_eq!(
        accounts.find_by_email("ann@x.io").await.unwrap(),
        Some(second.clone())
    );
    // ...so the first cannot come back while the second holds it.
    assert!(accounts.restore(first.id).await.unwrap_err().is_conflict());
    // Conditional writes by the unique key see the row that lives only.
    let upserted = accounts
        .upsert_on(
            NewAccount {
                email: "ann@x.io".into(),
                name: "Ann again".into(),
            },
            Account::BY_EMAIL,
        )
        .await
        .unwrap();
    assert_eq!((upserted.id, upserted.version), (second.id, 2));
    accounts.delete(second.id).await.unwrap();
    let inserted = accounts
        .insert_or_ignore(vec![account("ann"), account("bob")], Account::BY_EMAIL)
        .await
        .unwrap();
    assert_eq!(inserted.len(), 2);
    assert_eq!(
        accounts
            .count_where(&Account::EMAIL.eq("ann@x.io").with_deleted())
            .await
            .unwrap(),
        3
    );
}

pub async fn relations_and_projections_leave_deleted_rows_out(db: &Db) {
    create(db).await;
    let accounts = Account::repository(db);
    let comments = Comment::repository(db);
    let ann = accounts.insert(account("ann")).await.unwrap();
    let bob = accounts.insert(account("bob")).await.unwrap();
    let mut written = Vec::new();
    for (author, body) in [(&ann, "a1"), (&ann, "a2"), (&bob, "b1")] {
        let comment = NewComment {
            account_id: author.id,
            body: body.into(),
        };
        written.push(comments.insert(comment).await.unwrap());
    }
    comments.delete(written[1].id).await.unwrap();
    let groups = Group::repository(db);
    let rust = groups
        .insert(NewGroup {
            name: "rust".into(),
        })
        .await
        .unwrap();
    let sql = groups
        .insert(NewGroup { name: "sql".into() })
        .await
        .unwrap();
    let memberships = Membership::repository(db);
    for group in [&rust, &sql] {
        memberships
            .insert(NewMembership {
                account_id: ann.id,
                group_id: group.id,
            })
            .await
            .unwrap();
    }
    memberships
        .insert(NewMembership {
            account_id: bob.id,
            group_id: rust.id,
        })
        .await
        .unwrap();
    groups.delete(sql.id).await.unwrap();
    memberships.delete((bob.id, rust.id)).await.unwrap();

    let parents = [ann.clone(), bob.clone()];
    let loaded = Account::COMMENTS.load(db, &parents).await.unwrap();
    let bodies = |rows: &[Comment]| rows.iter().map(|c| c.body.clone()).collect::<Vec<_>>();
    assert_eq!(bodies(&loaded[0]), ["a1"]);
    assert_eq!(bodies(&loaded[1]), ["b1"]);
    let counted = Account::COMMENTS
        .count(db, &parents, Filter::all())
        .await
        .unwrap();
    assert_eq!(counted, [1, 1]);
    let joined = Account::GROUPS.load(db, &parents).await.unwrap();
    assert_eq!(
        joined[0].iter().map(|g| g.id).collect::<Vec<_>>(),
        [rust.id]
    );
    assert!(joined[1].is_empty());
    let in_a_group = accounts
        .find_where(&Account::GROUPS.has(Filter::all()), ListOptions::new())
        .await
        .unwrap();
    assert_eq!(in_a_group, vec![ann.clone()]);
    let wrote_a2 = accounts
        .count_where(&Account::COMMENTS.has(Comment::BODY.eq("a2")))
        .await
        .unwrap();
    assert_eq!(wrote_a2, 0);

    // A belongs-to of a deleted parent is none.
    accounts.delete(bob.id).await.unwrap();
    let stored = comments.list(ListOptions::new()).await.unwrap();
    let authors = Comment::ACCOUNT.load(db, &stored).await.unwrap();
    assert_eq!(
        authors
            .iter()
            .map(|a| a.as_ref().map(|a| a.id))
            .collect::<Vec<_>>(),
        [Some(ann.id), None]
    );
    let per_author: Vec<(i64, i64)> = comments
        .count_by(Comment::ACCOUNT_ID, &Filter::all())
        .await
        .unwrap();
    assert_eq!(per_author, vec![(ann.id, 1), (bob.id, 1)]);
}

pub async fn an_aggregate_deleted_softly_keeps_its_children_until_purged(db: &Db) {
    create(db).await;
    let baskets = Basket::repository(db);
    let basket = baskets
        .insert(NewBasket {
            owner: "ann".into(),
            items: vec![
                BasketItem {
                    id: 0,
                    basket_id: 0,
                    sku: "tea".into(),
                },
                BasketItem {
                    id: 0,
                    basket_id: 0,
                    sku: "milk".into(),
                },
            ],
        })
        .await
        .unwrap();
    assert!(baskets.delete(basket.id).await.unwrap());
    assert_eq!(baskets.find(basket.id).await.unwrap(), None);
    let items = BasketItem::repository(db);
    assert_eq!(items.count().await.unwrap(), 2);
    let restored = baskets.restore(basket.id).await.unwrap();
    assert_eq!(restored.items.len(), 2);
    assert_eq!(restored.deleted_at, None);
    baskets.delete(basket.id).await.unwrap();
    assert!(baskets.purge(basket.id).await.unwrap());
    assert_eq!(items.count().await.unwrap(), 0);
}
