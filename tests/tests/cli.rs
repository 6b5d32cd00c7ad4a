//! The migrations command line on SQLite: each command's exit code, which scripts rely on.

use repo_runtime::cli::{Cli, FAILURE, NOT_CLEAN, SUCCESS, USAGE};
use repo_runtime::migrate::Schema;
use repo_runtime::prelude::*;

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "notes")]
struct Note {
    #[repo(id, generated)]
    id: i64,
    body: String,
}

#[derive(Debug, Clone, PartialEq, Repository)]
#[repo(table = "notes")]
struct NoteWithTitle {
    #[repo(id, generated)]
    id: i64,
    body: String,
    #[repo(default = "untitled")]
    title: String,
}

struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn run(schema: Schema, scratch: &Scratch, args: &[&str]) -> u8 {
    let url = format!("sqlite://{}/notes.db?mode=rwc", scratch.0.display());
    let migrations = scratch.0.join("migrations");
    let mut line = vec![
        "migrate".to_owned(),
        "--database-url".to_owned(),
        url,
        "--migrations".to_owned(),
        migrations.display().to_string(),
        "--seeds".to_owned(),
        scratch.0.join("seeds").display().to_string(),
    ];
    line.extend(args.iter().map(|arg| (*arg).to_owned()));
    Cli::new(schema).run_from(line).await
}

#[tokio::test]
async fn each_command_exits_with_the_documented_code() {
    let scratch = Scratch(std::env::temp_dir().join(format!("repo_cli_{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).expect("scratch directory");
    let v1 = || Schema::new().entity::<Note>();
    let v2 = || Schema::new().entity::<NoteWithTitle>();

    assert_eq!(run(v1(), &scratch, &["frobnicate"]).await, USAGE);
    assert_eq!(
        run(v1(), &scratch, &["generate", "--check"]).await,
        NOT_CLEAN
    );
    assert_eq!(
        run(v1(), &scratch, &["generate", "create notes"]).await,
        SUCCESS
    );
    assert_eq!(run(v1(), &scratch, &["generate", "--check"]).await, SUCCESS);
    assert_eq!(
        run(v1(), &scratch, &["check"]).await,
        NOT_CLEAN,
        "no table yet"
    );
    assert_eq!(run(v1(), &scratch, &["up"]).await, SUCCESS);
    assert_eq!(run(v1(), &scratch, &["check"]).await, SUCCESS);
    assert_eq!(run(v1(), &scratch, &["status"]).await, SUCCESS);

    assert_eq!(
        run(v2(), &scratch, &["check"]).await,
        NOT_CLEAN,
        "entity ahead"
    );
    assert_eq!(
        run(v2(), &scratch, &["generate", "add title"]).await,
        SUCCESS
    );
    assert_eq!(run(v2(), &scratch, &["up"]).await, SUCCESS);
    assert_eq!(run(v2(), &scratch, &["check"]).await, SUCCESS);
    assert_eq!(
        run(v1(), &scratch, &["generate", "drop title"]).await,
        NOT_CLEAN,
        "refused"
    );
    assert_eq!(run(v2(), &scratch, &["down"]).await, SUCCESS);
    assert_eq!(run(v1(), &scratch, &["check"]).await, SUCCESS);

    std::fs::create_dir_all(scratch.0.join("seeds/test")).expect("seeds directory");
    std::fs::write(
        scratch.0.join("seeds/test/notes.sql"),
        "INSERT INTO notes (body) VALUES ('seeded');",
    )
    .expect("seed file");
    assert_eq!(
        run(v1(), &scratch, &["seed", "--env", "test"]).await,
        SUCCESS
    );
    assert_eq!(
        run(v1(), &scratch, &["seed", "--env", "test"]).await,
        SUCCESS
    );
    let db = Db::connect(&format!("sqlite://{}/notes.db", scratch.0.display()))
        .await
        .expect("open");
    assert_eq!(Note::repository(&db).count().await.expect("count"), 1);
    db.close().await;

    let applied = std::fs::read_dir(scratch.0.join("migrations/sqlite"))
        .expect("migrations")
        .filter_map(Result::ok)
        .find(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .ends_with("create_notes.up.sql")
        })
        .expect("the first migration");
    std::fs::write(applied.path(), "-- edited\n").expect("tamper");
    assert_eq!(run(v1(), &scratch, &["status"]).await, NOT_CLEAN);
    assert_eq!(run(v1(), &scratch, &["up"]).await, FAILURE);
}
