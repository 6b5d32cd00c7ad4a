//! The blog scenario the dynamic queries were built for, with no SQL written by hand: tags
//! created on first use, a search of optional fields (tag, author, favourited by) with its
//! page and total, favourites counts for the page in one statement, a profile updated with
//! only the fields sent.

use std::collections::HashMap;

use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "blog_authors")]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub username: String,
    pub bio: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "blog_articles")]
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

/// The articles a search selects: each field given narrows it through the rows that link
/// articles to tags, authors and favourites, as `EXISTS` in one statement.
fn search(search: &Search<'_>) -> Filter<Article> {
    Filter::all()
        .and(search.tag.map(|name| {
            let tagged = ArticleTag::TAG_ID.exists_in(Tag::ID, Tag::NAME.eq(name));
            Article::ID.exists_in(ArticleTag::ARTICLE_ID, tagged)
        }))
        .and(search.author.map(|username| {
            Article::AUTHOR_ID.exists_in(Author::ID, Author::USERNAME.eq(username))
        }))
        .and(search.favorited_by.map(|username| {
            let theirs = Favorite::AUTHOR_ID.exists_in(Author::ID, Author::USERNAME.eq(username));
            Article::ID.exists_in(Favorite::ARTICLE_ID, theirs)
        }))
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

    // The page's favourites counts in one statement, whatever the page's size.
    let everything = articles.find_where(&Filter::all(), newest).await.unwrap();
    let before = db.metrics().statements;
    let counts: HashMap<i64, i64> = Favorite::repository(db)
        .count_by(
            Favorite::ARTICLE_ID,
            &Favorite::ARTICLE_ID.is_in(everything.iter().map(|article| article.id)),
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
