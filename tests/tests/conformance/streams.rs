//! Rows as a stream: the same rows as a listing, read as they are consumed, inside a
//! transaction too; dropping a stream early gives its connection back.

use futures_util::{StreamExt, TryStreamExt};
use repo_runtime::prelude::*;

use crate::entities::{NewPost, Post, PostColumn, create_all};

fn new_post(i: i64) -> NewPost {
    NewPost {
        author: i % 4,
        title: format!("post {i:04}"),
        views: (i % 7) as i32,
        rating: (i % 3 == 0).then_some(i as f64 / 2.0),
    }
}

pub async fn a_stream_yields_the_rows_a_listing_returns(db: &Db) {
    create_all(db).await;
    let repo = Post::repository(db);
    repo.insert_many((0..1_000).map(new_post).collect())
        .await
        .unwrap();
    let filter = Post::AUTHOR.ne(2).and(Post::VIEWS.gt(1));
    for options in [
        ListOptions::new(),
        ListOptions::new()
            .desc(PostColumn::Views)
            .asc(PostColumn::Title),
        ListOptions::new()
            .asc(PostColumn::Title)
            .limit(10)
            .offset(5),
    ] {
        let listed = repo.find_where(&filter, options.clone()).await.unwrap();
        let streamed: Vec<Post> = repo.stream(&filter, options).try_collect().await.unwrap();
        assert_eq!(streamed, listed);
    }
    let none: Vec<Post> = repo
        .stream(&Post::AUTHOR.eq(99), ListOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty());
}

pub async fn a_dropped_stream_gives_its_connection_back(db: &Db) {
    create_all(db).await;
    let repo = Post::repository(db);
    repo.insert_many((0..2_000).map(new_post).collect())
        .await
        .unwrap();
    // Far more streams than the pool has connections, each read a little and dropped.
    for _ in 0..40 {
        let mut stream = repo.stream(&Filter::all(), ListOptions::new());
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.title, "post 0000");
        drop(stream);
    }
    assert_eq!(repo.count().await.unwrap(), 2_000);
}

pub async fn a_stream_inside_a_transaction_sees_its_writes(db: &Db) {
    create_all(db).await;
    let written = db
        .transaction(async |tx| {
            let repo = Post::repository(&tx);
            repo.insert_many((0..50).map(new_post).collect()).await?;
            let streamed: Vec<Post> = repo
                .stream(&Filter::all(), ListOptions::new())
                .try_collect()
                .await?;
            // The stream has ended: the transaction's statements run again.
            assert_eq!(repo.count().await?, 50);
            Ok(streamed.len())
        })
        .await
        .unwrap();
    assert_eq!(written, 50);
    let rolled_back: Result<(), RepoError> = db
        .transaction(async |tx| {
            let repo = Post::repository(&tx);
            repo.insert(new_post(1)).await?;
            let mut stream = repo.stream(&Filter::all(), ListOptions::new());
            assert!(stream.next().await.is_some());
            drop(stream);
            Err(RepoError::not_found("Post"))
        })
        .await;
    assert!(rolled_back.unwrap_err().is_not_found());
    assert_eq!(Post::repository(db).count().await.unwrap(), 50);
}
