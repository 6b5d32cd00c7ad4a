//! Configuration in layers (feature `config`, on the `config` crate): the defaults, then the
//! `[database]` table of `config/default.toml` and of `config/{environment}.toml`, then the
//! environment's `DATABASE_*` variables, each layer over the one before; a secret may come from
//! a file named by a `*_FILE` variable, as container secrets are mounted. The options are read
//! by the same code as [`DbOptions::from_env`], from the merged layers.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::db::{Db, DbOptions, redact_url, url_list};
use crate::error::RepoError;

/// The settings of the handle's URLs, beside [`DbOptions::VARIABLES`]: where the database is.
const URL_SETTINGS: &[&str] = &[
    "url",
    "failover_urls",
    "replica_urls",
    "migration_url",
    "password",
];

/// A database's settings, resolved from the layers: what [`Db::from_config`] connects with.
/// Its `Display` is the resolved configuration with every password replaced by `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct DbConfig {
    /// The environment whose file was read: `REPO_ENV`, else `dev`.
    pub environment: String,
    /// The database (`url`, `DATABASE_URL`); [`DEFAULT_DATABASE_URL`](crate::DEFAULT_DATABASE_URL)
    /// when no layer sets it.
    pub url: String,
    /// The other nodes of its cluster (`failover_urls`, `DATABASE_FAILOVER_URLS`).
    pub failover_urls: Vec<String>,
    /// Its read replicas (`replica_urls`, `DATABASE_REPLICA_URLS`).
    pub replica_urls: Vec<String>,
    /// Where migrations run, when not as the application (`migration_url`,
    /// `DATABASE_MIGRATION_URL`): the owner of the schema, while the application connects as a
    /// role that may only read and write rows.
    pub migration_url: Option<String>,
    /// The pool, timeout, retry, cache and replica options.
    pub options: DbOptions,
    /// Where each setting came from (a file, or a variable), by setting.
    pub sources: BTreeMap<String, String>,
}

impl DbConfig {
    /// The layers under `REPO_CONFIG_DIR` (else `config`), for `REPO_ENV` (else `dev`), and
    /// the environment's variables over them.
    pub fn load() -> Result<DbConfig, RepoError> {
        let dir = std::env::var("REPO_CONFIG_DIR").unwrap_or_else(|_| String::from("config"));
        DbConfig::load_from(dir, &crate::db::environment())
    }

    /// The layers of `dir` for `environment`: `default.toml`, then `{environment}.toml` (each
    /// optional; their `[database]` table), then the environment's variables.
    pub fn load_from(dir: impl AsRef<Path>, environment: &str) -> Result<DbConfig, RepoError> {
        DbConfig::resolve(dir.as_ref(), environment, std::env::vars())
    }

    /// The layers with `variables` as the environment.
    fn resolve(
        dir: &Path,
        environment: &str,
        variables: impl IntoIterator<Item = (String, String)>,
    ) -> Result<DbConfig, RepoError> {
        if environment.is_empty()
            || !environment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(RepoError::config(format!(
                "the environment `{environment}` is not a name (letters, digits, `-`, `_`)"
            )));
        }
        let mut builder = config::Config::builder();
        for name in ["default", environment] {
            let file: PathBuf = dir.join(format!("{name}.toml"));
            builder = builder.add_source(
                config::File::from(file)
                    .format(config::FileFormat::Toml)
                    .required(false),
            );
        }
        let variables = from_variables(variables)?;
        for (setting, (value, _)) in &variables {
            builder = builder
                .set_override(format!("database.{setting}"), value.as_str())
                .map_err(config_error)?;
        }
        let merged = builder.build().map_err(config_error)?;
        let table = match merged.get_table("database") {
            Ok(table) => table,
            Err(config::ConfigError::NotFound(_)) => Default::default(),
            Err(error) => return Err(config_error(error)),
        };
        let mut settings = BTreeMap::new();
        let mut sources = BTreeMap::new();
        for (key, value) in table {
            let key = key.to_ascii_lowercase();
            if !is_setting(&key) {
                return Err(RepoError::config(format!(
                    "unknown database setting `{key}`{}",
                    value
                        .origin()
                        .map(|origin| format!(" in {origin}"))
                        .unwrap_or_default()
                )));
            }
            let source = match (value.origin(), variables.get(&key)) {
                (Some(file), _) => file.to_owned(),
                (None, Some((_, variable))) => variable.clone(),
                (None, None) => String::from("the environment"),
            };
            sources.insert(key.clone(), source);
            settings.insert(key, setting_text(value).map_err(config_error)?);
        }
        let options = DbOptions::from_vars(|name| {
            let key = name
                .strip_prefix("DATABASE_")
                .unwrap_or(name)
                .to_ascii_lowercase();
            settings
                .get(&key)
                .cloned()
                .ok_or(std::env::VarError::NotPresent)
        })?;
        let password = settings.get("password").map(String::as_str);
        let add_password = |url: &str| with_password(url, password);
        let list = |key: &str| -> Result<Vec<String>, RepoError> {
            url_list(settings.get(key).map(String::as_str))
                .map(add_password)
                .collect()
        };
        let url = match settings.get("url").map(|url| url.trim()) {
            Some(url) if !url.is_empty() => add_password(url)?,
            _ => crate::DEFAULT_DATABASE_URL.to_owned(),
        };
        Ok(DbConfig {
            environment: environment.to_owned(),
            url,
            failover_urls: list("failover_urls")?,
            replica_urls: list("replica_urls")?,
            migration_url: settings
                .get("migration_url")
                .map(|url| url.trim())
                .filter(|url| !url.is_empty())
                .map(add_password)
                .transpose()?,
            options,
            sources,
        })
    }
}

impl Db {
    /// Connects as `config` says: its URL, the other nodes of its cluster, its replicas and its
    /// options (see [`DbConfig::load`]).
    pub async fn from_config(config: &DbConfig) -> Result<Db, RepoError> {
        let mut nodes = vec![config.url.as_str()];
        nodes.extend(config.failover_urls.iter().map(String::as_str));
        Db::connect_nodes(&nodes, &config.replica_urls, config.options.clone()).await
    }
}

/// Each line a setting, every password `***`.
impl fmt::Display for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls = |urls: &[String]| -> String {
            let redacted: Vec<String> = urls.iter().map(|url| redact_url(url)).collect();
            format!("{redacted:?}")
        };
        writeln!(f, "environment = {:?}", self.environment)?;
        writeln!(f, "url = {:?}", redact_url(&self.url))?;
        writeln!(f, "failover_urls = {}", urls(&self.failover_urls))?;
        writeln!(f, "replica_urls = {}", urls(&self.replica_urls))?;
        if let Some(url) = &self.migration_url {
            writeln!(f, "migration_url = {:?}", redact_url(url))?;
        }
        writeln!(f, "options = {:#?}", self.options)?;
        for (setting, source) in &self.sources {
            writeln!(f, "# {setting} from {source}")?;
        }
        Ok(())
    }
}

/// The same as `Display`: no password.
impl fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Whether `key` names a setting: an option of [`DbOptions::VARIABLES`] or a URL's.
fn is_setting(key: &str) -> bool {
    URL_SETTINGS.contains(&key)
        || DbOptions::VARIABLES.iter().any(|name| {
            name.strip_prefix("DATABASE_")
                .is_some_and(|option| option.eq_ignore_ascii_case(key))
        })
}

/// The settings the environment gives, each with the variable it came from:
/// `DATABASE_{SETTING}`, or `DATABASE_{SETTING}_FILE` naming a file whose contents (less a
/// final newline) are the value. Other `DATABASE_` variables are not settings and are left
/// alone (a test's `DATABASE_URL_POSTGRES`).
fn from_variables(
    variables: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, (String, String)>, RepoError> {
    let mut settings = BTreeMap::new();
    let mut from_files = BTreeMap::new();
    for (name, value) in variables {
        let Some(key) = name.strip_prefix("DATABASE_") else {
            continue;
        };
        let key = key.to_ascii_lowercase();
        if is_setting(&key) {
            settings.insert(key, (value, name));
        } else if let Some(setting) = key.strip_suffix("_file").filter(|key| is_setting(key)) {
            let text = crate::db::read_secret_file(&name, &value)?;
            from_files.insert(setting.to_owned(), (name, text));
        }
    }
    for (setting, (name, text)) in from_files {
        if settings.contains_key(&setting) {
            return Err(RepoError::config(format!(
                "both {name} and DATABASE_{} are set: keep one",
                setting.to_ascii_uppercase()
            )));
        }
        settings.insert(setting, (text, name));
    }
    Ok(settings)
}

/// A setting's value as text, a list joined by commas.
fn setting_text(value: config::Value) -> Result<String, config::ConfigError> {
    match value.kind {
        config::ValueKind::Array(items) => {
            let items: Result<Vec<String>, _> =
                items.into_iter().map(config::Value::into_string).collect();
            Ok(items?.join(","))
        }
        _ => value.into_string(),
    }
}

/// `url` with `password` set, when one is given and the URL has a user and no password.
fn with_password(url: &str, password: Option<&str>) -> Result<String, RepoError> {
    let Some(password) = password else {
        return Ok(url.to_owned());
    };
    let Ok(mut parsed) = url::Url::parse(url) else {
        return Err(RepoError::config(format!(
            "{} is not a URL a password can be set in",
            redact_url(url)
        )));
    };
    if parsed.username().is_empty() || parsed.password().is_some() {
        return Ok(url.to_owned());
    }
    parsed
        .set_password(Some(password))
        .map_err(|()| RepoError::config(format!("{} takes no password", redact_url(url))))?;
    Ok(parsed.into())
}

/// The `config` crate's error, which names the file and key but never a value.
fn config_error(error: config::ConfigError) -> RepoError {
    RepoError::config(format!("configuration: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn dir_with(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "repo-config-{}-{}",
            std::process::id(),
            files.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn each_layer_overrides_the_one_before() {
        let secret = std::env::temp_dir().join(format!("repo-secret-{}", std::process::id()));
        std::fs::write(&secret, "s3cr:t\n").unwrap();
        let dir = dir_with(&[
            (
                "default.toml",
                "[database]\nurl = \"postgres://app@db/blog\"\nmax_connections = 5\n\
                 acquire_timeout_ms = 2000\nreplica_urls = [\"postgres://app@r1/blog\", \"postgres://app@r2/blog\"]\n\
                 [server]\nport = 8080\n",
            ),
            (
                "prod.toml",
                "[database]\nmax_connections = 50\nretry_max_attempts = 8\ncache = true\n",
            ),
        ]);
        let config = DbConfig::resolve(
            &dir,
            "prod",
            vars(&[
                ("DATABASE_ACQUIRE_TIMEOUT_MS", "500"),
                ("DATABASE_PASSWORD_FILE", secret.to_str().unwrap()),
                ("DATABASE_URL_POSTGRES", "not a setting"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(config.options.max_connections, 50);
        assert_eq!(config.options.acquire_timeout, Duration::from_millis(500));
        assert_eq!(config.options.retry.max_attempts, 8);
        assert!(config.options.cache);
        assert_eq!(config.url, "postgres://app:s3cr%3At@db/blog");
        assert_eq!(config.replica_urls.len(), 2);
        assert!(config.replica_urls[1].starts_with("postgres://app:s3cr%3At@r2"));
        // Printed, no password.
        let printed = config.to_string();
        assert!(!printed.contains("s3cr"), "{printed}");
        assert!(printed.contains("postgres://app:***@db/blog"), "{printed}");
        assert!(!format!("{config:?}").contains("s3cr"));
        assert!(config.sources["max_connections"].ends_with("prod.toml"));
        assert_eq!(
            config.sources["acquire_timeout_ms"],
            "DATABASE_ACQUIRE_TIMEOUT_MS"
        );
        assert_eq!(config.sources["password"], "DATABASE_PASSWORD_FILE");
        // The dev environment has no file of its own: the defaults' file and the variables.
        let dev = DbConfig::resolve(&dir, "dev", vars(&[])).unwrap();
        assert_eq!(dev.options.max_connections, 5);
        assert_eq!(dev.url, "postgres://app@db/blog");
        std::fs::remove_file(secret).unwrap();
    }

    #[cfg(feature = "encryption")]
    #[test]
    fn encryption_keys_come_from_the_layers_and_are_never_printed() {
        let (old, new, blind) = ("11".repeat(32), "22".repeat(32), "33".repeat(32));
        let keys = std::env::temp_dir().join(format!("repo-keys-{}", std::process::id()));
        std::fs::write(&keys, format!("{blind}\n")).unwrap();
        let dir = dir_with(&[(
            "prod.toml",
            &format!("[database]\nencryption_keys = [\"2025:{old}\", \"2026:{new}\"]\n"),
        )]);
        let config = DbConfig::resolve(
            &dir,
            "prod",
            vars(&[("DATABASE_BLIND_INDEX_KEY_FILE", keys.to_str().unwrap())]),
        )
        .unwrap();
        let keyring = config.options.encryption.as_ref().unwrap();
        assert_eq!(keyring.key_ids().collect::<Vec<_>>(), ["2025", "2026"]);
        assert!(keyring.has_blind_index_key());
        let printed = format!("{config} {config:?}");
        for secret in [&old, &new, &blind] {
            assert!(!printed.contains(secret.as_str()), "{printed}");
        }
        assert!(printed.contains("2026"), "{printed}");
        let dir = dir_with(&[("prod.toml", "[database]\nencryption_keys = \"2025:abcd\"\n")]);
        let error = DbConfig::resolve(&dir, "prod", vars(&[])).unwrap_err();
        assert!(
            error.to_string().contains("DATABASE_ENCRYPTION_KEYS"),
            "{error}"
        );
        std::fs::remove_file(keys).unwrap();
    }

    #[test]
    fn mistakes_are_config_errors_that_name_the_setting_and_no_secret() {
        let dir = dir_with(&[("dev.toml", "[database]\nmax_conections = 5\n")]);
        let error = DbConfig::resolve(&dir, "dev", vars(&[])).unwrap_err();
        assert!(error.to_string().contains("max_conections"), "{error}");
        let dir = dir_with(&[]);
        let error = DbConfig::resolve(&dir, "dev", vars(&[("DATABASE_MAX_CONNECTIONS", "lots")]))
            .unwrap_err();
        assert!(
            error.to_string().contains("DATABASE_MAX_CONNECTIONS"),
            "{error}"
        );
        let error = DbConfig::resolve(
            &dir,
            "dev",
            vars(&[
                ("DATABASE_PASSWORD", "hunter2"),
                ("DATABASE_PASSWORD_FILE", "/nonexistent/secret"),
            ]),
        )
        .unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(
            error.to_string().contains("DATABASE_PASSWORD_FILE"),
            "{error}"
        );
        let error = DbConfig::resolve(&dir, "../etc", vars(&[])).unwrap_err();
        assert!(error.to_string().contains("not a name"), "{error}");
        // Nothing set: the embedded default.
        let config = DbConfig::resolve(&dir, "test", vars(&[])).unwrap();
        assert_eq!(config.url, crate::DEFAULT_DATABASE_URL);
        assert_eq!(config.options, DbOptions::default());
    }
}
