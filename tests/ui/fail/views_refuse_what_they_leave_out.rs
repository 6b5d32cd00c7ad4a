use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
pub struct Note {
    #[repo(id, generated)]
    pub id: i64,
    #[repo(unique)]
    pub slug: String,
}

async fn query_side(notes: &dyn NoteReader) -> Result<(), RepoError> {
    notes.insert(NewNote { slug: "a".into() }).await?;
    Ok(())
}

async fn no_deletes(notes: &dyn NoteWriter) -> Result<(), RepoError> {
    notes.delete(1).await?;
    Ok(())
}

fn main() {
    let _ = (query_side, no_deletes);
}
