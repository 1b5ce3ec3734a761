//! File storage with two real backends: a local folder (the embedded default) and any
//! S3-compatible store. Both hand out presigned URLs that a plain HTTP client can use.

mod key;
mod local;
mod s3;
pub mod signed_url;

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

/// An object's bytes as they arrive from the store (never all in memory at once).
pub type ObjectReader = Pin<Box<dyn tokio::io::AsyncRead + Send>>;

pub use key::{KeyError, ObjectKey};
pub use local::LocalStore;
pub use s3::S3Store;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no file is stored at {0}")]
    NotFound(String),
    #[error(
        "the file store at {endpoint} does not answer: {detail}; check S3_ENDPOINT and that the store is running"
    )]
    Unreachable { endpoint: String, detail: String },
    #[error("the file store refused the request: {0}")]
    Refused(String),
    #[error("file store I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
}

/// One part of a multipart upload, as the store has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    /// 1-based.
    pub number: u32,
    pub size: u64,
    /// What S3 needs to complete the upload (the local store has none).
    pub etag: Option<String>,
}

/// A URL that allows one method on one key until it expires.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PresignedUrl {
    pub method: &'static str,
    pub url: String,
    pub expires_in_s: u64,
}

#[derive(Debug, Clone)]
pub enum Storage {
    Local(LocalStore),
    S3(S3Store),
}

impl Storage {
    pub fn describe(&self) -> String {
        match self {
            Storage::Local(s) => format!("local folder {}", s.root().display()),
            Storage::S3(s) => s.describe(),
        }
    }

    /// Fails with a clear message when the store cannot be used (folder not writable,
    /// endpoint down, bucket missing).
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            Storage::Local(s) => s.check().await,
            Storage::S3(s) => s.check().await,
        }
    }

    pub async fn put(&self, key: &ObjectKey, body: Bytes) -> Result<(), StorageError> {
        match self {
            Storage::Local(s) => s.put(key, body).await,
            Storage::S3(s) => s.put(key, body).await,
        }
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<Bytes, StorageError> {
        match self {
            Storage::Local(s) => s.get(key).await,
            Storage::S3(s) => s.get(key).await,
        }
    }

    /// Streams an object (export, backup): the reader yields its bytes as the store sends them.
    pub async fn open(&self, key: &ObjectKey) -> Result<ObjectReader, StorageError> {
        match self {
            Storage::Local(s) => s.open(key).await,
            Storage::S3(s) => s.open(key).await,
        }
    }

    /// Deletes every object under `prefix` (a folder-like key, e.g. `shops/<id>`), and on an
    /// S3 bucket with versioning every older version and delete marker too. Returns how
    /// many objects were found. Erasure uses it.
    pub async fn delete_prefix(&self, prefix: &ObjectKey) -> Result<u64, StorageError> {
        match self {
            Storage::Local(s) => s.delete_prefix(prefix).await,
            Storage::S3(s) => s.delete_prefix(prefix).await,
        }
    }

    /// Deleting a key that is not there is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match self {
            Storage::Local(s) => s.delete(key).await,
            Storage::S3(s) => s.delete(key).await,
        }
    }

    /// Every object under `prefix` (a folder-like key, e.g. `shops/<id>`), sorted by key.
    pub async fn list(&self, prefix: &ObjectKey) -> Result<Vec<ObjectInfo>, StorageError> {
        let mut found = match self {
            Storage::Local(s) => s.list(prefix).await?,
            Storage::S3(s) => s.list(prefix).await?,
        };
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    pub async fn presign_put(
        &self,
        key: &ObjectKey,
        expires: Duration,
    ) -> Result<PresignedUrl, StorageError> {
        match self {
            Storage::Local(s) => Ok(s.presign("PUT", key, expires)),
            Storage::S3(s) => s.presign_put(key, expires).await,
        }
    }

    pub async fn presign_get(
        &self,
        key: &ObjectKey,
        expires: Duration,
    ) -> Result<PresignedUrl, StorageError> {
        match self {
            Storage::Local(s) => Ok(s.presign("GET", key, expires)),
            Storage::S3(s) => s.presign_get(key, expires).await,
        }
    }

    /// Starts a multipart upload to `key`; returns its id (`local` for the local store,
    /// whose parts are plain objects under `{key}.parts/`).
    pub async fn start_multipart(&self, key: &ObjectKey) -> Result<String, StorageError> {
        match self {
            Storage::Local(_) => Ok(LOCAL_MULTIPART_ID.to_owned()),
            Storage::S3(s) => s.start_multipart(key).await,
        }
    }

    /// A presigned `PUT` URL for part `number` (1-based) of a multipart upload.
    pub async fn presign_part(
        &self,
        key: &ObjectKey,
        multipart_id: &str,
        number: u32,
        expires: Duration,
    ) -> Result<PresignedUrl, StorageError> {
        match self {
            Storage::Local(s) => Ok(s.presign("PUT", &LocalStore::part_key(key, number)?, expires)),
            Storage::S3(s) => s.presign_part(key, multipart_id, number, expires).await,
        }
    }

    /// The parts of a multipart upload the store holds, by number.
    pub async fn uploaded_parts(
        &self,
        key: &ObjectKey,
        multipart_id: &str,
    ) -> Result<Vec<UploadedPart>, StorageError> {
        match self {
            Storage::Local(s) => s.uploaded_parts(key).await,
            Storage::S3(s) => s.uploaded_parts(key, multipart_id).await,
        }
    }

    /// Joins `parts` into the object `key`.
    pub async fn complete_multipart(
        &self,
        key: &ObjectKey,
        multipart_id: &str,
        parts: &[UploadedPart],
    ) -> Result<(), StorageError> {
        match self {
            Storage::Local(s) => s.complete_multipart(key, parts).await,
            Storage::S3(s) => s.complete_multipart(key, multipart_id, parts).await,
        }
    }

    /// Drops a multipart upload and its parts; one that is gone already is not an error.
    pub async fn abort_multipart(
        &self,
        key: &ObjectKey,
        multipart_id: &str,
    ) -> Result<(), StorageError> {
        match self {
            Storage::Local(s) => s.abort_multipart(key).await,
            Storage::S3(s) => s.abort_multipart(key, multipart_id).await,
        }
    }
}

/// The multipart id the local store uses (its parts are found by the object key).
pub const LOCAL_MULTIPART_ID: &str = "local";
