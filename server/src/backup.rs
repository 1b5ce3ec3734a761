//! The file-store half of backups (issue 7), for `scripts/backup` and `scripts/restore`
//! (which do the database half with `pg_dump` / `pg_restore`):
//!
//! - `printstall files backup --to DIR`: copies every object under `shops/` from the
//!   configured store (local folder or S3) to `DIR/objects/<key>`, streamed, and writes
//!   `DIR/objects.tsv` (key, bytes, SHA-256; one line each, sorted by key).
//! - `printstall files restore --from DIR`: puts every listed object back after checking
//!   its SHA-256, and deletes objects under `shops/` that the listing does not have (made
//!   after the backup; the restored database does not know them).
//! - `printstall sync new-epoch`: gives every shop a new sync epoch, so every device's
//!   next pull answers `409 resync_required`: it pulls from scratch and pushes again the
//!   ops it still holds (those already in the backup are answered `duplicate`, the others
//!   are applied), so nothing a device still holds is lost.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::storage::{ObjectKey, Storage, StorageError};

pub const LISTING: &str = "objects.tsv";
pub const OBJECTS: &str = "objects";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("file store: {0}")]
    Storage(#[from] StorageError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Listing(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What was copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FilesSummary {
    pub objects: u64,
    pub bytes: u64,
    /// Objects deleted from the store because the backup does not have them (restore).
    pub removed: u64,
}

fn root() -> ObjectKey {
    // A constant valid key.
    ObjectKey::parse("shops").unwrap_or_else(|_| ObjectKey::shop_prefix(uuid::Uuid::nil()))
}

/// Copies every object of every shop into `dir`.
pub async fn backup_files(storage: &Storage, dir: &Path) -> Result<FilesSummary, BackupError> {
    let objects_dir = dir.join(OBJECTS);
    tokio::fs::create_dir_all(&objects_dir)
        .await
        .map_err(io_at(&objects_dir))?;
    let mut listing = String::new();
    let mut summary = FilesSummary::default();
    let mut buf = vec![0u8; 64 * 1024];
    for object in storage.list(&root()).await? {
        let key = ObjectKey::parse(&object.key).map_err(|e| BackupError::Listing(e.to_string()))?;
        let target = objects_dir.join(key.as_str());
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io_at(parent))?;
        }
        let mut reader = storage.open(&key).await?;
        let mut file = tokio::fs::File::create(&target)
            .await
            .map_err(io_at(&target))?;
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        loop {
            let n = reader.read(&mut buf).await.map_err(io_at(&target))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).await.map_err(io_at(&target))?;
            bytes += n as u64;
        }
        file.flush().await.map_err(io_at(&target))?;
        listing.push_str(&format!(
            "{}\t{bytes}\t{}\n",
            key,
            hex::encode(hasher.finalize())
        ));
        summary.objects += 1;
        summary.bytes += bytes;
    }
    let path = dir.join(LISTING);
    tokio::fs::write(&path, listing)
        .await
        .map_err(io_at(&path))?;
    Ok(summary)
}

/// Reads `objects.tsv`: key -> (bytes, sha256).
pub fn read_listing(text: &str) -> Result<BTreeMap<String, (u64, String)>, BackupError> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || {
            BackupError::Listing(format!(
                "{LISTING} line {}: {line:?} is not `key<TAB>bytes<TAB>sha256`",
                n + 1
            ))
        };
        let mut parts = line.split('\t');
        let (Some(key), Some(bytes), Some(sha), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let bytes: u64 = bytes.parse().map_err(|_| bad())?;
        if ObjectKey::parse(key).is_err() || sha.len() != 64 {
            return Err(bad());
        }
        out.insert(key.to_owned(), (bytes, sha.to_owned()));
    }
    Ok(out)
}

/// Puts every object of a backup back into the store (checked against the listing) and
/// removes the store's objects that the backup does not list. With `check_only`, checks
/// the backup's objects against the listing and changes nothing.
pub async fn restore_files(
    storage: &Storage,
    dir: &Path,
    check_only: bool,
) -> Result<FilesSummary, BackupError> {
    let listing_path = dir.join(LISTING);
    let text = tokio::fs::read_to_string(&listing_path)
        .await
        .map_err(io_at(&listing_path))?;
    let listing = read_listing(&text)?;
    let mut summary = FilesSummary::default();
    // Check everything before changing the store.
    for (key, (bytes, sha)) in &listing {
        let path = dir.join(OBJECTS).join(key);
        let data = tokio::fs::read(&path).await.map_err(io_at(&path))?;
        if data.len() as u64 != *bytes || hex::encode(Sha256::digest(&data)) != *sha {
            return Err(BackupError::Listing(format!(
                "{} does not match its line in {LISTING} (size or SHA-256); the backup is damaged",
                path.display()
            )));
        }
        if check_only {
            summary.objects += 1;
            summary.bytes += bytes;
        }
    }
    if check_only {
        return Ok(summary);
    }
    for (key, (bytes, _)) in &listing {
        let path = dir.join(OBJECTS).join(key);
        let data = tokio::fs::read(&path).await.map_err(io_at(&path))?;
        let key = ObjectKey::parse(key).map_err(|e| BackupError::Listing(e.to_string()))?;
        storage.put(&key, bytes::Bytes::from(data)).await?;
        summary.objects += 1;
        summary.bytes += bytes;
    }
    for object in storage.list(&root()).await? {
        if listing.contains_key(&object.key) {
            continue;
        }
        if let Ok(key) = ObjectKey::parse(&object.key) {
            storage.delete(&key).await?;
            summary.removed += 1;
        }
    }
    Ok(summary)
}

/// A new sync epoch for every shop (after a restore). Returns the shops changed.
///
/// `shop_sync` has forced row-level security, which binds the owner connection too unless
/// it is a superuser, so the shops are found through their members (`app_user` is not
/// forced; a member sees their memberships) and each is changed with its tenant set.
pub async fn new_sync_epoch(pool: &PgPool) -> Result<u64, BackupError> {
    let mut tx = crate::db::begin(pool).await?;
    let users: Vec<uuid::Uuid> = sqlx::query_scalar(r#"select id from app_user"#)
        .fetch_all(&mut *tx)
        .await?;
    let mut shops = std::collections::BTreeSet::new();
    for user in users {
        crate::tenancy::set_tenant(&mut tx, None, Some(user)).await?;
        let mine: Vec<uuid::Uuid> =
            sqlx::query_scalar(r#"select shop_id from membership where user_id = $1"#)
                .bind(user)
                .fetch_all(&mut *tx)
                .await?;
        shops.extend(mine);
    }
    let mut changed = 0;
    for shop in shops {
        crate::tenancy::set_tenant(&mut tx, Some(shop), None).await?;
        changed +=
            sqlx::query(r#"update shop_sync set epoch = gen_random_uuid() where shop_id = $1"#)
                .bind(shop)
                .execute(&mut *tx)
                .await?
                .rows_affected();
    }
    tx.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn listing_round_trips_and_refuses_junk() {
        let sha = "a".repeat(64);
        let l = read_listing(&format!("shops/x/uploads/1\t12\t{sha}\n\n")).unwrap();
        assert_eq!(l["shops/x/uploads/1"], (12, sha.clone()));
        assert!(read_listing("shops/x\t12").is_err());
        assert!(read_listing(&format!("../etc\t1\t{sha}")).is_err());
        assert!(read_listing(&format!("shops/x\tmany\t{sha}")).is_err());
    }
}
