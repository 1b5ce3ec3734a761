//! `GET`/`PUT /files/{key}?expires=&sig=`: the local store's signed URLs, checked here.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::storage::signed_url::SignatureError;
use crate::storage::{LocalStore, ObjectKey, Storage, StorageError};

/// Largest single upload through a local signed URL.
pub const MAX_UPLOAD_BYTES: usize = 1024 * 1024 * 1024;

#[derive(Deserialize)]
pub struct Signature {
    expires: i64,
    sig: String,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/files/{*key}", get(download).put(upload))
}

fn authorise<'a>(
    state: &'a AppState,
    method: &str,
    key: &str,
    signature: &Signature,
) -> Result<(&'a LocalStore, ObjectKey), ApiError> {
    let Storage::Local(store) = &state.storage else {
        return Err(ApiError::NotFound("file".into()));
    };
    let key = ObjectKey::parse(key).map_err(|e| ApiError::bad_request("bad_key", e.to_string()))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    store
        .signer()
        .verify(method, key.as_str(), signature.expires, &signature.sig, now)
        .map_err(|e| match e {
            SignatureError::Expired | SignatureError::Invalid => ApiError::Forbidden(e.to_string()),
        })?;
    Ok((store, key))
}

/// Streams the file from disk (never read whole into memory).
async fn download(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(signature): Query<Signature>,
) -> Result<Response, ApiError> {
    let (store, key) = authorise(&state, "GET", &key, &signature)?;
    let opened =
        async { Ok::<_, StorageError>((store.size(&key).await?, store.open(&key).await?)) };
    match opened.await {
        Ok((size, reader)) => Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
                (header::CONTENT_LENGTH, size.to_string()),
            ],
            Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
        )
            .into_response()),
        Err(StorageError::NotFound(_)) => Err(ApiError::NotFound("file".into())),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// Streams the request body to disk (through a temporary file), one chunk at a time.
async fn upload(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(signature): Query<Signature>,
    body: Body,
) -> Result<Response, ApiError> {
    let (store, key) = authorise(&state, "PUT", &key, &signature)?;
    let limit = MAX_UPLOAD_BYTES as u64;
    match store.put_stream(&key, body.into_data_stream(), limit).await {
        Ok(_) => Ok(StatusCode::OK.into_response()),
        Err(e @ StorageError::TooLarge { .. }) => Ok((
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(serde_json::json!({"error": {"code": "too_large", "message": e.to_string()}})),
        )
            .into_response()),
        Err(e) => Err(ApiError::internal(e)),
    }
}
