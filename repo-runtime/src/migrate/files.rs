//! Migration files: `generate` writes `<dir>/<dialect>/<version>_<name>.up.sql` and
//! `.down.sql` for each dialect, then `<dir>/snapshot.json`, the schema they lead to.

use repo_sql::Dialect;
use std::path::{Path, PathBuf};

use super::{Diff, Schema, Snapshot};
use crate::error::RepoError;

/// The snapshot's file name inside the migrations directory.
pub(crate) const SNAPSHOT_FILE: &str = "snapshot.json";

/// Options of [`generate`].
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Write the migration even when it loses data or may fail on existing rows.
    pub allow_unsafe: bool,
    /// The dialects to write; all three by default.
    pub dialects: Vec<Dialect>,
    /// The version; by default the current UTC time as `YYYYMMDDHHMMSS`, or one more than the
    /// latest existing version when that is later.
    pub version: Option<i64>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            allow_unsafe: false,
            dialects: Dialect::ALL.to_vec(),
            version: None,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The migration's version.
    pub version: i64,
    /// One line per change.
    pub changes: Vec<String>,
    /// The files written, the snapshot last.
    pub files: Vec<PathBuf>,
}

/// Compares `schema` with the snapshot in `dir` (none: an empty database) and writes the
/// migration that turns one into the other, for each dialect, with the new snapshot.
/// `Ok(None)` when nothing changed.
pub fn generate(
    schema: &Schema,
    dir: &Path,
    name: &str,
    options: &GenerateOptions,
) -> Result<Option<Generated>, RepoError> {
    let slug = slug(name)?;
    let old = last_snapshot(dir)?;
    let new = schema.snapshot()?;
    let diff = Diff::between(&old, &new, options.allow_unsafe)?;
    if diff.is_empty() {
        return Ok(None);
    }
    let latest = latest_version(dir)?;
    let version = match options.version {
        Some(version) if latest.is_some_and(|latest| version <= latest) => {
            return Err(RepoError::migration(format!(
                "version {version} is not after the latest migration ({})",
                latest.unwrap_or_default()
            )));
        }
        Some(version) => version,
        None => now_version().max(latest.map_or(0, |latest| latest + 1)),
    };
    let mut files = Vec::new();
    for &dialect in &options.dialects {
        let folder = dir.join(dialect.name());
        std::fs::create_dir_all(&folder).map_err(|e| io_error(&folder, &e))?;
        for (direction, statements) in [("up", diff.up(dialect)), ("down", diff.down(dialect))] {
            let path = folder.join(format!("{version}_{slug}.{direction}.sql"));
            let text = file_text(
                version,
                &slug,
                dialect,
                direction,
                diff.changes(),
                &statements,
            );
            std::fs::write(&path, text).map_err(|e| io_error(&path, &e))?;
            files.push(path);
        }
    }
    let snapshot_path = dir.join(SNAPSHOT_FILE);
    std::fs::write(&snapshot_path, new.to_json()).map_err(|e| io_error(&snapshot_path, &e))?;
    files.push(snapshot_path);
    Ok(Some(Generated {
        version,
        changes: diff.changes().to_vec(),
        files,
    }))
}

/// The schema the migrations in `dir` lead to (`dir/snapshot.json`); none yet is an empty
/// database.
pub fn last_snapshot(dir: &Path) -> Result<Snapshot, RepoError> {
    let path = dir.join(SNAPSHOT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(json) => Snapshot::from_json(&json),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Snapshot::empty()),
        Err(error) => Err(io_error(&path, &error)),
    }
}

/// A migration file: a header saying what it does, then one statement per paragraph.
pub(crate) fn file_text(
    version: i64,
    slug: &str,
    dialect: Dialect,
    direction: &str,
    changes: &[String],
    statements: &[String],
) -> String {
    let mut text = format!(
        "-- {version}_{slug} ({direction}, {}), generated from the entities: review before applying.\n",
        dialect.name()
    );
    for change in changes {
        text.push_str("-- ");
        text.push_str(change);
        text.push('\n');
    }
    for statement in statements {
        text.push('\n');
        text.push_str(statement);
        text.push_str(";\n");
    }
    text
}

/// `Add user age` -> `add_user_age`: lowercase letters, digits and underscores.
fn slug(name: &str) -> Result<String, RepoError> {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_').to_owned();
    if slug.is_empty() {
        return Err(RepoError::migration(format!(
            "`{name}` is not a usable migration name: use letters and digits"
        )));
    }
    Ok(slug)
}

/// The highest version among the migration files of any dialect under `dir`.
fn latest_version(dir: &Path) -> Result<Option<i64>, RepoError> {
    let mut latest = None;
    for dialect in Dialect::ALL {
        let folder = dir.join(dialect.name());
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(io_error(&folder, &error)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&folder, &e))?;
            let name = entry.file_name();
            let version = name
                .to_str()
                .and_then(|name| name.split('_').next())
                .and_then(|version| version.parse::<i64>().ok());
            latest = latest.max(version);
        }
    }
    Ok(latest)
}

/// The current UTC time as `YYYYMMDDHHMMSS`, the version style of `sqlx migrate add`.
fn now_version() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let (days, rest) = ((seconds / 86_400) as i64, seconds % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (rest / 3_600, rest % 3_600 / 60, rest % 60);
    ((year * 100 + month) * 100 + day) * 1_000_000 + (hour * 10_000 + minute * 100 + second) as i64
}

pub(crate) fn io_error(path: &Path, error: &std::io::Error) -> RepoError {
    RepoError::migration(format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_and_digits() {
        assert_eq!(slug("Add user age!").unwrap(), "add_user_age");
        assert_eq!(slug("  v2 -- index ").unwrap(), "v2_index");
        assert!(slug("--").is_err());
    }

    #[test]
    fn versions_are_utc_timestamps() {
        let version = now_version();
        assert!((20_260_101_000_000..21_000_101_000_000).contains(&version));
        let text = version.to_string();
        let month: u32 = text[4..6].parse().unwrap();
        let day: u32 = text[6..8].parse().unwrap();
        assert!((1..=12).contains(&month) && (1..=31).contains(&day));
    }
}
