//! The blog scenario the dynamic queries were built for, with no SQL written by hand: tags
//! created on first use, a search of optional fields (tag, author, favourited by) with its
//! page and total, favourites counts for the page in one statement, a profile updated with
//! only the fields sent.

use std::collections::HashMap;

use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "blog_authors", has_many(articles = Article::author_id))]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub username: String,
    pub bio: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "blog_articles",
    many_to_many(tags = ArticleTag::article_id, to = tag_id),
    many_to_many(favorited_by = Favorite::article_id, to = author_id)
)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub slug: String,
    #[repo(references = Author, index)]
    pub author_id: i64,
    pub title: String,
    pub created: i64,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "blog_tags")]
pub struct Tag {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "blog_article_tags")]
pub struct ArticleTag {
    #[repo(id, references = Article, on_delete = "cascade")]
    pub article_id: i64,
    #[repo(id, references = Tag)]
    pub tag_id: i64,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "blog_favorites")]
pub struct Favorite {
    #[repo(id, references = Author)]
    pub author_id: i64,
    #[repo(id, references = Article, on_delete = "cascade")]
    pub article_id: i64,
}

/// The search form: every field optional.
#[derive(Default)]
struct Search<'a> {
    tag: Option<&'a str>,
    author: Option<&'a str>,
    favorited_by: Option<&'a str>,
}

/// The articles a search selects: each field given narrows it through a relation, as
/// `EXISTS` in one statement.
fn search(search: &Search<'_>) -> Filter<Article> {
    Filter::all()
        .and(search.tag.map(|name| Article::TAGS.has(Tag::NAME.eq(name))))
        .and(
            search
                .author
                .map(|username| Article::AUTHOR.has(Author::USERNAME.eq(username))),
        )
        .and(
            search
                .favorited_by
                .map(|username| Article::FAVORITED_BY.has(Author::USERNAME.eq(username))),
        )
}

/// One article of a page as the API returns it.
#[derive(Debug, PartialEq)]
struct Listed {
    title: String,
    author: String,
    tags: Vec<String>,
    favorites: u64,
    favorited: bool,
}

/// A page of the newest articles a search selects, with each one's author, tags, favourites
/// count and whether the viewer favourited it: four statements, whatever the page's size.
async fn article_page(
    db: &Db,
    filter: &Filter<Article>,
    limit: u64,
    viewer: i64,
) -> Result<Vec<Listed>, RepoError> {
    let newest = ListOptions::new().desc(ArticleColumn::Created).limit(limit);
    let page = Article::repository(db).find_where(filter, newest).await?;
    let loaded = (Article::AUTHOR, Article::TAGS).load(db, &page).await?;
    let favorites = Article::FAVORITED_BY
        .count_matching(db, &page, Author::ID.eq(viewer))
        .await?;
    Ok(page
        .into_iter()
        .zip(loaded)
        .zip(favorites)
        .map(|((article, (author, tags)), favorites)| Listed {
            title: article.title,
            author: author.map(|author| author.username).unwrap_or_default(),
            tags: tags.into_iter().map(|tag| tag.name).collect(),
            favorites: favorites.all,
            favorited: favorites.matching > 0,
        })
        .collect())
}

pub async fn the_blog_scenario_needs_no_hand_written_sql(db: &Db) {
    for create in [
        db.create_schema::<Author>().await,
        db.create_schema::<Article>().await,
        db.create_schema::<Tag>().await,
        db.create_schema::<ArticleTag>().await,
        db.create_schema::<Favorite>().await,
    ] {
        create.unwrap();
    }
    let authors = Author::repository(db);
    let jake = authors
        .insert(NewAuthor {
            username: "jake".into(),
            bio: Some("I work at statefarm".into()),
            image: None,
        })
        .await
        .unwrap();
    let ann = authors
        .insert(NewAuthor {
            username: "ann".into(),
            bio: None,
            image: None,
        })
        .await
        .unwrap();

    // Articles, their tags created on first use: one statement per article's tag list.
    let articles = Article::repository(db);
    let tags = Tag::repository(db);
    let mut stored = Vec::new();
    for (i, (author, names)) in [
        (&jake, vec!["rust", "sql"]),
        (&jake, vec!["rust"]),
        (&ann, vec!["sql", "orm"]),
        (&ann, vec!["rust", "orm"]),
    ]
    .into_iter()
    .enumerate()
    {
        let article = articles
            .insert(NewArticle {
                slug: format!("article-{i}"),
                author_id: author.id,
                title: format!("Article {i}"),
                created: i as i64,
            })
            .await
            .unwrap();
        let news = names
            .iter()
            .map(|name| NewTag {
                name: (*name).into(),
            })
            .collect();
        tags.insert_or_ignore(news, Tag::BY_NAME).await.unwrap();
        let named = tags
            .find_where(&Tag::NAME.is_in(names.iter().copied()), ListOptions::new())
            .await
            .unwrap();
        let links = named
            .iter()
            .map(|tag| ArticleTag {
                article_id: article.id,
                tag_id: tag.id,
            })
            .collect();
        ArticleTag::repository(db).insert_many(links).await.unwrap();
        stored.push(article);
    }
    assert_eq!(tags.count().await.unwrap(), 3, "each tag created once");
    Favorite::repository(db)
        .insert_many(vec![
            Favorite {
                author_id: ann.id,
                article_id: stored[0].id,
            },
            Favorite {
                author_id: ann.id,
                article_id: stored[1].id,
            },
            Favorite {
                author_id: jake.id,
                article_id: stored[1].id,
            },
        ])
        .await
        .unwrap();

    // The search: one filter of the fields given, for a page and its total.
    let newest = ListOptions::new().desc(ArticleColumn::Created).limit(20);
    let titles = |page: &[Article]| -> Vec<String> {
        page.iter().map(|article| article.title.clone()).collect()
    };
    let rust = search(&Search {
        tag: Some("rust"),
        ..Search::default()
    });
    let before = db.metrics().statements;
    let page = articles.find_where(&rust, newest.clone()).await.unwrap();
    assert_eq!(
        db.metrics().statements - before,
        1,
        "a search is one statement"
    );
    assert_eq!(titles(&page), ["Article 3", "Article 1", "Article 0"]);
    assert_eq!(articles.count_where(&rust).await.unwrap(), 3);
    let narrow = Search {
        tag: Some("rust"),
        author: Some("jake"),
        favorited_by: Some("ann"),
    };
    let filter = search(&narrow);
    let page = articles.find_where(&filter, newest.clone()).await.unwrap();
    assert_eq!(titles(&page), ["Article 1", "Article 0"]);
    let nobody = Search {
        author: Some("nobody"),
        ..Search::default()
    };
    let filter = search(&nobody);
    assert_eq!(articles.count_where(&filter).await.unwrap(), 0);
    // Nobody's favourites: the articles no row links to meet the negation.
    let favorited = Article::ID.exists_in(Favorite::ARTICLE_ID, Filter::all());
    let unloved = articles
        .find_where(&!favorited, ListOptions::new())
        .await
        .unwrap();
    assert_eq!(titles(&unloved), ["Article 2", "Article 3"]);
    // Through a relation in a patch and a count too.
    let by_ann = Article::AUTHOR_ID.exists_in(Author::ID, Author::USERNAME.eq("ann"));
    let retitled = articles
        .patch_where(
            &by_ann,
            ArticlePatch {
                title: Some("By Ann".into()),
                ..ArticlePatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(retitled.len(), 2);
    assert_eq!(
        articles
            .count_where(&Article::TITLE.eq("By Ann"))
            .await
            .unwrap(),
        2
    );

    // The page as the API returns it, in four statements whatever its size.
    let before = db.metrics().statements;
    let listed = article_page(db, &rust, 20, ann.id).await.unwrap();
    assert_eq!(db.metrics().statements - before, 4);
    let listed_as = |title: &str, author: &str, tags: &[&str], favorites, favorited| Listed {
        title: title.into(),
        author: author.into(),
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
        favorites,
        favorited,
    };
    assert_eq!(
        listed,
        [
            listed_as("By Ann", "ann", &["rust", "orm"], 0, false),
            listed_as("Article 1", "jake", &["rust"], 2, true),
            listed_as("Article 0", "jake", &["rust", "sql"], 1, true),
        ]
    );
    let more: Vec<NewArticle> = (10..40)
        .map(|i| NewArticle {
            slug: format!("article-{i}"),
            author_id: ann.id,
            title: format!("Article {i}"),
            created: i,
        })
        .collect();
    articles.insert_many(more).await.unwrap();
    let before = db.metrics().statements;
    let listed = article_page(db, &Filter::all(), 30, jake.id).await.unwrap();
    assert_eq!(db.metrics().statements - before, 4);
    assert_eq!(listed.len(), 30);

    // The first articles' favourites counts in one statement, as a map.
    let before = db.metrics().statements;
    let counts: HashMap<i64, i64> = Favorite::repository(db)
        .count_by(
            Favorite::ARTICLE_ID,
            &Favorite::ARTICLE_ID.is_in(stored.iter().map(|article| article.id)),
        )
        .await
        .unwrap();
    assert_eq!(db.metrics().statements - before, 1);
    assert_eq!(counts.get(&stored[1].id), Some(&2));
    assert_eq!(counts.get(&stored[0].id), Some(&1));
    assert_eq!(counts.get(&stored[2].id), None);

    // The profile update: only the fields sent are written.
    let sent = AuthorPatch {
        image: Some(Some("https://i.example/jake.png".into())),
        ..AuthorPatch::default()
    };
    let updated = authors.patch(jake.id, sent).await.unwrap();
    assert_eq!(updated.bio, jake.bio);
    assert_eq!(updated.image.as_deref(), Some("https://i.example/jake.png"));
}

pub async fn links_are_added_removed_and_set_exactly_idempotently(db: &Db) {
    for create in [
        db.create_schema::<Author>().await,
        db.create_schema::<Article>().await,
        db.create_schema::<Favorite>().await,
    ] {
        create.unwrap();
    }
    let ann = Author::repository(db)
        .insert(NewAuthor {
            username: "ann".into(),
            bio: None,
            image: None,
        })
        .await
        .unwrap();
    let news = (0..5)
        .map(|i| NewArticle {
            slug: format!("s{i}"),
            author_id: ann.id,
            title: format!("T{i}"),
            created: i,
        })
        .collect();
    let ids: Vec<i64> = Article::repository(db)
        .insert_many(news)
        .await
        .unwrap()
        .iter()
        .map(|article| article.id)
        .collect();
    let favorites = Favorite::repository(db);
    let favorite = |author_id, article_id| Favorite {
        author_id,
        article_id,
    };
    let liked =
        |favorites: Vec<Favorite>| -> Vec<i64> { favorites.iter().map(|f| f.article_id).collect() };
    let of_ann = Favorite::AUTHOR_ID.eq(ann.id);
    let by_article = || ListOptions::new().asc(FavoriteColumn::ArticleId);

    let linked = favorites
        .link(
            Favorite::AUTHOR_ID,
            ann.id,
            Favorite::ARTICLE_ID,
            &ids[..3],
            favorite,
        )
        .await
        .unwrap();
    assert_eq!(linked, 3);
    // Again: nothing new.
    let again = favorites
        .link(
            Favorite::AUTHOR_ID,
            ann.id,
            Favorite::ARTICLE_ID,
            &ids[..3],
            favorite,
        )
        .await
        .unwrap();
    assert_eq!(again, 0);
    let removed = favorites
        .unlink(Favorite::AUTHOR_ID, ann.id, Favorite::ARTICLE_ID, &ids[..1])
        .await
        .unwrap();
    assert_eq!(removed, 1);
    // Exactly these: one kept, one removed, two added.
    let exactly = [ids[1], ids[3], ids[4]];
    let (inserted, removed) = favorites
        .set_links(
            Favorite::AUTHOR_ID,
            ann.id,
            Favorite::ARTICLE_ID,
            &exactly,
            favorite,
        )
        .await
        .unwrap();
    assert_eq!((inserted, removed), (2, 1));
    let now = favorites.find_where(&of_ann, by_article()).await.unwrap();
    assert_eq!(liked(now), exactly);
    let (inserted, removed) = favorites
        .set_links(
            Favorite::AUTHOR_ID,
            ann.id,
            Favorite::ARTICLE_ID,
            &exactly,
            favorite,
        )
        .await
        .unwrap();
    assert_eq!((inserted, removed), (0, 0), "set twice, changed once");
    // A link to no article: refused, and the set as it was.
    let refused = favorites
        .set_links(
            Favorite::AUTHOR_ID,
            ann.id,
            Favorite::ARTICLE_ID,
            &[ids[1], -1],
            favorite,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RepoError::ForeignKey { .. }),
        "{refused:?}"
    );
    let now = favorites.find_where(&of_ann, by_article()).await.unwrap();
    assert_eq!(liked(now), exactly);
    // Nothing at all.
    let (_, removed) = favorites
        .set_links(
            Favorite::AUTHOR_ID,
            ann.id,
            Favorite::ARTICLE_ID,
            &[],
            favorite,
        )
        .await
        .unwrap();
    assert_eq!(removed, 3);
    assert_eq!(favorites.count_where(&of_ann).await.unwrap(), 0);
}
