//! Projections and aggregates: some columns into a row type of their own, counts, sums,
//! means and extremes grouped by columns, in one statement, on the rows a filter selects.

use std::collections::{BTreeMap, HashMap};

use repo_runtime::prelude::*;

use crate::entities::{AuthorBest, Card, NewPost, Post, PostColumn, PostQueries, create_all};

/// Per author: how many posts, their views, the best and the mean rating.
#[derive(Debug, PartialEq, Projection)]
#[repo(entity = Post)]
pub struct AuthorStats {
    pub author: i64,
    #[repo(count)]
    pub posts: i64,
    #[repo(sum = views)]
    pub views: Option<i64>,
    #[repo(max = rating)]
    pub best: Option<f64>,
    #[repo(avg = rating)]
    pub mean: Option<f64>,
    #[repo(min = title)]
    pub first_title: Option<String>,
}

/// Every post at once: no grouped column.
#[derive(Debug, PartialEq, Projection)]
#[repo(entity = Post)]
pub struct Totals {
    #[repo(count)]
    pub posts: i64,
    #[repo(sum = views)]
    pub views: Option<i64>,
    #[repo(sum = rating)]
    pub ratings: Option<f64>,
}

async fn posts(db: &Db) -> Vec<Post> {
    let rows = [
        (1, "b-intro", 10, Some(4.0)),
        (1, "a-deep", 30, Some(5.0)),
        (2, "c-note", 5, None),
        (3, "d-one", 7, Some(2.5)),
        (3, "e-two", 0, Some(3.5)),
        (3, "f-three", 1, None),
    ];
    let news = rows
        .into_iter()
        .map(|(author, title, views, rating)| NewPost {
            author,
            title: title.into(),
            views,
            rating,
        })
        .collect();
    Post::repository(db).insert_many(news).await.unwrap()
}

pub async fn a_projection_reads_some_columns_in_order_and_pages(db: &Db) {
    create_all(db).await;
    let stored = posts(db).await;
    let repo = Post::repository(db);
    let cards: Vec<Card> = repo
        .project(
            &Post::AUTHOR.eq(3),
            ListOptions::new().desc(PostColumn::Title).limit(2),
        )
        .await
        .unwrap();
    let card = |post: &Post| Card {
        id: post.id,
        headline: post.title.clone(),
        rating: post.rating,
    };
    assert_eq!(cards, [card(&stored[5]), card(&stored[4])]);
    let rest: Vec<Card> = repo
        .project(
            &Post::AUTHOR.eq(3),
            ListOptions::new()
                .desc(PostColumn::Title)
                .limit(2)
                .offset(2),
        )
        .await
        .unwrap();
    assert_eq!(rest, [card(&stored[3])]);
    let none: Vec<Card> = repo
        .project(&Post::AUTHOR.eq(99), ListOptions::new())
        .await
        .unwrap();
    assert!(none.is_empty());
}

pub async fn aggregates_group_by_columns_in_one_statement(db: &Db) {
    create_all(db).await;
    posts(db).await;
    let repo = Post::repository(db);
    let before = db.metrics().statements;
    let stats: Vec<AuthorStats> = repo
        .project(&Filter::all(), ListOptions::new())
        .await
        .unwrap();
    assert_eq!(
        db.metrics().statements - before,
        1,
        "one statement for every group"
    );
    let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
    assert_eq!(stats.len(), 3);
    assert_eq!(
        (stats[0].author, stats[0].posts, stats[0].views),
        (1, 2, Some(40))
    );
    assert_eq!(stats[0].best, Some(5.0));
    assert!(close(stats[0].mean, 4.5), "{:?}", stats[0].mean);
    assert_eq!(stats[0].first_title.as_deref(), Some("a-deep"));
    // Author 2's only post has no rating: the mean and maximum of no value are NULL.
    assert_eq!(
        (
            stats[1].author,
            stats[1].posts,
            stats[1].best,
            stats[1].mean
        ),
        (2, 1, None, None)
    );
    // NULL ratings count in no mean.
    assert_eq!(
        (stats[2].author, stats[2].posts, stats[2].views),
        (3, 3, Some(8))
    );
    assert!(close(stats[2].mean, 3.0), "{:?}", stats[2].mean);

    // Ordered by a grouped column, descending, paged: the page is of groups.
    let last: Vec<AuthorStats> = repo
        .project(
            &Post::VIEWS.gt(0),
            ListOptions::new().desc(PostColumn::Author).limit(1),
        )
        .await
        .unwrap();
    assert_eq!((last[0].author, last[0].posts), (3, 2));
    // Ordered by a column that is not grouped: refused before anything is sent.
    let refused = repo
        .project::<AuthorStats>(&Filter::all(), ListOptions::new().asc(PostColumn::Title))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RepoError::InvalidInput { .. }),
        "{refused:?}"
    );
}

pub async fn aggregates_without_groups_are_one_row_even_over_no_rows(db: &Db) {
    create_all(db).await;
    let repo = Post::repository(db);
    let empty: Vec<Totals> = repo
        .project(&Filter::all(), ListOptions::new())
        .await
        .unwrap();
    assert_eq!(
        empty,
        [Totals {
            posts: 0,
            views: None,
            ratings: None
        }]
    );
    posts(db).await;
    let totals: Vec<Totals> = repo
        .project(&Post::AUTHOR.is_in([1, 2]), ListOptions::new())
        .await
        .unwrap();
    assert_eq!(
        totals,
        [Totals {
            posts: 3,
            views: Some(45),
            ratings: Some(9.0)
        }]
    );
}

pub async fn count_by_returns_a_map_keyed_by_the_group(db: &Db) {
    create_all(db).await;
    posts(db).await;
    let repo = Post::repository(db);
    // A page of posts gets its counts in one statement, whatever the page's size.
    let counts: HashMap<i64, i64> = repo
        .count_by(Post::AUTHOR, &Post::AUTHOR.is_in([1, 3, 42]))
        .await
        .unwrap();
    assert_eq!(counts, HashMap::from([(1, 2), (3, 3)]));
    let ordered: Vec<(i64, i64)> = repo.count_by(Post::AUTHOR, &Filter::all()).await.unwrap();
    assert_eq!(ordered, [(1, 2), (2, 1), (3, 3)]);
    // A nullable column: its NULLs count in no group.
    let by_rating: BTreeMap<String, i64> = repo
        .count_by(Post::TITLE, &Post::RATING.is_null())
        .await
        .unwrap();
    assert_eq!(
        by_rating,
        BTreeMap::from([("c-note".to_owned(), 1), ("f-three".to_owned(), 1)])
    );
    let ratings: Vec<(f64, i64)> = repo.count_by(Post::RATING, &Filter::all()).await.unwrap();
    assert_eq!(ratings, [(2.5, 1), (3.5, 1), (4.0, 1), (5.0, 1)]);
}

pub async fn hand_written_queries_return_projections(db: &Db) {
    create_all(db).await;
    let stored = posts(db).await;
    let repo = Post::repository(db);
    let authors = repo.authors_from(1).await.unwrap();
    assert_eq!(
        authors,
        [
            AuthorBest {
                author: 3,
                posts: 2,
                best: Some(7)
            },
            AuthorBest {
                author: 2,
                posts: 1,
                best: Some(5)
            },
            AuthorBest {
                author: 1,
                posts: 2,
                best: Some(30)
            },
        ]
    );
    let card = repo.card(stored[0].id).await.unwrap();
    assert_eq!(
        card,
        Some(Card {
            id: stored[0].id,
            headline: "b-intro".into(),
            rating: Some(4.0)
        })
    );
    assert_eq!(repo.card(-1).await.unwrap(), None);
    assert!(repo.card_or_not_found(-1).await.unwrap_err().is_not_found());
}

pub async fn children_load_grouped_per_parent_in_one_statement(db: &Db) {
    create_all(db).await;
    let stored = posts(db).await;
    let repo = Post::repository(db);
    let titles = |groups: &[Vec<Post>]| -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|group| group.iter().map(|post| post.title.clone()).collect())
            .collect()
    };
    let before = db.metrics().statements;
    let groups = repo
        .load_grouped(
            Post::AUTHOR,
            &[3, 1, 42, 1],
            ListOptions::new().asc(PostColumn::Title),
        )
        .await
        .unwrap();
    assert_eq!(
        db.metrics().statements - before,
        1,
        "one statement for every parent"
    );
    assert_eq!(
        titles(&groups),
        [
            vec!["d-one", "e-two", "f-three"],
            vec!["a-deep", "b-intro"],
            vec![],
            vec!["a-deep", "b-intro"],
        ]
    );
    assert_eq!(groups[1][1], stored[0]);
    // Many parents: statements grow with chunks of keys, not with parents.
    let many: Vec<i64> = (0..25_000).collect();
    let before = db.metrics().statements;
    let groups = repo
        .load_grouped(Post::AUTHOR, &many, ListOptions::new())
        .await
        .unwrap();
    let statements = db.metrics().statements - before;
    assert!(
        statements <= 3,
        "{statements} statements for 25,000 parents"
    );
    assert_eq!(groups.len(), 25_000);
    assert_eq!(groups[3].len(), 3);
    // The other way: each post's row by key, aligned with the keys asked, absent ones `None`.
    let before = db.metrics().statements;
    let parents = repo
        .load_by_keys(&[stored[2].id, -1, stored[0].id, stored[2].id])
        .await
        .unwrap();
    assert_eq!(db.metrics().statements - before, 1);
    assert_eq!(
        parents,
        [
            Some(stored[2].clone()),
            None,
            Some(stored[0].clone()),
            Some(stored[2].clone())
        ]
    );
    let refused = repo
        .load_grouped(Post::AUTHOR, &[1], ListOptions::new().limit(1))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RepoError::InvalidInput { .. }),
        "{refused:?}"
    );
}
