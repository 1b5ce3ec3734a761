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
    "PRINTSTALL_REQUESTS_PER_MINUTE_USER",
    "PRINTSTALL_REQUESTS_PER_MINUTE_SHOP",
    "PRINTSTALL_HSTS",
    "PRINTSTALL_METRICS_TOKEN",
    "SENTRY_DSN",
    "PRINTSTALL_ENCRYPTION_KEYS",
    "OIDC_ISSUER",
    "OIDC_AUDIENCE",
    "OIDC_JWKS_URL",
    "OIDC_JWKS_FILE",
    "OIDC_JWKS_MIN_REFRESH_SECONDS",
    "OIDC_NEW_SHOP_CURRENCY",
    "OIDC_NEW_SHOP_TIME_ZONE",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_TLS",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_FROM",
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
/// API requests a minute one signed-in user may make (a phone syncing makes a few).
pub const DEFAULT_REQUESTS_PER_MINUTE_USER: u32 = 1200;
/// API requests a minute all members of one shop may make together.
pub const DEFAULT_REQUESTS_PER_MINUTE_SHOP: u32 = 3000;

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
    #[error(
        "external sign-in is half configured: {missing} (set OIDC_ISSUER, OIDC_AUDIENCE and one of OIDC_JWKS_URL or OIDC_JWKS_FILE, or none of them)"
    )]
    IncompleteOidc { missing: String },
    #[error("email is half configured: {missing} (set SMTP_HOST and SMTP_FROM, or neither)")]
    IncompleteSmtp { missing: String },
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

impl StorageSettings {
    /// Where files go, for the start-up summary: for S3 the endpoint (any password in it
    /// masked), bucket, region and addressing style; never the keys.
    pub fn describe(&self) -> String {
        match self {
            StorageSettings::Local { dir } => format!("local folder {}", dir.display()),
            StorageSettings::S3(s3) => format!(
                "S3 bucket {} at {}, region {}, {} (S3_PATH_STYLE={})",
                s3.bucket,
                mask_url_password(&s3.endpoint),
                s3.region,
                if s3.path_style {
                    "path-style addressing"
                } else {
                    "virtual-hosted addressing"
                },
                s3.path_style,
            ),
        }
    }
}

/// Where the external provider's signing keys (a JWK set) come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Fetched over HTTP(S) (the provider's `jwks_uri`), again when a token names an unknown key.
    Url(String),
    /// Read from a file, again when a token names an unknown key.
    File(PathBuf),
}

/// External sign-in with an OpenID Connect provider's access tokens (RS256 or ES256).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The `iss` claim every token must carry, exactly.
    pub issuer: String,
    /// A value the token's `aud` claim must contain.
    pub audience: String,
    pub jwks: JwksSource,
    /// Fetch the keys again for an unknown `kid` at most this often (seconds).
    pub jwks_min_refresh_seconds: u64,
    /// Currency and time zone of the shop made for a person seen for the first time.
    pub new_shop_currency: String,
    pub new_shop_time_zone: String,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    StartTls,
    /// TLS from the first byte, usually port 465.
    Tls,
    /// No encryption: only for a relay on the same machine or a test server.
    None,
}

/// Outgoing mail (invitations, password resets, the digest).
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// The sender, e.g. `PrintStall <printstall@example.com>`.
    pub from: String,
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
    /// API requests per minute per user and per shop (`0`: no limit).
    pub request_limits: crate::auth::request_limit::RequestLimits,
    /// Send `Strict-Transport-Security` (the server is reached over TLS, e.g. behind a
    /// proxy). Default: on when `public_url` is https.
    pub hsts: bool,
    /// Bearer token for `GET /metrics`; `None`: only loopback scrapers, not through a proxy.
    pub metrics_token: Option<Secret>,
    /// Where errors are reported (Sentry); `None`: not reported.
    pub sentry_dsn: Option<Secret>,
    /// Key ring sealing the shop's business details (`id:key,...`, the last one seals);
    /// `None`: generated once and kept in `data_dir` (see `crypto`).
    pub encryption_keys: Option<Secret>,
    /// External sign-in; `None`: only the built-in accounts.
    pub oidc: Option<OidcSettings>,
    /// Outgoing mail; `None`: email is off (invite codes still work when handed over).
    pub smtp: Option<SmtpSettings>,
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
            .field("request_limits", &self.request_limits)
            .field("hsts", &self.hsts)
            .field("metrics_token", &self.metrics_token)
            .field("sentry_dsn", &self.sentry_dsn)
            .field("encryption_keys", &self.encryption_keys)
            .field("oidc", &self.oidc)
            .field("smtp", &self.smtp)
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
        let per_minute = |key: &'static str, default: u32| match get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse::<u32>().map_err(|_| SettingsError::Invalid {
                key,
                value: v.clone(),
                expected: "a whole number of requests a minute (0: no limit)",
            }),
        };
        let request_limits = crate::auth::request_limit::RequestLimits {
            per_user_per_minute: per_minute(
                "PRINTSTALL_REQUESTS_PER_MINUTE_USER",
                DEFAULT_REQUESTS_PER_MINUTE_USER,
            )?,
            per_shop_per_minute: per_minute(
                "PRINTSTALL_REQUESTS_PER_MINUTE_SHOP",
                DEFAULT_REQUESTS_PER_MINUTE_SHOP,
            )?,
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
        let public_url = get("PRINTSTALL_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned());
        let hsts = match get("PRINTSTALL_HSTS").as_deref() {
            None => public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            Some("1" | "true" | "yes" | "on") => true,
            Some("0" | "false" | "no" | "off") => false,
            Some(other) => {
                return Err(SettingsError::Invalid {
                    key: "PRINTSTALL_HSTS",
                    value: other.to_owned(),
                    expected: "true or false",
                });
            }
        };
        let oidc = oidc_settings(&get)?;
        let smtp = smtp_settings(&get)?;
        Ok(Self {
            hsts,
            metrics_token: get("PRINTSTALL_METRICS_TOKEN").map(Secret::new),
            sentry_dsn: get("SENTRY_DSN").map(Secret::new),
            host: get("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port,
            database_url: get("DATABASE_URL").map(Secret::new),
            pwa_dir: PathBuf::from(get("PRINTSTALL_PWA_DIR").unwrap_or_else(|| "dist".into())),
            public_url,
            url_signing_key: get("PRINTSTALL_URL_SIGNING_KEY").map(Secret::new),
            app_database_url: get("APP_DATABASE_URL").map(Secret::new),
            jwt_secret: get("PRINTSTALL_JWT_SECRET").map(Secret::new),
            shop_quota_bytes,
            request_limits,
            encryption_keys: get("PRINTSTALL_ENCRYPTION_KEYS").map(Secret::new),
            spoolman_path,
            data_dir,
            storage,
            oidc,
            smtp,
        })
    }
}

fn oidc_settings(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<OidcSettings>, SettingsError> {
    let issuer = get("OIDC_ISSUER");
    let audience = get("OIDC_AUDIENCE");
    let url = get("OIDC_JWKS_URL");
    let file = get("OIDC_JWKS_FILE");
    if issuer.is_none() && audience.is_none() && url.is_none() && file.is_none() {
        return Ok(None);
    }
    let mut missing = Vec::new();
    if issuer.is_none() {
        missing.push("OIDC_ISSUER missing");
    }
    if audience.is_none() {
        missing.push("OIDC_AUDIENCE missing");
    }
    match (&url, &file) {
        (None, None) => missing.push("OIDC_JWKS_URL or OIDC_JWKS_FILE missing"),
        (Some(_), Some(_)) => {
            missing.push("both OIDC_JWKS_URL and OIDC_JWKS_FILE set (choose one)")
        }
        _ => {}
    }
    if !missing.is_empty() {
        return Err(SettingsError::IncompleteOidc {
            missing: missing.join(", "),
        });
    }
    let jwks = match (url, file) {
        (Some(url), _) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(SettingsError::Invalid {
                    key: "OIDC_JWKS_URL",
                    value: url,
                    expected: "a URL starting with https:// (or http:// for a provider on this machine)",
                });
            }
            JwksSource::Url(url)
        }
        (None, file) => JwksSource::File(PathBuf::from(file.unwrap_or_default())),
    };
    let jwks_min_refresh_seconds = match get("OIDC_JWKS_MIN_REFRESH_SECONDS") {
        None => 60,
        Some(v) => v.parse().map_err(|_| SettingsError::Invalid {
            key: "OIDC_JWKS_MIN_REFRESH_SECONDS",
            value: v.clone(),
            expected: "a number of seconds, e.g. 60",
        })?,
    };
    let new_shop_currency = get("OIDC_NEW_SHOP_CURRENCY").unwrap_or_else(|| "EUR".into());
    if new_shop_currency
        .parse::<printstall_core::money::Currency>()
        .is_err()
    {
        return Err(SettingsError::Invalid {
            key: "OIDC_NEW_SHOP_CURRENCY",
            value: new_shop_currency,
            expected: "an ISO 4217 currency code such as EUR or USD",
        });
    }
    let new_shop_time_zone = get("OIDC_NEW_SHOP_TIME_ZONE").unwrap_or_else(|| "UTC".into());
    if printstall_core::domain::shop::validate_time_zone("time_zone", &new_shop_time_zone).is_err()
    {
        return Err(SettingsError::Invalid {
            key: "OIDC_NEW_SHOP_TIME_ZONE",
            value: new_shop_time_zone,
            expected: "an IANA time zone such as Europe/Berlin or UTC",
        });
    }
    Ok(Some(OidcSettings {
        issuer: issuer.unwrap_or_default(),
        audience: audience.unwrap_or_default(),
        jwks,
        jwks_min_refresh_seconds,
        new_shop_currency,
        new_shop_time_zone,
    }))
}

fn smtp_settings(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<SmtpSettings>, SettingsError> {
    let (host, from) = match (get("SMTP_HOST"), get("SMTP_FROM")) {
        (None, None) => return Ok(None),
        (Some(h), Some(f)) => (h, f),
        (None, Some(_)) => {
            return Err(SettingsError::IncompleteSmtp {
                missing: "SMTP_HOST missing".into(),
            });
        }
        (Some(_), None) => {
            return Err(SettingsError::IncompleteSmtp {
                missing: "SMTP_FROM missing".into(),
            });
        }
    };
    let tls = match get("SMTP_TLS").as_deref() {
        None | Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some("none") => SmtpTls::None,
        Some(other) => {
            return Err(SettingsError::Invalid {
                key: "SMTP_TLS",
                value: other.to_owned(),
                expected: "starttls, tls, or none (none only for a relay on this machine)",
            });
        }
    };
    let port = match get("SMTP_PORT") {
        None => match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        },
        Some(v) => v.parse().map_err(|_| SettingsError::Invalid {
            key: "SMTP_PORT",
            value: v.clone(),
            expected: "a port number from 1 to 65535",
        })?,
    };
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(SettingsError::Invalid {
            key: "SMTP_FROM",
            value: from,
            expected: "an address such as printstall@example.com or PrintStall <printstall@example.com>",
        });
    }
    let username = get("SMTP_USERNAME");
    let password = get("SMTP_PASSWORD").map(Secret::new);
    if username.is_some() != password.is_some() {
        return Err(SettingsError::IncompleteSmtp {
            missing: "SMTP_USERNAME and SMTP_PASSWORD go together".into(),
        });
    }
    Ok(Some(SmtpSettings {
        host,
        port,
        tls,
        username,
        password,
        from,
    }))
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
    fn external_sign_in_and_email_are_all_or_nothing() {
        let s = Settings::from_values(&HashMap::new()).unwrap();
        assert!(s.oidc.is_none() && s.smtp.is_none());
        let err = Settings::from_values(&values(&[("OIDC_ISSUER", "https://id.example.com/")]))
            .unwrap_err();
        assert!(err.to_string().contains("OIDC_AUDIENCE missing"), "{err}");
        let err = Settings::from_values(&values(&[
            ("OIDC_ISSUER", "https://id.example.com/"),
            ("OIDC_AUDIENCE", "printstall"),
            ("OIDC_JWKS_URL", "https://id.example.com/jwks"),
            ("OIDC_JWKS_FILE", "/etc/jwks.json"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("choose one"), "{err}");
        let s = Settings::from_values(&values(&[
            ("OIDC_ISSUER", "https://id.example.com/"),
            ("OIDC_AUDIENCE", "printstall"),
            ("OIDC_JWKS_FILE", "/etc/jwks.json"),
        ]))
        .unwrap();
        let oidc = s.oidc.unwrap();
        assert_eq!(oidc.jwks, JwksSource::File("/etc/jwks.json".into()));
        assert_eq!(
            (
                oidc.new_shop_currency.as_str(),
                oidc.new_shop_time_zone.as_str()
            ),
            ("EUR", "UTC")
        );
        let err = Settings::from_values(&values(&[("SMTP_HOST", "127.0.0.1")])).unwrap_err();
        assert!(err.to_string().contains("SMTP_FROM missing"), "{err}");
        let s = Settings::from_values(&values(&[
            ("SMTP_HOST", "mail.example.com"),
            ("SMTP_FROM", "PrintStall <stall@example.com>"),
            ("SMTP_USERNAME", "stall"),
            ("SMTP_PASSWORD", "mailsecret"),
        ]))
        .unwrap();
        let smtp = s.smtp.clone().unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::StartTls));
        assert!(!format!("{s:?}").contains("mailsecret"));
        let err = Settings::from_values(&values(&[
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_FROM", "stall@example.com"),
            ("SMTP_TLS", "ssl"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("SMTP_TLS"), "{err}");
    }

    #[test]
    fn half_an_s3_configuration_is_an_error() {
        let err = Settings::from_values(&values(&[("S3_ENDPOINT", "http://x")])).unwrap_err();
        assert!(err.to_string().contains("S3_BUCKET"), "{err}");
    }

    #[test]
    fn the_s3_description_shows_region_and_path_style_but_no_keys() {
        let s = Settings::from_values(&values(&[
            ("S3_ENDPOINT", "https://abc.r2.cloudflarestorage.com"),
            ("S3_BUCKET", "stall"),
            ("S3_ACCESS_KEY_ID", "AKIDSHOWNNOWHERE"),
            ("S3_SECRET_ACCESS_KEY", "alsosecret"),
            ("S3_REGION", "auto"),
        ]))
        .unwrap();
        let shown = s.storage.describe();
        assert_eq!(
            shown,
            "S3 bucket stall at https://abc.r2.cloudflarestorage.com, region auto, virtual-hosted addressing (S3_PATH_STYLE=false)"
        );
        let s = Settings::from_values(&values(&[
            ("S3_ENDPOINT", "http://minio:pw@127.0.0.1:9000"),
            ("S3_BUCKET", "b"),
            ("S3_ACCESS_KEY_ID", "AK"),
            ("S3_SECRET_ACCESS_KEY", "alsosecret"),
            ("S3_PATH_STYLE", "true"),
        ]))
        .unwrap();
        let shown = s.storage.describe();
        assert!(shown.contains("region us-east-1"), "{shown}");
        assert!(
            shown.contains("path-style addressing (S3_PATH_STYLE=true)"),
            "{shown}"
        );
        assert!(
            !shown.contains(":pw@") && !shown.contains("alsosecret"),
            "{shown}"
        );
        let local = Settings::from_values(&values(&[("PRINTSTALL_DATA_DIR", "/srv/ps")])).unwrap();
        assert_eq!(local.storage.describe(), "local folder /srv/ps/files");
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
