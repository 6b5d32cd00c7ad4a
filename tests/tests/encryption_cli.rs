//! The command line's `keygen` and `reencrypt`, run as a child process (`vault-migrate`) with
//! the keys in its environment, as a deployment would run them.

use std::process::{Command, Output};
use std::sync::Arc;

use repo_runtime::Keyring;
use repo_runtime::prelude::*;
use repo_tests::vault::{NewSecret, Secret, SecretRepository, StoredSecret};

const BLIND: &str = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";

fn vault(scratch: &std::path::Path, args: &[&str], keys: &[(&str, String)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vault-migrate"));
    command
        .args(args)
        .current_dir(scratch)
        .env("REPO_CONFIG_DIR", scratch)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_ENCRYPTION_KEYS")
        .env_remove("DATABASE_BLIND_INDEX_KEY");
    for (name, value) in keys {
        command.env(name, value);
    }
    command.output().expect("run vault-migrate")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn keygen_makes_keys_and_reencrypt_moves_every_row_to_the_newest() {
    let scratch = std::env::temp_dir().join(format!("repo_vault_{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch");
    let url = format!("sqlite://{}/vault.db?mode=rwc", scratch.display());

    // Two new keys, each 32 random bytes in base64.
    let keygen = |_| {
        let output = vault(&scratch, &["keygen"], &[]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout).trim().to_owned()
    };
    let (k1, k2) = (keygen(1), keygen(2));
    assert_eq!(k1.len(), 44, "{k1}");
    assert_ne!(k1, k2);

    // Rows written under k1 by the application.
    let old = Arc::new(
        Keyring::parse(&format!("k1:{k1}"))
            .and_then(|keys| keys.with_blind_index_key(BLIND))
            .expect("keys"),
    );
    let db = Db::connect(&url).await.expect("open").with_keyring(old);
    db.create_schema::<Secret>().await.expect("schema");
    for n in 0..5 {
        Secret::repository(&db)
            .insert(NewSecret {
                label: format!("label {n}"),
                body: format!("body {n}"),
            })
            .await
            .expect("insert");
    }

    // Without keys the command fails and says what to set.
    let output = vault(&scratch, &["--database-url", &url, "reencrypt"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("DATABASE_ENCRYPTION_KEYS"),
        "{}",
        text(&output.stderr)
    );

    // With k2 appended (from a file, as a mounted secret), every row moves to it.
    let keys_file = scratch.join("keys");
    std::fs::write(&keys_file, format!("k1:{k1},k2:{k2}\n")).expect("keys file");
    let keys = [
        (
            "DATABASE_ENCRYPTION_KEYS_FILE",
            keys_file.display().to_string(),
        ),
        ("DATABASE_BLIND_INDEX_KEY", BLIND.to_owned()),
    ];
    let output = vault(
        &scratch,
        &["--database-url", &url, "reencrypt", "--batch", "2"],
        &keys,
    );
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(
        stdout.contains("Secret: 5 of 5 rows under the key `k2`"),
        "{stdout}"
    );
    assert!(!stdout.contains(&k2) && !text(&output.stderr).contains(&k2));

    for row in StoredSecret::repository(&db)
        .list(ListOptions::new())
        .await
        .expect("rows")
    {
        assert_eq!(Keyring::key_id_of(&row.label), Some("k2"));
        assert_eq!(Keyring::key_id_of(&row.body), Some("k2"));
    }
    let new_only = Arc::new(
        Keyring::parse(&format!("k2:{k2}"))
            .and_then(|keys| keys.with_blind_index_key(BLIND))
            .expect("keys"),
    );
    let retired = db.with_keyring(new_only);
    let secrets = Secret::repository(&retired);
    let found = secrets.find_by_label("label 3").await.expect("lookup");
    assert_eq!(
        found.map(|secret| secret.body),
        Some(String::from("body 3"))
    );
    repo_tests::vault::schema()
        .verify_keys(&retired)
        .await
        .expect("the keys fit");
    db.close().await;
    std::fs::remove_dir_all(&scratch).expect("clean up");
}
