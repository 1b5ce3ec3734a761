//! The local folder backend. Its presigned URLs point at this server's `/files/` route.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use super::signed_url::UrlSigner;
use super::{ObjectInfo, ObjectKey, PresignedUrl, StorageError};

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    base_url: String,
    signer: UrlSigner,
}

impl LocalStore {
    /// `base_url`: how browsers reach this server, e.g. `http://127.0.0.1:8080`.
    pub fn new(root: PathBuf, base_url: String, signer: UrlSigner) -> Self {
        Self {
            root,
            base_url,
            signer,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn signer(&self) -> &UrlSigner {
        &self.signer
    }

    fn path_of(&self, key: &ObjectKey) -> PathBuf {
        // ObjectKey holds only safe segments, so this stays inside `root`.
        self.root.join(key.as_str())
    }

    pub async fn check(&self) -> Result<(), StorageError> {
        tokio::fs::create_dir_all(&self.root).await?;
        let probe = self.root.join(".write-check");
        tokio::fs::write(&probe, b"ok").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(())
    }

    /// Writes to a temporary file first and renames it, so a reader never sees half a file.
    pub async fn put(&self, key: &ObjectKey, body: Bytes) -> Result<(), StorageError> {
        let path = self.path_of(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temp = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&temp, &body).await?;
        if let Err(e) = tokio::fs::rename(&temp, &path).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e.into());
        }
        Ok(())
    }

    pub async fn get(&self, key: &ObjectKey) -> Result<Bytes, StorageError> {
        match tokio::fs::read(self.path_of(key)).await {
            Ok(data) => Ok(Bytes::from(data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn open(&self, key: &ObjectKey) -> Result<super::ObjectReader, StorageError> {
        match tokio::fs::File::open(self.path_of(key)).await {
            Ok(file) => Ok(Box::pin(file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the prefix's whole folder (partial uploads included).
    pub async fn delete_prefix(&self, prefix: &ObjectKey) -> Result<u64, StorageError> {
        let found = self.list(prefix).await?.len() as u64;
        match tokio::fs::remove_dir_all(self.path_of(prefix)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(found),
        }
    }

    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.path_of(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    pub async fn list(&self, prefix: &ObjectKey) -> Result<Vec<ObjectInfo>, StorageError> {
        let mut found = Vec::new();
        let mut pending = vec![self.path_of(prefix)];
        while let Some(dir) = pending.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            while let Some(entry) = entries.next_entry().await? {
                let meta = entry.metadata().await?;
                let path = entry.path();
                if meta.is_dir() {
                    pending.push(path);
                    continue;
                }
                let Ok(relative) = path.strip_prefix(&self.root) else {
                    continue;
                };
                let key = relative.to_string_lossy().replace('\\', "/");
                if key.contains(".partial-") {
                    continue;
                }
                found.push(ObjectInfo {
                    key,
                    size: meta.len(),
                });
            }
        }
        Ok(found)
    }

    pub fn presign(
        &self,
        method: &'static str,
        key: &ObjectKey,
        expires: Duration,
    ) -> PresignedUrl {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let expires_unix = now.saturating_add(i64::try_from(expires.as_secs()).unwrap_or(i64::MAX));
        let sig = self.signer.sign(method, key.as_str(), expires_unix);
        PresignedUrl {
            method,
            url: format!(
                "{}/files/{}?expires={expires_unix}&sig={sig}",
                self.base_url, key
            ),
            expires_in_s: expires.as_secs(),
        }
    }
}
