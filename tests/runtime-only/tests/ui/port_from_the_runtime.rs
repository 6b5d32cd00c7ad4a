//! A port declared with `repo_runtime::port`, in a crate without `repo-core`, implemented by a
//! record and used as a trait object and behind fault injection.

use std::sync::Arc;

use repo_runtime::prelude::*;
use repo_runtime::{Faults, Faulty};

#[port]
pub trait Tags: Send + Sync {
    async fn insert(&self, tag: Tag) -> Result<Tag, RepoError>;
    async fn find_all_by_name_starting_with_order_by_name_order_by_id_desc(
        &self,
        prefix: &str,
    ) -> Result<Vec<Tag>, RepoError>;
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "tags", port = Tags)]
pub struct Tag {
    #[repo(id)]
    pub id: i64,
    pub name: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), RepoError> {
    let db = Db::connect("sqlite::memory:").await?;
    db.create_schema::<Tag>().await?;
    let tags: Arc<dyn Tags> = Arc::new(Tag::repository(&db));
    tags.insert(Tag { id: 1, name: "rust".into() }).await?;
    let found = tags
        .find_all_by_name_starting_with_order_by_name_order_by_id_desc("ru")
        .await?;
    assert_eq!(found.len(), 1);
    let faulty = Faulty::new(Tag::repository(&db), Faults::new());
    assert_eq!(
        faulty.find_all_by_name_starting_with_order_by_name_order_by_id_desc("x").await?,
        Vec::new()
    );
    let _ = (Isolation::Serializable, RetryPolicy::never());
    Ok(())
}
