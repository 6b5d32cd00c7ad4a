//! Encrypted fields (`#[repo(encrypted)]`, feature `encryption`): each value stored as
//! AES-256-GCM ciphertext under the newest of the handle's keys, with that key's id in
//! the stored value so that keys rotate; a field that is looked up (`unique`, `index`) also
//! gets a blind index, a keyed HMAC-SHA-256 of the value in a column of its own, which
//! equality compares instead of the value.
//!
//! A stored value is `1 | id length | id | nonce (12 bytes) | ciphertext | tag (16 bytes)`;
//! the first three parts are authenticated with it. The ciphertext is bound to its key, not to
//! its row or column: the values survive renames, and a value copied to another row decrypts
//! there (the database's own access control is what keeps it in place). The blind index is
//! bound to its table and column, so that two fields holding the same value do not show it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2_hmac::Sha256;
use zeroize::Zeroizing;

use crate::column::ColumnValue;
use crate::db::{Db, env_text, read_secret_file};
use crate::entity::{Entity, RowSource};
use crate::error::{BoxError, RepoError};
use crate::executor::Executor;
use crate::filter::{Bound, Filter, IntoValue};
use crate::statement::Statement;
use crate::tx_options::{Isolation, TxOptions};
use repo_sql::Operator;

/// The variable listing the keys: `id:key` pairs separated by commas, the newest last.
pub(crate) const KEYS_VARIABLE: &str = "DATABASE_ENCRYPTION_KEYS";
/// The variable holding the blind index key.
pub(crate) const BLIND_INDEX_KEY_VARIABLE: &str = "DATABASE_BLIND_INDEX_KEY";

/// The format of a stored value.
const VERSION: u8 = 1;
/// The length of a key, in bytes.
const KEY_LENGTH: usize = 32;
/// GCM's nonce, drawn at random for every value: safe for about 2^32 values per key, which
/// rotation keeps far away.
const NONCE_LENGTH: usize = 12;
/// GCM's tag.
const TAG_LENGTH: usize = 16;
/// The longest key id, which every stored value carries.
const MAX_ID_LENGTH: usize = 32;
/// The length of a blind index: HMAC-SHA-256, whole.
pub(crate) const BLIND_INDEX_LENGTH: usize = 32;

/// The keys of a handle's encrypted fields: any number of data keys, each with an id (the
/// newest encrypts, any decrypts), and the blind index key. Never printed: `Debug` shows the
/// ids only. Every key is zeroized when the keyring is dropped.
///
/// ```
/// use repo_runtime::Keyring;
///
/// let keyring = Keyring::parse(
///     "2025:Uk5lUGRvOWZ2N1JxZ3pLZ2Q2bVRzY2pWQjhYcnZtQ2E=,\
///      2026:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
/// )?
/// .with_blind_index_key(&Keyring::generate_key()?)?;
/// assert_eq!(keyring.current_key_id(), Some("2026"));
/// # Ok::<(), repo_runtime::RepoError>(())
/// ```
#[derive(Clone, Default)]
pub struct Keyring {
    keys: Vec<DataKey>,
    blind: Option<BlindKey>,
}

#[derive(Clone)]
struct DataKey {
    id: Box<str>,
    cipher: Aes256Gcm,
    /// Kept for comparing keyrings (the cipher holds it too, and zeroizes its copy).
    bytes: Zeroizing<[u8; KEY_LENGTH]>,
}

#[derive(Clone)]
struct BlindKey {
    mac: Hmac<Sha256>,
    bytes: Zeroizing<[u8; KEY_LENGTH]>,
}

impl Keyring {
    /// A keyring with no key: encrypted fields fail to write and read until one is added.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// The keys of `DATABASE_ENCRYPTION_KEYS` and `DATABASE_BLIND_INDEX_KEY`, each also from a
    /// file named by the same variable with `_FILE`; `None` when neither is set.
    pub fn from_env() -> Result<Option<Keyring>, RepoError> {
        Keyring::from_vars(|name| std::env::var(name))
    }

    /// [`Keyring::from_env`] over any source of variables (the layered configuration's).
    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Result<String, std::env::VarError>,
    ) -> Result<Option<Keyring>, RepoError> {
        let keys = secret_variable(&var, KEYS_VARIABLE)?;
        let blind = secret_variable(&var, BLIND_INDEX_KEY_VARIABLE)?;
        if keys.is_none() && blind.is_none() {
            return Ok(None);
        }
        let mut keyring = match &keys {
            Some(keys) => Keyring::parse(keys).map_err(|error| named(KEYS_VARIABLE, error))?,
            None => Keyring::new(),
        };
        if let Some(blind) = &blind {
            keyring = keyring
                .with_blind_index_key(blind)
                .map_err(|error| named(BLIND_INDEX_KEY_VARIABLE, error))?;
        }
        Ok(Some(keyring))
    }

    /// The data keys of `text`: `id:key` pairs separated by commas, oldest first; each key
    /// 32 bytes written as 64 hex digits or in base64. The last one encrypts.
    pub fn parse(text: &str) -> Result<Keyring, RepoError> {
        let mut keyring = Keyring::new();
        for entry in text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let Some((id, key)) = entry.split_once(':') else {
                return Err(RepoError::config(
                    "a key is written `id:key` (the key's id, a colon, then the key)",
                ));
            };
            keyring = keyring.with_key(id.trim(), key.trim())?;
        }
        if keyring.keys.is_empty() {
            return Err(RepoError::config("no key is given"));
        }
        Ok(keyring)
    }

    /// The keyring with one more data key, the newest: it encrypts from now on. `key` is 32
    /// bytes written as 64 hex digits or in base64; `id` is 1 to 32 letters, digits, `-`, `_`
    /// or `.`, unlike the other keys' ids.
    pub fn with_key(mut self, id: &str, key: &str) -> Result<Keyring, RepoError> {
        if id.is_empty() || id.len() > MAX_ID_LENGTH || !id.bytes().all(is_id_byte) {
            return Err(RepoError::config(format!(
                "the key id `{}` is not 1 to {MAX_ID_LENGTH} letters, digits, `-`, `_` or `.`",
                id.escape_debug()
            )));
        }
        if self.keys.iter().any(|key| &*key.id == id) {
            return Err(RepoError::config(format!(
                "the key id `{id}` is given twice"
            )));
        }
        let bytes = key_bytes(key)
            .map_err(|message| RepoError::config(format!("the key `{id}` {message}")))?;
        self.keys.push(DataKey {
            id: id.into(),
            cipher: Aes256Gcm::new(&(*bytes).into()),
            bytes,
        });
        Ok(self)
    }

    /// The keyring with the key of the blind indexes: 32 bytes as 64 hex digits or base64.
    /// Unlike the data keys it does not rotate: a new one makes every stored index stale
    /// until `migrate reencrypt` rewrites them.
    pub fn with_blind_index_key(mut self, key: &str) -> Result<Keyring, RepoError> {
        let bytes =
            key_bytes(key).map_err(|message| RepoError::config(format!("the key {message}")))?;
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&*bytes)
            .map_err(|_| RepoError::config("the blind index key is not a valid HMAC key"))?;
        self.blind = Some(BlindKey { mac, bytes });
        Ok(self)
    }

    /// A new random key, in base64: for `DATABASE_ENCRYPTION_KEYS` or the blind index.
    pub fn generate_key() -> Result<Zeroizing<String>, RepoError> {
        let mut key = Zeroizing::new([0_u8; KEY_LENGTH]);
        random(&mut key[..])?;
        Ok(Zeroizing::new(
            base64::engine::general_purpose::STANDARD.encode(&key[..]),
        ))
    }

    /// The id of the key that encrypts: the newest.
    pub fn current_key_id(&self) -> Option<&str> {
        self.keys.last().map(|key| &*key.id)
    }

    /// The ids of the data keys, oldest first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| &*key.id)
    }

    /// Whether a blind index key is set.
    pub fn has_blind_index_key(&self) -> bool {
        self.blind.is_some()
    }

    /// The id of the key a stored value was encrypted with, if it is one this library wrote.
    pub fn key_id_of(stored: &[u8]) -> Option<&str> {
        let (id, _) = split_header(stored)?;
        Some(id)
    }

    /// `plaintext` encrypted under the newest key for `column`.
    pub(crate) fn encrypt(
        &self,
        column: &EncryptedColumn,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, RepoError> {
        let Some(key) = self.keys.last() else {
            return Err(column.no_keys());
        };
        let mut nonce = [0_u8; NONCE_LENGTH];
        random(&mut nonce)?;
        let mut stored =
            Vec::with_capacity(2 + key.id.len() + NONCE_LENGTH + plaintext.len() + TAG_LENGTH);
        stored.push(VERSION);
        stored.push(key.id.len() as u8);
        stored.extend_from_slice(key.id.as_bytes());
        let header = stored.len();
        let ciphertext = key
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &stored[..header],
                },
            )
            .map_err(|_| RepoError::config(format!("{}: the value cannot be encrypted", column)))?;
        stored.extend_from_slice(&nonce);
        stored.extend_from_slice(&ciphertext);
        Ok(stored)
    }

    /// The plaintext of `stored`: a `Decode` error when it is not a value this library wrote
    /// or fails authentication (tampered, or written under another key of the same id), a
    /// `Config` error when its key is not in the keyring.
    pub(crate) fn decrypt(
        &self,
        column: &EncryptedColumn,
        stored: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, RepoError> {
        let Some((id, rest)) = split_header(stored) else {
            return Err(column.undecryptable("it is not a value this library encrypted"));
        };
        let Some(key) = self.keys.iter().find(|key| &*key.id == id) else {
            return Err(RepoError::config(format!(
                "{column} was encrypted with the key `{id}`, which is not configured (the \
                 keyring has {})",
                self.describe_ids()
            )));
        };
        if rest.len() < NONCE_LENGTH + TAG_LENGTH {
            return Err(column.undecryptable("it is cut short"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LENGTH);
        let nonce = Nonce::try_from(nonce).map_err(|_| column.undecryptable("it is cut short"))?;
        let header = stored.len() - rest.len();
        key.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &stored[..header],
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                column.undecryptable(&format!(
                    "it fails authentication under the key `{id}`: it was altered, or encrypted \
                     with another key of that id"
                ))
            })
    }

    /// The blind index of `plaintext` in `column`.
    pub(crate) fn blind_index(
        &self,
        column: &EncryptedColumn,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, RepoError> {
        let Some(blind) = &self.blind else {
            return Err(RepoError::config(format!(
                "{column} is looked up through a blind index, and no blind index key is \
                 configured: set {BLIND_INDEX_KEY_VARIABLE}"
            )));
        };
        let mut mac = blind.mac.clone();
        // Lengths first, so that no two (table, column, value) run together the same way.
        for part in [column.table.as_bytes(), column.column.as_bytes()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.update(plaintext);
        Ok(mac.finalize().into_bytes()[..BLIND_INDEX_LENGTH].to_vec())
    }

    fn describe_ids(&self) -> String {
        if self.keys.is_empty() {
            return String::from("no key");
        }
        let ids: Vec<String> = self
            .keys
            .iter()
            .map(|key| format!("`{}`", key.id))
            .collect();
        ids.join(", ")
    }
}

/// The ids and whether there is a blind index key; never a key.
impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("keys", &self.key_ids().collect::<Vec<_>>())
            .field("blind_index_key", &self.blind.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Keyrings are equal when they hold the same keys under the same ids, in the same order.
impl PartialEq for Keyring {
    fn eq(&self, other: &Keyring) -> bool {
        self.keys.len() == other.keys.len()
            && self
                .keys
                .iter()
                .zip(&other.keys)
                .all(|(a, b)| a.id == b.id && *a.bytes == *b.bytes)
            && match (&self.blind, &other.blind) {
                (Some(a), Some(b)) => *a.bytes == *b.bytes,
                (None, None) => true,
                _ => false,
            }
    }
}

impl Eq for Keyring {}

fn named(variable: &str, error: RepoError) -> RepoError {
    RepoError::config(format!("{variable}: {}", error_message(&error)))
}

fn error_message(error: &RepoError) -> String {
    match error {
        RepoError::Config { message } => message.clone(),
        other => other.to_string(),
    }
}

/// A secret variable, or the contents of the file its `_FILE` variable names (less a final
/// newline); both set is an error.
fn secret_variable(
    var: &impl Fn(&str) -> Result<String, std::env::VarError>,
    name: &str,
) -> Result<Option<Zeroizing<String>>, RepoError> {
    let file_variable = format!("{name}_FILE");
    let direct = env_text(var, name)?.map(Zeroizing::new);
    match (direct, env_text(var, &file_variable)?) {
        (Some(_), Some(_)) => Err(RepoError::config(format!(
            "both {name} and {file_variable} are set: keep one"
        ))),
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => {
            read_secret_file(&file_variable, &path).map(|text| Some(Zeroizing::new(text)))
        }
        (None, None) => Ok(None),
    }
}

/// 32 bytes from 64 hex digits or base64 (standard or URL-safe, padded or not); the error
/// says what is wrong without the key.
fn key_bytes(text: &str) -> Result<Zeroizing<[u8; KEY_LENGTH]>, String> {
    let text = text.trim();
    let mut key = Zeroizing::new([0_u8; KEY_LENGTH]);
    if text.len() == 2 * KEY_LENGTH && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks(2)) {
            let digits = std::str::from_utf8(pair).map_err(|_| "is not hex")?;
            *byte = u8::from_str_radix(digits, 16).map_err(|_| "is not hex")?;
        }
        return Ok(key);
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let decoded = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .map(Zeroizing::new)
        .ok_or("is neither 64 hex digits nor base64")?;
    if decoded.len() != KEY_LENGTH {
        return Err(format!(
            "is {} bytes long; a key is {KEY_LENGTH} bytes (64 hex digits, or 44 characters of \
             base64)",
            decoded.len()
        ));
    }
    key.copy_from_slice(&decoded);
    Ok(key)
}

/// The key id and what follows it, when `stored` starts as this library's values do.
fn split_header(stored: &[u8]) -> Option<(&str, &[u8])> {
    let (&version, rest) = stored.split_first()?;
    if version != VERSION {
        return None;
    }
    let (&length, rest) = rest.split_first()?;
    let length = usize::from(length);
    if length == 0 || length > MAX_ID_LENGTH || rest.len() < length {
        return None;
    }
    let (id, rest) = rest.split_at(length);
    if !id.iter().copied().all(is_id_byte) {
        return None;
    }
    Some((std::str::from_utf8(id).ok()?, rest))
}

/// What a key id is made of: letters, digits, `-`, `_`, `.`.
fn is_id_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.')
}

/// Fills `buffer` from the system's generator; without it no nonce is safe, so nothing is
/// encrypted.
fn random(buffer: &mut [u8]) -> Result<(), RepoError> {
    aes_gcm::aead::common::getrandom::fill(buffer).map_err(|error| {
        RepoError::config(format!(
            "the system's random number generator failed: {error}"
        ))
    })
}

/// How far [`reencrypt`] has come through one entity's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reencryption {
    /// The entity.
    pub entity: &'static str,
    /// Rows written under the newest key so far.
    pub rows: u64,
    /// Rows the table held when the run started.
    pub total: u64,
}

/// Rewrites the encrypted fields of every row of `E` (every tenant's, soft-deleted ones too)
/// under `db`'s newest key, with fresh blind indexes, in batches of `batch` rows, each its own
/// serializable unit of work (retried on conflict); `progress` hears of each batch. What moves
/// rows off a key before it is retired, and rebuilds blind indexes under a new index key. Rows
/// the application writes meanwhile are written under the newest key already. The version and
/// `updated_at` stay as they are: the values are the same.
pub async fn reencrypt<E: Entity>(
    db: &Db,
    batch: u64,
    mut progress: impl FnMut(Reencryption) + Send,
) -> Result<Reencryption, RepoError> {
    let current = db.keyring().and_then(|keys| keys.current_key_id());
    if current.is_none() {
        return Err(RepoError::config(format!(
            "re-encrypting {} needs the keys: set {KEYS_VARIABLE}",
            E::NAME
        )));
    }
    let db = db.unscoped();
    let every = Filter::<E>::all().with_deleted();
    let total =
        crate::operations::count_matching(&Executor::Db(db.clone()), &every, "reencrypt").await?;
    let mut done = Reencryption {
        entity: E::NAME,
        rows: 0,
        total,
    };
    if E::TABLE.encrypted_columns().next().is_none() {
        return Ok(done);
    }
    let batch = batch.max(1);
    let serializable = TxOptions::new().isolation(Isolation::Serializable);
    loop {
        let offset = done.rows;
        let read = db
            .transaction_with(&serializable, async |tx| {
                crate::operations::reencrypt_batch::<E>(&Executor::Tx(tx), offset, batch).await
            })
            .await?;
        if read == 0 {
            return Ok(done);
        }
        done.rows += read as u64;
        progress(done);
        if (read as u64) < batch {
            return Ok(done);
        }
    }
}

/// An entity with encrypted fields, as a [`Schema`](crate::migrate::Schema) registers it:
/// what checks its keys at start-up and re-encrypts its rows, without its type.
#[cfg(feature = "migrate")]
#[derive(Clone, Copy)]
pub(crate) struct EncryptedEntity {
    pub(crate) table: &'static crate::schema::Table,
    verify: for<'a> fn(&'a Db) -> Pending<'a, ()>,
    reencrypt: ReencryptFn,
}

/// `reencrypt::<E>`, typed away.
#[cfg(feature = "migrate")]
type ReencryptFn =
    for<'a> fn(&'a Db, u64, &'a mut (dyn FnMut(Reencryption) + Send)) -> Pending<'a, Reencryption>;

#[cfg(feature = "migrate")]
type Pending<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, RepoError>> + Send + 'a>>;

#[cfg(feature = "migrate")]
impl fmt::Debug for EncryptedEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EncryptedEntity")
            .field(&self.table.entity)
            .finish()
    }
}

#[cfg(feature = "migrate")]
impl EncryptedEntity {
    /// `E`'s, when it has encrypted fields.
    pub(crate) fn of<E: Entity>() -> Option<EncryptedEntity> {
        E::TABLE
            .encrypted_columns()
            .next()
            .is_some()
            .then_some(EncryptedEntity {
                table: E::TABLE,
                verify: |db| Box::pin(verify_keys::<E>(db)),
                reencrypt: |db, batch, progress| Box::pin(reencrypt::<E>(db, batch, progress)),
            })
    }

    pub(crate) fn verify<'a>(&self, db: &'a Db) -> Pending<'a, ()> {
        (self.verify)(db)
    }

    pub(crate) fn reencrypt<'a>(
        &self,
        db: &'a Db,
        batch: u64,
        progress: &'a mut (dyn FnMut(Reencryption) + Send),
    ) -> Pending<'a, Reencryption> {
        (self.reencrypt)(db, batch, progress)
    }
}

/// Checks, at start-up, that `db` has the keys `E`'s encrypted fields need and that they
/// decrypt a stored row: a missing key, or a wrong one under a configured id, is a
/// [`RepoError::Config`] naming the entity, before any request meets it. Nothing to check for
/// an entity without encrypted fields. [`Schema::verify_keys`](crate::migrate::Schema) checks
/// every entity of a schema.
pub async fn verify_keys<E: Entity>(db: &Db) -> Result<(), RepoError> {
    if E::TABLE.encrypted_columns().next().is_none() {
        return Ok(());
    }
    let Some(keys) = db.keyring().filter(|keys| keys.current_key_id().is_some()) else {
        return Err(RepoError::config(format!(
            "{} has encrypted fields, and no encryption key is configured: set {KEYS_VARIABLE}",
            E::NAME
        )));
    };
    let blind_indexed = E::TABLE.encrypted_columns().any(|column| {
        matches!(
            column.encryption,
            Some(crate::schema::Encryption::BlindIndex { .. })
        )
    });
    if blind_indexed && !keys.has_blind_index_key() {
        return Err(RepoError::config(format!(
            "{} looks up encrypted fields through blind indexes, and no blind index key is \
             configured: set {BLIND_INDEX_KEY_VARIABLE}",
            E::NAME
        )));
    }
    let executor = Executor::Db(db.unscoped());
    match crate::operations::every_row_from::<E>(&executor, 0, 1).await {
        Ok(_) => Ok(()),
        Err(RepoError::Decode { column, .. }) => Err(RepoError::config(format!(
            "the configured keys do not decrypt the column `{column}` of a stored {} row: a \
             wrong key under its id (or an altered row)",
            E::NAME
        ))),
        Err(error) => Err(error),
    }
}

/// An encrypted field's column, as generated code names it to the functions here.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct EncryptedColumn {
    /// The entity's name.
    pub entity: &'static str,
    /// The field's name.
    pub field: &'static str,
    /// The table's name.
    pub table: &'static str,
    /// The column holding the ciphertext.
    pub column: &'static str,
    /// The column holding the blind index, if the field is looked up.
    pub blind_index: Option<&'static str>,
}

impl EncryptedColumn {
    fn no_keys(&self) -> RepoError {
        RepoError::config(format!(
            "{self} is encrypted, and no encryption key is configured: set {KEYS_VARIABLE} (or \
             DbOptions::encryption)"
        ))
    }

    fn undecryptable(&self, why: &str) -> RepoError {
        RepoError::Decode {
            entity: self.entity,
            column: self.column,
            rust_type: "an encrypted value",
            source: format!("{self} cannot be decrypted: {why}").into(),
        }
    }
}

impl fmt::Display for EncryptedColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}.{}`", self.entity, self.field)
    }
}

/// A value an encrypted field holds, as the bytes encrypted: UTF-8 for text, the bytes
/// themselves, numbers big-endian. Implement it (and [`FromPlaintext`]) for a type of your
/// own to encrypt it.
pub trait Plaintext {
    /// The bytes to encrypt.
    fn plaintext(&self) -> Cow<'_, [u8]>;
}

/// A value read back from its decrypted bytes; the counterpart of [`Plaintext`].
pub trait FromPlaintext: Sized {
    /// The value of `bytes`, or why they are not one.
    fn from_plaintext(bytes: &[u8]) -> Result<Self, BoxError>;
}

impl Plaintext for str {
    fn plaintext(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }
}

impl Plaintext for String {
    fn plaintext(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }
}

impl FromPlaintext for String {
    fn from_plaintext(bytes: &[u8]) -> Result<Self, BoxError> {
        Ok(std::str::from_utf8(bytes)?.to_owned())
    }
}

impl Plaintext for [u8] {
    fn plaintext(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self)
    }
}

impl Plaintext for Vec<u8> {
    fn plaintext(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self)
    }
}

impl FromPlaintext for Vec<u8> {
    fn from_plaintext(bytes: &[u8]) -> Result<Self, BoxError> {
        Ok(bytes.to_vec())
    }
}

impl<T: Plaintext + ?Sized> Plaintext for &T {
    fn plaintext(&self) -> Cow<'_, [u8]> {
        (**self).plaintext()
    }
}

macro_rules! number_plaintext {
    ($($ty:ty),*) => {$(
        impl Plaintext for $ty {
            fn plaintext(&self) -> Cow<'_, [u8]> {
                Cow::Owned(self.to_be_bytes().to_vec())
            }
        }

        impl FromPlaintext for $ty {
            fn from_plaintext(bytes: &[u8]) -> Result<Self, BoxError> {
                let bytes = bytes.try_into().map_err(|_| {
                    format!("{} bytes do not make a {}", bytes.len(), stringify!($ty))
                })?;
                Ok(<$ty>::from_be_bytes(bytes))
            }
        }
    )*};
}

number_plaintext!(i16, i32, i64, f32, f64);

impl Plaintext for bool {
    fn plaintext(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(if *self { &[1] } else { &[0] })
    }
}

impl FromPlaintext for bool {
    fn from_plaintext(bytes: &[u8]) -> Result<Self, BoxError> {
        match bytes {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err("not a stored bool".into()),
        }
    }
}

/// An encrypted field looked up through its blind index, for filters: `User::EMAIL:
/// EncryptedField<User, String>`. Only what a keyed hash can answer: equality and lists of
/// values, and `NULL`. No order, range or text search compiles on it.
pub struct EncryptedField<E, T> {
    column: &'static EncryptedColumn,
    types: PhantomData<fn() -> (E, T)>,
}

impl<E, T> Clone for EncryptedField<E, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, T> Copy for EncryptedField<E, T> {}

impl<E, T> fmt::Debug for EncryptedField<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EncryptedField")
            .field(&self.column.column)
            .finish()
    }
}

impl<E, T: Plaintext> EncryptedField<E, T> {
    /// The field of `column`, which has a blind index. Written by the derive, for a field in
    /// a unique key or an index only: a column without one fails to compile.
    #[doc(hidden)]
    pub const fn new(column: &'static EncryptedColumn) -> Self {
        assert!(
            column.blind_index.is_some(),
            "an encrypted field without a blind index has no filter"
        );
        EncryptedField {
            column,
            types: PhantomData,
        }
    }

    /// The column of the blind index, which equality compares.
    fn blind_index(self) -> &'static str {
        self.column.blind_index.unwrap_or(self.column.column)
    }

    fn blinded(self, value: &(impl Plaintext + ?Sized)) -> Arc<dyn Bound> {
        Arc::new(Blinded {
            column: self.column,
            plaintexts: vec![Zeroizing::new(value.plaintext().into_owned())],
            list: false,
        })
    }

    fn blinded_list<V: IntoValue<T>>(self, values: impl IntoIterator<Item = V>) -> Arc<dyn Bound> {
        Arc::new(Blinded {
            column: self.column,
            plaintexts: values
                .into_iter()
                .map(|value| Zeroizing::new(value.into_value().plaintext().into_owned()))
                .collect(),
            list: true,
        })
    }

    /// The field equals `value`.
    pub fn eq(self, value: impl IntoValue<T>) -> Filter<E> {
        let bound = self.blinded(&value.into_value());
        Filter::compare(self.blind_index(), Operator::Equal, vec![bound])
    }

    /// The field is not `NULL` and differs from `value`.
    pub fn ne(self, value: impl IntoValue<T>) -> Filter<E> {
        let bound = self.blinded(&value.into_value());
        Filter::compare(self.blind_index(), Operator::NotEqual, vec![bound])
    }

    /// The field is one of `values`; nothing is in an empty list.
    pub fn is_in<V: IntoValue<T>>(self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        let bound = self.blinded_list(values);
        Filter::compare(self.blind_index(), Operator::In, vec![bound])
    }

    /// The field is not `NULL` and none of `values`.
    pub fn not_in<V: IntoValue<T>>(self, values: impl IntoIterator<Item = V>) -> Filter<E> {
        let bound = self.blinded_list(values);
        Filter::compare(self.blind_index(), Operator::NotIn, vec![bound])
    }

    /// The field is `NULL`.
    pub fn is_null(self) -> Filter<E> {
        Filter::compare(self.column.column, Operator::IsNull, Vec::new())
    }

    /// The field is not `NULL`.
    pub fn is_not_null(self) -> Filter<E> {
        Filter::compare(self.column.column, Operator::IsNotNull, Vec::new())
    }
}

/// Values a filter compares with an encrypted field, hashed when the statement binds them
/// (with its handle's keys).
struct Blinded {
    column: &'static EncryptedColumn,
    plaintexts: Vec<Zeroizing<Vec<u8>>>,
    /// Whether it binds a list (`IN`) rather than one value.
    list: bool,
}

impl Bound for Blinded {
    fn bind(&self, statement: &mut Statement) {
        let plaintexts = self
            .plaintexts
            .iter()
            .map(|plaintext| Cow::Borrowed(&plaintext[..]));
        let indexes = blind_indexes(statement, self.column, plaintexts);
        if self.list {
            crate::ports::bind_list(statement, &indexes);
        } else {
            for index in indexes {
                statement.bind(index);
            }
        }
    }

    fn len(&self) -> usize {
        self.plaintexts.len()
    }
}

thread_local! {
    /// The keys of the handle whose rows this thread is decoding.
    static DECODING: RefCell<Option<Arc<Keyring>>> = const { RefCell::new(None) };
}

/// While alive, rows decoded on this thread decrypt with a handle's keys. Rows are decoded
/// synchronously, between two awaits, so a scope never spans a suspension.
pub(crate) struct DecodingScope {
    previous: Option<Arc<Keyring>>,
}

impl DecodingScope {
    pub(crate) fn enter(keys: &Arc<Keyring>) -> DecodingScope {
        let previous = DECODING.with_borrow_mut(|current| current.replace(Arc::clone(keys)));
        DecodingScope { previous }
    }
}

impl Drop for DecodingScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        DECODING.with_borrow_mut(|current| *current = previous);
    }
}

/// The blind indexes of `plaintexts` under `statement`'s keys; when they cannot be made, the
/// statement fails and gets as many empty placeholders, so that the count of values holds.
fn blind_indexes<'a>(
    statement: &mut Statement,
    column: &EncryptedColumn,
    plaintexts: impl ExactSizeIterator<Item = Cow<'a, [u8]>>,
) -> Vec<Vec<u8>> {
    let count = plaintexts.len();
    let indexes = statement_keys(statement, column).and_then(|keys| {
        plaintexts
            .map(|plaintext| keys.blind_index(column, &plaintext))
            .collect()
    });
    indexes.unwrap_or_else(|error| {
        statement.fail(error);
        vec![Vec::new(); count]
    })
}

/// The keys of `statement`'s handle, or the error that says none are configured.
fn statement_keys(
    statement: &Statement,
    column: &EncryptedColumn,
) -> Result<Arc<Keyring>, RepoError> {
    statement.keyring().cloned().ok_or_else(|| column.no_keys())
}

/// What generated code calls for encrypted fields.
#[doc(hidden)]
pub mod field {
    pub use super::EncryptedColumn;
    use super::*;

    /// The ciphertext of `value` and, with a blind index, its index.
    fn sealed(
        keys: &Keyring,
        value: &(impl Plaintext + ?Sized),
        column: &EncryptedColumn,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), RepoError> {
        let plaintext = value.plaintext();
        let stored = keys.encrypt(column, &plaintext)?;
        let index = match column.blind_index {
            Some(_) => Some(keys.blind_index(column, &plaintext)?),
            None => None,
        };
        Ok((stored, index))
    }

    /// Binds the ciphertext of `value` and, with a blind index, its index.
    pub fn bind<T: Plaintext + ?Sized>(
        value: &T,
        statement: &mut Statement,
        column: &'static EncryptedColumn,
    ) {
        let sealed =
            statement_keys(statement, column).and_then(|keys| sealed(&keys, value, column));
        match sealed {
            Ok((stored, index)) => {
                statement.bind(stored);
                if let Some(index) = index {
                    statement.bind(index);
                }
            }
            Err(error) => bind_failed(statement, column, error),
        }
    }

    /// Binds `NULL` ciphertext (and index) for `None`.
    pub fn bind_option<T: Plaintext>(
        value: &Option<T>,
        statement: &mut Statement,
        column: &'static EncryptedColumn,
    ) {
        match value {
            Some(value) => bind(value, statement, column),
            None => bind_nulls(statement, column),
        }
    }

    /// Binds a batch's ciphertexts as one array (and its indexes as another), for the
    /// PostgreSQL batch insert by `UNNEST`.
    pub fn bind_array<'a, T: Plaintext + 'a>(
        values: impl Iterator<Item = Option<&'a T>>,
        statement: &mut Statement,
        column: &'static EncryptedColumn,
    ) {
        let keys = match statement_keys(statement, column) {
            Ok(keys) => keys,
            Err(error) => return bind_failed(statement, column, error),
        };
        let mut stored = Vec::new();
        let mut indexes = Vec::new();
        for value in values {
            let Some(value) = value else {
                stored.push(None);
                indexes.push(None);
                continue;
            };
            match sealed(&keys, value, column) {
                Ok((value, index)) => {
                    stored.push(Some(value));
                    indexes.push(index);
                }
                Err(error) => return bind_failed(statement, column, error),
            }
        }
        statement.bind_array(stored);
        if column.blind_index.is_some() {
            statement.bind_array(indexes);
        }
    }

    /// Binds the blind index of `value`: what a lookup by an encrypted field compares.
    pub fn bind_lookup<T: Plaintext + ?Sized>(
        value: &T,
        statement: &mut Statement,
        column: &'static EncryptedColumn,
    ) {
        let indexes = blind_indexes(statement, column, std::iter::once(value.plaintext()));
        for index in indexes {
            statement.bind(index);
        }
    }

    /// Binds the blind index of a derived query's parameter, typed as the field's.
    pub fn bind_lookup_param<T, P>(
        value: &P,
        statement: &mut Statement,
        column: &'static EncryptedColumn,
    ) where
        T: Plaintext,
        P: crate::ports::QueryParam<T> + Plaintext,
    {
        bind_lookup(value, statement, column);
    }

    /// Binds the blind indexes of a list (`IN`): one array on PostgreSQL, one value each
    /// elsewhere.
    pub fn bind_lookup_list<T: Plaintext>(
        values: &[T],
        statement: &mut Statement,
        column: &'static EncryptedColumn,
    ) {
        let indexes = blind_indexes(statement, column, values.iter().map(Plaintext::plaintext));
        crate::ports::bind_list(statement, &indexes);
    }

    /// `NULL` for the ciphertext and, with a blind index, for the index.
    fn bind_nulls(statement: &mut Statement, column: &EncryptedColumn) {
        statement.bind(None::<Vec<u8>>);
        if column.blind_index.is_some() {
            statement.bind(None::<Vec<u8>>);
        }
    }

    /// A failed seal fails the statement; placeholders keep the count of values right.
    fn bind_failed(statement: &mut Statement, column: &EncryptedColumn, error: RepoError) {
        statement.fail(error);
        bind_nulls(statement, column);
    }

    /// Reads and decrypts column `index`.
    pub fn decode<T: FromPlaintext, R: RowSource>(
        row: &R,
        index: usize,
        column: &'static EncryptedColumn,
    ) -> Result<T, RepoError> {
        let stored = <Vec<u8> as ColumnValue>::decode(row, index, column.column)?;
        open(&stored, column)
    }

    /// Reads and decrypts nullable column `index`.
    pub fn decode_option<T: FromPlaintext, R: RowSource>(
        row: &R,
        index: usize,
        column: &'static EncryptedColumn,
    ) -> Result<Option<T>, RepoError> {
        match <Option<Vec<u8>> as ColumnValue>::decode(row, index, column.column)? {
            Some(stored) => open(&stored, column).map(Some),
            None => Ok(None),
        }
    }

    fn open<T: FromPlaintext>(stored: &[u8], column: &EncryptedColumn) -> Result<T, RepoError> {
        let plaintext = DECODING.with_borrow(|keys| match keys {
            Some(keys) => keys.decrypt(column, stored),
            None => Err(column.no_keys()),
        })?;
        T::from_plaintext(&plaintext).map_err(|_| RepoError::Decode {
            entity: column.entity,
            column: column.column,
            rust_type: std::any::type_name::<T>(),
            // The reason may quote the value.
            source: format!("{column} decrypted to bytes that are not its type").into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMN: EncryptedColumn = EncryptedColumn {
        entity: "User",
        field: "email",
        table: "users",
        column: "email",
        blind_index: Some("email_bidx"),
    };

    fn keyring(ids: &[&str]) -> Keyring {
        let mut keyring = Keyring::new();
        for id in ids {
            let key = format!("{:0>64}", hex_of(id));
            keyring = keyring.with_key(id, &key).unwrap();
        }
        keyring.with_blind_index_key(&"ab".repeat(32)).unwrap()
    }

    fn hex_of(text: &str) -> String {
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn a_value_round_trips_under_the_newest_key_and_any_key_decrypts() {
        let old = keyring(&["k1"]);
        let stored = old.encrypt(&COLUMN, b"ann@example.com").unwrap();
        assert_eq!(Keyring::key_id_of(&stored), Some("k1"));
        let rotated = keyring(&["k1", "k2"]);
        assert_eq!(
            &**rotated.decrypt(&COLUMN, &stored).unwrap(),
            b"ann@example.com"
        );
        let fresh = rotated.encrypt(&COLUMN, b"ann@example.com").unwrap();
        assert_eq!(Keyring::key_id_of(&fresh), Some("k2"));
        // A fresh nonce every time: equal values do not show.
        assert_ne!(fresh, rotated.encrypt(&COLUMN, b"ann@example.com").unwrap());
    }

    #[test]
    fn tampering_and_missing_keys_are_typed_errors_without_the_value() {
        let keys = keyring(&["k1"]);
        let mut stored = keys.encrypt(&COLUMN, b"secret").unwrap();
        let last = stored.len() - 1;
        stored[last] ^= 1;
        let error = keys.decrypt(&COLUMN, &stored).unwrap_err();
        assert!(
            matches!(
                error,
                RepoError::Decode {
                    column: "email",
                    ..
                }
            ),
            "{error}"
        );
        assert!(!format!("{error:?}").contains("secret"));
        let error = keyring(&["k2"]).decrypt(&COLUMN, &stored).unwrap_err();
        assert!(matches!(error, RepoError::Config { .. }), "{error}");
        assert!(error.to_string().contains("`k1`"), "{error}");
        // A key id rewritten in the header fails authentication.
        let keys = keyring(&["k1", "k3"]);
        let mut stored = keys.encrypt(&COLUMN, b"secret").unwrap();
        stored[3] = b'1';
        assert!(matches!(
            keys.decrypt(&COLUMN, &stored),
            Err(RepoError::Decode { .. })
        ));
    }

    #[test]
    fn the_blind_index_is_the_same_for_equal_values_and_differs_by_column() {
        let keys = keyring(&["k1"]);
        let a = keys.blind_index(&COLUMN, b"ann").unwrap();
        assert_eq!(a, keyring(&["k9"]).blind_index(&COLUMN, b"ann").unwrap());
        assert_eq!(a.len(), BLIND_INDEX_LENGTH);
        assert_ne!(a, keys.blind_index(&COLUMN, b"bob").unwrap());
        let other = EncryptedColumn {
            column: "backup_email",
            ..COLUMN
        };
        assert_ne!(a, keys.blind_index(&other, b"ann").unwrap());
    }

    #[test]
    fn keys_parse_from_hex_and_base64_and_bad_ones_say_why_without_the_key() {
        let hex = "00".repeat(32);
        let base64 = Keyring::generate_key().unwrap().to_string();
        let keys = Keyring::parse(&format!("old:{hex}, new:{base64}")).unwrap();
        assert_eq!(keys.key_ids().collect::<Vec<_>>(), ["old", "new"]);
        assert_eq!(keys.current_key_id(), Some("new"));
        assert!(!format!("{keys:?}").contains(&base64));
        let cases: [(String, &str); 6] = [
            ("k1:abcd".into(), "bytes long"),
            ("k1".into(), "id:key"),
            (format!("bad id:{hex}"), "letters"),
            (format!("k1:{hex},k1:{hex}"), "twice"),
            ("k1:not base64 at all!".into(), "neither"),
            (String::new(), "no key"),
        ];
        for (text, says) in cases {
            let error = Keyring::parse(&text).unwrap_err();
            assert!(matches!(error, RepoError::Config { .. }));
            assert!(error.to_string().contains(says), "{text}: {error}");
        }
        let error = Keyring::parse("k1:c2hvcnQ=").unwrap_err();
        assert!(!error.to_string().contains("c2hvcnQ"), "{error}");
    }

    #[test]
    fn variables_and_files_give_the_keys() {
        let dir = std::env::temp_dir().join(format!("repo-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("keys");
        std::fs::write(&file, format!("k1:{}\n", "11".repeat(32))).unwrap();
        let path = file.to_str().unwrap().to_owned();
        let vars = |pairs: Vec<(&'static str, String)>| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.clone())
                    .ok_or(std::env::VarError::NotPresent)
            }
        };
        assert_eq!(Keyring::from_vars(vars(vec![])).unwrap(), None);
        let keys = Keyring::from_vars(vars(vec![
            ("DATABASE_ENCRYPTION_KEYS_FILE", path.clone()),
            ("DATABASE_BLIND_INDEX_KEY", "22".repeat(32)),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(keys.current_key_id(), Some("k1"));
        assert!(keys.has_blind_index_key());
        let error = Keyring::from_vars(vars(vec![
            ("DATABASE_ENCRYPTION_KEYS_FILE", path),
            (
                "DATABASE_ENCRYPTION_KEYS",
                format!("k1:{}", "11".repeat(32)),
            ),
        ]))
        .unwrap_err();
        assert!(error.to_string().contains("keep one"), "{error}");
        let error =
            Keyring::from_vars(vars(vec![("DATABASE_BLIND_INDEX_KEY", "ab".into())])).unwrap_err();
        assert!(
            error.to_string().contains("DATABASE_BLIND_INDEX_KEY"),
            "{error}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
