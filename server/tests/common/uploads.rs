//! File uploads for the API tests: the real router with the local store or the test S3
//! server, presigned `PUT`s by a plain HTTP client, multipart uploads, and large G-code built
//! from a real sliced file.

use printstall_server::app::AppState;
use printstall_server::secret::Secret;
use printstall_server::storage::signed_url::UrlSigner;
use printstall_server::storage::{LocalStore, ObjectKey, S3Store, Storage};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{Api, TEST_JWT_SECRET, settings_with};

/// The folder of the real sliced files (never copied into the repository).
pub fn slicefile(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/slicefiles")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub struct FileServer {
    pub url: String,
    pub storage: Storage,
    pub pool: PgPool,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    _files: tempfile::TempDir,
}

impl FileServer {
    /// The real router on a free port over `pool`, with the local store (`s3` false) or the
    /// test S3 server, and the given shop quota.
    pub async fn start(pool: PgPool, s3: bool, quota: Option<u64>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let files = tempfile::tempdir().unwrap();
        let storage = if s3 {
            Storage::S3(S3Store::new(&super::s3_settings()))
        } else {
            Storage::Local(LocalStore::new(
                files.path().join("files"),
                url.clone(),
                UrlSigner::new(Secret::new("test-signing-key")),
            ))
        };
        storage.check().await.unwrap();
        let dir = files.path().to_str().unwrap().to_owned();
        let quota = quota.map(|q| q.to_string());
        let mut pairs = vec![
            ("PRINTSTALL_PWA_DIR", dir.as_str()),
            ("PRINTSTALL_DATA_DIR", dir.as_str()),
            ("PRINTSTALL_JWT_SECRET", TEST_JWT_SECRET),
        ];
        if let Some(q) = &quota {
            pairs.push(("PRINTSTALL_SHOP_QUOTA_BYTES", q.as_str()));
        }
        let state = AppState::new(pool.clone(), storage.clone(), settings_with(&pairs)).unwrap();
        let (shutdown, task) = super::spawn_server(listener, state);
        Self {
            url,
            storage,
            pool,
            shutdown,
            task,
            _files: files,
        }
    }

    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }

    /// Every object key under the shop's prefix, sorted.
    pub async fn stored(&self, api: &Api) -> Vec<String> {
        let prefix = ObjectKey::shop_prefix(api.shop_id.parse().unwrap());
        self.storage
            .list(&prefix)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect()
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `POST path` (`/variants/{id}/files` or `/models/{id}/files`) for `data` named `name`;
/// must be 201.
pub async fn start_upload(api: &Api, path: &str, name: &str, data: &[u8]) -> Value {
    start_upload_as(api, path, name, data.len(), &sha256_hex(data)).await
}

/// [`start_upload`] with the size and hash to announce (a lie, for refusals).
pub async fn start_upload_as(api: &Api, path: &str, name: &str, size: usize, sha: &str) -> Value {
    let (status, out) = api
        .post(
            path,
            json!({"file_name": name, "size_bytes": size, "sha256": sha}),
        )
        .await;
    assert_eq!(status, 201, "{out}");
    out
}

pub async fn put_bytes(url: &str, data: &[u8]) {
    let r = reqwest::Client::new()
        .put(url)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "PUT {url}: {}", r.status());
}

pub async fn fetch(url: &str) -> Vec<u8> {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "GET {url}");
    r.bytes().await.unwrap().to_vec()
}

pub async fn complete(api: &Api, upload_id: &str) -> (u16, Value) {
    api.post(&format!("/uploads/{upload_id}/complete"), json!({}))
        .await
}

/// Sends the bytes of a started upload: one `PUT`, or each part of a multipart upload.
pub async fn send(started: &Value, data: &[u8]) {
    if let Some(url) = started["upload"]["url"].as_str() {
        return put_bytes(url, data).await;
    }
    let part_size = started["multipart"]["part_size_bytes"].as_u64().unwrap() as usize;
    for part in started["multipart"]["parts"].as_array().unwrap() {
        let start = (part["number"].as_u64().unwrap() as usize - 1) * part_size;
        let end = (start + part_size).min(data.len());
        put_bytes(part["url"].as_str().unwrap(), &data[start..end]).await;
    }
}

/// Uploads `data` as `name` to `path`, in one `PUT` or in parts, and completes it (must be 201).
pub async fn upload(api: &Api, path: &str, name: &str, data: &[u8]) -> Value {
    let started = start_upload(api, path, name, data).await;
    send(&started, data).await;
    let (status, file) = complete(api, started["upload_id"].as_str().unwrap()).await;
    assert_eq!(status, 201, "{file}");
    file
}

/// (max_side, width, height) of each thumbnail of a file.
pub fn sides(file: &Value) -> Vec<(u64, u64, u64)> {
    file["thumbnails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["max_side"].as_u64().unwrap(),
                t["width"].as_u64().unwrap(),
                t["height"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// (version, current) of each item of a file list.
pub fn versions(list: &Value) -> Vec<(i64, bool)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["version"].as_i64().unwrap(),
                f["current"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// A G-code of at least `size` bytes made from a real one the way scripts/bench makes its
/// scaled files: the real head (up to the first move) and tail (from the last `M84` before
/// the statistics), and the body between them repeated.
pub fn scaled_gcode(real: &[u8], size: usize) -> Vec<u8> {
    let find = |needle: &[u8], from: usize| {
        real[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    };
    let start = find(b"\nG1 ", 0).unwrap() + 1;
    let stats = find(b"\n; filament used [mm]", start).unwrap();
    let tail_at = real[..stats]
        .windows(4)
        .rposition(|w| w == b"\nM84")
        .unwrap()
        + 1;
    let (head, body, tail) = (&real[..start], &real[start..tail_at], &real[tail_at..]);
    let mut out = Vec::with_capacity(size + body.len() + tail.len());
    out.extend_from_slice(head);
    while out.len() + tail.len() < size {
        out.extend_from_slice(body);
    }
    out.extend_from_slice(tail);
    out
}
