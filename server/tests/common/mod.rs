//! Shared test support: the test database and S3 server that scripts/test starts, and the
//! real router served on a free port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

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

pub fn settings_with(pairs: &[(&str, &str)]) -> Settings {
    let values: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
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
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }
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
    let settings = settings_with(&[("PRINTSTALL_PWA_DIR", pwa_dir.to_str().unwrap())]);
    let state = AppState {
        db: pool.clone(),
        storage: storage.clone(),
        settings: Arc::new(settings),
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app::serve(state, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    TestServer {
        url,
        pool,
        storage,
        shutdown: Some(tx),
        task,
    }
}
