//! Quickstart: a repository generated from one struct, on an embedded SQLite database.
//!
//! Run with `cargo run -p quickstart`. Set `DATABASE_URL` to use PostgreSQL or MariaDB instead.

use std::sync::Arc;

use repo_runtime::prelude::*;

/// A registered user.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "users")]
pub struct User {
    /// Assigned by the database.
    #[repo(id, generated)]
    pub id: i64,
    /// Unique: `find_by_email` is generated, and duplicates are `RepoError::Conflict`.
    #[repo(unique)]
    pub email: String,
    /// Display name.
    #[repo(index)]
    pub name: String,
    /// Optional profile text.
    pub bio: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), RepoError> {
    let db = Db::from_env().await?;
    println!("connected to {}", db.url());
    db.drop_schema::<User>().await?;
    db.create_schema::<User>().await?;

    let users: Arc<dyn UserRepository> = Arc::new(User::repository(&db));
    let alice = users
        .insert(NewUser {
            email: "alice@example.com".into(),
            name: "Alice".into(),
            bio: None,
        })
        .await?;
    println!("inserted {alice:?}");

    let more = users
        .insert_many(vec![
            NewUser {
                email: "bob@example.com".into(),
                name: "Bob".into(),
                bio: None,
            },
            NewUser {
                email: "carol@example.com".into(),
                name: "Carol".into(),
                bio: Some("hi".into()),
            },
        ])
        .await?;
    println!(
        "inserted {} more, keys {:?}",
        more.len(),
        more.iter().map(|u| u.id).collect::<Vec<_>>()
    );

    let found = users.find_by_email("alice@example.com").await?;
    assert_eq!(found.as_ref(), Some(&alice));

    let renamed = users
        .update(&User {
            name: "Alice Liddell".into(),
            ..alice.clone()
        })
        .await?;
    println!("updated {renamed:?}");

    match users
        .insert(NewUser {
            email: "alice@example.com".into(),
            name: "Impostor".into(),
            bio: None,
        })
        .await
    {
        Err(RepoError::Conflict {
            field, constraint, ..
        }) => {
            println!("duplicate e-mail refused: field {field:?}, constraint {constraint}");
        }
        other => println!("unexpected: {other:?}"),
    }

    let page = users
        .list(ListOptions::new().desc(UserColumn::Name).limit(2))
        .await?;
    println!(
        "first page by name, descending: {:?}",
        page.iter().map(|u| &u.name).collect::<Vec<_>>()
    );

    db.transaction(async |tx| {
        let users = User::repository(&tx);
        users.delete(alice.id).await?;
        Ok(())
    })
    .await?;
    println!("{} users left", users.count().await?);
    Ok(())
}
