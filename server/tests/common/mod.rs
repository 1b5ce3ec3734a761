//! Shared test support: the test database and S3 server that scripts/test starts, and the
//! real router served on a free port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use printstall_server::app::{self, AppState};
use printstall_server::secret::Secret;
use printstall_server::settings::{S3Settings, Settings};
use printstall_server::storage::signed_url::UrlSigner;
use printstall_server::storage::{LocalStore, S3Store, Storage};
use sqlx::PgPool;

fn required_env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: run the tests through scripts/test, which starts the services")
    })
}

pub fn database_url() -> String {
    required_env("DATABASE_URL")
}

pub fn s3_settings() -> S3Settings {
    S3Settings {
        endpoint: required_env("PRINTSTALL_TEST_S3_ENDPOINT"),
        region: "us-east-1".into(),
        bucket: required_env("PRINTSTALL_TEST_S3_BUCKET"),
        access_key_id: required_env("PRINTSTALL_TEST_S3_ACCESS_KEY_ID"),
        secret_access_key: Secret::new(required_env("PRINTSTALL_TEST_S3_SECRET_ACCESS_KEY")),
        path_style: true,
    }
}

/// Settings from `pairs`; the API request limits are off unless a test sets them (tests
/// drive thousands of requests a minute as one user; `api_limits.rs` tests the limits).
pub fn settings_with(pairs: &[(&str, &str)]) -> Settings {
    let mut values: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    for key in [
        "PRINTSTALL_REQUESTS_PER_MINUTE_USER",
        "PRINTSTALL_REQUESTS_PER_MINUTE_SHOP",
    ] {
        values
            .entry(key.to_owned())
            .or_insert_with(|| "0".to_owned());
    }
    Settings::from_values(&values).unwrap()
}

pub struct TestServer {
    pub url: String,
    pub pool: PgPool,
    pub storage: Storage,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// A server started by a test's own setup (see `spawn_server`).
    pub fn from_parts(
        url: String,
        pool: PgPool,
        storage: Storage,
        shutdown: tokio::sync::oneshot::Sender<()>,
        task: tokio::task::JoinHandle<()>,
    ) -> Self {
        Self {
            url,
            pool,
            storage,
            shutdown: Some(shutdown),
            task,
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }
}

/// Serves `state` on `listener` in a task; sending on the channel stops it gracefully.
pub fn spawn_server(
    listener: tokio::net::TcpListener,
    state: AppState,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app::serve(state, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (tx, task)
}

pub enum Backend {
    Local(std::path::PathBuf),
    S3,
}

/// Serves the real router on 127.0.0.1:0 with the given web-app folder and file store.
pub async fn start(pwa_dir: &Path, backend: Backend) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let pool = printstall_server::db::connect(&database_url(), 5)
        .await
        .unwrap();
    let storage = match backend {
        Backend::Local(dir) => Storage::Local(LocalStore::new(
            dir,
            url.clone(),
            UrlSigner::new(Secret::new("test-signing-key")),
        )),
        Backend::S3 => Storage::S3(S3Store::new(&s3_settings())),
    };
    storage.check().await.unwrap();
    let settings = settings_with(&[
        ("PRINTSTALL_PWA_DIR", pwa_dir.to_str().unwrap()),
        ("PRINTSTALL_JWT_SECRET", TEST_JWT_SECRET),
        ("PRINTSTALL_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEYS),
    ]);
    let state = AppState::new(pool.clone(), storage.clone(), settings).unwrap();
    let (tx, task) = spawn_server(listener, state);
    TestServer {
        url,
        pool,
        storage,
        shutdown: Some(tx),
        task,
    }
}

pub const TEST_JWT_SECRET: &str = "test-jwt-secret-not-for-production";
/// One key (id `test`) sealing business details in tests that name no data folder.
pub const TEST_ENCRYPTION_KEYS: &str =
    "test:7465737420656e6372797074696f6e206b6579206e6f7420666f722070726f64";

/// Serves the real router on 127.0.0.1:0 over `pool` (a fresh `#[sqlx::test]` database with
/// the migrations applied); request transactions connect as `printstall_app` to the same
/// database.
pub async fn start_api(pool: PgPool) -> TestServer {
    start_api_with(pool, &[]).await
}

/// [`start_api`] with more settings (e.g. request limits).
pub async fn start_api_with(pool: PgPool, more: &[(&str, &str)]) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let files = std::env::temp_dir().join(format!("printstall-api-test-{}", uuid::Uuid::now_v7()));
    let storage = Storage::Local(LocalStore::new(
        files.clone(),
        url.clone(),
        UrlSigner::new(Secret::new("test-signing-key")),
    ));
    let mut pairs = vec![
        ("PRINTSTALL_PWA_DIR", files.to_str().unwrap()),
        ("PRINTSTALL_DATA_DIR", files.to_str().unwrap()),
        ("PRINTSTALL_JWT_SECRET", TEST_JWT_SECRET),
    ];
    pairs.extend_from_slice(more);
    let settings = settings_with(&pairs);
    let state = AppState::new(pool.clone(), storage.clone(), settings).unwrap();
    let (tx, task) = spawn_server(listener, state);
    TestServer {
        url,
        pool,
        storage,
        shutdown: Some(tx),
        task,
    }
}

/// A signed-in API client of one shop.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    pub user_id: String,
    pub shop_id: String,
    /// The refresh cookie's value.
    pub refresh: String,
}

pub fn refresh_cookie_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("printstall_refresh="))
        .map(|v| {
            v.trim_start_matches("printstall_refresh=")
                .split(';')
                .next()
                .unwrap()
                .to_owned()
        })
}

impl Api {
    pub fn from_session(base: &str, body: &serde_json::Value, refresh: String) -> Self {
        Self {
            base: base.to_owned(),
            http: reqwest::Client::new(),
            token: body["access_token"].as_str().unwrap().to_owned(),
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
            shop_id: body["shop_id"].as_str().unwrap().to_owned(),
            refresh,
        }
    }

    /// Registers `email` with its own shop (EUR, 19 % included).
    pub async fn register(base: &str, email: &str) -> Self {
        let r = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/register"))
            .json(&serde_json::json!({
                "email": email,
                "display_name": "Test Person",
                "password": "correct horse battery",
                "shop": {"name": "Test stall", "currency": "EUR", "time_zone": "Europe/Berlin", "tax_rate_bp": 1900}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "register {email}");
        let refresh = refresh_cookie_of(&r).unwrap();
        let body: serde_json::Value = r.json().await.unwrap();
        Self::from_session(base, &body, refresh)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::DELETE, path, None).await
    }
}

pub mod fixtures;
pub mod uploads;

/// A connection to the test database as the app role (`printstall_app`), which row-level
/// security binds.
pub async fn app_connection(pool: &PgPool) -> sqlx::PgConnection {
    use sqlx::Connection;
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .username(printstall_server::tenancy::APP_ROLE);
    sqlx::PgConnection::connect_with(&options).await.unwrap()
}
