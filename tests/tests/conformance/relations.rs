//! Relations declared on the records: a belongs-to from each `references` field, `has_many`,
//! `has_one` and `many_to_many` from the other side, loaded for many rows in one statement
//! per relation (nested, side by side), followed by filters and counted per row.

use repo_runtime::Counts;
use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "rel_authors",
    has_many(articles = Article::author_id),
    has_one(profile = Profile::author_id)
)]
pub struct Author {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "rel_profiles")]
pub struct Profile {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique, references = Author, on_delete = "cascade")]
    pub author_id: i64,
    pub bio: String,
}

/// A port whose derived queries follow the relations: the conditions on the author, the
/// editor and the tags are `EXISTS` filters built at run time.
mod store {
    use repo_core::{Page, RepoError, port};

    use super::Article;

    #[port]
    pub trait Articles: Send + Sync {
        async fn find_all_by_author_username(
            &self,
            username: &str,
        ) -> Result<Vec<Article>, RepoError>;
        async fn find_all_by_tags_name_in(
            &self,
            names: &[String],
        ) -> Result<Vec<Article>, RepoError>;
        async fn find_all_by_title_or_tags_name_order_by_title_desc(
            &self,
            title: &str,
            tag: &str,
        ) -> Result<Vec<Article>, RepoError>;
        async fn find_first_by_author_username_order_by_title_desc(
            &self,
            username: &str,
        ) -> Result<Option<Article>, RepoError>;
        async fn find_all_by_editor_username_starting_with(
            &self,
            prefix: &str,
            page: Page,
        ) -> Result<Vec<Article>, RepoError>;
        async fn count_by_editor_id_is_not_null(&self) -> Result<u64, RepoError>;
        async fn exists_by_tags_name(&self, name: &str) -> Result<bool, RepoError>;
        async fn delete_by_author_username_and_tags_name(
            &self,
            username: &str,
            tag: &str,
        ) -> Result<u64, RepoError>;
    }
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(
    table = "rel_articles",
    many_to_many(tags = ArticleTag::article_id, to = tag_id),
    port = store::Articles
)]
pub struct Article {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(references = Author, index)]
    pub author_id: i64,
    /// A nullable foreign key, named by `relation` (its name has no `_id`).
    #[repo(references = Author, relation = editor)]
    pub edited_by: Option<i64>,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "rel_tags")]
pub struct Tag {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "rel_article_tags")]
pub struct ArticleTag {
    #[repo(id, references = Article, on_delete = "cascade")]
    pub article_id: i64,
    #[repo(id, references = Tag)]
    pub tag_id: i64,
}

struct Blog {
    jake: Author,
    ann: Author,
    bob: Author,
    articles: Vec<Article>,
    tags: Vec<Tag>,
}

async fn blog(db: &Db) -> Blog {
    for create in [
        db.create_schema::<Author>().await,
        db.create_schema::<Profile>().await,
        db.create_schema::<Article>().await,
        db.create_schema::<Tag>().await,
        db.create_schema::<ArticleTag>().await,
    ] {
        create.unwrap();
    }
    let authors = Author::repository(db);
    let [jake, ann, bob] = ["jake", "ann", "bob"].map(|name| NewAuthor {
        username: name.into(),
    });
    let mut stored = authors
        .insert_many(vec![jake, ann, bob])
        .await
        .unwrap()
        .into_iter();
    let (jake, ann, bob) = (
        stored.next().unwrap(),
        stored.next().unwrap(),
        stored.next().unwrap(),
    );
    Profile::repository(db)
        .insert_many(vec![
            NewProfile {
                author_id: jake.id,
                bio: "jake's".into(),
            },
            NewProfile {
                author_id: ann.id,
                bio: "ann's".into(),
            },
        ])
        .await
        .unwrap();
    let articles = Article::repository(db)
        .insert_many(vec![
            NewArticle {
                author_id: jake.id,
                edited_by: Some(ann.id),
                title: "A".into(),
            },
            NewArticle {
                author_id: ann.id,
                edited_by: None,
                title: "B".into(),
            },
            NewArticle {
                author_id: jake.id,
                edited_by: Some(ann.id),
                title: "C".into(),
            },
        ])
        .await
        .unwrap();
    let tags = Tag::repository(db)
        .insert_many(vec![
            NewTag {
                name: "rust".into(),
            },
            NewTag { name: "sql".into() },
            NewTag { name: "orm".into() },
        ])
        .await
        .unwrap();
    let link = |article: usize, tag: usize| ArticleTag {
        article_id: articles[article].id,
        tag_id: tags[tag].id,
    };
    ArticleTag::repository(db)
        .insert_many(vec![link(0, 0), link(0, 1), link(1, 1), link(1, 2)])
        .await
        .unwrap();
    Blog {
        jake,
        ann,
        bob,
        articles,
        tags,
    }
}

pub async fn each_kind_of_relation_loads_per_row_in_the_rows_order(db: &Db) {
    let Blog {
        jake,
        ann,
        bob,
        articles,
        tags,
    } = blog(db).await;

    // Belongs-to, through a required and a nullable key; a row given twice gets its row twice.
    let twice = vec![
        articles[2].clone(),
        articles[0].clone(),
        articles[2].clone(),
    ];
    let authors = Article::AUTHOR.load(db, &twice).await.unwrap();
    assert_eq!(
        authors,
        [Some(jake.clone()), Some(jake.clone()), Some(jake.clone())]
    );
    let editors = Article::EDITOR.load(db, &articles).await.unwrap();
    assert_eq!(editors, [Some(ann.clone()), None, Some(ann.clone())]);

    // Has-many and has-one, in the parents' order; a parent without rows gets none.
    let parents = vec![bob.clone(), jake.clone(), ann.clone()];
    let written = Author::ARTICLES.load(db, &parents).await.unwrap();
    assert_eq!(
        written,
        [
            vec![],
            vec![articles[0].clone(), articles[2].clone()],
            vec![articles[1].clone()],
        ]
    );
    let profiles = Author::PROFILE.load(db, &parents).await.unwrap();
    let bios: Vec<Option<String>> = profiles
        .into_iter()
        .map(|profile| profile.map(|profile| profile.bio))
        .collect();
    assert_eq!(bios, [None, Some("jake's".into()), Some("ann's".into())]);

    // Many-to-many, in the targets' key order; an article without tags gets none.
    let tagged = Article::TAGS.load(db, &articles).await.unwrap();
    assert_eq!(
        tagged,
        [
            vec![tags[0].clone(), tags[1].clone()],
            vec![tags[1].clone(), tags[2].clone()],
            vec![],
        ]
    );

    // No rows, no statement.
    let before = db.metrics().statements;
    assert!(Article::TAGS.load(db, &[]).await.unwrap().is_empty());
    assert!(Article::AUTHOR.load(db, &[]).await.unwrap().is_empty());
    assert_eq!(db.metrics().statements, before);
}

pub async fn nested_loads_take_one_statement_per_relation_whatever_the_rows(db: &Db) {
    let Blog {
        jake, ann, tags, ..
    } = blog(db).await;
    let page = (Article::AUTHOR.with(Author::PROFILE), Article::TAGS);

    let articles = Article::repository(db);
    let few = articles.list(ListOptions::new()).await.unwrap();
    let before = db.metrics().statements;
    let loaded = page.load(db, &few).await.unwrap();
    let statements = db.metrics().statements - before;
    assert_eq!(statements, 3, "author, their profile, tags");
    let (author, tagged) = &loaded[1];
    let (author, profile) = author.as_ref().unwrap();
    assert_eq!(author, &ann);
    assert_eq!(profile.as_ref().unwrap().bio, "ann's");
    assert_eq!(tagged, &[tags[1].clone(), tags[2].clone()]);

    let more: Vec<NewArticle> = (0..60)
        .map(|i| NewArticle {
            author_id: jake.id,
            edited_by: None,
            title: format!("more {i}"),
        })
        .collect();
    articles.insert_many(more).await.unwrap();
    let many = articles.list(ListOptions::new()).await.unwrap();
    let before = db.metrics().statements;
    let loaded = page.load(db, &many).await.unwrap();
    assert_eq!(db.metrics().statements - before, statements);
    assert_eq!(loaded.len(), 63);
    assert!(loaded[3..].iter().all(|(author, tagged)| {
        author.as_ref().map(|(author, _)| author.id) == Some(jake.id) && tagged.is_empty()
    }));

    // Deeper: authors, their articles, and each article's tags and editor.
    let authors = Author::repository(db)
        .list(ListOptions::new())
        .await
        .unwrap();
    let before = db.metrics().statements;
    let tree = Author::ARTICLES
        .with((Article::TAGS, Article::EDITOR))
        .load(db, &authors)
        .await
        .unwrap();
    assert_eq!(db.metrics().statements - before, 3);
    let (first, (first_tags, editor)) = &tree[0][0];
    assert_eq!(first.title, "A");
    assert_eq!(first_tags.len(), 2);
    assert_eq!(editor.as_ref(), Some(&ann));
}

pub async fn relations_filter_and_count_in_one_statement(db: &Db) {
    let Blog {
        jake,
        ann,
        bob,
        articles,
        ..
    } = blog(db).await;
    let repo = Article::repository(db);
    let titles =
        |rows: Vec<Article>| -> Vec<String> { rows.into_iter().map(|a| a.title).collect() };

    let by_jake = Article::AUTHOR.has(Author::USERNAME.eq("jake"));
    let found = repo.find_where(&by_jake, ListOptions::new()).await.unwrap();
    assert_eq!(titles(found), ["A", "C"]);
    let tagged_sql = Article::TAGS.has(Tag::NAME.eq("sql"));
    let found = repo
        .find_where(&tagged_sql, ListOptions::new())
        .await
        .unwrap();
    assert_eq!(titles(found), ["A", "B"]);
    let untagged = !Article::TAGS.has(Filter::all());
    let found = repo
        .find_where(&untagged, ListOptions::new())
        .await
        .unwrap();
    assert_eq!(titles(found), ["C"]);
    let edited_by_ann = Article::EDITOR.has(Author::ID.eq(ann.id));
    assert_eq!(repo.count_where(&edited_by_ann).await.unwrap(), 2);

    let authors = Author::repository(db);
    let writing_rust = Author::ARTICLES.has(Article::TAGS.has(Tag::NAME.eq("rust")));
    let found = authors
        .find_where(&writing_rust, ListOptions::new())
        .await
        .unwrap();
    assert_eq!(found, std::slice::from_ref(&jake));
    let with_profile = Author::PROFILE.has(Profile::BIO.starts_with("ann"));
    assert_eq!(
        authors
            .find_where(&with_profile, ListOptions::new())
            .await
            .unwrap(),
        std::slice::from_ref(&ann)
    );

    let before = db.metrics().statements;
    let counts = Article::TAGS
        .count(db, &articles, Filter::all())
        .await
        .unwrap();
    assert_eq!(counts, [2, 2, 0]);
    let orm = Article::TAGS
        .count(db, &articles, Tag::NAME.eq("orm"))
        .await
        .unwrap();
    assert_eq!(orm, [0, 1, 0]);
    let parents = [bob, jake, ann];
    let written = Author::ARTICLES
        .count(db, &parents, Filter::all())
        .await
        .unwrap();
    assert_eq!(written, [0, 2, 1]);
    let counts = |all, matching| Counts { all, matching };
    let sql = Article::TAGS
        .count_matching(db, &articles, Tag::NAME.eq("sql"))
        .await
        .unwrap();
    assert_eq!(sql, [counts(2, 1), counts(2, 1), counts(0, 0)]);
    let titled_c = Author::ARTICLES
        .count_matching(db, &parents, Article::TITLE.eq("C"))
        .await
        .unwrap();
    assert_eq!(titled_c, [counts(0, 0), counts(2, 1), counts(1, 0)]);
    assert_eq!(db.metrics().statements - before, 5);
}

pub async fn relations_load_inside_a_transaction_what_it_wrote(db: &Db) {
    let Blog { ann, articles, .. } = blog(db).await;
    let tx = db.begin().await.unwrap();
    let mine = Article::repository(&tx)
        .insert(NewArticle {
            author_id: ann.id,
            edited_by: None,
            title: "draft".into(),
        })
        .await
        .unwrap();
    let written = Author::ARTICLES
        .load(&tx, std::slice::from_ref(&ann))
        .await
        .unwrap();
    assert_eq!(written, [vec![articles[1].clone(), mine.clone()]]);
    tx.rollback().await.unwrap();
    let written = Author::ARTICLES
        .load(db, std::slice::from_ref(&ann))
        .await
        .unwrap();
    assert_eq!(written, [vec![articles[1].clone()]]);
}

pub async fn derived_queries_follow_relations_through_their_names(db: &Db) {
    let Blog { articles, .. } = blog(db).await;
    let port: std::sync::Arc<dyn store::Articles> = std::sync::Arc::new(Article::repository(db));
    let titles =
        |rows: Vec<Article>| -> Vec<String> { rows.into_iter().map(|a| a.title).collect() };

    assert_eq!(
        titles(port.find_all_by_author_username("jake").await.unwrap()),
        ["A", "C"]
    );
    let names = vec!["orm".to_owned(), "rust".to_owned()];
    assert_eq!(
        titles(port.find_all_by_tags_name_in(&names).await.unwrap()),
        ["A", "B"]
    );
    let either = port
        .find_all_by_title_or_tags_name_order_by_title_desc("C", "orm")
        .await
        .unwrap();
    assert_eq!(titles(either), ["C", "B"]);
    let last = port
        .find_first_by_author_username_order_by_title_desc("jake")
        .await
        .unwrap();
    assert_eq!(last.map(|a| a.title), Some("C".to_owned()));
    let page = Page {
        limit: Some(1),
        offset: 1,
    };
    let edited = port
        .find_all_by_editor_username_starting_with("an", page)
        .await
        .unwrap();
    assert_eq!(titles(edited), ["C"]);
    assert_eq!(port.count_by_editor_id_is_not_null().await.unwrap(), 2);
    assert!(port.exists_by_tags_name("sql").await.unwrap());
    assert!(!port.exists_by_tags_name("go").await.unwrap());

    let before = db.metrics().statements;
    let deleted = port
        .delete_by_author_username_and_tags_name("jake", "rust")
        .await
        .unwrap();
    assert_eq!(deleted, 1, "A, by jake and tagged rust");
    assert_eq!(db.metrics().statements - before, 1);
    let left = Article::repository(db)
        .list(ListOptions::new())
        .await
        .unwrap();
    assert_eq!(left, articles[1..]);
}
