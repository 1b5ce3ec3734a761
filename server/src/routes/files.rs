//! `GET`/`PUT /files/{key}?expires=&sig=`: the local store's signed URLs, checked here.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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
    Router::new()
        .route("/files/{*key}", get(download).put(upload))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
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

async fn download(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(signature): Query<Signature>,
) -> Result<Response, ApiError> {
    let (store, key) = authorise(&state, "GET", &key, &signature)?;
    match store.get(&key).await {
        Ok(data) => Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            Body::from(data),
        )
            .into_response()),
        Err(StorageError::NotFound(_)) => Err(ApiError::NotFound("file".into())),
        Err(e) => Err(ApiError::internal(e)),
    }
}

async fn upload(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(signature): Query<Signature>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let (store, key) = authorise(&state, "PUT", &key, &signature)?;
    store.put(&key, body).await.map_err(ApiError::internal)?;
    Ok(StatusCode::OK)
}
