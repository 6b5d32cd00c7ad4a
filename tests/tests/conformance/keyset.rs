//! Keyset pages: each page continues after the last row of the previous one, by the values of
//! its sort columns, carried between requests by an opaque cursor.

use repo_runtime::prelude::*;
use repo_runtime::{Cursor, KeysetPage};

use crate::entities::{NewPost, Post, PostColumn, create_all};
use crate::mapping::{Account, AccountColumn, new_account};

/// Every page of `filter` in `options`' order, `size` rows each, the cursor passed between
/// pages as text, as an API would.
async fn walk<E, R>(repository: &R, filter: &Filter<E>, options: ListOptions<E::Column>) -> Vec<E>
where
    E: Entity + std::fmt::Debug,
    R: Repository<E>,
{
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..100 {
        let cursor = after.as_deref().map(|text| text.parse::<Cursor>().unwrap());
        let KeysetPage { rows: page, next } = repository
            .find_page(filter, options.clone(), cursor.as_ref())
            .await
            .unwrap();
        rows.extend(page);
        match next {
            Some(next) => after = Some(next.to_string()),
            None => return rows,
        }
    }
    panic!("the pages never ended: {after:?}, {:?}", rows.len())
}

async fn posts(db: &Db) -> Vec<Post> {
    let news = (0..9)
        .map(|i| NewPost {
            author: i % 3,
            title: format!("post {i}"),
            views: [5, 1, 5, 3, 5, 1, 0, 3, 5][i as usize],
            rating: None,
        })
        .collect();
    Post::repository(db).insert_many(news).await.unwrap()
}

pub async fn keyset_pages_walk_every_row_once_in_any_order(db: &Db) {
    create_all(db).await;
    posts(db).await;
    let repo = Post::repository(db);
    for options in [
        ListOptions::new().desc(PostColumn::Views),
        ListOptions::new()
            .asc(PostColumn::Author)
            .desc(PostColumn::Views),
        ListOptions::new().desc(PostColumn::Title),
        ListOptions::new(),
    ] {
        for size in [1, 2, 4, 100] {
            let everything = repo
                .find_where(&Filter::all(), options.clone())
                .await
                .unwrap();
            let walked = walk(&repo, &Filter::all(), options.clone().limit(size)).await;
            assert_eq!(walked, everything, "{options:?}, pages of {size}");
            // With a filter, the same rows the filter selects.
            let filter = Post::VIEWS.ge(3);
            let selected = repo.find_where(&filter, options.clone()).await.unwrap();
            assert_eq!(
                walk(&repo, &filter, options.clone().limit(size)).await,
                selected
            );
        }
    }
}

pub async fn a_keyset_page_neither_repeats_nor_skips_rows_written_before_it(db: &Db) {
    create_all(db).await;
    posts(db).await;
    let repo = Post::repository(db);
    let order = ListOptions::new().desc(PostColumn::Views).limit(3);
    let first = repo
        .find_page(&Filter::all(), order.clone(), None)
        .await
        .unwrap();
    let next = first.next.clone().expect("more pages");
    // A row that sorts before the cursor: an offset page would now repeat a row.
    repo.insert(NewPost {
        author: 7,
        title: "newcomer".into(),
        views: 99,
        rating: None,
    })
    .await
    .unwrap();
    let second = repo
        .find_page(&Filter::all(), order.clone(), Some(&next))
        .await
        .unwrap();
    for row in &second.rows {
        assert!(!first.rows.contains(row), "{row:?} repeated");
    }
    let rest = walk(&repo, &Filter::all(), order.clone()).await;
    assert_eq!(rest.len(), 10);

    // The last page says there is no next one; a page of everything too.
    let all = repo
        .find_page(&Filter::all(), ListOptions::new(), None)
        .await
        .unwrap();
    assert_eq!(all.rows.len(), 10);
    assert!(all.next.is_none());
    let exact = repo
        .find_page(&Filter::all(), ListOptions::new().limit(10), None)
        .await
        .unwrap();
    assert!(exact.next.is_none(), "no row follows the tenth");
}

pub async fn keyset_pages_refuse_what_they_cannot_continue(db: &Db) {
    create_all(db).await;
    posts(db).await;
    let repo = Post::repository(db);
    let invalid = |error: RepoError| {
        assert!(matches!(error, RepoError::InvalidInput { .. }), "{error:?}");
    };
    // A nullable sort column: NULLs have no place between values.
    invalid(
        repo.find_page(
            &Filter::all(),
            ListOptions::new().asc(PostColumn::Rating),
            None,
        )
        .await
        .unwrap_err(),
    );
    invalid(
        repo.find_page(&Filter::all(), ListOptions::new().offset(2), None)
            .await
            .unwrap_err(),
    );
    invalid(
        repo.find_page(&Filter::all(), ListOptions::new().limit(0), None)
            .await
            .unwrap_err(),
    );
    // A cursor of another order.
    let by_views = ListOptions::new().desc(PostColumn::Views).limit(2);
    let cursor = repo
        .find_page(&Filter::all(), by_views, None)
        .await
        .unwrap()
        .next
        .unwrap();
    invalid(
        repo.find_page(
            &Filter::all(),
            ListOptions::new().asc(PostColumn::Title).limit(2),
            Some(&cursor),
        )
        .await
        .unwrap_err(),
    );
    invalid("not-a-cursor".parse::<Cursor>().unwrap_err());
}

pub async fn keyset_pages_continue_after_rich_values(db: &Db) {
    db.create_schema::<Account>().await.unwrap();
    let accounts = Account::repository(db);
    accounts
        .insert_many((0..7).map(new_account).collect())
        .await
        .unwrap();
    for options in [
        ListOptions::new()
            .asc(AccountColumn::Status)
            .desc(AccountColumn::CreatedAt),
        ListOptions::new()
            .asc(AccountColumn::Birthday)
            .desc(AccountColumn::ExternalId),
        ListOptions::new().desc(AccountColumn::Email),
        ListOptions::new()
            .asc(AccountColumn::OffsetAt)
            .asc(AccountColumn::LocalTime)
            .desc(AccountColumn::Balance),
    ] {
        let everything = accounts
            .find_where(&Filter::all(), options.clone())
            .await
            .unwrap();
        let walked = walk(&accounts, &Filter::all(), options.clone().limit(2)).await;
        assert_eq!(walked, everything, "{options:?}");
    }
}
