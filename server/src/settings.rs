//! Configuration: defaults, then an optional TOML file (`PRINTSTALL_CONFIG`), then the
//! environment. Loaded once at start and passed in; handlers never read `std::env`.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use crate::secret::{Secret, mask_url_password};

/// Every key the server understands, as an environment variable name. A config file uses
/// the same names, in lower or upper case, as top-level keys.
pub const KEYS: &[&str] = &[
    "HOST",
    "PORT",
    "DATABASE_URL",
    "PRINTSTALL_DATA_DIR",
    "PRINTSTALL_PWA_DIR",
    "PRINTSTALL_PUBLIC_URL",
    "PRINTSTALL_URL_SIGNING_KEY",
    "APP_DATABASE_URL",
    "PRINTSTALL_JWT_SECRET",
    "S3_ENDPOINT",
    "S3_REGION",
    "S3_BUCKET",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_PATH_STYLE",
    "PRINTSTALL_SHOP_QUOTA_BYTES",
    "PRINTSTALL_SPOOLMAN_PATH",
];

/// Default path of the Spoolman-compatible API.
pub const DEFAULT_SPOOLMAN_PATH: &str = "/spoolman/api/v1";

/// The address prefix that Spoolman clients are given for a Spoolman API path
/// (`/spoolman/api/v1` -> `/spoolman`); `None` when the path does not end in `/api/v1`, or
/// would put it under PrintStall's own `/api`.
pub fn spoolman_root(path: &str) -> Option<&str> {
    let root = path.strip_suffix("/api/v1")?;
    let ok = root.starts_with('/')
        && root.len() > 1
        && root != "/api"
        && !root.starts_with("/api/")
        && !root.contains("//")
        && root
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
    ok.then_some(root)
}

/// Default storage quota of one shop: 5 GiB.
pub const DEFAULT_SHOP_QUOTA_BYTES: u64 = 5 * 1024 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid TOML: {message}")]
    ParseFile { path: PathBuf, message: String },
    #[error("{key}={value:?} is not valid: {expected}")]
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "S3 storage is half configured: {missing} missing (set all of S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, or none for the local file store)"
    )]
    IncompleteS3 { missing: String },
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub path_style: bool,
}

#[derive(Debug, Clone)]
pub enum StorageSettings {
    /// Files in a folder on this machine, served through the server's own signed URLs.
    Local {
        dir: PathBuf,
    },
    S3(S3Settings),
}

#[derive(Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    /// `None`: run the embedded PostgreSQL cluster in `data_dir`.
    pub database_url: Option<Secret>,
    pub data_dir: PathBuf,
    pub pwa_dir: PathBuf,
    /// The address browsers use to reach this server; signed local-file URLs start with it.
    pub public_url: Option<String>,
    /// Key for the local store's signed URLs; `None`: generated once and kept in `data_dir`.
    pub url_signing_key: Option<Secret>,
    pub storage: StorageSettings,
    /// How request transactions connect (as `printstall_app`); `None`: the database URL's
    /// connection with that user name.
    pub app_database_url: Option<Secret>,
    /// HS256 key for access tokens; `None`: generated once and kept in `data_dir`.
    pub jwt_secret: Option<Secret>,
    /// Bytes of sliced files (all versions, plus uploads in progress) one shop may store.
    pub shop_quota_bytes: u64,
    /// Where the Spoolman-compatible API for printers is served; ends in `/api/v1`.
    pub spoolman_path: String,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "database_url",
                &self
                    .database_url
                    .as_ref()
                    .map(|u| mask_url_password(u.expose())),
            )
            .field("data_dir", &self.data_dir)
            .field("pwa_dir", &self.pwa_dir)
            .field("public_url", &self.public_url)
            .field("url_signing_key", &self.url_signing_key)
            .field("storage", &self.storage)
            .field(
                "app_database_url",
                &self
                    .app_database_url
                    .as_ref()
                    .map(|u| mask_url_password(u.expose())),
            )
            .field("jwt_secret", &self.jwt_secret)
            .field("shop_quota_bytes", &self.shop_quota_bytes)
            .field("spoolman_path", &self.spoolman_path)
            .finish()
    }
}

impl Settings {
    /// Reads the config file named by `PRINTSTALL_CONFIG` (if any), then the environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let mut values = HashMap::new();
        if let Ok(path) = std::env::var("PRINTSTALL_CONFIG") {
            values.extend(read_config_file(PathBuf::from(path))?);
        }
        for key in KEYS {
            if let Ok(value) = std::env::var(key) {
                values.insert((*key).to_owned(), value);
            }
        }
        Self::from_values(&values)
    }

    /// Builds settings from flat `KEY -> value` pairs (empty values count as unset).
    pub fn from_values(values: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let get = |key: &str| {
            values
                .get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let port = match get("PORT") {
            None => 8080,
            Some(v) => v.parse().map_err(|_| SettingsError::Invalid {
                key: "PORT",
                value: v.clone(),
                expected: "a port number from 0 to 65535",
            })?,
        };
        let shop_quota_bytes = match get("PRINTSTALL_SHOP_QUOTA_BYTES") {
            None => DEFAULT_SHOP_QUOTA_BYTES,
            Some(v) => v.parse().map_err(|_| SettingsError::Invalid {
                key: "PRINTSTALL_SHOP_QUOTA_BYTES",
                value: v.clone(),
                expected: "a number of bytes, e.g. 5368709120 for 5 GiB",
            })?,
        };
        let spoolman_path = get("PRINTSTALL_SPOOLMAN_PATH")
            .unwrap_or_else(|| DEFAULT_SPOOLMAN_PATH.into())
            .trim_end_matches('/')
            .to_owned();
        if spoolman_root(&spoolman_path).is_none() {
            return Err(SettingsError::Invalid {
                key: "PRINTSTALL_SPOOLMAN_PATH",
                value: spoolman_path,
                expected: "a path ending in /api/v1 below a folder other than /api, e.g. /spoolman/api/v1 (Spoolman's clients add /api/v1 to the server address they are given)",
            });
        }
        let data_dir = PathBuf::from(get("PRINTSTALL_DATA_DIR").unwrap_or_else(|| ".data".into()));
        let storage = storage_settings(&get, &data_dir)?;
        Ok(Self {
            host: get("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port,
            database_url: get("DATABASE_URL").map(Secret::new),
            pwa_dir: PathBuf::from(get("PRINTSTALL_PWA_DIR").unwrap_or_else(|| "dist".into())),
            public_url: get("PRINTSTALL_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
            url_signing_key: get("PRINTSTALL_URL_SIGNING_KEY").map(Secret::new),
            app_database_url: get("APP_DATABASE_URL").map(Secret::new),
            jwt_secret: get("PRINTSTALL_JWT_SECRET").map(Secret::new),
            shop_quota_bytes,
            spoolman_path,
            data_dir,
            storage,
        })
    }
}

fn storage_settings(
    get: &dyn Fn(&str) -> Option<String>,
    data_dir: &std::path::Path,
) -> Result<StorageSettings, SettingsError> {
    let required = [
        "S3_ENDPOINT",
        "S3_BUCKET",
        "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY",
    ];
    let present: Vec<_> = required.iter().filter(|k| get(k).is_some()).collect();
    if present.is_empty() {
        return Ok(StorageSettings::Local {
            dir: data_dir.join("files"),
        });
    }
    if present.len() < required.len() {
        let missing: Vec<_> = required
            .iter()
            .filter(|k| get(k).is_none())
            .copied()
            .collect();
        return Err(SettingsError::IncompleteS3 {
            missing: missing.join(", "),
        });
    }
    let path_style = match get("S3_PATH_STYLE").as_deref() {
        None => false,
        Some("1" | "true" | "yes" | "on") => true,
        Some("0" | "false" | "no" | "off") => false,
        Some(other) => {
            return Err(SettingsError::Invalid {
                key: "S3_PATH_STYLE",
                value: other.to_owned(),
                expected: "true or false",
            });
        }
    };
    let endpoint = get("S3_ENDPOINT").unwrap_or_default();
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(SettingsError::Invalid {
            key: "S3_ENDPOINT",
            value: endpoint,
            expected: "a URL starting with http:// or https://",
        });
    }
    Ok(StorageSettings::S3(S3Settings {
        endpoint,
        region: get("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        bucket: get("S3_BUCKET").unwrap_or_default(),
        access_key_id: get("S3_ACCESS_KEY_ID").unwrap_or_default(),
        secret_access_key: Secret::new(get("S3_SECRET_ACCESS_KEY").unwrap_or_default()),
        path_style,
    }))
}

fn read_config_file(path: PathBuf) -> Result<HashMap<String, String>, SettingsError> {
    let text = std::fs::read_to_string(&path).map_err(|source| SettingsError::ReadFile {
        path: path.clone(),
        source,
    })?;
    let table: toml::Table =
        text.parse()
            .map_err(|e: toml::de::Error| SettingsError::ParseFile {
                path: path.clone(),
                message: e.message().to_owned(),
            })?;
    let mut values = HashMap::new();
    for (key, value) in table {
        let upper = key.to_ascii_uppercase();
        let Some(known) = KEYS.iter().find(|k| **k == upper) else {
            return Err(SettingsError::ParseFile {
                path,
                message: format!("unknown key `{key}` (known: {})", KEYS.join(", ")),
            });
        };
        let text = match value {
            toml::Value::String(s) => s,
            other => other.to_string(),
        };
        values.insert((*known).to_owned(), text);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_to_the_embedded_database_and_local_files() {
        let s = Settings::from_values(&HashMap::new()).unwrap();
        assert_eq!(s.port, 8080);
        assert!(s.database_url.is_none());
        assert!(matches!(s.storage, StorageSettings::Local { .. }));
        assert_eq!(s.shop_quota_bytes, 5 * 1024 * 1024 * 1024);
    }

    #[test]
    fn reads_the_spoolman_path() {
        let s = Settings::from_values(&values(&[])).unwrap();
        assert_eq!(s.spoolman_path, "/spoolman/api/v1");
        let s = Settings::from_values(&values(&[(
            "PRINTSTALL_SPOOLMAN_PATH",
            "/printers/sm/api/v1/",
        )]))
        .unwrap();
        assert_eq!(spoolman_root(&s.spoolman_path), Some("/printers/sm"));
        for bad in ["/api/v1", "/spoolman", "/api/x/api/v1", "spoolman/api/v1"] {
            let err =
                Settings::from_values(&values(&[("PRINTSTALL_SPOOLMAN_PATH", bad)])).unwrap_err();
            assert!(
                err.to_string().contains("PRINTSTALL_SPOOLMAN_PATH"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn reads_the_shop_quota() {
        let s = Settings::from_values(&values(&[("PRINTSTALL_SHOP_QUOTA_BYTES", "1000")])).unwrap();
        assert_eq!(s.shop_quota_bytes, 1000);
        let err =
            Settings::from_values(&values(&[("PRINTSTALL_SHOP_QUOTA_BYTES", "5GB")])).unwrap_err();
        assert!(
            err.to_string().contains("PRINTSTALL_SHOP_QUOTA_BYTES"),
            "{err}"
        );
    }

    #[test]
    fn rejects_a_bad_port_with_a_clear_message() {
        let err = Settings::from_values(&values(&[("PORT", "eighty")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PORT=\"eighty\" is not valid: a port number from 0 to 65535"
        );
    }

    #[test]
    fn half_an_s3_configuration_is_an_error() {
        let err = Settings::from_values(&values(&[("S3_ENDPOINT", "http://x")])).unwrap_err();
        assert!(err.to_string().contains("S3_BUCKET"), "{err}");
    }

    #[test]
    fn debug_output_masks_secrets() {
        let s = Settings::from_values(&values(&[
            ("DATABASE_URL", "postgres://u:topsecret@h/db"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_BUCKET", "b"),
            ("S3_ACCESS_KEY_ID", "AK"),
            ("S3_SECRET_ACCESS_KEY", "alsosecret"),
        ]))
        .unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("topsecret") && !shown.contains("alsosecret"),
            "{shown}"
        );
    }
}
