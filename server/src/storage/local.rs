//! The local folder backend. Its presigned URLs point at this server's `/files/` route.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use super::signed_url::UrlSigner;
use super::{ObjectInfo, ObjectKey, PresignedUrl, StorageError, UploadedPart};

/// No file at a path: nothing there, or a file where the path wants a folder.
fn missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

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

    /// [`LocalStore::put`] from a stream of chunks (a request body), never holding more than
    /// one chunk; past `limit` bytes it stops and leaves nothing. Returns the bytes written.
    pub async fn put_stream<S, E>(
        &self,
        key: &ObjectKey,
        mut body: S,
        limit: u64,
    ) -> Result<u64, StorageError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let path = self.path_of(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temp = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
        let written = async {
            let mut out = tokio::fs::File::create(&temp).await?;
            let mut written = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk
                    .map_err(|e| StorageError::Refused(format!("the upload broke off: {e}")))?;
                written += chunk.len() as u64;
                if written > limit {
                    return Err(StorageError::TooLarge { limit });
                }
                out.write_all(&chunk).await?;
            }
            out.flush().await?;
            tokio::fs::rename(&temp, &path).await?;
            Ok(written)
        }
        .await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        written
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

    pub async fn size(&self, key: &ObjectKey) -> Result<u64, StorageError> {
        match tokio::fs::metadata(self.path_of(key)).await {
            Ok(meta) if meta.is_file() => Ok(meta.len()),
            Ok(_) => Err(StorageError::NotFound(key.to_string())),
            Err(e) if missing(&e) => Err(StorageError::NotFound(key.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn read_range(
        &self,
        key: &ObjectKey,
        offset: u64,
        len: u64,
    ) -> Result<Bytes, StorageError> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut file = self.open_file(key).await?;
        let size = file.metadata().await?.len();
        if offset >= size {
            return Ok(Bytes::new());
        }
        let want = len.min(size - offset);
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        let mut data = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        file.take(want).read_to_end(&mut data).await?;
        Ok(Bytes::from(data))
    }

    async fn open_file(&self, key: &ObjectKey) -> Result<tokio::fs::File, StorageError> {
        match tokio::fs::File::open(self.path_of(key)).await {
            Ok(file) => Ok(file),
            Err(e) if missing(&e) => Err(StorageError::NotFound(key.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn open(&self, key: &ObjectKey) -> Result<super::ObjectReader, StorageError> {
        Ok(Box::pin(self.open_file(key).await?))
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

    /// The folder of a multipart upload's parts: `{key}.parts/{number}`.
    fn parts_folder(key: &ObjectKey) -> Result<ObjectKey, StorageError> {
        ObjectKey::parse(&format!("{key}.parts")).map_err(|e| StorageError::Refused(e.to_string()))
    }

    /// The key a multipart upload's part `number` is stored under (a plain object of this
    /// store, so the `/files/` route takes it like any other signed `PUT`).
    pub fn part_key(key: &ObjectKey, number: u32) -> Result<ObjectKey, StorageError> {
        Ok(Self::parts_folder(key)?.join(&format!("{number:05}")))
    }

    pub async fn uploaded_parts(&self, key: &ObjectKey) -> Result<Vec<UploadedPart>, StorageError> {
        let folder = Self::parts_folder(key)?;
        let mut parts: Vec<UploadedPart> = self
            .list(&folder)
            .await?
            .into_iter()
            .filter_map(|o| {
                let number = o.key.rsplit('/').next()?.parse().ok()?;
                Some(UploadedPart {
                    number,
                    size: o.size,
                    etag: None,
                })
            })
            .collect();
        parts.sort_by_key(|p| p.number);
        Ok(parts)
    }

    /// Joins the parts, in order, into `key` (through a temporary file and a rename), then
    /// deletes them.
    pub async fn complete_multipart(
        &self,
        key: &ObjectKey,
        parts: &[UploadedPart],
    ) -> Result<(), StorageError> {
        use tokio::io::AsyncWriteExt;
        let path = self.path_of(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let temp = path.with_extension(format!("partial-{}", uuid::Uuid::new_v4().simple()));
        let joined = async {
            let mut out = tokio::fs::File::create(&temp).await?;
            for p in parts {
                let mut part =
                    tokio::fs::File::open(self.path_of(&Self::part_key(key, p.number)?)).await?;
                tokio::io::copy(&mut part, &mut out).await?;
            }
            out.flush().await?;
            out.sync_all().await?;
            tokio::fs::rename(&temp, &path).await?;
            Ok::<(), StorageError>(())
        };
        if let Err(e) = joined.await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e);
        }
        self.abort_multipart(key).await
    }

    /// Deletes every part of a multipart upload.
    pub async fn abort_multipart(&self, key: &ObjectKey) -> Result<(), StorageError> {
        let folder = self.path_of(&Self::parts_folder(key)?);
        match tokio::fs::remove_dir_all(&folder).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}
