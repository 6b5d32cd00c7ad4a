//! The schema as a Mermaid entity-relationship diagram (`Schema::mermaid`, the command line's
//! `diagram`): keys marked, nullable and generated columns noted, and each foreign key a
//! relationship whose cardinality follows from its columns.

use repo_runtime::migrate::Schema;
use repo_runtime::prelude::*;

/// Who writes.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "authors")]
pub struct Author {
    /// Its number.
    #[repo(id, generated)]
    pub id: i64,
    /// Its login.
    #[repo(unique)]
    pub email: String,
}

/// At most one per author: a foreign key that is also a unique key.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "profiles")]
pub struct Profile {
    /// Its number.
    #[repo(id, generated)]
    pub id: i64,
    /// Whose.
    #[repo(unique, references = Author, on_delete = "cascade")]
    pub author_id: i64,
    /// A few words.
    pub bio: Option<String>,
}

/// Many per author; an editor perhaps.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "articles")]
pub struct Article {
    /// Its number.
    #[repo(id, generated)]
    pub id: i64,
    /// Who wrote it.
    #[repo(references = Author)]
    pub author_id: i64,
    /// Who edited it, if anyone.
    #[repo(references = Author, on_delete = "set_null", relation = editor)]
    pub editor_id: Option<i64>,
    /// Its title.
    pub title: String,
    /// How often it was read.
    pub reads: i32,
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tags")]
pub struct Tag {
    /// Its number.
    #[repo(id, generated)]
    pub id: i64,
    /// The tag.
    #[repo(unique)]
    pub name: String,
}

/// The link of a many-to-many relation: its key is its two foreign keys.
#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "article_tags")]
pub struct ArticleTag {
    /// The article.
    #[repo(id, references = Article, on_delete = "cascade")]
    pub article_id: i64,
    /// The tag.
    #[repo(id, references = Tag)]
    pub tag_id: i64,
}

#[test]
fn the_schema_as_a_mermaid_diagram() {
    let schema = Schema::new()
        .entity::<Author>()
        .entity::<Profile>()
        .entity::<Article>()
        .entity::<Tag>()
        .entity::<ArticleTag>();
    insta::assert_snapshot!(schema.mermaid());
}
