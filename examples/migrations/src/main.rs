//! The migrations command line of a small blog: the application's own binary, a few lines
//! around `repo_runtime::cli`.
//!
//! ```text
//! cargo run -p migrations-example -- generate add_post_publishing   # after changing an entity
//! cargo run -p migrations-example -- up                             # DATABASE_URL, or SQLite
//! cargo run -p migrations-example -- status
//! cargo run -p migrations-example -- check                          # drift: exit 3 if any
//! cargo run -p migrations-example -- seed --env dev
//! cargo run -p migrations-example -- down
//! ```

use repo_runtime::migrate::{Schema, Seeds};
use repo_runtime::prelude::*;

/// Someone who writes posts.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "authors")]
struct Author {
    #[repo(id, generated)]
    id: i64,
    #[repo(unique)]
    email: String,
    name: String,
    /// Added by the second migration; existing authors start at 0.
    #[repo(default = 0)]
    karma: i64,
}

/// A post, deleted with its author.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "posts")]
struct Post {
    #[repo(id, generated)]
    id: i64,
    #[repo(references = Author, on_delete = "cascade")]
    author_id: i64,
    title: String,
    /// Added by the second migration, with an index for the front page.
    #[repo(index, default = false)]
    published: bool,
}

fn schema() -> Schema {
    Schema::new().entity::<Author>().entity::<Post>()
}

/// A seed written with the repositories, next to the SQL files under `seeds/`.
fn seeds() -> Seeds {
    Seeds::new().code("welcome post", &["dev"], |tx| {
        Box::pin(async move {
            let authors = Author::repository(tx);
            let Some(author) = authors.find_by_email("editor@example.com").await? else {
                return Err(RepoError::not_found("Author"));
            };
            Post::repository(tx)
                .insert(NewPost {
                    author_id: author.id,
                    title: "Welcome".into(),
                    published: true,
                })
                .await?;
            Ok(())
        })
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    repo_runtime::cli::Cli::new(schema())
        .migrations_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .seeds_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/seeds"))
        .seeds(seeds())
        .run()
        .await
}
