//! File storage with two real backends: a local folder (the embedded default) and any
//! S3-compatible store. Both hand out presigned URLs that a plain HTTP client can use.

mod key;
mod local;
mod ranged;
mod s3;
pub mod signed_url;

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

/// An object's bytes as they arrive from the store (never all in memory at once).
pub type ObjectReader = Pin<Box<dyn tokio::io::AsyncRead + Send>>;

pub use key::{KeyError, ObjectKey};
pub use local::LocalStore;
pub use ranged::{MAX_FETCH, MIN_FETCH, RangedReader};
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
    #[error("the file is larger than the {limit}-byte limit of one upload")]
    TooLarge { limit: u64 },
}

/// An object's size and SHA-256 as read back from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDigest {
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
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

    /// A whole object in memory: for small ones (thumbnails, tests). Large files are read
    /// with [`Storage::open`], [`Storage::read_range`] or a [`RangedReader`].
    pub async fn get(&self, key: &ObjectKey) -> Result<Bytes, StorageError> {
        match self {
            Storage::Local(s) => s.get(key).await,
            Storage::S3(s) => s.get(key).await,
        }
    }

    /// The object's size in bytes (`NotFound` when there is none).
    pub async fn size(&self, key: &ObjectKey) -> Result<u64, StorageError> {
        match self {
            Storage::Local(s) => s.size(key).await,
            Storage::S3(s) => s.size(key).await,
        }
    }

    /// Up to `len` bytes at `offset` (fewer only at the end of the object; none past it).
    pub async fn read_range(
        &self,
        key: &ObjectKey,
        offset: u64,
        len: u64,
    ) -> Result<Bytes, StorageError> {
        if len == 0 {
            return Ok(Bytes::new());
        }
        match self {
            Storage::Local(s) => s.read_range(key, offset, len).await,
            Storage::S3(s) => s.read_range(key, offset, len).await,
        }
    }

    /// Size and SHA-256 of the object, from one streamed read (a few hundred KiB in memory
    /// whatever its size).
    pub async fn digest(&self, key: &ObjectKey) -> Result<ObjectDigest, StorageError> {
        use sha2::Digest;
        use tokio::io::AsyncReadExt;
        let mut reader = self.open(key).await?;
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; DIGEST_BUFFER];
        let mut size = 0u64;
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok(ObjectDigest {
            size,
            sha256: hex::encode(hasher.finalize()),
        })
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

/// The read buffer of [`Storage::digest`].
const DIGEST_BUFFER: usize = 256 * 1024;

/// The multipart id the local store uses (its parts are found by the object key).
pub const LOCAL_MULTIPART_ID: &str = "local";
