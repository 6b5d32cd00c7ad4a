//! `#[repo(sensitive)]`: the value never shows in `Debug` or in an error message.

use repo_runtime::prelude::*;

use crate::mapping::{Status, raw_execute};

/// A PIN that must be four digits; its conversion error would quote it.
pub mod pin_text {
    pub fn to_db(pin: &String) -> Result<String, String> {
        if pin.len() == 4 && pin.chars().all(|c| c.is_ascii_digit()) {
            Ok(pin.clone())
        } else {
            Err(format!("`{pin}` is not a four-digit PIN"))
        }
    }

    pub fn from_db(text: String) -> Result<String, String> {
        to_db(&text)
    }
}

/// Credentials with secret fields.
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "credentials")]
pub struct Credential {
    #[repo(id, generated)]
    pub id: i64,
    pub login: String,
    #[repo(sensitive)]
    pub password_hash: String,
    #[repo(sensitive, with = pin_text)]
    pub pin: String,
    #[repo(sensitive)]
    pub clearance: Option<Status>,
}

const SECRET: &str = "s3cr3t-hash-value";

fn alice() -> NewCredential {
    NewCredential {
        login: "alice".into(),
        password_hash: SECRET.into(),
        pin: "1234".into(),
        clearance: Some(Status::Active),
    }
}

pub async fn sensitive_values_stay_out_of_debug_and_write_errors(db: &Db) {
    db.create_schema::<Credential>().await.unwrap();
    let credentials = Credential::repository(db);
    let new = alice();
    let debug = format!("{new:?}");
    assert!(
        debug.contains("alice") && !debug.contains(SECRET),
        "{debug}"
    );
    let stored = credentials.insert(new.clone()).await.unwrap();
    let debug = format!("{stored:?}");
    assert!(
        debug.contains("<redacted>") && !debug.contains(SECRET) && !debug.contains("1234"),
        "{debug}"
    );
    assert!(Credential::TABLE.column("password_hash").unwrap().sensitive);

    // A conversion refusing the value does not repeat it.
    let error = credentials
        .insert(NewCredential {
            pin: "98765".into(),
            ..new.clone()
        })
        .await
        .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, RepoError::InvalidInput { .. }), "{shown}");
    assert!(shown.contains("pin") && !shown.contains("98765"), "{shown}");
}

/// A value read back that the conversion refuses is not repeated either; the row is planted
/// with SQL, which the repositories would refuse to write.
pub async fn sensitive_values_stay_out_of_read_errors(db: &Db) {
    db.create_schema::<Credential>().await.unwrap();
    let credentials = Credential::repository(db);
    let stored = credentials.insert(alice()).await.unwrap();
    assert!(
        raw_execute(db, "UPDATE credentials SET pin = '55555'")
            .await
            .is_none()
    );
    let error = credentials.get(stored.id).await.unwrap_err();
    let shown = format!("{error} {error:?} {:?}", std::error::Error::source(&error));
    assert!(
        matches!(error, RepoError::Decode { column: "pin", .. }),
        "{shown}"
    );
    assert!(!shown.contains("55555"), "{shown}");
}
