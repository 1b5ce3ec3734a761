//! `GET /api/v1/export` (owner): everything the shop and the signed-in user hold, as one
//! zip written while it downloads (GDPR data portability, issue 7).
//!
//! Inside:
//! - `data/<table>.json`: every row of every shop table the app role may read (found in
//!   `information_schema`, so tables added later are exported too; not the search index
//!   tables, which only index the others), one JSON array each;
//!   `data/shop.json` with the business details opened; hashes of secrets are left out.
//! - `ledgers/stock_entries.csv`, `ledgers/spool_usage.csv`, `sales/sales.csv`,
//!   `sales/sale_lines.csv`.
//! - `account/user.json`, `account/memberships.json`, `account/sessions.json`.
//! - `files/<variant id>/v<version>/<file name>` for every version of every sliced file,
//!   with its thumbnails beside it, streamed from the file store; anything else under the
//!   shop's prefix in the store goes to `files/other/...`.
//! - `manifest.json` (last): every entry with its size and SHA-256, the row counts, and for
//!   sliced files the SHA-256 recorded at upload.
//!
//! Memory stays flat whatever the shop's size: the zip is written by `zip`'s stream writer
//! on a blocking thread into a small bounded channel that feeds the response body; rows are
//! read one at a time from a cursor and files in 64 KiB pieces, both pulled from the async
//! side with `Handle::block_on`. All rows come from one repeatable-read, read-only
//! transaction (a consistent snapshot) as the app role under row-level security. A client
//! that goes away stops the export (the channel closes). A failure after the first byte can
//! only cut the download short: the zip then has no central directory and no manifest, so
//! no tool takes it for a complete export; it is logged.

use std::io::{self, Write};

/// Shop tables that only index other tables (rebuilt from them by their triggers): not the
/// shop's data, so not exported.
const DERIVED_TABLES: &[&str] = &["product_search_trigram"];

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures_util::TryStreamExt;
use printstall_core::domain::member::Action;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use tokio::io::AsyncReadExt;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use uuid::Uuid;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

use crate::api::common::{ApiResult, db, require};
use crate::api::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::crypto::KeyRing;
use crate::error::ApiError;
use crate::storage::{ObjectKey, Storage, StorageError};

pub fn routes(r: Routes) -> Routes {
    r.route("/export", &[Method::GET], get(handler))
}

/// Columns never exported (hashes of secrets).
const SECRET_COLUMNS: &[&str] = &["password_hash", "token_hash", "code_hash"];
/// Pieces of the zip in flight between the writer thread and the response.
const CHANNEL_CHUNKS: usize = 8;
const CHUNK: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("writing the zip: {0}")]
    Io(#[from] io::Error),
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("file store: {0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Other(String),
}

impl ExportError {
    /// The client closed the download (not a failure of the export).
    fn download_closed(&self) -> bool {
        let io = match self {
            ExportError::Io(e) => e,
            ExportError::Zip(zip::result::ZipError::Io(e)) => e,
            _ => return false,
        };
        io.kind() == io::ErrorKind::BrokenPipe
    }
}

/// One line of `manifest.json`.
#[derive(Debug, Serialize)]
pub struct ManifestEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// Rows in a JSON or CSV entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// The file store key a file came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key: Option<String>,
    /// The SHA-256 recorded when the file was uploaded (equal to `sha256` unless the stored
    /// object was changed since).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_sha256: Option<String>,
}

/// Sends the zip's bytes into the response channel; blocks while the client is slower.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the download was closed"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

async fn handler(State(state): State<ApiState>, auth: AuthUser) -> ApiResult<Response> {
    require(&auth, Action::Export)?;
    // Checked before the first byte: the shop is there and the database answers.
    let mut tx = state.tx(&auth).await?;
    let exists: Option<Uuid> = sqlx::query_scalar(r#"select id from shop where id = $1"#)
        .bind(auth.shop_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    if exists.is_none() {
        return Err(ApiError::NotFound("shop".into()));
    }
    let (sender, mut receiver) = mpsc::channel::<Result<Bytes, io::Error>>(CHANNEL_CHUNKS);
    let job = Job {
        state: state.clone(),
        auth,
        rt: Handle::current(),
    };
    let failure = sender.clone();
    tokio::task::spawn_blocking(move || {
        let writer = io::BufWriter::with_capacity(CHUNK, ChannelWriter { tx: sender });
        match job.run(writer) {
            Ok(()) => tracing::info!(shop = %auth.shop_id, "export written"),
            Err(e) if e.download_closed() => {
                tracing::info!(shop = %auth.shop_id, "export stopped: the download was closed");
            }
            Err(e) => {
                tracing::error!(shop = %auth.shop_id, error = %e, "export failed part way");
                let _ = failure.blocking_send(Err(io::Error::other("the export failed")));
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let date = OffsetDateTime::now_utc().date();
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"printstall-export-{date}.zip\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

struct Job {
    state: ApiState,
    auth: AuthUser,
    rt: Handle,
}

type Zip<W> = ZipWriter<StreamWriter<W>>;

/// The zip being written, and what the manifest will list.
struct Archive<W: Write> {
    zip: Zip<W>,
    manifest: Vec<ManifestEntry>,
}

/// One entry being written: hashes and counts what goes into the zip.
struct EntryWriter<'a, W: Write> {
    zip: &'a mut Zip<W>,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for EntryWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.zip.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn options(compress: bool, large: bool) -> SimpleFileOptions {
    let method = if compress {
        CompressionMethod::Deflated
    } else {
        CompressionMethod::Stored
    };
    SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(compress.then_some(3))
        .large_file(large)
        .unix_permissions(0o644)
}

impl<W: Write> Archive<W> {
    fn start(&mut self, path: &str, compress: bool, large: bool) -> Result<(), ExportError> {
        self.zip.start_file(path, options(compress, large))?;
        Ok(())
    }

    fn entry(&mut self) -> EntryWriter<'_, W> {
        EntryWriter {
            zip: &mut self.zip,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    fn record(&mut self, path: &str, done: (Sha256, u64), rows: Option<u64>) -> &mut ManifestEntry {
        self.manifest.push(ManifestEntry {
            path: path.to_owned(),
            bytes: done.1,
            sha256: hex::encode(done.0.finalize()),
            rows,
            source_key: None,
            recorded_sha256: None,
        });
        let last = self.manifest.len() - 1;
        &mut self.manifest[last]
    }

    /// A small entry written at once.
    fn whole(&mut self, path: &str, data: &[u8], rows: Option<u64>) -> Result<(), ExportError> {
        self.start(path, true, false)?;
        let mut w = self.entry();
        w.write_all(data)?;
        let done = (w.hasher, w.bytes);
        self.record(path, done, rows);
        Ok(())
    }
}

/// Quotes a CSV field when it needs it.
fn csv_field(out: &mut Vec<u8>, value: Option<&str>) {
    let Some(v) = value else { return };
    if v.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        out.extend_from_slice(v.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(v.as_bytes());
    }
}

/// A user's file name as one safe zip path segment (no folders, no `..`, no control
/// characters).
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')' | '+') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').to_owned();
    if trimmed.is_empty() {
        "file".into()
    } else {
        trimmed
    }
}

/// The CSV entries: (path, table, columns, order).
const CSV_ENTRIES: &[(&str, &str, &[&str], &str)] = &[
    (
        "ledgers/stock_entries.csv",
        "stock_entry",
        &[
            "id",
            "at",
            "product_id",
            "quantity",
            "reason",
            "job_id",
            "sale_id",
            "event_id",
            "user_id",
        ],
        "at, id",
    ),
    (
        "ledgers/spool_usage.csv",
        "spool_usage",
        &[
            "id",
            "at",
            "spool_id",
            "used_cg",
            "overshoot_cg",
            "reason",
            "job_id",
            "user_id",
        ],
        "at, id",
    ),
    (
        "sales/sales.csv",
        "sale",
        &[
            "id",
            "taken_at",
            "event_id",
            "payment_method",
            "subtotal",
            "discount_type",
            "discount_value",
            "discount",
            "tax",
            "total",
            "tax_rate_bp",
            "prices_include_tax",
            "voided",
            "taken_by",
            "device_id",
            "created_at",
        ],
        "taken_at, id",
    ),
    (
        "sales/sale_lines.csv",
        "sale_line",
        &["sale_id", "line_no", "product_id", "quantity", "unit_price"],
        "sale_id, line_no",
    ),
];

impl Job {
    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Writes the whole zip into `out`.
    fn run<W: Write>(self, out: W) -> Result<(), ExportError> {
        let mut archive = Archive {
            zip: ZipWriter::new_stream(out),
            manifest: Vec::new(),
        };
        let shop_id = self.auth.shop_id;
        let mut tx = self.block(async {
            let mut tx = crate::db::begin(&self.state.app).await?;
            sqlx::query("set transaction isolation level repeatable read, read only")
                .execute(&mut *tx)
                .await?;
            crate::tenancy::set_tenant(&mut tx, Some(shop_id), Some(self.auth.user_id)).await?;
            Ok::<_, sqlx::Error>(tx)
        })?;

        self.shop_json(&mut archive, &mut tx)?;
        self.account(&mut archive, &mut tx)?;
        let tables: Vec<String> = self.block(
            sqlx::query_scalar(
                r#"select c.relname::text from pg_class c
                   join pg_namespace n on n.oid = c.relnamespace
                   join pg_attribute a on a.attrelid = c.oid and a.attname = 'shop_id'
                     and not a.attisdropped
                   where n.nspname = current_schema() and c.relkind in ('r', 'p')
                     and has_table_privilege(c.oid, 'SELECT')
                     and c.relname <> all($1)
                   order by 1"#,
            )
            .bind(DERIVED_TABLES)
            .fetch_all(&mut *tx),
        )?;
        for table in &tables {
            self.table_json(&mut archive, &mut tx, table)?;
        }
        for (path, table, columns, order) in CSV_ENTRIES {
            self.csv(&mut archive, &mut tx, path, table, columns, order)?;
        }
        self.files(&mut archive, &mut tx)?;
        self.block(tx.commit())?;

        let manifest = json!({
            "format": "printstall-export/1",
            "shop_id": shop_id,
            "user_id": self.auth.user_id,
            "created_at": OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "server_version": env!("CARGO_PKG_VERSION"),
            "entries": archive.manifest,
        });
        let text =
            serde_json::to_vec_pretty(&manifest).map_err(|e| ExportError::Other(e.to_string()))?;
        archive
            .zip
            .start_file("manifest.json", options(true, false))?;
        archive.zip.write_all(&text)?;
        let stream = archive.zip.finish()?;
        let mut out = stream.into_inner();
        out.flush()?;
        Ok(())
    }

    fn shop_json<W: Write>(
        &self,
        archive: &mut Archive<W>,
        tx: &mut PgConnection,
    ) -> Result<(), ExportError> {
        let row = self.block(
            sqlx::query(r#"select to_jsonb(s) as row, s.* from shop s where id = $1"#)
                .bind(self.auth.shop_id)
                .fetch_one(&mut *tx),
        )?;
        let mut value: Value = row.try_get("row")?;
        let ring: &KeyRing = &self.state.crypto;
        let business = crate::api::shop::open_business(ring, self.auth.shop_id, &row)
            .map_err(|e| ExportError::Other(e.to_string()))?;
        if let Value::Object(m) = &mut value {
            for column in crate::crypto::SHOP_SEALED_COLUMNS {
                m.remove(column);
            }
            m.insert(
                "business".into(),
                serde_json::to_value(&business).map_err(|e| ExportError::Other(e.to_string()))?,
            );
        }
        let text =
            serde_json::to_vec_pretty(&value).map_err(|e| ExportError::Other(e.to_string()))?;
        archive.whole("data/shop.json", &text, Some(1))
    }

    fn account<W: Write>(
        &self,
        archive: &mut Archive<W>,
        tx: &mut PgConnection,
    ) -> Result<(), ExportError> {
        let user_id = self.auth.user_id;
        let user: Option<Value> = self.block(
            sqlx::query_scalar(
                r#"select to_jsonb(u) - 'password_hash' from app_user u where id = $1"#,
            )
            .bind(user_id)
            .fetch_optional(&mut *tx),
        )?;
        let text =
            serde_json::to_vec_pretty(&user).map_err(|e| ExportError::Other(e.to_string()))?;
        archive.whole("account/user.json", &text, Some(u64::from(user.is_some())))?;
        let memberships: Vec<Value> = self.block(
            sqlx::query_scalar(
                r#"select to_jsonb(m) from membership m where user_id = $1 order by created_at"#,
            )
            .bind(user_id)
            .fetch_all(&mut *tx),
        )?;
        let text = serde_json::to_vec_pretty(&memberships)
            .map_err(|e| ExportError::Other(e.to_string()))?;
        archive.whole(
            "account/memberships.json",
            &text,
            Some(memberships.len() as u64),
        )?;
        // Sessions are only visible to the owner connection, for this user (forced
        // row-level security); no token hashes.
        let mut owner_tx =
            self.block(crate::tenancy::begin_for_user(&self.state.owner, user_id))?;
        let sessions: Vec<Value> = self.block(
            sqlx::query_scalar(
                r#"select jsonb_build_object('id', id, 'family_id', family_id, 'shop_id', shop_id,
                       'created_at', created_at, 'expires_at', expires_at,
                       'rotated_at', rotated_at, 'revoked_at', revoked_at)
                   from refresh_token where user_id = $1 order by created_at"#,
            )
            .bind(user_id)
            .fetch_all(&mut *owner_tx),
        )?;
        self.block(owner_tx.commit())?;
        let text =
            serde_json::to_vec_pretty(&sessions).map_err(|e| ExportError::Other(e.to_string()))?;
        archive.whole("account/sessions.json", &text, Some(sessions.len() as u64))
    }

    fn table_json<W: Write>(
        &self,
        archive: &mut Archive<W>,
        tx: &mut PgConnection,
        table: &str,
    ) -> Result<(), ExportError> {
        let path = format!("data/{table}.json");
        archive.start(&path, true, false)?;
        let mut w = archive.entry();
        // `table` comes from information_schema; quoted anyway.
        let sql = format!(
            r#"select to_jsonb(t) - $2::text[] from "{}" t where shop_id = $1"#,
            table.replace('"', "\"\"")
        );
        let secrets: Vec<String> = SECRET_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
        let mut rows = sqlx::query_scalar::<_, Value>(&sql)
            .bind(self.auth.shop_id)
            .bind(&secrets)
            .fetch(&mut *tx);
        let mut count = 0u64;
        w.write_all(b"[")?;
        while let Some(row) = self.block(rows.try_next())? {
            w.write_all(if count == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut w, &row).map_err(io::Error::other)?;
            count += 1;
        }
        w.write_all(b"\n]\n")?;
        drop(rows);
        let done = (w.hasher, w.bytes);
        archive.record(&path, done, Some(count));
        Ok(())
    }

    fn csv<W: Write>(
        &self,
        archive: &mut Archive<W>,
        tx: &mut PgConnection,
        path: &str,
        table: &str,
        columns: &[&str],
        order: &str,
    ) -> Result<(), ExportError> {
        archive.start(path, true, false)?;
        let mut w = archive.entry();
        w.write_all(columns.join(",").as_bytes())?;
        w.write_all(b"\r\n")?;
        // Table and column names are the constants above.
        let select = columns
            .iter()
            .map(|c| format!("{c}::text"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("select {select} from {table} where shop_id = $1 order by {order}");
        let mut rows = sqlx::query(&sql).bind(self.auth.shop_id).fetch(&mut *tx);
        let mut count = 0u64;
        let mut line = Vec::with_capacity(256);
        while let Some(row) = self.block(rows.try_next())? {
            line.clear();
            for i in 0..columns.len() {
                if i > 0 {
                    line.push(b',');
                }
                let v: Option<String> = row.try_get(i)?;
                csv_field(&mut line, v.as_deref());
            }
            line.extend_from_slice(b"\r\n");
            w.write_all(&line)?;
            count += 1;
        }
        drop(rows);
        let done = (w.hasher, w.bytes);
        archive.record(path, done, Some(count));
        Ok(())
    }

    /// Copies one stored object into the zip in 64 KiB pieces.
    fn copy_object<'a, W: Write>(
        &self,
        archive: &'a mut Archive<W>,
        storage: &Storage,
        key: &ObjectKey,
        path: &str,
        size_hint: u64,
    ) -> Result<Option<&'a mut ManifestEntry>, ExportError> {
        let mut reader = match self.block(storage.open(key)) {
            Ok(r) => r,
            Err(StorageError::NotFound(_)) => {
                tracing::warn!(%key, "export: a recorded file is missing from the store");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        // Only already-compressed formats are stored as they are.
        let lower = path.to_ascii_lowercase();
        let compress = !(lower.ends_with(".png")
            || lower.ends_with(".3mf")
            || lower.ends_with(".bgcode")
            || lower.ends_with(".zip"));
        archive.start(path, compress, size_hint >= u64::from(u32::MAX) / 2)?;
        let mut w = archive.entry();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = self.block(reader.read(&mut buf))?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n])?;
        }
        let done = (w.hasher, w.bytes);
        let entry = archive.record(path, done, None);
        entry.source_key = Some(key.to_string());
        Ok(Some(entry))
    }

    fn files<W: Write>(
        &self,
        archive: &mut Archive<W>,
        tx: &mut PgConnection,
    ) -> Result<(), ExportError> {
        let storage = &self.state.storage;
        let files = self.block(
            sqlx::query(
                r#"select id, variant_id, version, file_name, storage_key, size_bytes, sha256,
                          thumbnails
                   from sliced_file where shop_id = $1
                   order by variant_id, version nulls first, uploaded_at, id"#,
            )
            .bind(self.auth.shop_id)
            .fetch_all(&mut *tx),
        )?;
        let mut exported = std::collections::HashSet::new();
        for f in &files {
            let id: Uuid = f.try_get("id")?;
            let variant: Uuid = f.try_get("variant_id")?;
            let version: Option<i32> = f.try_get("version")?;
            let folder = match version {
                Some(v) => format!("files/{variant}/v{v}"),
                None => format!("files/{variant}/{id}"),
            };
            let name: String = f.try_get("file_name")?;
            let raw_key: String = f.try_get("storage_key")?;
            let size: i64 = f.try_get("size_bytes")?;
            let recorded: Option<String> = f.try_get("sha256")?;
            let Ok(key) = ObjectKey::parse(&raw_key) else {
                tracing::warn!(%raw_key, "export: a stored file key is not valid; skipped");
                continue;
            };
            let path = format!("{folder}/{}", safe_name(&name));
            if let Some(entry) = self.copy_object(
                archive,
                storage,
                &key,
                &path,
                u64::try_from(size).unwrap_or(0),
            )? {
                entry.recorded_sha256 = recorded;
            }
            exported.insert(raw_key);
            let thumbnails: Value = f.try_get("thumbnails")?;
            for t in thumbnails.as_array().into_iter().flatten() {
                let (Some(k), Some(side)) = (t["key"].as_str(), t["max_side"].as_u64()) else {
                    continue;
                };
                let Ok(key) = ObjectKey::parse(k) else {
                    continue;
                };
                let path = format!("{folder}/thumbnail-{side}.png");
                self.copy_object(archive, storage, &key, &path, 0)?;
                exported.insert(k.to_owned());
            }
        }
        // Everything else under the shop's prefix (uploads not completed yet, and any
        // object no row names any more).
        let prefix = ObjectKey::shop_prefix(self.auth.shop_id);
        let listed = self.block(storage.list(&prefix))?;
        let strip = format!("{prefix}/");
        for object in listed {
            if exported.contains(&object.key) {
                continue;
            }
            let Ok(key) = ObjectKey::parse(&object.key) else {
                continue;
            };
            let rest = object.key.strip_prefix(&strip).unwrap_or(&object.key);
            let path = format!("files/other/{rest}");
            self.copy_object(archive, storage, &key, &path, object.size)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_one_safe_segment() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("Benchy (2).gcode"), "Benchy (2).gcode");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name("a\u{0}b\\c"), "a_b_c");
        assert_eq!(safe_name(""), "file");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        let mut out = Vec::new();
        csv_field(&mut out, Some("plain"));
        out.push(b',');
        csv_field(&mut out, Some("a,\"b\""));
        out.push(b',');
        csv_field(&mut out, None);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "plain,\"a,\"\"b\"\"\","
        );
    }
}
