//! Demo data for the `dev` environment (`REPO_ENV`, `dev` by default): two authors, who
//! follow each other, with a few tagged articles, favourites and comments. Written with the
//! repositories, so it runs on every backend, the in-memory store included.

use repo_runtime::migrate::Seeds;
use repo_runtime::prelude::*;

use crate::infrastructure::{
    ArticleRecord, ArticleTagRecord, CommentRecord, FavoriteRecord, FollowRecord, NewTagRecord,
    TagRecord, UserRecord,
};
use conduit_domain::{Article, Comment, Favorite, Follow, User};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "conduit-demo";

/// The demo data, run once per database.
pub fn seeds() -> Seeds {
    Seeds::new().code("demo authors and articles", &["dev"], |tx| {
        Box::pin(async move {
            let password_hash = crate::application::hash_password(DEMO_PASSWORD)
                .map_err(|error| RepoError::config(error.to_string()))?;
            let users = UserRecord::repository(tx);
            let mut authors = Vec::new();
            for (username, bio) in [
                ("jake", "I work at statefarm"),
                ("ann", "Writes about databases"),
            ] {
                let user = User {
                    id: 0,
                    username: username.into(),
                    email: format!("{username}@conduit.example"),
                    password_hash: password_hash.clone(),
                    bio: Some(bio.into()),
                    image: None,
                };
                authors.push(users.insert(user).await?);
            }
            let (jake, ann) = (authors[0].id, authors[1].id);
            let follows = FollowRecord::repository(tx);
            follows
                .insert_many(vec![
                    Follow {
                        follower_id: jake,
                        followee_id: ann,
                    },
                    Follow {
                        follower_id: ann,
                        followee_id: jake,
                    },
                ])
                .await?;
            let tags = TagRecord::repository(tx);
            let names = ["rust", "databases", "welcome"];
            let new = names.iter().map(|name| NewTagRecord {
                name: (*name).into(),
            });
            let tags = tags.insert_many(new.collect()).await?;
            let articles = ArticleRecord::repository(tx);
            let links = ArticleTagRecord::repository(tx);
            let mut published = Vec::new();
            for (author, slug, title, tag_ids) in [
                (
                    jake,
                    "welcome-to-conduit",
                    "Welcome to Conduit",
                    vec![tags[2].id],
                ),
                (
                    ann,
                    "persistence-without-sql",
                    "Persistence without SQL",
                    vec![tags[0].id, tags[1].id],
                ),
                (
                    ann,
                    "pages-in-four-statements",
                    "Pages in four statements",
                    vec![tags[1].id],
                ),
            ] {
                let article = Article {
                    id: 0,
                    slug: slug.into(),
                    author_id: author,
                    title: title.into(),
                    description: format!("{title}, in a few words"),
                    body: format!("{title}: the demo data of the Conduit example."),
                    created_at: Default::default(),
                    updated_at: Default::default(),
                };
                let article = articles.insert(article).await?;
                let rows = tag_ids.into_iter().map(|tag_id| ArticleTagRecord {
                    article_id: article.id,
                    tag_id,
                });
                links.insert_many(rows.collect()).await?;
                published.push(article);
            }
            FavoriteRecord::repository(tx)
                .insert(Favorite {
                    user_id: jake,
                    article_id: published[1].id,
                })
                .await?;
            CommentRecord::repository(tx)
                .insert(Comment {
                    id: 0,
                    article_id: published[1].id,
                    author_id: jake,
                    body: "Good read.".into(),
                    created_at: Default::default(),
                    updated_at: Default::default(),
                })
                .await?;
            Ok(())
        })
    })
}
