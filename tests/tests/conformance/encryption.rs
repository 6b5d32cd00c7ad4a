//! `#[repo(encrypted)]`: ciphertext at rest, plaintext in the entity, lookups through the
//! blind index, keys that rotate, tampering and missing keys as typed errors.

use std::sync::Arc;

use futures_util::TryStreamExt;
use repo_runtime::prelude::*;
use repo_runtime::{Keyring, Reencryption};

/// Patients: an e-mail looked up through its blind index, notes and a scan that are not.
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "patients", port = Patients)]
pub struct Patient {
    #[repo(id, generated)]
    pub id: i64,
    /// Unique, so looked up through a blind index.
    #[repo(encrypted, unique)]
    pub email: String,
    /// Indexed, so looked up too; may be absent.
    #[repo(encrypted, index)]
    pub ssn: Option<String>,
    /// Never looked up: no blind index.
    #[repo(encrypted)]
    pub notes: Option<String>,
    /// Bytes, encrypted as they are.
    #[repo(encrypted)]
    pub scan: Vec<u8>,
    /// In the clear.
    pub name: String,
}

/// Derived queries on encrypted fields: equality and lists through the blind index.
#[port]
pub trait Patients: Send + Sync {
    async fn find_all_by_ssn(&self, ssn: &str) -> Result<Vec<Patient>, RepoError>;
    async fn count_by_email_in(&self, emails: Vec<String>) -> Result<u64, RepoError>;
    async fn find_all_by_ssn_is_null(&self) -> Result<Vec<Patient>, RepoError>;
}

/// The same table as the database holds it: what an attacker with a copy of it sees.
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "patients")]
pub struct StoredPatient {
    #[repo(id, generated)]
    pub id: i64,
    /// Ciphertext.
    pub email: Vec<u8>,
    /// The blind index.
    pub email_bidx: Vec<u8>,
    /// Ciphertext.
    pub ssn: Option<Vec<u8>>,
    /// The blind index.
    pub ssn_bidx: Option<Vec<u8>>,
    /// Ciphertext.
    pub notes: Option<Vec<u8>>,
    /// Ciphertext.
    pub scan: Vec<u8>,
    /// In the clear.
    pub name: String,
}

const BLIND_INDEX_KEY: &str = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1";

/// A keyring of `ids`, each key derived from its id, and the one blind index key.
fn keyring(ids: &[&str]) -> Arc<Keyring> {
    let mut keys = Keyring::new();
    for id in ids {
        let byte = format!(
            "{:02x}",
            id.bytes().fold(7_u8, |sum, b| sum.wrapping_add(b))
        );
        keys = keys.with_key(id, &byte.repeat(32)).expect("key");
    }
    Arc::new(
        keys.with_blind_index_key(BLIND_INDEX_KEY)
            .expect("blind key"),
    )
}

fn patient(n: usize) -> NewPatient {
    NewPatient {
        email: format!("patient{n}@example.com"),
        ssn: n.is_multiple_of(2).then(|| format!("ssn-{}", n % 3)),
        notes: Some(String::from("allergic to penicillin")),
        scan: vec![n as u8, 0, 255, 1],
        name: format!("Patient {n}"),
    }
}

pub async fn encrypted_fields_are_ciphertext_at_rest_and_plaintext_in_the_entity(db: &Db) {
    db.create_schema::<Patient>().await.unwrap();
    let db = db.with_keyring(keyring(&["k1"]));
    let patients = Patient::repository(&db);
    let first = patients.insert(patient(0)).await.unwrap();
    assert_eq!(first.email, "patient0@example.com");
    assert_eq!(first.scan, vec![0, 0, 255, 1]);
    let others = patients
        .insert_many((1..5).map(patient).collect())
        .await
        .unwrap();
    assert_eq!(others.len(), 4);
    assert_eq!(patients.get(first.id).await.unwrap(), first);

    // At rest: ciphertext under the key `k1`, no plaintext; equal values differ.
    let stored = StoredPatient::repository(&db)
        .list(ListOptions::new())
        .await
        .unwrap();
    assert_eq!(stored.len(), 5);
    for row in &stored {
        assert_eq!(Keyring::key_id_of(&row.email), Some("k1"));
        assert!(!contains(&row.email, b"example.com"));
        assert!(!contains(row.notes.as_deref().unwrap(), b"penicillin"));
        assert_eq!(row.email_bidx.len(), 32);
        assert_eq!(row.ssn.is_some(), row.ssn_bidx.is_some());
    }
    assert_ne!(stored[0].notes, stored[1].notes);
    assert!(format!("{first:?}").contains("<redacted>"));
    assert!(!format!("{first:?}").contains("patient0@"));

    // Lookups by equality, through the blind index.
    let found = patients
        .find_by_email("patient3@example.com")
        .await
        .unwrap();
    assert_eq!(found.map(|p| p.name), Some(String::from("Patient 3")));
    assert_eq!(
        patients.find_by_email("nobody@example.com").await.unwrap(),
        None
    );
    let filtered = patients
        .find_where(
            &Patient::EMAIL
                .is_in(["patient1@example.com", "patient2@example.com", "x@y.z"])
                .and(Patient::SSN.eq("ssn-2")),
            ListOptions::new(),
        )
        .await
        .unwrap();
    assert_eq!(names(&filtered), ["Patient 2"]);
    let without = patients
        .count_where(&Patient::EMAIL.ne("patient0@example.com"))
        .await
        .unwrap();
    assert_eq!(without, 4);
    assert_eq!(
        patients.count_where(&Patient::SSN.is_null()).await.unwrap(),
        2
    );
    assert_eq!(
        names(&patients.find_all_by_ssn("ssn-0").await.unwrap()),
        ["Patient 0"]
    );
    let emails = vec![
        String::from("patient4@example.com"),
        String::from("patient9@example.com"),
    ];
    assert_eq!(patients.count_by_email_in(emails).await.unwrap(), 1);
    assert_eq!(patients.find_all_by_ssn_is_null().await.unwrap().len(), 2);

    // The unique key holds on the plaintext.
    let error = patients.insert(patient(3)).await.unwrap_err();
    assert!(matches!(error, RepoError::Conflict { .. }), "{error}");
    assert!(
        !format!("{error} {error:?}").contains("patient3@"),
        "{error:?}"
    );

    // Every write encrypts afresh, and the lookups follow.
    let mut changed = first.clone();
    changed.email = String::from("renamed@example.com");
    changed.notes = None;
    let updated = patients.update(&changed).await.unwrap();
    assert_eq!(updated, changed);
    assert!(
        patients
            .find_by_email("patient0@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let patched = patients
        .patch(
            first.id,
            PatientPatch {
                ssn: Some(Some(String::from("ssn-9"))),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.ssn.as_deref(), Some("ssn-9"));
    assert_eq!(patched.email, "renamed@example.com");
    assert_eq!(
        names(&patients.find_all_by_ssn("ssn-9").await.unwrap()),
        ["Patient 0"]
    );
    let upserted = patients
        .upsert(&Patient {
            name: String::from("Upserted"),
            ..patched.clone()
        })
        .await
        .unwrap();
    assert_eq!(upserted.email, "renamed@example.com");

    // Conditional writes test the unique key through the blind index.
    let ignored = patients
        .insert_or_ignore(vec![patient(1), patient(7)], Patient::BY_EMAIL)
        .await
        .unwrap();
    assert_eq!(names(&ignored), ["Patient 7"]);
    let moved = patients
        .upsert_on(
            NewPatient {
                name: String::from("Patient 2, again"),
                ..patient(2)
            },
            Patient::BY_EMAIL,
        )
        .await
        .unwrap();
    assert_eq!(moved.id, others[1].id);
    assert_eq!(moved.name, "Patient 2, again");

    // A stream decrypts as it goes.
    let streamed: Vec<Patient> = patients
        .stream(&Filter::all(), ListOptions::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 6);
    assert_eq!(streamed[0].email, "renamed@example.com");
}

pub async fn keys_rotate_and_reencryption_moves_every_row_to_the_newest_key(db: &Db) {
    db.create_schema::<Patient>().await.unwrap();
    let old = db.with_keyring(keyring(&["k1"]));
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            Patient::repository(&old)
                .insert(patient(n))
                .await
                .unwrap()
                .id,
        );
    }

    // A new key encrypts; the old one still decrypts; lookups are unchanged.
    let rotated = db.with_keyring(keyring(&["k1", "k2"]));
    let patients = Patient::repository(&rotated);
    let newest = patients.insert(patient(5)).await.unwrap();
    assert_eq!(patients.list(ListOptions::new()).await.unwrap().len(), 6);
    assert!(
        patients
            .find_by_email("patient1@example.com")
            .await
            .unwrap()
            .is_some()
    );
    let stored = StoredPatient::repository(&rotated)
        .get(newest.id)
        .await
        .unwrap();
    assert_eq!(Keyring::key_id_of(&stored.email), Some("k2"));

    // Without the old key, the old rows are a configuration error naming it.
    let retired = db.with_keyring(keyring(&["k2"]));
    let error = Patient::repository(&retired).get(ids[0]).await.unwrap_err();
    assert!(matches!(error, RepoError::Config { .. }), "{error}");
    assert!(error.to_string().contains("`k1`"), "{error}");

    // Re-encryption moves every row, in batches, and keeps versions and values.
    let mut heard = Vec::new();
    let done = repo_runtime::reencrypt::<Patient>(&rotated, 2, |progress| heard.push(progress))
        .await
        .unwrap();
    assert_eq!(
        done,
        Reencryption {
            entity: "Patient",
            rows: 6,
            total: 6
        }
    );
    assert_eq!(heard.iter().map(|p| p.rows).collect::<Vec<_>>(), [2, 4, 6]);
    for row in StoredPatient::repository(&rotated)
        .list(ListOptions::new())
        .await
        .unwrap()
    {
        assert_eq!(Keyring::key_id_of(&row.email), Some("k2"));
        if let Some(notes) = &row.notes {
            assert_eq!(Keyring::key_id_of(notes), Some("k2"));
        }
    }
    let after = Patient::repository(&retired);
    let all = after.list(ListOptions::new()).await.unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(all[0].email, "patient0@example.com");
    assert_eq!(
        after
            .find_by_email("patient4@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        ids[4]
    );
}

pub async fn tampering_and_missing_keys_are_typed_errors_that_write_nothing(db: &Db) {
    db.create_schema::<Patient>().await.unwrap();
    let keyed = db.with_keyring(keyring(&["k1"]));
    let patients = Patient::repository(&keyed);
    let stored = patients.insert(patient(1)).await.unwrap();

    // At start-up: the right keys pass; a wrong key under the same id, or none, is `Config`.
    repo_runtime::verify_keys::<Patient>(&keyed).await.unwrap();
    let wrong = Keyring::new()
        .with_key("k1", &"77".repeat(32))
        .and_then(|keys| keys.with_blind_index_key(BLIND_INDEX_KEY))
        .unwrap();
    let error = repo_runtime::verify_keys::<Patient>(&db.with_keyring(wrong))
        .await
        .unwrap_err();
    assert!(matches!(error, RepoError::Config { .. }), "{error}");
    assert!(error.to_string().contains("wrong key"), "{error}");
    let error = repo_runtime::verify_keys::<Patient>(db).await.unwrap_err();
    assert!(
        error.to_string().contains("DATABASE_ENCRYPTION_KEYS"),
        "{error}"
    );

    // One byte of the ciphertext changed: a `Decode` error naming the column, not the value.
    let raw = StoredPatient::repository(&keyed);
    let mut row = raw.get(stored.id).await.unwrap();
    let last = row.email.len() - 1;
    row.email[last] ^= 0x01;
    raw.update(&row).await.unwrap();
    let error = patients.get(stored.id).await.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(
        matches!(
            error,
            RepoError::Decode {
                entity: "Patient",
                column: "email",
                ..
            }
        ),
        "{shown}"
    );
    assert!(
        shown.contains("authentication") && !shown.contains("patient1@"),
        "{shown}"
    );

    // No keys at all: writes and reads fail as `Config`, and nothing is written.
    let keyless = Patient::repository(db);
    let error = keyless.insert(patient(2)).await.unwrap_err();
    assert!(matches!(error, RepoError::Config { .. }), "{error}");
    assert!(
        error.to_string().contains("DATABASE_ENCRYPTION_KEYS"),
        "{error}"
    );
    let error = keyless
        .find_by_email("patient1@example.com")
        .await
        .unwrap_err();
    assert!(matches!(error, RepoError::Config { .. }), "{error}");
    // A data key but no blind index key: the lookups' columns cannot be written.
    let no_index = db.with_keyring(Arc::new(
        Keyring::parse(&format!("k1:{}", "11".repeat(32))).unwrap(),
    ));
    let error = Patient::repository(&no_index)
        .insert(patient(3))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("DATABASE_BLIND_INDEX_KEY"),
        "{error}"
    );
    assert_eq!(raw.count().await.unwrap(), 1);
}

/// A domain client whose validated e-mail is stored encrypted: the domain type knows neither.
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "clients", domain = Client)]
pub struct ClientRecord {
    #[repo(id, generated)]
    pub id: i64,
    /// Converted from the domain's `Email`, then encrypted.
    #[repo(encrypted, unique, domain_with = crate::domain::email_text)]
    pub email: String,
    /// In the clear.
    pub name: String,
}

/// The domain's client.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: i64,
    pub email: crate::domain::model::Email,
    pub name: String,
}

pub async fn an_encrypted_field_maps_to_and_from_the_domain_type(db: &Db) {
    db.create_schema::<ClientRecord>().await.unwrap();
    let db = db.with_keyring(keyring(&["k1"]));
    let clients = ClientRecord::repository(&db);
    let email = |text: &str| crate::domain::model::Email::parse(text).unwrap();
    let ann = clients
        .insert(Client {
            id: 0,
            email: email("ann@example.com"),
            name: String::from("Ann"),
        })
        .await
        .unwrap();
    assert_eq!(ann.email, email("ann@example.com"));
    assert_eq!(clients.get(ann.id).await.unwrap(), ann);
    assert_eq!(
        clients.find_by_email("ann@example.com").await.unwrap(),
        Some(ann.clone())
    );
    // Stored as ciphertext; a stored value the domain refuses is `InvalidInput` naming the
    // field after decryption, never its text.
    let raw = StoredClient::repository(&db);
    let mut row = raw.get(ann.id).await.unwrap();
    assert_eq!(Keyring::key_id_of(&row.email), Some("k1"));
    let plain = PlainClient::repository(&db);
    let mut invalid = plain.get(ann.id).await.unwrap();
    assert_eq!(invalid.email, "ann@example.com");
    invalid.email = String::from("not an address");
    plain.update(&invalid).await.unwrap();
    let error = clients.get(ann.id).await.unwrap_err();
    assert!(error.to_string().contains("email"), "{error}");
    assert!(
        !format!("{error:?}").contains("not an address"),
        "{error:?}"
    );
    row.name = String::from("Ann again");
    raw.update(&row).await.unwrap();
    assert_eq!(clients.get(ann.id).await.unwrap().name, "Ann again");
}

/// The clients' table without the domain type: what writes an address the domain refuses.
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "clients")]
pub struct PlainClient {
    #[repo(id, generated)]
    pub id: i64,
    /// Encrypted.
    #[repo(encrypted, unique)]
    pub email: String,
    /// In the clear.
    pub name: String,
}

/// The clients' table as stored.
#[derive(Clone, PartialEq, Repository)]
#[repo(table = "clients")]
pub struct StoredClient {
    #[repo(id, generated)]
    pub id: i64,
    /// Ciphertext.
    pub email: Vec<u8>,
    /// The blind index.
    pub email_bidx: Vec<u8>,
    /// In the clear.
    pub name: String,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn names(patients: &[Patient]) -> Vec<&str> {
    patients.iter().map(|p| p.name.as_str()).collect()
}
