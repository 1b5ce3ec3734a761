//! A variant's sliced files: uploaded straight to the file store through presigned URLs,
//! then checked and read by the server, and kept as versions.
//!
//! 1. `POST /variants/{id}/files` `{file_name, size_bytes, sha256}` reserves room in the
//!    shop's storage quota (413 before any byte moves when it does not fit) and answers a
//!    presigned `PUT` URL for `shops/{shop_id}/uploads/{upload_id}` (the user's file name is
//!    never part of a key).
//! 2. The client `PUT`s the bytes to that URL.
//! 3. `POST /uploads/{id}/complete` streams the object back to check its size and SHA-256
//!    (a mismatch deletes the object and the reservation: nothing is half-stored), reads the
//!    metadata with core's `inspect` (never the client's) through ranged reads of the
//!    object (a [`RangedReader`]: a 500 MB G-code costs its head and tail), stores 128 and 512 px PNG
//!    thumbnails beside the file, and records the file as the variant's current version.
//!
//! Earlier files stay as versions: list them, download them, make one current again.
//!
//! Models take design files the same way (`POST /models/{id}/files`: STL or plain 3MF):
//! the server reads their geometry (objects, triangles, bounding box, volume) and draws a
//! thumbnail from the mesh with core's software rasteriser when the file has none.
//!
//! Files larger than [`MULTIPART_THRESHOLD`] go up in parts of [`PART_SIZE`] bytes (S3
//! multipart upload; the local store keeps parts as objects and joins them): the answer
//! lists a presigned `PUT` URL per part. `GET /uploads/{id}` says which parts the store
//! already has and gives fresh URLs for the others, so a client resumes after a lost
//! connection; `DELETE /uploads/{id}` abandons an upload and frees its reservation.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use printstall_core::domain::member::Action;
use printstall_core::slicefile::{self, thumbnail};
use printstall_core::sync::EntityKind;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json as SqlJson;
use time::OffsetDateTime;
use uuid::Uuid;

use super::common::{ApiJson, ApiPath, ApiQuery, ApiResult, Tx, db, invalid_field, require};
use super::{ApiState, Routes};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::storage::{ObjectKey, PresignedUrl, RangedReader, StorageError, UploadedPart};
use crate::sync::push::lock_shop;
use crate::sync::rest;

/// The largest sliced file one upload takes (the local store's signed-URL limit).
pub const MAX_FILE_BYTES: u64 = crate::routes::files::MAX_UPLOAD_BYTES as u64;
/// How long the presigned `PUT` URL works.
const UPLOAD_URL_TTL: Duration = Duration::from_secs(60 * 60);
/// How long a reservation waits for its completion (the URL's lifetime plus time to finish).
const RESERVATION_TTL: time::Duration = time::Duration::hours(2);
/// How long a download or thumbnail URL works.
const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);
/// Files larger than this are uploaded in parts.
pub const MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;
/// Bytes of every part but the last (S3 wants at least 5 MiB).
pub const PART_SIZE: u64 = 8 * 1024 * 1024;

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
    .route(
        "/uploads/{id}",
        &[Method::GET, Method::DELETE],
        get(upload_status).delete(abandon_upload),
    )
    .route(
        "/models/{id}/files",
        &[Method::GET, Method::POST],
        get(list_model_files).post(start_model_upload),
    )
    .route(
        "/models/{id}/files/{file_id}/restore",
        &[Method::POST],
        post(restore_model_file),
    )
    .route(
        "/models/{id}/files/{file_id}/download",
        &[Method::GET],
        get(download_model_file),
    )
    .route(
        "/models/{id}/files/{file_id}/thumbnail",
        &[Method::GET],
        get(download_model_thumbnail),
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

/// One version of a variant's sliced file or of a model's design file.
#[derive(Debug, Serialize)]
pub struct FileOut {
    pub id: Uuid,
    /// The variant, for a sliced file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<Uuid>,
    /// The model, for a design file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_id: Option<Uuid>,
    pub version: Option<i32>,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: Option<String>,
    /// What the server read from the file (`printstall inspect --json`'s object; for a design
    /// file `format` is `stl` or `3mf` and `model` holds objects, triangles, bounding box and
    /// volume).
    pub metadata: Value,
    pub thumbnails: Vec<ThumbnailOut>,
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// Whether this is the version the variant or the model shows.
    pub current: bool,
}

/// The columns of both kinds of file, under the same names.
const SLICED_FILE_SELECT: &str = "select f.id, f.variant_id, null::uuid as model_id, f.version, \
    f.file_name, f.size_bytes, f.sha256, f.metadata, f.thumbnails, f.uploaded_at, f.storage_key, \
    (v.sliced_file_id is not distinct from f.id) as current \
    from sliced_file f join model_variant v on v.id = f.variant_id";
const MODEL_FILE_SELECT: &str = "select f.id, null::uuid as variant_id, f.model_id, f.version, \
    f.file_name, f.size_bytes, f.sha256, f.metadata, f.thumbnails, f.uploaded_at, f.storage_key, \
    f.current from model_file f";

/// The select of `target`'s kind of file and the column naming its owner.
fn file_select(target: Target) -> (&'static str, &'static str, Uuid) {
    match target {
        Target::Variant(id) => (SLICED_FILE_SELECT, "f.variant_id", id),
        Target::Model(id) => (MODEL_FILE_SELECT, "f.model_id", id),
    }
}

struct FileRow {
    out: FileOut,
    storage_key: String,
    thumbnails: Vec<StoredThumbnail>,
}

fn file_from_row(r: &PgRow) -> ApiResult<FileRow> {
    let metadata: SqlJson<Value> = r.try_get("metadata").map_err(ApiError::internal)?;
    let thumbnails: SqlJson<Vec<StoredThumbnail>> =
        r.try_get("thumbnails").map_err(ApiError::internal)?;
    let out = FileOut {
        id: r.get("id"),
        variant_id: r.get("variant_id"),
        model_id: r.get("model_id"),
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

/// The file `file_id` of the variant or model, or 404 (also for another shop's, variant's or
/// model's file).
async fn fetch_file(tx: &mut Tx, target: Target, file_id: Uuid) -> ApiResult<FileRow> {
    let (select, owner, owner_id) = file_select(target);
    let row = sqlx::query(&format!("{select} where f.id = $1 and {owner} = $2"))
        .bind(file_id)
        .bind(owner_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| {
            ApiError::NotFound(
                match target {
                    Target::Variant(_) => "sliced file",
                    Target::Model(_) => "design file",
                }
                .into(),
            )
        })?;
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
/// when the file states one. The changed fields are an `entity.set.v1` for devices (the
/// caller holds the shop's lock, [`lock_shop`]).
async fn make_current(
    tx: &mut Tx,
    auth: &AuthUser,
    variant_id: Uuid,
    file_id: Uuid,
) -> ApiResult<()> {
    let before = super::models::fetch_variant(tx, variant_id).await?.variant;
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
    let after = super::models::fetch_variant(tx, variant_id).await?.variant;
    rest::set_changed(
        tx,
        auth,
        EntityKind::Variant,
        variant_id,
        Some(&before),
        &after,
        false,
    )
    .await?;
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

/// Where an upload goes: a variant's sliced file or a model's design file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Variant(Uuid),
    Model(Uuid),
}

impl Target {
    fn variant_id(self) -> Option<Uuid> {
        match self {
            Target::Variant(id) => Some(id),
            Target::Model(_) => None,
        }
    }

    fn model_id(self) -> Option<Uuid> {
        match self {
            Target::Model(id) => Some(id),
            Target::Variant(_) => None,
        }
    }
}

/// One part's presigned `PUT` URL.
#[derive(Debug, Serialize)]
pub struct PartUrl {
    /// 1-based.
    pub number: u32,
    pub size_bytes: u64,
    pub method: &'static str,
    pub url: String,
    pub expires_in_s: u64,
}

/// A multipart upload: `PUT` each part's bytes to its URL (any order, retried as needed).
#[derive(Debug, Serialize)]
pub struct MultipartOut {
    pub part_size_bytes: u64,
    pub part_count: u32,
    /// Parts the store already holds.
    pub parts_done: Vec<u32>,
    /// URLs of the parts still to send.
    pub parts: Vec<PartUrl>,
}

#[derive(Debug, Serialize)]
pub struct UploadOut {
    pub upload_id: Uuid,
    /// The variant (sliced file) or the model (design file) the upload is for.
    pub variant_id: Option<Uuid>,
    pub model_id: Option<Uuid>,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// `pending`, `completed` or `expired`.
    pub state: &'static str,
    /// Small files: `PUT` the whole file here, then call `POST /uploads/{upload_id}/complete`.
    pub upload: Option<PresignedUrl>,
    /// Large files: `PUT` each part, then complete.
    pub multipart: Option<MultipartOut>,
    /// Bytes the store holds already (multipart only; a single `PUT` is all or nothing).
    pub uploaded_bytes: u64,
    /// The recorded file, once completed.
    pub file_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Parts of a file of `size` bytes cut in `part_size` pieces: (number, bytes).
fn part_sizes(size: u64, part_size: u64) -> Vec<(u32, u64)> {
    let part_size = part_size.max(1);
    let count = size.div_ceil(part_size);
    (1..=count)
        .map(|n| {
            let start = (n - 1) * part_size;
            (
                u32::try_from(n).unwrap_or(u32::MAX),
                part_size.min(size - start),
            )
        })
        .collect()
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

/// Bytes the shop stores or has reserved: every version of every sliced and design file, plus uploads
/// that are neither completed nor expired.
async fn used_bytes(tx: &mut Tx) -> ApiResult<i64> {
    sqlx::query_scalar(
        r#"select (select coalesce(sum(size_bytes), 0) from sliced_file)::bigint
                + (select coalesce(sum(size_bytes), 0) from model_file)::bigint
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
    reserve(&state, &auth, Target::Variant(variant_id), &body).await
}

async fn start_model_upload(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(model_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewUpload>,
) -> ApiResult<Response> {
    reserve(&state, &auth, Target::Model(model_id), &body).await
}

/// 404 unless the model is visible.
async fn require_model(tx: &mut Tx, model_id: Uuid, lock: bool) -> ApiResult<()> {
    let sql = if lock {
        "select id from model where id = $1 for update"
    } else {
        "select id from model where id = $1"
    };
    sqlx::query(sql)
        .bind(model_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db)?
        .ok_or_else(|| ApiError::NotFound("model".into()))?;
    Ok(())
}

async fn require_target(tx: &mut Tx, target: Target, lock: bool) -> ApiResult<()> {
    match target {
        Target::Variant(id) => require_variant(tx, id, lock).await,
        Target::Model(id) => require_model(tx, id, lock).await,
    }
}

/// Checks the quota, records the reservation and answers the presigned URL(s).
async fn reserve(
    state: &ApiState,
    auth: &AuthUser,
    target: Target,
    body: &NewUpload,
) -> ApiResult<Response> {
    require(auth, Action::EditCatalogue)?;
    let (file_name, sha256) = check_new_upload(body)?;
    let mut tx = state.tx(auth).await?;
    require_target(&mut tx, target, false).await?;
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
    let multipart_id = if size > MULTIPART_THRESHOLD {
        Some(
            state
                .storage
                .start_multipart(&key)
                .await
                .map_err(storage_error)?,
        )
    } else {
        None
    };
    let part_size = multipart_id
        .as_ref()
        .map(|_| i64::try_from(PART_SIZE).unwrap_or(i64::MAX));
    sqlx::query(
        r#"insert into file_upload (id, shop_id, variant_id, model_id, file_name, size_bytes,
                                    sha256, storage_key, created_by, expires_at, multipart_id,
                                    part_size)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"#,
    )
    .bind(upload_id)
    .bind(auth.shop_id)
    .bind(target.variant_id())
    .bind(target.model_id())
    .bind(&file_name)
    .bind(body.size_bytes)
    .bind(&sha256)
    .bind(key.as_str())
    .bind(auth.user_id)
    .bind(expires_at)
    .bind(&multipart_id)
    .bind(part_size)
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    let upload = Upload {
        target,
        file_name,
        size_bytes: body.size_bytes,
        sha256,
        key,
        expired: false,
        completed_file_id: None,
        multipart: multipart_id.map(|id| (id, PART_SIZE)),
        expires_at,
    };
    let out = describe_upload(state, upload_id, &upload).await?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)).into_response())
}

/// The upload as the client sees it, with fresh URLs for what is still to send.
async fn describe_upload(
    state: &ApiState,
    upload_id: Uuid,
    upload: &Upload,
) -> ApiResult<UploadOut> {
    let pending = upload.completed_file_id.is_none() && !upload.expired;
    let mut out = UploadOut {
        upload_id,
        variant_id: upload.target.variant_id(),
        model_id: upload.target.model_id(),
        file_name: upload.file_name.clone(),
        size_bytes: upload.size_bytes,
        sha256: upload.sha256.clone(),
        state: match (upload.completed_file_id, upload.expired) {
            (Some(_), _) => "completed",
            (None, true) => "expired",
            (None, false) => "pending",
        },
        upload: None,
        multipart: None,
        uploaded_bytes: 0,
        file_id: upload.completed_file_id,
        expires_at: upload.expires_at,
    };
    if !pending {
        return Ok(out);
    }
    let size = u64::try_from(upload.size_bytes).unwrap_or(0);
    match &upload.multipart {
        None => {
            out.upload = Some(
                state
                    .storage
                    .presign_put(&upload.key, UPLOAD_URL_TTL)
                    .await
                    .map_err(storage_error)?,
            );
        }
        Some((multipart_id, part_size)) => {
            let have = state
                .storage
                .uploaded_parts(&upload.key, multipart_id)
                .await
                .map_err(storage_error)?;
            let wanted = part_sizes(size, *part_size);
            let mut done = Vec::new();
            let mut parts = Vec::new();
            for (number, bytes) in &wanted {
                if have.iter().any(|p| p.number == *number && p.size == *bytes) {
                    done.push(*number);
                    out.uploaded_bytes += bytes;
                    continue;
                }
                let url = state
                    .storage
                    .presign_part(&upload.key, multipart_id, *number, UPLOAD_URL_TTL)
                    .await
                    .map_err(storage_error)?;
                parts.push(PartUrl {
                    number: *number,
                    size_bytes: *bytes,
                    method: url.method,
                    url: url.url,
                    expires_in_s: url.expires_in_s,
                });
            }
            out.multipart = Some(MultipartOut {
                part_size_bytes: *part_size,
                part_count: u32::try_from(wanted.len()).unwrap_or(u32::MAX),
                parts_done: done,
                parts,
            });
        }
    }
    Ok(out)
}

/// `GET /uploads/{id}`: the state of an upload and fresh URLs for what is still missing.
async fn upload_status(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(upload_id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<UploadOut>> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    let upload = fetch_upload(&mut tx, upload_id, false).await?;
    tx.commit().await.map_err(db)?;
    Ok(ApiJson(describe_upload(&state, upload_id, &upload).await?))
}

/// `DELETE /uploads/{id}`: drops a pending upload, its bytes and its reservation.
async fn abandon_upload(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(upload_id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    let upload = fetch_upload(&mut tx, upload_id, true).await?;
    if upload.completed_file_id.is_some() {
        return Err(ApiError::Conflict(
            "this upload is complete: its file is a version now and stays".into(),
        ));
    }
    sqlx::query("delete from file_upload where id = $1")
        .bind(upload_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    discard_bytes(&state, &upload).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes an upload's object and any parts (errors are logged: the reservation is gone).
async fn discard_bytes(state: &ApiState, upload: &Upload) {
    if let Some((multipart_id, _)) = &upload.multipart
        && let Err(e) = state
            .storage
            .abort_multipart(&upload.key, multipart_id)
            .await
    {
        tracing::error!(error = %e, key = %upload.key, "could not drop a multipart upload");
    }
    if let Err(e) = state.storage.delete(&upload.key).await {
        tracing::error!(error = %e, key = %upload.key, "could not delete an upload");
    }
}

// ---------------------------------------------------------------------------------------
// Completing an upload

/// `POST /uploads/{id}/complete` takes an empty object.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CompleteUpload {}

#[derive(Clone)]
struct Upload {
    target: Target,
    file_name: String,
    size_bytes: i64,
    sha256: String,
    key: ObjectKey,
    expired: bool,
    /// The recorded file, once completed.
    completed_file_id: Option<Uuid>,
    /// Multipart id and part size.
    multipart: Option<(String, u64)>,
    expires_at: OffsetDateTime,
}

async fn fetch_upload(tx: &mut Tx, id: Uuid, lock: bool) -> ApiResult<Upload> {
    let sql = format!(
        r#"select variant_id, model_id, file_name, size_bytes, sha256, storage_key,
                  expires_at < now() as expired, expires_at, sliced_file_id, model_file_id,
                  completed_at, multipart_id, part_size
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
    let file_id: Option<Uuid> = row
        .get::<Option<Uuid>, _>("sliced_file_id")
        .or(row.get("model_file_id"));
    let variant_id: Option<Uuid> = row.get("variant_id");
    let model_id: Option<Uuid> = row.get("model_id");
    let target = match (variant_id, model_id) {
        (Some(v), _) => Target::Variant(v),
        (None, Some(m)) => Target::Model(m),
        (None, None) => return Err(ApiError::internal("an upload without a target")),
    };
    let multipart_id: Option<String> = row.get("multipart_id");
    let part_size: Option<i64> = row.get("part_size");
    Ok(Upload {
        target,
        file_name: row.get("file_name"),
        size_bytes: row.get("size_bytes"),
        sha256: row.get("sha256"),
        key: stored_key(row.get("storage_key"))?,
        expired: row.get("expired"),
        completed_file_id: completed.and(file_id),
        multipart: multipart_id
            .zip(part_size.and_then(|p| u64::try_from(p).ok()))
            .filter(|(_, p)| *p > 0),
        expires_at: row.get("expires_at"),
    })
}

/// Deletes the uploaded bytes and the reservation, then answers `error`.
async fn refuse(
    state: &ApiState,
    auth: &AuthUser,
    upload_id: Uuid,
    upload: &Upload,
    error: ApiError,
) -> ApiError {
    discard_bytes(state, upload).await;
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

/// The web-size thumbnails of a file: its best embedded picture, or one drawn from its mesh.
fn thumbnails_of(info: &mut slicefile::SliceInfo) -> Vec<thumbnail::WebImage> {
    let embedded = info
        .best_thumbnail_index()
        .and_then(|i| info.thumbnail_data.get(i))
        .map(|data| thumbnail::web_sizes(data));
    let result = match (embedded, &info.mesh) {
        (Some(result), _) => result,
        (None, Some(mesh)) => thumbnail::rendered_web_sizes(mesh),
        (None, None) => return Vec::new(),
    };
    result.unwrap_or_else(|e| {
        info.warnings
            .push(format!("the thumbnail cannot be shown on the web: {e}"));
        Vec::new()
    })
}

/// Why a completion stops: the file is refused (its bytes and reservation are deleted), or the
/// store failed (the upload stays, to be completed again).
enum Stop {
    Refuse(ApiError),
    Fail(ApiError),
}

/// Checks the size and the SHA-256 from one streamed read of the object, then reads the
/// metadata with core's parser through ranged reads: the file is never held in memory.
async fn check_and_inspect(state: &ApiState, upload: &Upload) -> Result<Checked, Stop> {
    let announced = u64::try_from(upload.size_bytes).unwrap_or(0);
    let size_mismatch = |actual: u64| {
        Stop::Refuse(ApiError::Unprocessable {
            message: format!(
                "size_bytes: the uploaded file has {actual} bytes but {announced} were announced; \
                 it was deleted, upload it again"
            ),
            field: Some("size_bytes".into()),
        })
    };
    let size = match state.storage.size(&upload.key).await {
        Ok(size) => size,
        Err(StorageError::NotFound(_)) => {
            return Err(Stop::Fail(ApiError::Conflict(
                "nothing has been uploaded yet: PUT the file to the upload URL, then complete"
                    .into(),
            )));
        }
        Err(e) => return Err(Stop::Fail(storage_error(e))),
    };
    if size != announced {
        return Err(size_mismatch(size));
    }
    let digest = state
        .storage
        .digest(&upload.key)
        .await
        .map_err(|e| Stop::Fail(storage_error(e)))?;
    if digest.size != announced {
        return Err(size_mismatch(digest.size));
    }
    if digest.sha256 != upload.sha256 {
        return Err(Stop::Refuse(ApiError::Unprocessable {
            message: format!(
                "sha256: the uploaded file's SHA-256 is {}, not the announced {}; it was \
                 deleted, upload it again",
                digest.sha256, upload.sha256
            ),
            field: Some("sha256".into()),
        }));
    }
    let mut reader = RangedReader::new(
        state.storage.clone(),
        upload.key.clone(),
        size,
        tokio::runtime::Handle::current(),
    );
    let upload = upload.clone();
    tokio::task::spawn_blocking(move || {
        let read = slicefile::inspect(&mut reader, &upload.file_name);
        if let Some(failure) = reader.failure() {
            return Err(Stop::Fail(ApiError::internal(format!(
                "reading {} back from the file store failed: {failure}",
                upload.key
            ))));
        }
        accept(read, &upload).map_err(Stop::Refuse)
    })
    .await
    .map_err(|e| Stop::Fail(ApiError::internal(e)))?
}

/// What the parser found, if it is a file this upload's target takes.
fn accept(
    read: Result<slicefile::SliceInfo, slicefile::SliceError>,
    upload: &Upload,
) -> Result<Checked, ApiError> {
    let kind = match upload.target {
        Target::Variant(_) => "a sliced file (.gcode, .bgcode, .3mf)",
        Target::Model(_) => "a design file (.stl, .3mf)",
    };
    let mut info = read.map_err(|e| ApiError::Unprocessable {
        message: format!("file: the file cannot be read as {kind}: {e}; it was deleted"),
        field: Some("file".into()),
    })?;
    let wrong = match upload.target {
        Target::Variant(_) => info.format == slicefile::FileFormat::Stl,
        Target::Model(_) => {
            !matches!(
                info.format,
                slicefile::FileFormat::Stl | slicefile::FileFormat::ThreeMf
            ) || info.model.is_none()
        }
    };
    if wrong {
        let message = match upload.target {
            Target::Variant(_) => {
                "file: an STL is a design file, not a sliced one: add it to the model \
                 (POST /models/{id}/files); it was deleted"
            }
            Target::Model(_) => {
                "file: a model's design file must be an STL or a 3MF with a mesh (a sliced \
                 G-code belongs to a variant); it was deleted"
            }
        };
        return Err(ApiError::Unprocessable {
            message: message.into(),
            field: Some("file".into()),
        });
    }
    let thumbnails = thumbnails_of(&mut info);
    let metadata = serde_json::to_value(&info).map_err(ApiError::internal)?;
    Ok(Checked {
        metadata,
        thumbnails,
    })
}

async fn answer_completed(
    state: &ApiState,
    auth: &AuthUser,
    target: Target,
    file_id: Uuid,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    let mut tx = state.tx(auth).await?;
    let out = serde_json::to_value(fetch_file(&mut tx, target, file_id).await?.out)
        .map_err(ApiError::internal)?;
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::OK, ApiJson(out)))
}

/// Joins the parts of a multipart upload into its object, after checking that every part
/// is there with the right size.
async fn join_parts(state: &ApiState, upload: &Upload) -> ApiResult<()> {
    let Some((multipart_id, part_size)) = &upload.multipart else {
        return Ok(());
    };
    let parts = match state
        .storage
        .uploaded_parts(&upload.key, multipart_id)
        .await
    {
        Ok(parts) => parts,
        // Joined by an earlier attempt whose answer was lost.
        Err(StorageError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(storage_error(e)),
    };
    let wanted = part_sizes(u64::try_from(upload.size_bytes).unwrap_or(0), *part_size);
    let mut missing = Vec::new();
    let mut joined: Vec<UploadedPart> = Vec::new();
    for (number, bytes) in &wanted {
        match parts.iter().find(|p| p.number == *number) {
            Some(p) if p.size == *bytes => joined.push(p.clone()),
            _ => missing.push(number.to_string()),
        }
    }
    if parts.is_empty() && state.storage.size(&upload.key).await.is_ok() {
        // The local store joined the parts before and deleted them.
        return Ok(());
    }
    if !missing.is_empty() {
        return Err(ApiError::Conflict(format!(
            "parts {} of {} are not uploaded yet (or have the wrong size): PUT them, then \
             complete (GET /uploads/{{id}} gives fresh URLs)",
            missing.join(", "),
            wanted.len()
        )));
    }
    state
        .storage
        .complete_multipart(&upload.key, multipart_id, &joined)
        .await
        .map_err(storage_error)
}

async fn complete_upload(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(upload_id): ApiPath<Uuid>,
    ApiJson(_body): ApiJson<CompleteUpload>,
) -> ApiResult<(StatusCode, ApiJson<Value>)> {
    require(&auth, Action::EditCatalogue)?;
    let mut tx = state.tx(&auth).await?;
    let upload = fetch_upload(&mut tx, upload_id, false).await?;
    tx.commit().await.map_err(db)?;
    if let Some(file_id) = upload.completed_file_id {
        // Completed before (a retried request): the same answer again.
        return answer_completed(&state, &auth, upload.target, file_id).await;
    }
    if upload.expired {
        let error = ApiError::Conflict(
            "this upload has expired; start a new one with POST /variants/{id}/files".into(),
        );
        return Err(refuse(&state, &auth, upload_id, &upload, error).await);
    }
    join_parts(&state, &upload).await?;
    let checked = match check_and_inspect(&state, &upload).await {
        Ok(c) => c,
        Err(Stop::Fail(error)) => return Err(error),
        Err(Stop::Refuse(error)) => {
            return Err(refuse(&state, &auth, upload_id, &upload, error).await);
        }
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
    if let Some(file_id) = locked.completed_file_id {
        // Another request completed it meanwhile.
        tx.commit().await.map_err(db)?;
        return answer_completed(&state, &auth, locked.target, file_id).await;
    }
    // The shop's writers queue here first, as a push does, before the variant's row lock
    // (a new current file is an op for devices, see `make_current`).
    lock_shop(&mut tx, auth.shop_id).await?;
    require_target(&mut tx, upload.target, true).await?;
    let out = match upload.target {
        Target::Variant(variant_id) => {
            record_sliced_file(
                &mut tx,
                &auth,
                upload_id,
                variant_id,
                &upload,
                &checked.metadata,
                &stored,
            )
            .await?
        }
        Target::Model(model_id) => {
            record_model_file(
                &mut tx,
                &auth,
                upload_id,
                model_id,
                &upload,
                &checked.metadata,
                &stored,
            )
            .await?
        }
    };
    tx.commit().await.map_err(db)?;
    Ok((StatusCode::CREATED, ApiJson(out)))
}

async fn record_sliced_file(
    tx: &mut Tx,
    auth: &AuthUser,
    upload_id: Uuid,
    variant_id: Uuid,
    upload: &Upload,
    metadata: &Value,
    stored: &[StoredThumbnail],
) -> ApiResult<Value> {
    let version: i32 = sqlx::query_scalar(
        "select coalesce(max(version), 0) + 1 from sliced_file where variant_id = $1",
    )
    .bind(variant_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(db)?;
    sqlx::query(
        r#"insert into sliced_file (id, shop_id, variant_id, storage_key, file_name, size_bytes,
                                    sha256, metadata, uploaded_by, version, thumbnails)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
    )
    .bind(upload_id)
    .bind(auth.shop_id)
    .bind(variant_id)
    .bind(upload.key.as_str())
    .bind(&upload.file_name)
    .bind(upload.size_bytes)
    .bind(&upload.sha256)
    .bind(SqlJson(metadata))
    .bind(auth.user_id)
    .bind(version)
    .bind(SqlJson(stored))
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    make_current(tx, auth, variant_id, upload_id).await?;
    sqlx::query("update file_upload set completed_at = now(), sliced_file_id = $2 where id = $1")
        .bind(upload_id)
        .bind(upload_id)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    let file = fetch_file(tx, Target::Variant(variant_id), upload_id).await?;
    serde_json::to_value(file.out).map_err(ApiError::internal)
}

async fn record_model_file(
    tx: &mut Tx,
    auth: &AuthUser,
    upload_id: Uuid,
    model_id: Uuid,
    upload: &Upload,
    metadata: &Value,
    stored: &[StoredThumbnail],
) -> ApiResult<Value> {
    let version: i32 = sqlx::query_scalar(
        "select coalesce(max(version), 0) + 1 from model_file where model_id = $1",
    )
    .bind(model_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(db)?;
    sqlx::query("update model_file set current = false where model_id = $1 and current")
        .bind(model_id)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    sqlx::query(
        r#"insert into model_file (id, shop_id, model_id, version, current, storage_key,
                                   file_name, size_bytes, sha256, metadata, thumbnails,
                                   uploaded_by)
           values ($1, $2, $3, $4, true, $5, $6, $7, $8, $9, $10, $11)"#,
    )
    .bind(upload_id)
    .bind(auth.shop_id)
    .bind(model_id)
    .bind(version)
    .bind(upload.key.as_str())
    .bind(&upload.file_name)
    .bind(upload.size_bytes)
    .bind(&upload.sha256)
    .bind(SqlJson(metadata))
    .bind(SqlJson(stored))
    .bind(auth.user_id)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    sqlx::query("update file_upload set completed_at = now(), model_file_id = $2 where id = $1")
        .bind(upload_id)
        .bind(upload_id)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    let file = fetch_file(tx, Target::Model(model_id), upload_id).await?;
    serde_json::to_value(file.out).map_err(ApiError::internal)
}

// ---------------------------------------------------------------------------------------
// Versions

#[derive(Debug, Serialize)]
pub struct FileList {
    /// Newest version first.
    pub items: Vec<FileOut>,
}

async fn list_files(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(variant_id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<FileList>> {
    list(&state, &auth, Target::Variant(variant_id)).await
}

async fn list_model_files(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath(model_id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<FileList>> {
    list(&state, &auth, Target::Model(model_id)).await
}

async fn list(state: &ApiState, auth: &AuthUser, target: Target) -> ApiResult<ApiJson<FileList>> {
    require(auth, Action::LookUp)?;
    let mut tx = state.tx(auth).await?;
    require_target(&mut tx, target, false).await?;
    let (select, owner, owner_id) = file_select(target);
    let rows = sqlx::query(&format!(
        "{select} where {owner} = $1 \
         order by f.version desc nulls last, f.uploaded_at desc, f.id desc"
    ))
    .bind(owner_id)
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
) -> ApiResult<ApiJson<FileOut>> {
    restore(&state, &auth, Target::Variant(variant_id), file_id).await
}

async fn restore_model_file(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath((model_id, file_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(_body): ApiJson<RestoreFile>,
) -> ApiResult<ApiJson<FileOut>> {
    restore(&state, &auth, Target::Model(model_id), file_id).await
}

/// Makes an earlier version current again.
async fn restore(
    state: &ApiState,
    auth: &AuthUser,
    target: Target,
    file_id: Uuid,
) -> ApiResult<ApiJson<FileOut>> {
    require(auth, Action::EditCatalogue)?;
    let mut tx = state.tx(auth).await?;
    lock_shop(&mut tx, auth.shop_id).await?;
    require_target(&mut tx, target, true).await?;
    fetch_file(&mut tx, target, file_id).await?;
    match target {
        Target::Variant(variant_id) => make_current(&mut tx, auth, variant_id, file_id).await?,
        Target::Model(model_id) => {
            // Two steps: the partial unique index allows one current file per model at any
            // moment.
            sqlx::query("update model_file set current = false where model_id = $1 and current")
                .bind(model_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query("update model_file set current = true where model_id = $1 and id = $2")
                .bind(model_id)
                .bind(file_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
    }
    let file = fetch_file(&mut tx, target, file_id).await?;
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
    download(&state, &auth, Target::Variant(variant_id), file_id).await
}

async fn download_model_file(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath((model_id, file_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<DownloadOut>> {
    download(&state, &auth, Target::Model(model_id), file_id).await
}

async fn download(
    state: &ApiState,
    auth: &AuthUser,
    target: Target,
    file_id: Uuid,
) -> ApiResult<ApiJson<DownloadOut>> {
    require(auth, Action::LookUp)?;
    let mut tx = state.tx(auth).await?;
    let file = fetch_file(&mut tx, target, file_id).await?;
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
    thumbnail_link(&state, &auth, Target::Variant(variant_id), file_id, &q).await
}

async fn download_model_thumbnail(
    State(state): State<ApiState>,
    auth: AuthUser,
    ApiPath((model_id, file_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(q): ApiQuery<ThumbnailQuery>,
) -> ApiResult<ApiJson<DownloadOut>> {
    thumbnail_link(&state, &auth, Target::Model(model_id), file_id, &q).await
}

async fn thumbnail_link(
    state: &ApiState,
    auth: &AuthUser,
    target: Target,
    file_id: Uuid,
    q: &ThumbnailQuery,
) -> ApiResult<ApiJson<DownloadOut>> {
    require(auth, Action::LookUp)?;
    let side = q.size.unwrap_or(512);
    if !thumbnail::WEB_SIDES.contains(&side) {
        return Err(invalid_field(
            "size",
            format!("must be one of {:?}", thumbnail::WEB_SIDES),
        ));
    }
    let mut tx = state.tx(auth).await?;
    let file = fetch_file(&mut tx, target, file_id).await?;
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
    fn parts_cover_the_file_exactly() {
        assert_eq!(part_sizes(10, 4), vec![(1, 4), (2, 4), (3, 2)]);
        assert_eq!(part_sizes(8, 4), vec![(1, 4), (2, 4)]);
        assert_eq!(part_sizes(1, 4), vec![(1, 1)]);
        assert!(part_sizes(0, 4).is_empty());
    }

    #[test]
    fn sizes_read_like_a_person_would_say_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
