//! The service end to end, in process (requests through the router, no socket), on every
//! backend: SQLite through both drivers, PostgreSQL and MariaDB when their URLs are set, and
//! the in-memory store. The official API suite runs against the binary in `.ci/run`
//! (`api-suite.sh`); these tests check what it does not: error answers, permissions, and
//! the number of statements a page costs.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use conduit::application::ArticleQuery;
use conduit::infrastructure::{Persistence, article_filter, newest_first, schema};
use repo_runtime::migrate::check_drift;
use repo_tests::{Backend, every_backend};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The router on `db`, its schema migrated.
async fn service(db: &repo_runtime::Db) -> Router {
    let (router, _) = conduit::service(db.clone(), b"test secret")
        .await
        .expect("open the service");
    router
}

/// One request; the status and the JSON answer (`Null` when empty).
async fn call(
    router: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("/api{path}"))
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Token {token}"));
    }
    let body = body.map(|body| body.to_string()).unwrap_or_default();
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = match bytes.is_empty() {
        true => Value::Null,
        false => serde_json::from_slice(&bytes).unwrap(),
    };
    (status, value)
}

/// Registers `name` and returns their token.
async fn register(router: &Router, name: &str) -> String {
    let body = json!({ "user": {
        "username": name, "email": format!("{name}@example.com"), "password": "secret",
    }});
    let (status, answer) = call(router, Method::POST, "/users", None, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["user"]["token"].as_str().unwrap().to_owned()
}

/// Publishes an article and returns its slug.
async fn publish(router: &Router, token: &str, title: &str, tags: &[&str]) -> String {
    let body = json!({ "article": {
        "title": title, "description": "about it", "body": "the text", "tagList": tags,
    }});
    let (status, answer) = call(router, Method::POST, "/articles", Some(token), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["article"]["slug"].as_str().unwrap().to_owned()
}

fn titles(page: &Value) -> Vec<&str> {
    page["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|article| article["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_blog_on_every_backend() {
    for (backend, test) in every_backend("conduit_blog").await {
        let router = service(&test.db).await;
        let jake = register(&router, "jake").await;
        let ann = register(&router, "ann").await;

        // Same title twice: the second slug is made unique.
        let first = publish(
            &router,
            &jake,
            "Train your dragon",
            &["training", "dragons"],
        )
        .await;
        let second = publish(&router, &jake, "Train your dragon", &["dragons"]).await;
        assert_eq!(first, "train-your-dragon", "{backend:?}");
        assert!(
            second.starts_with("train-your-dragon-"),
            "{backend:?}: {second}"
        );
        publish(&router, &ann, "Databases", &["sql"]).await;

        let (_, all) = call(&router, Method::GET, "/articles", None, None).await;
        assert_eq!(all["articlesCount"], 3, "{backend:?}");
        assert_eq!(
            titles(&all),
            ["Databases", "Train your dragon", "Train your dragon"]
        );
        let article = &all["articles"][2];
        assert_eq!(
            article["tagList"],
            json!(["dragons", "training"]),
            "{backend:?}"
        );
        assert_eq!(article["author"]["username"], "jake");
        assert_eq!(article["favorited"], false);

        let (_, tagged) = call(&router, Method::GET, "/articles?tag=sql", None, None).await;
        assert_eq!(titles(&tagged), ["Databases"], "{backend:?}");
        let path = "/articles?author=jake&limit=1&offset=1";
        let (_, by_jake) = call(&router, Method::GET, path, None, None).await;
        assert_eq!(by_jake["articlesCount"], 2, "{backend:?}");
        assert_eq!(by_jake["articles"][0]["slug"], first, "{backend:?}");

        // Ann follows Jake and favourites his first article.
        let (status, profile) = call(
            &router,
            Method::POST,
            "/profiles/jake/follow",
            Some(&ann),
            None,
        )
        .await;
        assert_eq!(
            (status, &profile["profile"]["following"]),
            (StatusCode::OK, &json!(true))
        );
        let (_, feed) = call(&router, Method::GET, "/articles/feed", Some(&ann), None).await;
        assert_eq!(feed["articlesCount"], 2, "{backend:?}");
        assert_eq!(
            feed["articles"][0]["author"]["following"], true,
            "{backend:?}"
        );
        let favorite = format!("/articles/{first}/favorite");
        for _ in 0..2 {
            let (status, liked) = call(&router, Method::POST, &favorite, Some(&ann), None).await;
            assert_eq!(status, StatusCode::OK, "{backend:?}: {liked}");
            assert_eq!(
                liked["article"]["favoritesCount"], 1,
                "{backend:?}: idempotent"
            );
            assert_eq!(liked["article"]["favorited"], true);
        }
        let (_, liked) = call(&router, Method::GET, "/articles?favorited=ann", None, None).await;
        assert_eq!(liked["articles"][0]["slug"], first, "{backend:?}");
        let (_, seen) = call(
            &router,
            Method::GET,
            &format!("/articles/{first}"),
            Some(&jake),
            None,
        )
        .await;
        assert_eq!(
            seen["article"]["favorited"], false,
            "{backend:?}: Jake's own view"
        );

        // Comments: only their author deletes them.
        let comments = format!("/articles/{first}/comments");
        let body = json!({ "comment": { "body": "Great!" } });
        let (status, comment) =
            call(&router, Method::POST, &comments, Some(&ann), Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {comment}");
        let id = comment["comment"]["id"].as_i64().unwrap();
        let (_, listed) = call(&router, Method::GET, &comments, Some(&jake), None).await;
        assert_eq!(listed["comments"][0]["author"]["username"], "ann");
        assert_eq!(listed["comments"][0]["author"]["following"], false);
        let one = format!("{comments}/{id}");
        let (status, _) = call(&router, Method::DELETE, &one, Some(&jake), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
        let (status, _) = call(&router, Method::DELETE, &one, Some(&ann), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{backend:?}");

        // A partial update: the title moves the slug, the rest is kept.
        let body = json!({ "article": { "title": "Train your dragon well" } });
        let path = format!("/articles/{first}");
        let (status, _) = call(&router, Method::PUT, &path, Some(&ann), Some(body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
        let (status, edited) = call(&router, Method::PUT, &path, Some(&jake), Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {edited}");
        let edited = &edited["article"];
        assert_eq!(edited["slug"], "train-your-dragon-well");
        assert_eq!(edited["body"], "the text");
        assert_eq!(edited["favoritesCount"], 1);
        assert!(edited["updatedAt"].as_str() >= edited["createdAt"].as_str());

        // Deleting it takes its tags' links, favourites and comments along.
        let path = "/articles/train-your-dragon-well";
        let (status, _) = call(&router, Method::DELETE, path, Some(&jake), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{backend:?}");
        let (status, _) = call(&router, Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?}");
        let (_, tags) = call(&router, Method::GET, "/tags", None, None).await;
        assert_eq!(
            tags["tags"],
            json!(["dragons", "sql"]),
            "{backend:?}: tags in use"
        );
    }
}

#[tokio::test]
async fn users_and_their_errors_on_every_backend() {
    for (backend, test) in every_backend("conduit_users").await {
        let router = service(&test.db).await;
        let token = register(&router, "jake").await;
        let again = json!({ "user": {
            "username": "jake", "email": "other@example.com", "password": "secret",
        }});
        let (status, answer) = call(&router, Method::POST, "/users", None, Some(again)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}");
        assert_eq!(answer["errors"]["username"][0], "has already been taken");
        let blank = json!({ "user": { "username": " ", "email": "x@y.z", "password": "p" } });
        let (status, answer) = call(&router, Method::POST, "/users", None, Some(blank)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}");
        assert_eq!(answer["errors"]["username"][0], "can't be blank");
        let (status, _) = call(&router, Method::POST, "/users", None, Some(json!({}))).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend:?}: a malformed body"
        );

        let wrong = json!({ "user": { "email": "jake@example.com", "password": "wrong" } });
        let (status, _) = call(&router, Method::POST, "/users/login", None, Some(wrong)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}");
        let right = json!({ "user": { "email": "JAKE@example.com", "password": "secret" } });
        let (status, _) = call(&router, Method::POST, "/users/login", None, Some(right)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend:?}: addresses are case-insensitive"
        );

        let (status, _) = call(&router, Method::GET, "/user", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}");
        let (status, _) = call(&router, Method::GET, "/user", Some("forged"), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?}");

        // A patch: the fields given change, `null` clears, the others stay.
        let body = json!({ "user": { "bio": "I like dragons", "image": null } });
        let (status, user) = call(&router, Method::PUT, "/user", Some(&token), Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {user}");
        assert_eq!(user["user"]["bio"], "I like dragons");
        assert_eq!(user["user"]["email"], "jake@example.com");
        register(&router, "ann").await;
        let taken = json!({ "user": { "email": "ann@example.com" } });
        let (status, answer) = call(&router, Method::PUT, "/user", Some(&token), Some(taken)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}");
        assert_eq!(answer["errors"]["email"][0], "has already been taken");
        let (_, profile) = call(&router, Method::GET, "/profiles/jake", None, None).await;
        assert_eq!(profile["profile"]["bio"], "I like dragons", "{backend:?}");
        let (status, _) = call(&router, Method::GET, "/profiles/nobody", None, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?}");
    }
}

#[tokio::test]
async fn a_page_costs_the_same_statements_whatever_its_size() {
    for (backend, test) in every_backend("conduit_page_cost").await {
        let router = service(&test.db).await;
        let mut tokens = Vec::new();
        for n in 0..4 {
            tokens.push(register(&router, &format!("author{n}")).await);
        }
        for n in 0..24 {
            let token = &tokens[n % tokens.len()];
            let slug = publish(&router, token, &format!("Article {n}"), &["a", "b", "c"]).await;
            if n % 3 == 0 {
                let path = format!("/articles/{slug}/favorite");
                call(&router, Method::POST, &path, Some(&tokens[0]), None).await;
            }
        }
        call(
            &router,
            Method::POST,
            "/profiles/author1/follow",
            Some(&tokens[0]),
            None,
        )
        .await;
        let persistence = Persistence::on(test.db.clone());
        let reads = <Persistence as conduit::application::Store>::reads(&persistence);
        let mut costs = Vec::new();
        for limit in [1, 5, 20] {
            let query = ArticleQuery {
                tag: Some("b".into()),
                limit: Some(limit),
                ..ArticleQuery::default()
            };
            let before = test.db.metrics().statements;
            let page = reads.articles(&query, Some(1)).await.unwrap();
            costs.push(test.db.metrics().statements - before);
            assert_eq!(page.articles.len(), limit as usize, "{backend:?}");
            assert_eq!(page.total, 24);
            assert!(
                page.articles
                    .iter()
                    .all(|view| view.tags == ["a", "b", "c"])
            );
            let favorited = page.articles.iter().filter(|view| view.favorited).count();
            let expected = page
                .articles
                .iter()
                .filter(|v| v.favorites_count == 1)
                .count();
            assert_eq!(favorited, expected, "{backend:?}: only author0 favourites");
            let mut following = page.articles.iter().filter(|view| view.author.following);
            assert!(following.all(|view| view.author.username == "author1"));
        }
        // The page, its total, the authors, the tags, the favourites and the viewer's follows.
        assert_eq!(costs, [6, 6, 6], "{backend:?}: statements per page");
    }
}

#[tokio::test]
async fn the_migrations_build_the_schema_of_the_records() {
    for (backend, test) in every_backend("conduit_migrations").await {
        if backend == Backend::Memory {
            continue; // no SQL schema to compare
        }
        let _router = service(&test.db).await;
        let drift = check_drift(&test.db, &schema()).await.unwrap();
        assert!(drift.is_clean(), "{backend:?}: {drift:?}");
        // Every derived query and foreign-key lookup has its index, as the planner sees it.
        let scans: Vec<String> = schema()
            .explain_queries(&test.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|read| read.plan.scans_a_table())
            .map(|read| read.to_string())
            .collect();
        assert!(scans.is_empty(), "{backend:?}: {scans:#?}");
        // Opening again finds them applied.
        let _router = service(&test.db).await;
    }
}

#[test]
fn every_read_of_the_service_has_its_index() {
    assert_eq!(schema().index_advice(), Vec::new());
    let listings = [
        ArticleQuery::default(),
        ArticleQuery {
            tag: Some("dragons".into()),
            ..ArticleQuery::default()
        },
        ArticleQuery {
            author: Some("jake".into()),
            favorited: Some("ann".into()),
            ..ArticleQuery::default()
        },
        ArticleQuery {
            followed_by: Some(1),
            limit: Some(5),
            offset: Some(10),
            ..ArticleQuery::default()
        },
    ];
    for query in listings {
        let advice = article_filter(&query).index_advice("articles", &newest_first(&query));
        assert_eq!(advice, None, "{query:?}");
    }
}

#[tokio::test]
async fn the_demo_seeds_run_on_every_backend() {
    for (backend, test) in every_backend("conduit_seeds").await {
        let router = service(&test.db).await;
        let seeded = conduit::seeds::seeds().run(&test.db, "dev").await.unwrap();
        assert_eq!(seeded.len(), 1, "{backend:?}");
        let (_, page) = call(&router, Method::GET, "/articles", None, None).await;
        assert_eq!(page["articlesCount"], 3, "{backend:?}");
        let login = json!({ "user": {
            "email": "ann@conduit.example", "password": conduit::seeds::DEMO_PASSWORD,
        }});
        let (status, _) = call(&router, Method::POST, "/users/login", None, Some(login)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        let again = conduit::seeds::seeds().run(&test.db, "dev").await.unwrap();
        assert!(again.is_empty(), "{backend:?}: a seed runs once");
    }
}
