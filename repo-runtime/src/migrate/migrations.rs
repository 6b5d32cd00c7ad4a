//! The migration files of one dialect, read from `<dir>/<dialect>/` or given as
//! `(file name, contents)` pairs: versions, descriptions, up and down SQL, sqlx's checksums.

use std::path::Path;

use repo_sql::Dialect;
use sha2::{Digest, Sha384};

use super::files::io_error;
use crate::error::RepoError;

/// One migration: its version, description and SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The version, from the file name.
    pub version: i64,
    /// The description, from the file name with `_` read as spaces (as sqlx reads it).
    pub description: String,
    /// The SQL that applies it.
    pub up: String,
    /// The SQL that reverts it, when there is a `.down.sql` file.
    pub down: Option<String>,
    /// SHA-384 of `up`, as sqlx computes it.
    pub checksum: Vec<u8>,
    /// The file starts with `-- no-transaction`: run it outside a transaction.
    pub no_transaction: bool,
}

impl Migration {
    pub(super) fn label(&self) -> String {
        format!("{} ({})", self.version, self.description)
    }
}

/// The migrations of one dialect, in version order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrations {
    list: Vec<Migration>,
}

impl Migrations {
    /// Reads `<dir>/<dialect>/`: `<version>_<description>.up.sql` with its `.down.sql`, or a
    /// plain `<version>_<description>.sql` that cannot be reverted. A missing folder is no
    /// migrations.
    pub fn load(dir: &Path, dialect: Dialect) -> Result<Migrations, RepoError> {
        let folder = dir.join(dialect.name());
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Migrations::default());
            }
            Err(error) => return Err(io_error(&folder, &error)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| io_error(&folder, &e))?.path();
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            if name.ends_with(".sql") {
                let text = std::fs::read_to_string(&path).map_err(|e| io_error(&path, &e))?;
                files.push((name.to_owned(), text));
            }
        }
        Migrations::from_files(files)
    }

    /// Builds the list from `(file name, contents)` pairs, for migrations embedded in the
    /// binary with `include_str!`.
    pub fn from_files(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Migrations, RepoError> {
        let mut list: Vec<Migration> = Vec::new();
        let mut downs = Vec::new();
        for (name, text) in files {
            let (stem, kind) = if let Some(stem) = name.strip_suffix(".up.sql") {
                (stem, Kind::Up)
            } else if let Some(stem) = name.strip_suffix(".down.sql") {
                (stem, Kind::Down)
            } else if let Some(stem) = name.strip_suffix(".sql") {
                (stem, Kind::Up)
            } else {
                continue;
            };
            let (version, description) = stem
                .split_once('_')
                .and_then(|(v, d)| Some((v.parse::<i64>().ok()?, d.replace('_', " "))))
                .ok_or_else(|| {
                    RepoError::migration(format!(
                        "`{name}` is not named <version>_<description>.up.sql"
                    ))
                })?;
            match kind {
                Kind::Down => downs.push((version, text)),
                Kind::Up => {
                    if list.iter().any(|m| m.version == version) {
                        return Err(RepoError::migration(format!(
                            "two migrations have version {version}"
                        )));
                    }
                    list.push(Migration {
                        version,
                        description,
                        checksum: Sha384::digest(text.as_bytes()).to_vec(),
                        no_transaction: text.starts_with("-- no-transaction"),
                        up: text,
                        down: None,
                    });
                }
            }
        }
        for (version, text) in downs {
            let migration = list
                .iter_mut()
                .find(|m| m.version == version)
                .ok_or_else(|| {
                    RepoError::migration(format!("down migration {version} has no up migration"))
                })?;
            migration.down = Some(text);
        }
        list.sort_by_key(|migration| migration.version);
        Ok(Migrations { list })
    }

    /// The migrations in version order.
    pub fn iter(&self) -> impl Iterator<Item = &Migration> {
        self.list.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(super) fn get(&self, version: i64) -> Option<&Migration> {
        self.list
            .iter()
            .find(|migration| migration.version == version)
    }
}

enum Kind {
    Up,
    Down,
}
