//! A variant's sliced files: uploaded straight to the file store through presigned URLs,
//! then checked and read by the server, and kept as versions.
//!
//! 1. `POST /variants/{id}/files` `{file_name, size_bytes, sha256}` reserves room in the
//!    shop's storage quota (413 before any byte moves when it does not fit) and answers a
//!    presigned `PUT` URL for `shops/{shop_id}/uploads/{upload_id}` (the user's file name is
//!    never part of a key).
//! 2. The client `PUT`s the bytes to that URL.
//! 3. `POST /uploads/{id}/complete` reads the object back, checks its size and SHA-256
//!    (a mismatch deletes the object and the reservation: nothing is half-stored), reads the
//!    metadata with core's `inspect` (never the client's), stores 128 and 512 px PNG
//!    thumbnails beside the file, and records the file as the variant's current version.
//!
//! Earlier files stay as versions: list them, download them, make one current again.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use printstall_core::domain::member::Action;
use printstall_core::slicefile::{self, thumbnail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json as SqlJson;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{ApiJson, ApiPath, ApiQuery, ApiResult, Tx, db, invalid_field, require};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::storage::{ObjectKey, PresignedUrl, StorageError};

/// The largest sliced file one upload takes (the local store's signed-URL limit).
pub const MAX_FILE_BYTES: u64 = crate::routes::files::MAX_UPLOAD_BYTES as u64;
/// How long the presigned `PUT` URL works.
const UPLOAD_URL_TTL: Duration = Duration::from_secs(60 * 60);
/// How long a reservation waits for its completion (the URL's lifetime plus time to finish).
const RESERVATION_TTL: time::Duration = time::Duration::hours(2);
/// How long a download or thumbnail URL works.
const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);

pub fn routes(r: Routes) -> Routes {
    r.route(
        "/variants/{id}/files",
        &[Method::GET, Method::POST],
        get(list_files).post(start_upload),
    )
    .route(
        "/variants/{id}/files/{file_id}/restore",
        &[Method::POST],
        post(restore_file),
    )
    .route(
        "/variants/{id}/files/{file_id}/download",
        &[Method::GET],
        get(download_file),
    )
    .route(
        "/variants/{id}/files/{file_id}/thumbnail",
        &[Method::GET],
        get(download_thumbnail),
    )
    .route(
        "/uploads/{id}/complete",
        &[Method::POST],
        post(complete_upload),
    )
}

// ---------------------------------------------------------------------------------------
// Shapes

/// A web-size thumbnail as stored in `sliced_file.thumbnails`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredThumbnail {
    max_side: u32,
    width: u32,
    height: u32,
    bytes: u64,
    key: String,
}

#[derive(Debug, Serialize)]
pub struct ThumbnailOut {
    pub max_side: u32,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// One version of a variant's sliced file.
#[derive(Debug, Serialize)]
pub struct SlicedFileOut {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub version: Option<i32>,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: Option<String>,
    /// What the server read from the file (`printstall inspect --json`'s object).
    pub metadata: Value,
    pub thumbnails: Vec<ThumbnailOut>,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// Whether this is the variant's current file.
    pub current: bool,
}

const FILE_COLUMNS: &str = "f.id, f.variant_id, f.version, f.file_name, f.size_bytes, f.sha256, \
    f.metadata, f.thumbnails, f.uploaded_at, f.storage_key, \
    (v.sliced_file_id is not distinct from f.id) as current";

struct FileRow {
    out: SlicedFileOut,
    storage_key: String,
    thumbnails: Vec<StoredThumbnail>,
}

fn file_from_row(r: &PgRow) -> ApiResult<FileRow> {
    let metadata: SqlJson<Value> = r.try_get("metadata").map_err(ApiError::internal)?;
    let thumbnails: SqlJson<Vec<StoredThumbnail>> =
        r.try_get("thumbnails").map_err(ApiError::internal)?;
    let out = SlicedFileOut {
        id: r.get("id"),
        variant_id: r.get("variant_id"),
        version: r.get("version"),
        file_name: r.get("file_name"),
        size_bytes: r.get("size_bytes"),
        sha256: r.get("sha256"),
        metadata: metadata.0,
        thumbnails: thumbnails
            .0
            .iter()
            .map(|t| ThumbnailOut {
                max_side: t.max_side,
                width: t.width,
                height: t.height,
                bytes: t.bytes,
            })
            .collect(),
        uploaded_at: r.get("uploaded_at"),
        current: r.get("current"),
    };
    Ok(FileRow {
        out,
        storage_key: r.get("storage_key"),
        thumbnails: thumbnails.0,
    })
}

/// The file `file_id` of `variant_id`, or 404 (also for another shop's or variant's file).
async fn fetch_file(tx: &mut Tx, variant_id: Uuid, file_id: Uuid) -> ApiResult<FileRow> {
    let row = sqlx::query(&format!(
        r#"select {FILE_COLUMNS} from sliced_file f
           join model_variant v on v.id = f.variant_id
           where f.id = $1 and f.variant_id = $2"#
    ))
    .bind(file_id)
    .bind(variant_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?
    .ok_or_else(|| ApiError::NotFound("sliced file".into()))?;
    file_from_row(&row)
}

/// 404 unless the variant is visible; with `lock`, holds its row until the transaction ends
/// (so versions of one variant are numbered one at a time).
async fn require_variant(tx: &mut Tx, variant_id: Uuid, lock: bool) -> ApiResult<()> {
    let sql = if lock {
        "select id from model_variant where id = $1 for update"
    } else {
        "select id from model_variant where id = $1"
    };
    sqlx::query(sql)
        .bind(variant_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("variant".into()))?;
    Ok(())
}

/// Makes `file_id` the variant's current file; the variant's print time follows the file's
/// when the file states one.
async fn make_current(tx: &mut Tx, variant_id: Uuid, file_id: Uuid) -> ApiResult<()> {
    sqlx::query(
        r#"update model_variant v
           set sliced_file_id = f.id,
               print_time_s = coalesce(
                   case when (f.metadata ->> 'print_time_s')::numeric between 1 and 1209600
                        then (f.metadata ->> 'print_time_s')::numeric::integer end,
                   v.print_time_s),
               updated_at = now()
           from sliced_file f
           where v.id = $1 and f.id = $2 and f.variant_id = v.id"#,
    )
    .bind(variant_id)
    .bind(file_id)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    Ok(())
}

fn storage_error(e: StorageError) -> ApiError {
    ApiError::internal(e)
}

fn stored_key(raw: &str) -> ApiResult<ObjectKey> {
    ObjectKey::parse(raw).map_err(ApiError::internal)
}

// ---------------------------------------------------------------------------------------
// Starting an upload

/// `POST /variants/{id}/files`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUpload {
    /// The name the maker knows the file by (shown, never part of a storage key).
    pub file_name: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the whole file.
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct UploadOut {
    pub upload_id: Uuid,
    pub variant_id: Uuid,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// `PUT` the file's bytes here, then call `POST /uploads/{upload_id}/complete`.
    pub upload: PresignedUrl,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

fn check_new_upload(body: &NewUpload) -> ApiResult<(String, String)> {
    let name = body.file_name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(invalid_field("file_name", "must have 1 to 255 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid_field(
            "file_name",
            "must not contain control characters",
        ));
    }
    let size = u64::try_from(body.size_bytes).unwrap_or(0);
    if size == 0 || size > MAX_FILE_BYTES {
        return Err(invalid_field(
            "size_bytes",
            format!(
                "must be between 1 and {MAX_FILE_BYTES} ({})",
                human_bytes(MAX_FILE_BYTES)
            ),
        ));
    }
    let sha = body.sha256.trim().to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid_field(
            "sha256",
            "must be the file's SHA-256 as 64 hexadecimal digits",
        ));
    }
    Ok((name.to_owned(), sha))
}

/// `1.5 GiB`, `340.0 MiB`, `12.0 KiB`, `512 bytes`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [
        ("GiB", 1024 * 1024 * 1024),
        ("MiB", 1024 * 1024),
        ("KiB", 1024),
    ];
    for (unit, size) in UNITS {
        if n >= size {
            // Display only: the precision of f64 is plenty for one decimal.
            #[allow(clippy::cast_precision_loss)]
            let value = n as f64 / size as f64;
            return format!("{value:.1} {unit}");
        }
    }
    format!("{n} bytes")
}

/// 413 in the API's error shape.
fn quota_exceeded(message: String) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Json(
            json!({"error": {"code": "quota_exceeded", "message": message, "field": "size_bytes"}}),
        ),
    )
        .into_response()
}

/// Bytes the shop stores or has reserved: every version of every sliced file, plus uploads
/// that are neither completed nor expired.
async fn used_bytes(tx: &mut Tx) -> ApiResult<i64> {
    sqlx::query_scalar(
        r#"select (select coalesce(sum(size_bytes), 0) from sliced_file)::bigint
                + (select coalesce(sum(size_bytes), 0) from file_upload
                   where completed_at is null and expires_at > now())::bigint"#,
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(db)
}

async fn start_upload(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(variant_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewUpload>,
) -> ApiResult<Response> {
    require(&auth, Action::EditCatalogue)?;
    let (file_name, sha256) = check_new_upload(&body)?;
    let mut tx = state.tx(&auth).await?;
    require_variant(&mut tx, variant_id, false).await?;
    // One reservation of a shop at a time, so two uploads cannot both take the last room.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1::text, 5))")
        .bind(auth.shop_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let used = u64::try_from(used_bytes(&mut tx).await?).unwrap_or(0);
    let size = u64::try_from(body.size_bytes).unwrap_or(0);
    let quota = state.shop_quota_bytes;
    if used.saturating_add(size) > quota {
        return Ok(quota_exceeded(format!(
            "this file ({}) does not fit in the shop's storage quota of {}: {} is already used \
             (earlier versions and uploads in progress count); nothing was uploaded",
            human_bytes(size),
            human_bytes(quota),
            human_bytes(used),
        )));
    }
    let upload_id = Uuid::now_v7();
    let key = ObjectKey::shop_prefix(auth.shop_id)
        .join("uploads")
        .join(&upload_id.to_string());
    let expires_at = OffsetDateTime::now_utc() + RESERVATION_TTL;
    sqlx::query(
        r#"insert into file_upload (id, shop_id, variant_id, file_name, size_bytes, sha256,
                                    storage_key, created_by, expires_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#,
    )
    .bind(upload_id)
    .bind(auth.shop_id)
    .bind(variant_id)
    .bind(&file_name)
    .bind(body.size_bytes)
    .bind(&sha256)
    .bind(key.as_str())
    .bind(auth.user_id)
    .bind(expires_at)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let upload = state
        .storage
        .presign_put(&key, UPLOAD_URL_TTL)
        .await
        .map_err(storage_error)?;
    tx.commit().await.map_err(db)?;
    let out = UploadOut {
        upload_id,
        variant_id,
        file_name,
        size_bytes: body.size_bytes,
        sha256,
        upload,
        expires_at,
    };
    Ok((StatusCode::CREATED, ApiJson(out)).into_response())
}

// ---------------------------------------------------------------------------------------
// Completing an upload

/// `POST /uploads/{id}/complete` takes an empty object.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CompleteUpload {}

#[derive(Clone)]
struct Upload {
    variant_id: Uuid,
    file_name: String,
    size_bytes: i64,
    sha256: String,
    key: ObjectKey,
    expired: bool,
    sliced_file_id: Option<Uuid>,
}

async fn fetch_upload(tx: &mut Tx, id: Uuid, lock: bool) -> ApiResult<Upload> {
    let sql = format!(
        r#"select variant_id, file_name, size_bytes, sha256, storage_key,
                  expires_at < now() as expired, sliced_file_id, completed_at
           from file_upload where id = $1 {}"#,
        if lock { "for update" } else { "" }
    );
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("upload".into()))?;
    let completed: Option<OffsetDateTime> = row.get("completed_at");
    let sliced_file_id: Option<Uuid> = row.get("sliced_file_id");
    Ok(Upload {
        variant_id: row.get("variant_id"),
        file_name: row.get("file_name"),
        size_bytes: row.get("size_bytes"),
        sha256: row.get("sha256"),
        key: stored_key(row.get("storage_key"))?,
        expired: row.get("expired"),
        sliced_file_id: completed.and(sliced_file_id),
    })
}

/// Deletes the uploaded object and its reservation, then answers `error`.
async fn refuse(
    state: &ApiState,
    auth: &AuthUser,
    upload_id: Uuid,
    key: &ObjectKey,
    error: ApiError,
) -> ApiError {
    if let Err(e) = state.storage.delete(key).await {
        tracing::error!(error = %e, %key, "could not delete a refused upload");
    }
    let deleted = async {
        let mut tx = state.tx(auth).await?;
        sqlx::query("delete from file_upload where id = $1 and completed_at is null")
            .bind(upload_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)
    };
    if let Err(e) = deleted.await {
        tracing::error!(error = %e, %upload_id, "could not delete a refused reservation");
    }
    error
}

/// What the server read from an uploaded file.
struct Checked {
    metadata: Value,
    thumbnails: Vec<thumbnail::WebImage>,
}

/// Checks size and hash and reads the metadata, off the async threads.
fn check_and_inspect(data: &Bytes, upload: &Upload) -> Result<Checked, ApiError> {
    let announced = u64::try_from(upload.size_bytes).unwrap_or(0);
    let actual = data.len() as u64;
    if actual != announced {
        return Err(ApiError::Unprocessable {
            message: format!(
                "size_bytes: the uploaded file has {actual} bytes but {announced} were announced; \
                 it was deleted, upload it again"
            ),
            field: Some("size_bytes".into()),
        });
    }
    let sha = hex::encode(Sha256::digest(data));
    if sha != upload.sha256 {
        return Err(ApiError::Unprocessable {
            message: format!(
                "sha256: the uploaded file's SHA-256 is {sha}, not the announced {}; it was \
                 deleted, upload it again",
                upload.sha256
            ),
            field: Some("sha256".into()),
        });
    }
    let mut info =
        slicefile::inspect_bytes(data, &upload.file_name).map_err(|e| ApiError::Unprocessable {
            message: format!(
                "file: the file cannot be read as a sliced file (.gcode, .bgcode, .3mf): {e}; it \
                 was deleted"
            ),
            field: Some("file".into()),
        })?;
    let thumbnails = match info.best_thumbnail_index() {
        None => Vec::new(),
        Some(i) => match info
            .thumbnail_data
            .get(i)
            .map(|data| thumbnail::web_sizes(data))
        {
            Some(Ok(images)) => images,
            Some(Err(e)) => {
                info.warnings
                    .push(format!("the thumbnail cannot be shown on the web: {e}"));
                Vec::new()
            }
            None => Vec::new(),
        },
    };
    let metadata = serde_json::to_value(&info).map_err(ApiError::internal)?;
    Ok(Checked {
        metadata,
        thumbnails,
    })
}

async fn answer_completed(
    state: &ApiState,
    auth: &AuthUser,
    variant_id: Uuid,
    file_id: Uuid,
) -> ApiResult<(StatusCode, ApiJson<SlicedFileOut>)> {
    let mut tx = state.tx(auth).await?;
    let file = fetch_file(&mut tx, variant_id, file_id).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::OK, ApiJson(file.out)))
}

async fn complete_upload(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(upload_id): ApiPath<Uuid>,
    ApiJson(_body): ApiJson<CompleteUpload>,
) -> ApiResult<(StatusCode, ApiJson<SlicedFileOut>)> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    let upload = fetch_upload(&mut tx, upload_id, false).await?;
    tx.commit().await.map_err(db)?;
    if let Some(file_id) = upload.sliced_file_id {
        // Completed before (a retried request): the same answer again.
        return answer_completed(&state, &auth, upload.variant_id, file_id).await;
    }
    if upload.expired {
        let error = ApiError::Conflict(
            "this upload has expired; start a new one with POST /variants/{id}/files".into(),
        );
        return Err(refuse(&state, &auth, upload_id, &upload.key, error).await);
    }
    let data = match state.storage.get(&upload.key).await {
        Ok(data) => data,
        Err(StorageError::NotFound(_)) => {
            return Err(ApiError::Conflict(
                "nothing has been uploaded yet: PUT the file to the upload URL, then complete"
                    .into(),
            ));
        }
        Err(e) => return Err(storage_error(e)),
    };
    let checked = {
        let upload = upload.clone();
        tokio::task::spawn_blocking(move || check_and_inspect(&data, &upload))
            .await
            .map_err(ApiError::internal)?
    };
    let checked = match checked {
        Ok(c) => c,
        Err(error) => return Err(refuse(&state, &auth, upload_id, &upload.key, error).await),
    };

    // Thumbnails beside the file: shops/{shop}/uploads/{upload_id}.thumb-{side}.png
    let mut stored: Vec<StoredThumbnail> = Vec::new();
    let folder = ObjectKey::shop_prefix(auth.shop_id).join("uploads");
    for image in checked.thumbnails {
        let key = folder.join(&format!("{upload_id}.thumb-{}.png", image.max_side));
        let bytes = image.png.len() as u64;
        if let Err(e) = state.storage.put(&key, Bytes::from(image.png)).await {
            for t in &stored {
                if let Ok(k) = ObjectKey::parse(&t.key) {
                    let _ = state.storage.delete(&k).await;
                }
            }
            return Err(storage_error(e));
        }
        stored.push(StoredThumbnail {
            max_side: image.max_side,
            width: image.width,
            height: image.height,
            bytes,
            key: key.to_string(),
        });
    }

    let mut tx = state.tx(&auth).await?;
    let locked = fetch_upload(&mut tx, upload_id, true).await?;
    if let Some(file_id) = locked.sliced_file_id {
        // Another request completed it meanwhile.
        tx.commit().await.map_err(db)?;
        return answer_completed(&state, &auth, locked.variant_id, file_id).await;
    }
    require_variant(&mut tx, upload.variant_id, true).await?;
    let version: i32 = sqlx::query_scalar(
        "select coalesce(max(version), 0) + 1 from sliced_file where variant_id = $1",
    )
    .bind(upload.variant_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(db)?;
    sqlx::query(
        r#"insert into sliced_file (id, shop_id, variant_id, storage_key, file_name, size_bytes,
                                    sha256, metadata, uploaded_by, version, thumbnails)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
    )
    .bind(upload_id)
    .bind(auth.shop_id)
    .bind(upload.variant_id)
    .bind(upload.key.as_str())
    .bind(&upload.file_name)
    .bind(upload.size_bytes)
    .bind(&upload.sha256)
    .bind(SqlJson(&checked.metadata))
    .bind(auth.user_id)
    .bind(version)
    .bind(SqlJson(&stored))
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    make_current(&mut tx, upload.variant_id, upload_id).await?;
    sqlx::query("update file_upload set completed_at = now(), sliced_file_id = $2 where id = $1")
        .bind(upload_id)
        .bind(upload_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    let file = fetch_file(&mut tx, upload.variant_id, upload_id).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(file.out)))
}

// ---------------------------------------------------------------------------------------
// Versions

#[derive(Debug, Serialize)]
pub struct FileList {
    /// Newest version first.
    pub items: Vec<SlicedFileOut>,
}

async fn list_files(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(variant_id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<FileList>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    require_variant(&mut tx, variant_id, false).await?;
    let rows = sqlx::query(&format!(
        r#"select {FILE_COLUMNS} from sliced_file f
           join model_variant v on v.id = f.variant_id
           where f.variant_id = $1
           order by f.version desc nulls last, f.uploaded_at desc, f.id desc"#
    ))
    .bind(variant_id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    let items = rows
        .iter()
        .map(|r| file_from_row(r).map(|f| f.out))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(ApiJson(FileList { items }))
}

/// `POST /variants/{id}/files/{file_id}/restore` takes an empty object.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RestoreFile {}

async fn restore_file(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath((variant_id, file_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(_body): ApiJson<RestoreFile>,
) -> ApiResult<ApiJson<SlicedFileOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    require_variant(&mut tx, variant_id, true).await?;
    fetch_file(&mut tx, variant_id, file_id).await?;
    make_current(&mut tx, variant_id, file_id).await?;
    let file = fetch_file(&mut tx, variant_id, file_id).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(file.out))
}

/// A short-lived link to one stored object.
#[derive(Debug, Serialize)]
pub struct DownloadOut {
    pub file_name: String,
    pub size_bytes: u64,
    #[serde(flatten)]
    pub link: PresignedUrl,
}

async fn download_file(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath((variant_id, file_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<DownloadOut>> {
    require(&auth, Action::LookUp)?;
    let mut tx = state.tx(&auth).await?;
    let file = fetch_file(&mut tx, variant_id, file_id).await?;
    tx.commit().await.map_err(db)?;
    let link = state
        .storage
        .presign_get(&stored_key(&file.storage_key)?, DOWNLOAD_URL_TTL)
        .await
        .map_err(storage_error)?;
    Ok(ApiJson(DownloadOut {
        file_name: file.out.file_name,
        size_bytes: u64::try_from(file.out.size_bytes).unwrap_or(0),
        link,
    }))
}

/// `?size=128|512` (default 512).
#[derive(Debug, Deserialize, Default)]
pub struct ThumbnailQuery {
    pub size: Option<u32>,
}

async fn download_thumbnail(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath((variant_id, file_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(q): ApiQuery<ThumbnailQuery>,
) -> ApiResult<ApiJson<DownloadOut>> {
    require(&auth, Action::LookUp)?;
    let side = q.size.unwrap_or(512);
    if !thumbnail::WEB_SIDES.contains(&side) {
        return Err(invalid_field(
            "size",
            format!("must be one of {:?}", thumbnail::WEB_SIDES),
        ));
    }
    let mut tx = state.tx(&auth).await?;
    let file = fetch_file(&mut tx, variant_id, file_id).await?;
    tx.commit().await.map_err(db)?;
    let thumb = file
        .thumbnails
        .iter()
        .find(|t| t.max_side == side)
        .ok_or_else(|| ApiError::NotFound("thumbnail".into()))?;
    let link = state
        .storage
        .presign_get(&stored_key(&thumb.key)?, DOWNLOAD_URL_TTL)
        .await
        .map_err(storage_error)?;
    Ok(ApiJson(DownloadOut {
        file_name: format!("{}.{side}.png", file.out.file_name),
        size_bytes: thumb.bytes,
        link,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_would_say_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
